// API key checks with a short cache (see api_keys.h).
#include "services/gateway/api_keys.h"

#include <future>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/auth/secrets.h"
#include "libs/rpc/channel.h"
#include "libs/rpc/status.h"

namespace civic::gateway {

// What gRPC needs alive until a check's callback has run.
struct ApiKeyVerifier::Call {
  grpc::ClientContext context;
  intake::v1::CheckApiKeyRequest request;
  intake::v1::ApiKeyCheck response;
};

ApiKeyVerifier::ApiKeyVerifier(std::shared_ptr<grpc::Channel> intake, Options options)
    : stub_(intake ? intake::v1::IntakeService::NewStub(std::move(intake)) : nullptr),
      options_(options) {}

ApiKeyVerifier::~ApiKeyVerifier() { CancelAllAndWait(); }

std::optional<absl::StatusOr<ApiApp>> ApiKeyVerifier::Cached(absl::string_view key) {
  if (options_.cache_ttl <= absl::ZeroDuration()) return std::nullopt;
  const std::string digest = auth::Sha256(key);
  std::lock_guard lock(mu_);
  auto it = cache_.find(digest);
  if (it == cache_.end() || absl::Now() >= it->second.expires) return std::nullopt;
  return it->second.answer;
}

void ApiKeyVerifier::Remember(const std::string& digest, const absl::StatusOr<ApiApp>& answer) {
  if (options_.cache_ttl <= absl::ZeroDuration()) return;
  // Only what intake decided: an outage must not lock a valid app out for the TTL.
  if (!answer.ok() && !absl::IsUnauthenticated(answer.status())) return;
  const absl::Time now = absl::Now();
  std::lock_guard lock(mu_);
  if (cache_.size() >= options_.max_entries) {
    for (auto it = cache_.begin(); it != cache_.end();) {
      it = now >= it->second.expires ? cache_.erase(it) : std::next(it);
    }
    if (cache_.size() >= options_.max_entries) cache_.clear();
  }
  cache_[digest] = Entry{answer, now + options_.cache_ttl};
}

void ApiKeyVerifier::CheckAsync(absl::string_view key,
                               std::function<void(absl::StatusOr<ApiApp>)> done) {
  if (std::optional<absl::StatusOr<ApiApp>> cached = Cached(key)) return done(*std::move(cached));
  if (stub_ == nullptr) return done(absl::UnavailableError("no intake to check API keys with"));
  auto call = std::make_shared<Call>();
  call->request.set_key(std::string(key));
  rpc::SetTimeout(call->context, options_.timeout);
  {
    std::lock_guard lock(mu_);
    if (closed_) {
      return done(absl::CancelledError("the gateway is shutting down"));
    }
    in_flight_[call.get()] = call;
  }
  stub_->async()->CheckApiKey(
      &call->context, &call->request, &call->response,
      [this, call, done = std::move(done)](grpc::Status status) mutable {
        {
          std::lock_guard lock(mu_);
          in_flight_.erase(call.get());
          ++callbacks_running_;
        }
        absl::StatusOr<ApiApp> answer;
        if (status.ok()) {
          answer = ApiApp{.key_id = call->response.key_id(),
                          .app_name = call->response.app_name()};
        } else {
          answer = rpc::FromGrpcStatus(status);
        }
        Remember(auth::Sha256(call->request.key()), answer);
        done(std::move(answer));
        done = nullptr;  // whatever it holds goes before we say we are finished
        call.reset();
        std::lock_guard lock(mu_);
        --callbacks_running_;
        idle_.notify_all();
      });
}

absl::StatusOr<ApiApp> ApiKeyVerifier::Check(absl::string_view key, absl::Duration timeout) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<ApiApp>>>();
  std::future<absl::StatusOr<ApiApp>> answer = promise->get_future();
  CheckAsync(key, [promise](absl::StatusOr<ApiApp> result) {
    promise->set_value(std::move(result));
  });
  if (timeout != absl::InfiniteDuration() &&
      answer.wait_for(absl::ToChronoNanoseconds(timeout)) != std::future_status::ready) {
    // The call finishes by its own deadline and fills the cache for the next request.
    return absl::DeadlineExceededError("the API key check took too long");
  }
  return answer.get();
}

std::function<absl::StatusOr<std::string>(absl::string_view)> ApiKeyVerifier::AsOpen311Checker(
    absl::Duration open311_timeout) {
  return [this, open311_timeout](absl::string_view key) -> absl::StatusOr<std::string> {
    if (key.empty()) return absl::PermissionDeniedError("an api_key is required");
    absl::StatusOr<ApiApp> app = Check(key, open311_timeout);
    if (absl::IsUnauthenticated(app.status())) {
      return absl::PermissionDeniedError(app.status().message());
    }
    if (!app.ok()) {
      return absl::UnavailableError("the api_key cannot be checked now; try again shortly");
    }
    return absl::StrCat("app:", app->key_id);
  };
}

void ApiKeyVerifier::CancelAllAndWait() {
  std::vector<std::shared_ptr<Call>> calls;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (const auto& [ptr, call] : in_flight_) calls.push_back(call);
  }
  // Outside the lock: gRPC may run a callback inline from TryCancel.
  for (const auto& call : calls) call->context.TryCancel();
  calls.clear();
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return in_flight_.empty() && callbacks_running_ == 0; });
}

}  // namespace civic::gateway
