// The gRPC -> HTTP status table and the problem+json documents built from google.rpc
// details.
#include "services/gateway/problem.h"

#include <catch2/catch.hpp>

#include "absl/time/time.h"
#include "civic/common/v1/common.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/core/status.h"
#include "nlohmann/json.hpp"

namespace civic::gateway {
namespace {

// A grpc::Status as a backend sends it: details packed in a google.rpc.Status.
grpc::Status WithDetails(grpc::StatusCode code, const std::string& message,
                         const std::vector<const google::protobuf::Message*>& details) {
  google::rpc::Status rpc;
  rpc.set_code(static_cast<int>(code));
  rpc.set_message(message);
  for (const auto* d : details) rpc.add_details()->PackFrom(*d);
  return grpc::Status(code, message, rpc.SerializeAsString());
}

std::string Header(const Problem& p, const std::string& name) {
  for (const auto& [n, v] : p.headers) {
    if (n == name) return v;
  }
  return "";
}

TEST_CASE("HttpStatusForCode follows the gateway's table") {
  using C = grpc::StatusCode;
  const std::vector<std::pair<C, int>> table = {
      {C::OK, 200},
      {C::INVALID_ARGUMENT, 400},
      {C::OUT_OF_RANGE, 400},
      {C::UNAUTHENTICATED, 401},
      {C::PERMISSION_DENIED, 403},
      {C::NOT_FOUND, 404},
      {C::ALREADY_EXISTS, 409},
      {C::ABORTED, 409},
      {C::FAILED_PRECONDITION, 412},
      {C::RESOURCE_EXHAUSTED, 429},
      {C::CANCELLED, 499},
      {C::UNIMPLEMENTED, 501},
      {C::UNAVAILABLE, 503},
      {C::DEADLINE_EXCEEDED, 504},
      {C::UNKNOWN, 500},
      {C::INTERNAL, 500},
      {C::DATA_LOSS, 500},
  };
  for (const auto& [code, http] : table) {
    INFO(static_cast<int>(code));
    CHECK(HttpStatusForCode(code) == http);
  }
}

TEST_CASE("A plain status gives a problem typed by its code") {
  const Problem p = ProblemFromGrpcStatus(
      grpc::Status(grpc::StatusCode::NOT_FOUND, "no report HCM-2611-ABCDE-12"),
      "/v1/reports/HCM-2611-ABCDE-12", "01JABCDEF");
  CHECK(p.status == 404);
  CHECK(p.headers.empty());
  const auto doc = nlohmann::json::parse(p.body);
  CHECK(doc["type"] == "https://civicdesk.example/problems/not-found");
  CHECK(doc["title"] == "Not Found");
  CHECK(doc["status"] == 404);
  CHECK(doc["detail"] == "no report HCM-2611-ABCDE-12");
  CHECK(doc["instance"] == "/v1/reports/HCM-2611-ABCDE-12");
  CHECK(doc["request_id"] == "01JABCDEF");
  CHECK_FALSE(doc.contains("errors"));
  // RFC 9457 member order.
  CHECK(p.body.find("\"type\"") < p.body.find("\"title\""));
  CHECK(p.body.find("\"title\"") < p.body.find("\"status\""));
}

TEST_CASE("BadRequest becomes errors[] and ErrorReason the type") {
  google::rpc::BadRequest bad;
  auto* v = bad.add_field_violations();
  v->set_field("location.lat");
  v->set_description("must be within -90..90");
  v = bad.add_field_violations();
  v->set_field("description");
  v->set_description("không được để trống");  // UTF-8 survives
  civic::common::v1::ErrorReason reason;
  reason.set_reason("INVALID_FIELDS");
  reason.set_domain("intake.civicdesk");

  const Problem p = ProblemFromGrpcStatus(
      WithDetails(grpc::StatusCode::INVALID_ARGUMENT, "location.lat: must be within -90..90",
                  {&bad, &reason}),
      "/v1/reports", "req-1");
  CHECK(p.status == 400);
  const auto doc = nlohmann::json::parse(p.body);
  CHECK(doc["type"] == "https://civicdesk.example/problems/invalid-fields");
  REQUIRE(doc["errors"].size() == 2);
  CHECK(doc["errors"][0]["field"] == "location.lat");
  CHECK(doc["errors"][0]["description"] == "must be within -90..90");
  CHECK(doc["errors"][1]["field"] == "description");
  CHECK(doc["errors"][1]["description"] == "không được để trống");
  CHECK(p.body.find("không") != std::string::npos);  // not \u-escaped
}

TEST_CASE("RetryInfo becomes Retry-After, rounded up to whole seconds") {
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(2);
  retry.mutable_retry_delay()->set_nanos(500000000);
  const Problem p = ProblemFromGrpcStatus(
      WithDetails(grpc::StatusCode::RESOURCE_EXHAUSTED, "slow down", {&retry}), "/v1/reports",
      "req-2");
  CHECK(p.status == 429);
  CHECK(Header(p, "Retry-After") == "3");

  google::rpc::RetryInfo exact;
  exact.mutable_retry_delay()->set_seconds(5);
  const Problem q = ProblemFromGrpcStatus(
      WithDetails(grpc::StatusCode::UNAVAILABLE, "busy", {&exact}), "/v1/reports", "req-3");
  CHECK(q.status == 503);
  CHECK(Header(q, "Retry-After") == "5");
}

TEST_CASE("An unreachable or silent service is a plain 503 or 504, without its address") {
  const Problem down = ProblemFromGrpcStatus(
      grpc::Status(grpc::StatusCode::UNAVAILABLE,
                   "failed to connect to all addresses; last error: UNKNOWN: "
                   "ipv4:10.0.3.7:7101: Connection refused"),
      "/v1/categories", "req-8");
  CHECK(down.status == 503);
  CHECK(Header(down, "Retry-After") == "1");
  CHECK(down.body.find("10.0.3.7") == std::string::npos);
  CHECK(nlohmann::json::parse(down.body)["type"] ==
        "https://civicdesk.example/problems/unavailable");

  const Problem silent = ProblemFromGrpcStatus(
      grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded at 10.0.3.7"),
      "/v1/categories", "req-9");
  CHECK(silent.status == 504);
  CHECK(silent.body.find("10.0.3.7") == std::string::npos);
  CHECK(Header(silent, "Retry-After").empty());
}

TEST_CASE("absl::Status payloads are read the same way") {
  FieldErrors errors;
  errors.Add("lat", "unknown query parameter");
  const Problem p = ProblemFromStatus(
      WithRetryDelay(errors.ToStatus("gateway.civicdesk"), absl::Seconds(1)),
      "/v1/areas:resolve", "req-4");
  CHECK(p.status == 400);
  CHECK(Header(p, "Retry-After") == "1");
  const auto doc = nlohmann::json::parse(p.body);
  CHECK(doc["type"] == "https://civicdesk.example/problems/invalid-fields");
  REQUIRE(doc["errors"].size() == 1);
  CHECK(doc["errors"][0]["field"] == "lat");
}

TEST_CASE("Internal errors do not leak the backend's message") {
  const Problem p = ProblemFromGrpcStatus(
      grpc::Status(grpc::StatusCode::INTERNAL, "rocksdb: IO error /var/lib/civic/intake"),
      "/v1/reports", "req-5");
  CHECK(p.status == 500);
  CHECK(p.body.find("rocksdb") == std::string::npos);
  CHECK(nlohmann::json::parse(p.body)["type"] ==
        "https://civicdesk.example/problems/internal");
}

TEST_CASE("A hostile reason is reduced to a URL-safe slug") {
  civic::common::v1::ErrorReason reason;
  reason.set_reason("BAD/../\"REASON\"");
  const Problem p = ProblemFromGrpcStatus(
      WithDetails(grpc::StatusCode::FAILED_PRECONDITION, "no", {&reason}), "/x", "r");
  CHECK(p.status == 412);
  CHECK(nlohmann::json::parse(p.body)["type"] ==
        "https://civicdesk.example/problems/badreason");
}

TEST_CASE("MakeProblem for the gateway's own errors") {
  const Problem p = MakeProblem(413, "body-too-large", "the body exceeds 1048576 bytes",
                                "/v1/reports", "req-6");
  CHECK(p.status == 413);
  const auto doc = nlohmann::json::parse(p.body);
  CHECK(doc["type"] == "https://civicdesk.example/problems/body-too-large");
  CHECK(doc["title"] == "Content Too Large");
  CHECK(doc["status"] == 413);
  CHECK(HttpReasonPhrase(499) == "Client Closed Request");
  CHECK(HttpReasonPhrase(415) == "Unsupported Media Type");
}

}  // namespace
}  // namespace civic::gateway
