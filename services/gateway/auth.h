// Authentication at the gateway, decided once per routed request before the backend
// call:
//   - apps: X-Api-Key, checked with intake (ApiKeyVerifier, cached up to 10 s). Required
//     on every /v1 route when gateway.require_api_key is on; checked whenever present.
//     The verified app goes to the services as x-civic-app-id (its key id).
//   - people: "Authorization: Bearer <jwt>", verified here with the staff keys (HS256
//     and/or RS256) and the citizen-token secret. A valid token is forwarded unchanged as
//     "authorization" with its identity as x-civic-subject, x-civic-roles (comma list)
//     and x-civic-unit-id; the services verify the token again and enforce roles
//     (libs/auth/caller.h). No token: the request goes on anonymously.
// Refusals are 401 problems (a Bearer challenge with error="invalid_token" for a bad
// token), or 503 when intake cannot check a key.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/fields.hpp>
#include <grpcpp/channel.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/auth/caller.h"
#include "services/gateway/api_keys.h"
#include "services/gateway/gateway_config.h"
#include "services/gateway/problem.h"

namespace civic::gateway {

// INVALID_ARGUMENT naming the key when gateway.api_key_cache_ms is outside 0..10000.
absl::Status ValidateAuthConfig(const GatewayConfig& config);

// The decision on one request.
struct AuthOutcome {
  // Not OK: refuse the request with ProblemFromStatus(status) plus `headers`.
  absl::Status status;
  std::vector<std::pair<std::string, std::string>> headers;
  // gRPC metadata to send with the backend call (when OK).
  std::vector<std::pair<std::string, std::string>> metadata;

  // The problem document of a refusal (status not OK).
  Problem ToProblem(absl::string_view instance, absl::string_view request_id) const;
};

class GatewayAuth {
 public:
  // Reads the key files named in `config` (INVALID_ARGUMENT naming a file that cannot be
  // used). `intake` is the channel to intake's gRPC service (null: every API key check
  // answers UNAVAILABLE).
  static absl::StatusOr<std::unique_ptr<GatewayAuth>> Create(
      const GatewayConfig& config, std::shared_ptr<grpc::Channel> intake);

  // Decides on a request to `path` with `headers`. Returns the outcome when it is known
  // at once (no key to ask intake about, a cached key, a refusal); otherwise returns
  // nullopt and later posts resume(outcome) to `executor` (the session's strand).
  std::optional<AuthOutcome> Authenticate(const boost::beast::http::fields& headers,
                                          absl::string_view path,
                                          const boost::asio::any_io_executor& executor,
                                          std::function<void(AuthOutcome)> resume);

  // The app key checker, also for Open311 (ApiKeyVerifier::AsOpen311Checker).
  ApiKeyVerifier& api_keys() { return *api_keys_; }

  // Cancels the key checks in flight and waits for their callbacks (which then post
  // their outcome, a 503, to the sessions). Call before stopping the I/O context.
  void CancelAllAndWait() { api_keys_->CancelAllAndWait(); }

 private:
  GatewayAuth(const GatewayConfig& config, auth::AuthKeys keys,
              std::unique_ptr<ApiKeyVerifier> api_keys)
      : require_api_key_(config.require_api_key),
        keys_(std::move(keys)),
        api_keys_(std::move(api_keys)) {}

  const bool require_api_key_;
  const auth::AuthKeys keys_;
  std::unique_ptr<ApiKeyVerifier> api_keys_;
};

// Adds a Bearer challenge (WWW-Authenticate) to a 401 problem that has none, e.g. a
// backend's UNAUTHENTICATED for an admin call made without a token (RFC 9110 §15.5.2).
void AddAuthChallenge(Problem& problem);

}  // namespace civic::gateway
