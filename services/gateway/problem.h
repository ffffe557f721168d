// Errors as HTTP sees them: one table from gRPC codes to HTTP statuses, and RFC 9457
// problem documents (application/problem+json) carrying the google.rpc details that
// backends attach (field violations, retry delay, machine-readable reason).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace civic::gateway {

inline constexpr absl::string_view kProblemContentType = "application/problem+json";
// Problem types are this base followed by a slug, e.g. ".../problems/not-found".
inline constexpr absl::string_view kProblemTypeBase = "https://civicdesk.example/problems/";

// An error response ready to send.
struct Problem {
  int status = 500;
  std::string body;  // the problem+json document
  // Extra response headers, e.g. {"Retry-After", "3"} or {"Allow", "GET"}.
  std::vector<std::pair<std::string, std::string>> headers;
};

// The HTTP status for a gRPC code. The one table of the gateway:
//   OK 200, INVALID_ARGUMENT 400, OUT_OF_RANGE 400, UNAUTHENTICATED 401,
//   PERMISSION_DENIED 403, NOT_FOUND 404, ALREADY_EXISTS 409, ABORTED 409,
//   FAILED_PRECONDITION 412, RESOURCE_EXHAUSTED 429, CANCELLED 499 (nginx's "client
//   closed request"), UNIMPLEMENTED 501, UNAVAILABLE 503, DEADLINE_EXCEEDED 504,
//   anything else (UNKNOWN, INTERNAL, DATA_LOSS) 500.
int HttpStatusForCode(grpc::StatusCode code);

// The reason phrase for an HTTP status this gateway sends ("Not Found"); also the
// problem title. "Error" for statuses outside the table.
absl::string_view HttpReasonPhrase(int http_status);

// The problem for a failed backend call. `instance` is the request path (never the
// query: it may hold personal data), `request_id` the X-Request-Id of the exchange.
// The status's error_details, when they parse as google.rpc.Status, contribute:
//   civic.common.v1.ErrorReason.reason -> the type slug ("UNKNOWN_CATEGORY" ->
//     ".../unknown-category"); otherwise the slug is the code ("not-found");
//   google.rpc.BadRequest -> "errors": [{"field", "description"}...];
//   google.rpc.RetryInfo -> a Retry-After header in whole seconds, rounded up.
// For 500s the backend's message is replaced by a generic one, so internals (paths,
// storage errors) never reach a client; so is it for 503 and 504 unless the backend
// gave an ErrorReason (gRPC's messages for an unreachable service name hosts and
// ports), and a 503 without RetryInfo gets "Retry-After: 1". Must not be called with an
// OK status.
Problem ProblemFromGrpcStatus(const grpc::Status& status, absl::string_view instance,
                              absl::string_view request_id);

// The same for an absl::Status (e.g. one the gateway raised while reading a request);
// payloads are read as the google.rpc details they name.
Problem ProblemFromStatus(const absl::Status& status, absl::string_view instance,
                          absl::string_view request_id);

// A problem the gateway detects itself (unknown route, body too large, ...): the type is
// kProblemTypeBase + `slug`, the title the reason phrase of `http_status`.
Problem MakeProblem(int http_status, absl::string_view slug, absl::string_view detail,
                    absl::string_view instance, absl::string_view request_id);

}  // namespace civic::gateway
