// Status helpers: building INVALID_ARGUMENT with one field violation per bad field,
// and attaching machine-readable reasons, all as absl::Status payloads so that the
// edges (gRPC, HTTP) can turn them into google.rpc details.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace civic {

// Payload type URLs, as google.rpc.Status details name them.
inline constexpr absl::string_view kBadRequestUrl =
    "type.googleapis.com/google.rpc.BadRequest";
inline constexpr absl::string_view kRetryInfoUrl =
    "type.googleapis.com/google.rpc.RetryInfo";
inline constexpr absl::string_view kErrorReasonUrl =
    "type.googleapis.com/civic.common.v1.ErrorReason";

struct FieldViolation {
  std::string field;        // proto field path, e.g. "location.lat"
  std::string description;  // what is wrong, for a human
};

// Collects every problem of a request, so a caller learns of all bad fields at once.
class FieldErrors {
 public:
  void Add(std::string field, std::string description) {
    violations_.push_back({std::move(field), std::move(description)});
  }
  bool empty() const { return violations_.empty(); }
  const std::vector<FieldViolation>& violations() const { return violations_; }

  // OkStatus when empty; otherwise INVALID_ARGUMENT carrying a google.rpc.BadRequest
  // payload with every violation, and a message naming the first.
  absl::Status ToStatus(absl::string_view domain) const;

 private:
  std::vector<FieldViolation> violations_;
};

// Attaches a civic.common.v1.ErrorReason payload to a non-OK status.
absl::Status WithReason(absl::Status status, absl::string_view reason,
                        absl::string_view domain);

// Attaches a google.rpc.RetryInfo payload (the client should retry after `delay`).
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

// The field violations carried by a status (empty when none).
std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status);

// The reason carried by a status, or "" when none.
std::string ReasonOf(const absl::Status& status);

}  // namespace civic

// Evaluates an expression returning absl::Status; returns it from the enclosing
// function when not OK.
#define CIVIC_RETURN_IF_ERROR(expr)            \
  do {                                         \
    if (absl::Status _st = (expr); !_st.ok()) \
      return _st;                              \
  } while (0)

#define CIVIC_CONCAT_INNER_(a, b) a##b
#define CIVIC_CONCAT_(a, b) CIVIC_CONCAT_INNER_(a, b)

// CIVIC_ASSIGN_OR_RETURN(auto x, StatusOrExpr()): unwraps or returns the error.
#define CIVIC_ASSIGN_OR_RETURN(lhs, expr) \
  CIVIC_ASSIGN_OR_RETURN_IMPL_(CIVIC_CONCAT_(_statusor_, __LINE__), lhs, expr)
#define CIVIC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(*tmp)
