#include "libs/rpc/server.h"

#include <catch2/catch.hpp>

#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/metrics/metrics.h"
#include "libs/rpc/channel.h"
#include "prometheus/text_serializer.h"

namespace civic::rpc {
namespace {

grpc::health::v1::HealthCheckResponse::ServingStatus Check(const std::string& address,
                                                           const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(MakeChannel(address));
  grpc::ClientContext context;
  SetTimeout(context, absl::Seconds(5));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  REQUIRE(status.ok());
  return response.status();
}

TEST_CASE("health follows the lifecycle, per service name", "[rpc]") {
  auto server = Server::Start({.listen = "127.0.0.1:0",
                               .services = {},
                               .health_names = {"civic.test.v1.TestService"}});
  REQUIRE(server.ok());
  REQUIRE((*server)->port() > 0);
  const std::string address = (*server)->address();
  using grpc::health::v1::HealthCheckResponse;
  REQUIRE(Check(address, "civic.test.v1.TestService") == HealthCheckResponse::NOT_SERVING);
  (*server)->SetServing(true);
  REQUIRE(Check(address, "") == HealthCheckResponse::SERVING);
  REQUIRE(Check(address, "civic.test.v1.TestService") == HealthCheckResponse::SERVING);
  (*server)->SetServing(false);
  REQUIRE(Check(address, "civic.test.v1.TestService") == HealthCheckResponse::NOT_SERVING);
}

TEST_CASE("every call is counted with go-grpc-prometheus names", "[rpc]") {
  auto server = Server::Start({.listen = "127.0.0.1:0", .services = {}, .health_names = {}});
  REQUIRE(server.ok());
  (*server)->SetServing(true);
  Check((*server)->address(), "");
  const std::string text =
      prometheus::TextSerializer().Serialize(metrics::Registry()->Collect());
  REQUIRE(text.find("grpc_server_started_total{grpc_method=\"Check\",grpc_service=\"grpc."
                    "health.v1.Health\",grpc_type=\"unary\"}") != std::string::npos);
  REQUIRE(text.find("grpc_code=\"OK\"") != std::string::npos);
  REQUIRE(text.find("grpc_server_handling_seconds_bucket{") != std::string::npos);
}

TEST_CASE("a second server cannot bind a taken port", "[rpc]") {
  auto first = Server::Start({.listen = "127.0.0.1:0", .services = {}, .health_names = {}});
  REQUIRE(first.ok());
  auto second = Server::Start(
      {.listen = (*first)->address(), .services = {}, .health_names = {}});
  REQUIRE(second.status().code() == absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace civic::rpc
