#include "libs/core/status.h"

#include <catch2/catch.hpp>

namespace civic {
namespace {

TEST_CASE("FieldErrors reports every bad field at once", "[core][status]") {
  FieldErrors errors;
  REQUIRE(errors.ToStatus("test").ok());
  errors.Add("location.lat", "must be between -90 and 90");
  errors.Add("category", "unknown category 'x.y'");
  absl::Status status = errors.ToStatus("intake");
  REQUIRE(status.code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(status.message() == "location.lat: must be between -90 and 90 (and 1 more)");
  auto violations = FieldViolationsOf(status);
  REQUIRE(violations.size() == 2);
  REQUIRE(violations[1].field == "category");
  REQUIRE(ReasonOf(status) == "INVALID_FIELDS");
}

TEST_CASE("WithReason and WithRetryDelay leave OK statuses alone", "[core][status]") {
  REQUIRE(WithReason(absl::OkStatus(), "X", "d").ok());
  absl::Status limited =
      WithRetryDelay(absl::ResourceExhaustedError("slow down"), absl::Seconds(3));
  REQUIRE(limited.GetPayload(kRetryInfoUrl).has_value());
  REQUIRE(ReasonOf(absl::NotFoundError("x")).empty());
}

}  // namespace
}  // namespace civic
