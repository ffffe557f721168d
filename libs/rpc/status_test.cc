#include "libs/rpc/status.h"

#include <catch2/catch.hpp>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/core/status.h"

namespace civic::rpc {
namespace {

TEST_CASE("field violations travel as google.rpc.BadRequest details", "[rpc]") {
  FieldErrors errors;
  errors.Add("location.lon", "must be between -180 and 180");
  const grpc::Status out = ToGrpcStatus(errors.ToStatus("intake"));
  REQUIRE(out.error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  google::rpc::Status detail;
  REQUIRE(detail.ParseFromString(out.error_details()));
  REQUIRE(detail.code() == 3);
  bool found = false;
  for (const auto& any : detail.details()) {
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&bad)) {
      found = true;
      REQUIRE(bad.field_violations(0).field() == "location.lon");
    }
  }
  REQUIRE(found);

  // And back: a peer's error passes through unchanged.
  const absl::Status back = FromGrpcStatus(out);
  REQUIRE(back.code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(FieldViolationsOf(back).at(0).field == "location.lon");
  REQUIRE(ReasonOf(back) == "INVALID_FIELDS");
}

TEST_CASE("OK maps to OK both ways", "[rpc]") {
  REQUIRE(ToGrpcStatus(absl::OkStatus()).ok());
  REQUIRE(FromGrpcStatus(grpc::Status::OK).ok());
  REQUIRE(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")).code() ==
          absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace civic::rpc
