// Which app an X-Api-Key belongs to, as intake (which issues and revokes keys) says
// through CheckApiKey, remembered for a short time so that most requests cost no call.
// Revocation therefore takes effect within the cache time (at most 10 s, config
// gateway.api_key_cache_ms).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "civic/intake/v1/intake.grpc.pb.h"

namespace civic::gateway {

// A verified app.
struct ApiApp {
  std::string key_id;    // sent to the services as x-civic-app-id
  std::string app_name;  // for logs
};

// Thread-safe. Answers UNAUTHENTICATED are cached like valid ones (a flood of bad keys
// costs intake one call per key per cache time); failures to reach intake are not.
class ApiKeyVerifier {
 public:
  struct Options {
    // How long an answer is reused; zero: every check asks intake.
    absl::Duration cache_ttl = absl::Seconds(10);
    // Deadline of each CheckApiKey call.
    absl::Duration timeout = absl::Seconds(5);
    // Entries kept at most; beyond, expired ones are dropped, then all.
    size_t max_entries = 10000;
  };

  // `intake` is a channel to civic.intake.v1.IntakeService; null: every check that the
  // cache cannot answer is UNAVAILABLE.
  ApiKeyVerifier(std::shared_ptr<grpc::Channel> intake, Options options);
  // Cancels the calls in flight and waits for their callbacks.
  ~ApiKeyVerifier();
  ApiKeyVerifier(const ApiKeyVerifier&) = delete;
  ApiKeyVerifier& operator=(const ApiKeyVerifier&) = delete;

  // The cached answer for `key`, if any is fresh.
  std::optional<absl::StatusOr<ApiApp>> Cached(absl::string_view key);

  // Checks `key`; `done` runs once, inline when the answer is cached, else on a gRPC
  // thread (keep it short: post to your own executor). After CancelAllAndWait, `done`
  // gets CANCELLED at once.
  void CheckAsync(absl::string_view key, std::function<void(absl::StatusOr<ApiApp>)> done);

  // The same, blocking until the answer (or `timeout`, DEADLINE_EXCEEDED; the call's
  // own deadline is options.timeout).
  absl::StatusOr<ApiApp> Check(absl::string_view key,
                               absl::Duration timeout = absl::InfiniteDuration());

  // This verifier in the form Open311 takes (open311.h's ApiKeyChecker): the client id
  // "app:<key_id>" (the same scope intake gives the app's REST calls), PERMISSION_DENIED
  // for a missing, unknown or revoked key, UNAVAILABLE when intake cannot answer. A
  // cached key answers at once; a miss blocks the calling thread for one CheckApiKey
  // call (a point read in intake, at most `open311_timeout`), once per key per cache
  // time. The verifier must outlive the function.
  std::function<absl::StatusOr<std::string>(absl::string_view api_key)> AsOpen311Checker(
      absl::Duration open311_timeout = absl::Seconds(1));

  // Refuses new checks, cancels those in flight and waits until their callbacks have
  // returned. Idempotent.
  void CancelAllAndWait();

 private:
  struct Call;
  struct Entry {
    absl::StatusOr<ApiApp> answer;
    absl::Time expires;
  };
  void Remember(const std::string& digest, const absl::StatusOr<ApiApp>& answer);

  std::unique_ptr<intake::v1::IntakeService::Stub> stub_;
  const Options options_;

  std::mutex mu_;
  std::condition_variable idle_;
  std::unordered_map<std::string, Entry> cache_;  // SHA-256 of the key → answer
  std::map<Call*, std::shared_ptr<Call>> in_flight_;
  int callbacks_running_ = 0;
  bool closed_ = false;
};

}  // namespace civic::gateway
