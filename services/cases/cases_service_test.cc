#include "services/cases/cases_service.h"

#include <catch2/catch.hpp>

#include "libs/auth/jwt.h"
#include "libs/rpc/channel.h"
#include "libs/rpc/server.h"
#include "libs/rpc/test_pki.h"
#include "libs/storage/feed_consumer.h"
#include "libs/storage/test_dir.h"
#include "services/cases/feed_client.h"

namespace civic::cases {
namespace {

v1::OpenCaseRequest Request(int i) {
  v1::OpenCaseRequest r;
  r.set_report_id("R" + std::to_string(i));
  r.set_tracking_code("PA-2611-AAAA" + std::to_string(i % 10) + "-00");
  r.set_category("environment.garbage");
  r.mutable_unit()->set_id("hcm.util_sanitation");
  return r;
}

TEST_CASE("feed subscribers get the backlog, then live events, once each, across a "
          "reconnect",
          "[cases][feed]") {
  storage::TestDir dir;
  auto store = storage::Store::Open({dir.path() / "cases", CasesKeyspaces()});
  FakeClock clock;
  auto logic = CasesLogic::Create(store->get(), &clock);
  for (int i = 0; i < 5; ++i) REQUIRE((*logic)->OpenCase(Request(i)).ok());

  CasesService service(logic->get(), 2);
  auto server = rpc::Server::Start({.listen = "127.0.0.1:0", .services = {&service},
                                    .health_names = {}});
  REQUIRE(server.ok());

  auto consumer_store = storage::Store::Open({dir.path() / "consumer", {"seen", "meta"}});
  auto make_consumer = [&] {
    return std::make_unique<storage::FeedConsumer>(
        "test", consumer_store->get(), "meta",
        std::make_unique<CaseFeedSource>(rpc::MakeChannel((*server)->address()), "test"),
        [](uint64_t seq, const std::string& payload, storage::Batch& batch) {
          common::v1::CaseEvent event;
          REQUIRE(event.ParseFromString(payload));
          REQUIRE(event.sequence() == seq);
          batch.Put("seen", storage::EncodeUint64(seq), event.case_id());
          return absl::OkStatus();
        });
  };
  {
    auto consumer = make_consumer();
    REQUIRE(consumer->Start().ok());
    REQUIRE(consumer->WaitFor(5, absl::Seconds(10)));  // backlog
    for (int i = 5; i < 8; ++i) REQUIRE((*logic)->OpenCase(Request(i)).ok());
    REQUIRE(consumer->WaitFor(8, absl::Seconds(10)));  // live
    consumer->Stop();
  }
  for (int i = 8; i < 10; ++i) REQUIRE((*logic)->OpenCase(Request(i)).ok());
  auto consumer = make_consumer();
  REQUIRE(consumer->Start().ok());
  REQUIRE(consumer->position() == 8);
  REQUIRE(consumer->WaitFor(10, absl::Seconds(10)));  // resumed from its cursor
  consumer->Stop();

  int seen = 0;
  REQUIRE((*consumer_store)->Scan("seen", "", "", [&](absl::string_view, absl::string_view) {
    ++seen;
    return true;
  }).ok());
  REQUIRE(seen == 10);

  service.CloseStreams();
  (*server)->Shutdown(absl::Seconds(2));
}

// Bearer tokens the test services accept (HS256 with this secret).
const std::string kTokenSecret = "cases-service-test-secret-0123456789abcdef";

UnitIdentityOptions TokenIdentity() {
  return UnitIdentityOptions{.tokens = {.hs256_secret = kTokenSecret}};
}

// "Bearer <token>" naming `unit`, valid for a minute from now, signed with `secret`.
std::string BearerFor(const std::string& unit, const std::string& secret = kTokenSecret,
                      absl::Duration valid_for = absl::Minutes(1)) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  return "Bearer " + auth::SignHs256({{"sub", "test-agency-system"},
                                      {"unit", unit},
                                      {"iat", now},
                                      {"exp", now + absl::ToInt64Seconds(valid_for)}},
                                     secret);
}

v1::OpenCaseRequest ForUnit(int i, const std::string& unit) {
  v1::OpenCaseRequest r = Request(i);
  r.mutable_unit()->set_id(unit);
  return r;
}

// Reads `n` updates from a WatchQueue stream (as `unit`, after `after`), then cancels.
std::vector<v1::QueueUpdate> Watch(const std::string& address, const std::string& unit,
                                   uint64_t after, size_t n,
                                   const std::function<void()>& while_open = nullptr) {
  auto stub = v1::CasesService::NewStub(rpc::MakeChannel(address));
  grpc::ClientContext context;
  rpc::SetTimeout(context, absl::Seconds(20));
  context.AddMetadata("authorization", BearerFor(unit));
  v1::WatchQueueRequest request;
  request.set_after_sequence(after);
  auto reader = stub->WatchQueue(&context, request);
  std::vector<v1::QueueUpdate> out;
  v1::QueueUpdate update;
  bool triggered = false;
  while (out.size() < n && reader->Read(&update)) {
    out.push_back(update);
    // Once the backlog is in, make the live changes.
    if (!triggered && while_open && !update.backlog()) triggered = true;
    if (!triggered && while_open && out.size() == n - 2) {
      triggered = true;
      while_open();
    }
  }
  context.TryCancel();
  reader->Finish().IgnoreError();
  return out;
}

TEST_CASE("a unit's queue stream: its backlog, then its live changes only, resumable "
          "after a disconnect",
          "[cases][watch]") {
  storage::TestDir dir;
  auto store = storage::Store::Open({dir.path() / "cases", CasesKeyspaces()});
  FakeClock clock;
  auto logic = CasesLogic::Create(store->get(), &clock);
  const std::string mine = "hcm.ward_pc.26743";
  const std::string other = "hcm.ward_pc.26740";
  REQUIRE((*logic)->OpenCase(ForUnit(1, mine)).ok());
  REQUIRE((*logic)->OpenCase(ForUnit(2, other)).ok());
  REQUIRE((*logic)->OpenCase(ForUnit(3, mine)).ok());

  CasesService service(logic->get(), 2, TokenIdentity());
  auto server = rpc::Server::Start({.listen = "127.0.0.1:0", .services = {&service},
                                    .health_names = {}});
  REQUIRE(server.ok());
  const std::string address = (*server)->address();

  // Backlog (2 of mine), then two live changes: another unit's case is not among them.
  auto updates = Watch(address, mine, 0, 4, [&] {
    REQUIRE((*logic)->OpenCase(ForUnit(4, other)).ok());
    REQUIRE((*logic)->OpenCase(ForUnit(5, mine)).ok());
    auto c = (*logic)->GetCaseByReport("R1");
    REQUIRE((*logic)->Act({mine}, Action::kAccept,
                          {.case_id = c->case_id(), .expected_version = c->version()})
                .ok());
  });
  REQUIRE(updates.size() == 4);
  REQUIRE(updates[0].backlog());
  REQUIRE(updates[1].backlog());
  REQUIRE(updates[2].item().report_id() == "R5");
  REQUIRE(updates[2].change() == common::v1::CASE_EVENT_TYPE_OPENED);
  REQUIRE(updates[3].item().report_id() == "R1");
  REQUIRE(updates[3].item().status() == common::v1::CASE_STATUS_ACCEPTED);
  for (const auto& u : updates) REQUIRE(u.item().unit().id() == mine);

  // Disconnected after the first live change; resuming from its cursor delivers the
  // rest, and nothing twice.
  auto resumed = Watch(address, mine, updates[2].sequence(), 1);
  REQUIRE(resumed.size() == 1);
  REQUIRE(resumed[0].item().report_id() == "R1");
  REQUIRE_FALSE(resumed[0].backlog());

  // No identity: refused.
  auto stub = v1::CasesService::NewStub(rpc::MakeChannel(address));
  grpc::ClientContext context;
  rpc::SetTimeout(context, absl::Seconds(5));
  auto reader = stub->WatchQueue(&context, v1::WatchQueueRequest());
  v1::QueueUpdate ignored;
  REQUIRE_FALSE(reader->Read(&ignored));
  REQUIRE(reader->Finish().error_code() == grpc::StatusCode::UNAUTHENTICATED);

  service.CloseStreams();
  (*server)->Shutdown(absl::Seconds(2));
}

// ---- Unit identity

// A stub over TLS presenting `client`'s certificate.
std::unique_ptr<v1::CasesService::Stub> AgencyStub(const std::string& address,
                                                   const std::string& ca_pem,
                                                   const rpc::testing::IssuedCert& client) {
  grpc::SslCredentialsOptions ssl{.pem_root_certs = ca_pem,
                                  .pem_private_key = client.key_pem,
                                  .pem_cert_chain = client.cert_pem};
  return v1::CasesService::NewStub(grpc::CreateChannel(address, grpc::SslCredentials(ssl)));
}

// GetCase with the given metadata ("authorization", "x-civic-unit-id").
grpc::StatusCode GetCaseAs(v1::CasesService::Stub& stub, const std::string& case_id,
                           const std::vector<std::pair<std::string, std::string>>& metadata,
                           v1::Case* out = nullptr) {
  grpc::ClientContext context;
  rpc::SetTimeout(context, absl::Seconds(10));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  v1::GetCaseRequest request;
  request.set_case_id(case_id);
  v1::Case ignored;
  return stub.GetCase(&context, request, out != nullptr ? out : &ignored).error_code();
}

TEST_CASE("a unit is named by its client certificate on the agency port or by a signed token, "
          "never by an unsigned header unless enabled, and cannot reach another unit's case",
          "[cases][identity]") {
  storage::TestDir dir;
  auto store = storage::Store::Open({dir.path() / "cases", CasesKeyspaces()});
  FakeClock clock;
  auto logic = CasesLogic::Create(store->get(), &clock);
  const std::string mine = "hcm.ward_pc.26734";
  const std::string other = "hcm.ward_pc.26740";
  const std::string my_case = (*logic)->OpenCase(ForUnit(1, mine))->case_id();
  const std::string other_case = (*logic)->OpenCase(ForUnit(2, other))->case_id();

  rpc::testing::TestPki pki("cases test CA");
  const rpc::testing::CertFiles server_files =
      pki.IssueServer("localhost", {"IP:127.0.0.1", "DNS:localhost"})
          .WriteTo(dir.path(), "server");
  CasesService service(logic->get(), 2, TokenIdentity());
  auto server = rpc::Server::Start(
      {.listen = "127.0.0.1:0",
       .services = {&service},
       .health_names = {},
       .tls = rpc::TlsPortOptions{.name = "agency",
                                  .listen = "127.0.0.1:0",
                                  .cert_file = server_files.cert.string(),
                                  .key_file = server_files.key.string(),
                                  .client_ca_file = pki.WriteCa(dir.path()).string()}});
  REQUIRE(server.ok());
  auto internal = v1::CasesService::NewStub(rpc::MakeChannel((*server)->address()));
  auto agency = AgencyStub((*server)->tls_address(), pki.ca_pem(), pki.IssueClient(mine));

  SECTION("over the agency port the certificate names the unit, whatever the metadata says") {
    v1::Case seen;
    REQUIRE(GetCaseAs(*agency, my_case, {}, &seen) == grpc::StatusCode::OK);
    CHECK(seen.unit().id() == mine);
    CHECK(GetCaseAs(*agency, other_case, {}) == grpc::StatusCode::NOT_FOUND);
    CHECK(GetCaseAs(*agency, other_case, {{"authorization", BearerFor(other)}}) ==
          grpc::StatusCode::NOT_FOUND);
    CHECK(GetCaseAs(*agency, other_case, {{"x-civic-unit-id", other}}) ==
          grpc::StatusCode::NOT_FOUND);
    // Nor can it change another unit's case.
    grpc::ClientContext context;
    rpc::SetTimeout(context, absl::Seconds(10));
    v1::CaseActionRequest accept;
    accept.set_case_id(other_case);
    accept.set_expected_version(1);
    v1::Case ignored;
    CHECK(agency->Accept(&context, accept, &ignored).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }

  SECTION("an agency system cannot call the internal RPCs") {
    auto expect_denied = [](grpc::Status status) {
      CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    };
    v1::Case ignored;
    {
      grpc::ClientContext context;
      rpc::SetTimeout(context, absl::Seconds(10));
      expect_denied(agency->OpenCase(&context, ForUnit(3, mine), &ignored));
    }
    {
      grpc::ClientContext context;
      rpc::SetTimeout(context, absl::Seconds(10));
      v1::GetCaseByReportRequest request;
      request.set_report_id("R1");
      expect_denied(agency->GetCaseByReport(&context, request, &ignored));
    }
    {
      grpc::ClientContext context;
      rpc::SetTimeout(context, absl::Seconds(10));
      v1::RateResolutionRequest request;
      request.set_case_id(my_case);
      request.set_rating(1);
      expect_denied(agency->RateResolution(&context, request, &ignored));
    }
    {
      grpc::ClientContext context;
      rpc::SetTimeout(context, absl::Seconds(10));
      auto reader = agency->Subscribe(&context, common::v1::SubscribeRequest());
      common::v1::CaseEvent event;
      CHECK_FALSE(reader->Read(&event));
      expect_denied(reader->Finish());
    }
    // Nor can a unit's token on the internal port; the internal callers themselves can.
    {
      grpc::ClientContext context;
      rpc::SetTimeout(context, absl::Seconds(10));
      context.AddMetadata("authorization", BearerFor(mine));
      expect_denied(internal->OpenCase(&context, ForUnit(3, mine), &ignored));
    }
    {
      grpc::ClientContext context;
      rpc::SetTimeout(context, absl::Seconds(10));
      v1::GetCaseByReportRequest request;
      request.set_report_id("R1");
      CHECK(internal->GetCaseByReport(&context, request, &ignored).ok());
    }
  }

  SECTION("on the internal port a valid token names the unit; a forged, expired or absent one, "
          "or the unsigned header, does not") {
    CHECK(GetCaseAs(*internal, my_case, {{"authorization", BearerFor(mine)}}) ==
          grpc::StatusCode::OK);
    CHECK(GetCaseAs(*internal, other_case, {{"authorization", BearerFor(mine)}}) ==
          grpc::StatusCode::NOT_FOUND);
    CHECK(GetCaseAs(*internal, my_case,
                    {{"authorization", BearerFor(mine, "a-different-secret-0123456789abcdef")}}) ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(GetCaseAs(*internal, my_case,
                    {{"authorization", BearerFor(mine, kTokenSecret, -absl::Minutes(5))}}) ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(GetCaseAs(*internal, my_case, {{"x-civic-unit-id", mine}}) ==
          grpc::StatusCode::UNAUTHENTICATED);
    // An invalid token does not fall back to the header either.
    CHECK(GetCaseAs(*internal, my_case,
                    {{"authorization", "Bearer not.a.token"}, {"x-civic-unit-id", mine}}) ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(GetCaseAs(*internal, my_case, {}) == grpc::StatusCode::UNAUTHENTICATED);
  }

  SECTION("the unsigned header counts only when the development switch is on") {
    CasesService dev(logic->get(), 1, {.dev_unit_header = true});
    auto dev_server =
        rpc::Server::Start({.listen = "127.0.0.1:0", .services = {&dev}, .health_names = {}});
    REQUIRE(dev_server.ok());
    auto stub = v1::CasesService::NewStub(rpc::MakeChannel((*dev_server)->address()));
    CHECK(GetCaseAs(*stub, my_case, {{"x-civic-unit-id", mine}}) == grpc::StatusCode::OK);
    CHECK(GetCaseAs(*stub, other_case, {{"x-civic-unit-id", mine}}) ==
          grpc::StatusCode::NOT_FOUND);
    CHECK(GetCaseAs(*stub, my_case, {{"x-civic-unit-id", "hcm ward 1"}}) ==
          grpc::StatusCode::UNAUTHENTICATED);
    (*dev_server)->Shutdown(absl::Seconds(2));
  }

  service.CloseStreams();
  (*server)->Shutdown(absl::Seconds(2));
}

}  // namespace
}  // namespace civic::cases
