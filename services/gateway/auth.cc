// Authentication at the gateway (see auth.h).
#include "services/gateway/auth.h"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "libs/core/log.h"
#include "libs/core/status.h"

namespace civic::gateway {
namespace {

constexpr char kDomain[] = "gateway.civicdesk";
// Revocation must bite within 10 s (the promise), so the cache cannot be longer.
constexpr int64_t kMaxApiKeyCacheMs = 10000;
// No real key comes near; longer ones are refused without asking intake.
constexpr size_t kMaxApiKeyChars = 256;
constexpr char kApiKeyChallenge[] = "ApiKey realm=\"civicdesk\", header=\"X-Api-Key\"";

// gRPC refuses metadata values outside printable ASCII; a claim that is not is simply not
// copied (the services read the identity from the token itself).
bool IsMetadataSafe(absl::string_view value) {
  return !value.empty() && value.size() <= 1024 &&
         std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// Text safe inside a quoted challenge parameter.
std::string QuotedSafe(absl::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) {
    out += (c == '"' || c == '\\' || c < 0x20 || c > 0x7e) ? '\'' : c;
  }
  return out;
}

absl::string_view Sv(boost::beast::string_view s) { return absl::string_view(s.data(), s.size()); }

// The outcome of an API key check, on top of what the token decided.
AuthOutcome WithApp(AuthOutcome outcome, const absl::StatusOr<ApiApp>& app) {
  if (app.ok()) {
    outcome.metadata.emplace_back(auth::kAppIdMetadata, app->key_id);
    return outcome;
  }
  outcome.metadata.clear();
  if (absl::IsUnauthenticated(app.status())) {
    outcome.status = app.status();  // intake's reason: INVALID_API_KEY or API_KEY_REVOKED
    outcome.headers = {{"WWW-Authenticate", kApiKeyChallenge}};
  } else if (absl::IsCancelled(app.status())) {
    outcome.status = WithReason(absl::UnavailableError("the gateway is shutting down"),
                                "SHUTTING_DOWN", kDomain);
    outcome.headers = {{"Retry-After", "1"}};
  } else {
    CIVIC_LOG_WARN("gateway: cannot check an API key with intake: {}", app.status().ToString());
    outcome.status =
        WithReason(absl::UnavailableError("the API key cannot be checked now; try again shortly"),
                   "API_KEY_CHECK_UNAVAILABLE", kDomain);
    outcome.headers = {{"Retry-After", "1"}};
  }
  return outcome;
}

}  // namespace

absl::Status ValidateAuthConfig(const GatewayConfig& config) {
  if (config.api_key_cache_ms < 0 || config.api_key_cache_ms > kMaxApiKeyCacheMs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config gateway.api_key_cache_ms: must be 0..", kMaxApiKeyCacheMs,
        " (a revoked key must stop working within 10 s)"));
  }
  return absl::OkStatus();
}

Problem AuthOutcome::ToProblem(absl::string_view instance, absl::string_view request_id) const {
  Problem problem = ProblemFromStatus(status, instance, request_id);
  for (const auto& header : headers) problem.headers.push_back(header);
  return problem;
}

absl::StatusOr<std::unique_ptr<GatewayAuth>> GatewayAuth::Create(
    const GatewayConfig& config, std::shared_ptr<grpc::Channel> intake) {
  CIVIC_RETURN_IF_ERROR(ValidateAuthConfig(config));
  absl::StatusOr<auth::AuthKeys> keys = auth::LoadAuthKeys(config.auth);
  if (!keys.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("gateway: ", keys.status().message()));
  }
  auto checker = std::make_unique<ApiKeyVerifier>(
      std::move(intake),
      ApiKeyVerifier::Options{
          .cache_ttl = absl::Milliseconds(config.api_key_cache_ms),
          .timeout = absl::Milliseconds(std::min<int64_t>(config.default_timeout_ms, 5000))});
  return std::unique_ptr<GatewayAuth>(
      new GatewayAuth(config, *std::move(keys), std::move(checker)));
}

std::optional<AuthOutcome> GatewayAuth::Authenticate(
    const boost::beast::http::fields& headers, absl::string_view path,
    const boost::asio::any_io_executor& executor, std::function<void(AuthOutcome)> resume) {
  AuthOutcome outcome;
  std::optional<std::string> api_key;
  if (auto it = headers.find("X-Api-Key"); it != headers.end()) {
    api_key = std::string(absl::StripAsciiWhitespace(Sv(it->value())));
  }
  if (!api_key && require_api_key_ && absl::StartsWith(path, "/v1/")) {
    outcome.status = WithReason(
        absl::UnauthenticatedError("this API needs the app's key in the X-Api-Key header"),
        "API_KEY_REQUIRED", kDomain);
    outcome.headers = {{"WWW-Authenticate", kApiKeyChallenge}};
    return outcome;
  }

  if (auto it = headers.find(boost::beast::http::field::authorization); it != headers.end()) {
    const absl::string_view value = absl::StripAsciiWhitespace(Sv(it->value()));
    absl::StatusOr<auth::Caller> caller = auth::CallerFromAuthorization(value, keys_, absl::Now());
    if (!caller.ok()) {
      outcome.status = WithReason(caller.status(), "INVALID_TOKEN", kDomain);
      outcome.headers = {{"WWW-Authenticate",
                          absl::StrCat("Bearer realm=\"civicdesk\", error=\"invalid_token\", "
                                       "error_description=\"",
                                       QuotedSafe(caller.status().message()), "\"")}};
      return outcome;
    }
    // Forwarded as is: the services verify it themselves. A verified token is base64url.
    if (IsMetadataSafe(value)) outcome.metadata.emplace_back(auth::kAuthorizationMetadata, value);
    if (IsMetadataSafe(caller->subject)) {
      outcome.metadata.emplace_back(auth::kSubjectMetadata, caller->subject);
    }
    if (const std::string roles = absl::StrJoin(caller->roles, ","); IsMetadataSafe(roles)) {
      outcome.metadata.emplace_back(auth::kRolesMetadata, roles);
    }
    if (IsMetadataSafe(caller->unit_id)) {
      outcome.metadata.emplace_back(auth::kUnitIdMetadata, caller->unit_id);
    }
  }

  if (!api_key) return outcome;
  if (api_key->empty() || api_key->size() > kMaxApiKeyChars) {
    return WithApp(std::move(outcome),
                   WithReason(absl::UnauthenticatedError("the API key is not valid"),
                              "INVALID_API_KEY", kDomain));
  }
  if (std::optional<absl::StatusOr<ApiApp>> cached = api_keys_->Cached(*api_key)) {
    return WithApp(std::move(outcome), *cached);
  }
  api_keys_->CheckAsync(*api_key, [executor, resume = std::move(resume),
                                   outcome = std::move(outcome)](
                                      absl::StatusOr<ApiApp> app) mutable {
    // On a gRPC thread: only hand the outcome to the session's strand.
    boost::asio::post(executor, [resume = std::move(resume),
                                 decided = WithApp(std::move(outcome), app)]() mutable {
      resume(std::move(decided));
    });
  });
  return std::nullopt;
}

void AddAuthChallenge(Problem& problem) {
  if (problem.status != 401) return;
  for (const auto& [name, value] : problem.headers) {
    if (absl::EqualsIgnoreCase(name, "WWW-Authenticate")) return;
  }
  problem.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"civicdesk\"");
}

}  // namespace civic::gateway
