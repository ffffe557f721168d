#include "libs/rpc/server.h"

#include <catch2/catch.hpp>

#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/metrics/metrics.h"
#include "libs/rpc/channel.h"
#include "libs/rpc/test_pki.h"
#include "libs/storage/test_dir.h"
#include "prometheus/text_serializer.h"

namespace civic::rpc {
namespace {

grpc::Status CheckStatus(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service,
                         grpc::health::v1::HealthCheckResponse* response) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  SetTimeout(context, absl::Seconds(5));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  return stub->Check(&context, request, response);
}

grpc::health::v1::HealthCheckResponse::ServingStatus Check(const std::string& address,
                                                           const std::string& service) {
  grpc::health::v1::HealthCheckResponse response;
  REQUIRE(CheckStatus(MakeChannel(address), service, &response).ok());
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

TEST_CASE("an in-process channel reaches the server without a socket, through its "
          "interceptors",
          "[rpc]") {
  auto server = Server::Start({.listen = "127.0.0.1:0", .services = {},
                               .health_names = {"civic.inproc.v1.Service"}});
  REQUIRE(server.ok());
  (*server)->SetServing(true);
  std::shared_ptr<grpc::Channel> channel = (*server)->InProcessChannel();
  grpc::health::v1::HealthCheckResponse response;
  REQUIRE(CheckStatus(channel, "civic.inproc.v1.Service", &response).ok());
  CHECK(response.status() == grpc::health::v1::HealthCheckResponse::SERVING);
  const std::string text =
      prometheus::TextSerializer().Serialize(metrics::Registry()->Collect());
  CHECK(text.find("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Check\"") !=
        std::string::npos);

  // Callers stop first (server.h); the channel may outlive the server.
  (*server)->Shutdown(absl::Seconds(1));
  server->reset();
  channel.reset();
}

TEST_CASE("a second server cannot bind a taken port", "[rpc]") {
  auto first = Server::Start({.listen = "127.0.0.1:0", .services = {}, .health_names = {}});
  REQUIRE(first.ok());
  auto second = Server::Start(
      {.listen = (*first)->address(), .services = {}, .health_names = {}});
  REQUIRE(second.status().code() == absl::StatusCode::kUnavailable);
}

// ---- Mutual TLS port

// Health of the whole server over TLS, presenting `client` (or no certificate).
grpc::Status CheckOverTls(const std::string& address, const std::string& ca_pem,
                          const testing::IssuedCert* client) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca_pem;
  if (client != nullptr) {
    ssl.pem_cert_chain = client->cert_pem;
    ssl.pem_private_key = client->key_pem;
  }
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::SslCredentials(ssl)));
  grpc::ClientContext context;
  SetTimeout(context, absl::Seconds(5));
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
}

TEST_CASE("a TLS port serves only clients whose certificate the client CA signed, beside the "
          "plaintext port",
          "[rpc][tls]") {
  storage::TestDir dir;
  testing::TestPki pki("CivicDesk test CA");
  testing::TestPki rogue("Rogue CA");
  const testing::CertFiles server_files =
      pki.IssueServer("localhost", {"IP:127.0.0.1", "DNS:localhost"}).WriteTo(dir.path(), "server");
  TlsPortOptions tls{.name = "agency",
                     .listen = "127.0.0.1:0",
                     .cert_file = server_files.cert.string(),
                     .key_file = server_files.key.string(),
                     .client_ca_file = pki.WriteCa(dir.path()).string()};
  auto server = Server::Start(
      {.listen = "127.0.0.1:0", .services = {}, .health_names = {}, .tls = tls});
  REQUIRE(server.ok());
  (*server)->SetServing(true);
  const std::string tls_address = (*server)->tls_address();
  REQUIRE(tls_address.rfind("127.0.0.1:", 0) == 0);
  REQUIRE(tls_address != (*server)->address());

  const testing::IssuedCert unit = pki.IssueClient("hcm.ward_pc.26734");
  CHECK(CheckOverTls(tls_address, pki.ca_pem(), &unit).ok());
  // Refused at the handshake: a certificate from another CA, or none.
  const testing::IssuedCert impostor = rogue.IssueClient("hcm.ward_pc.26734");
  const grpc::Status foreign = CheckOverTls(tls_address, pki.ca_pem(), &impostor);
  CHECK_FALSE(foreign.ok());
  // Refused by TLS, not answered by the server.
  CHECK((foreign.error_code() == grpc::StatusCode::UNAVAILABLE ||
         foreign.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED));
  CHECK_FALSE(CheckOverTls(tls_address, pki.ca_pem(), nullptr).ok());
  // The plaintext port is unchanged.
  CHECK(Check((*server)->address(), "") ==
        grpc::health::v1::HealthCheckResponse::SERVING);

  // A missing file is named before anything binds.
  tls.client_ca_file = (dir.path() / "missing.crt").string();
  auto broken = Server::Start(
      {.listen = "127.0.0.1:0", .services = {}, .health_names = {}, .tls = tls});
  REQUIRE(broken.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(broken.status().message().find("missing.crt") != absl::string_view::npos);
}

}  // namespace
}  // namespace civic::rpc
