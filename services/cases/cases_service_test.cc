#include "services/cases/cases_service.h"

#include <catch2/catch.hpp>

#include "libs/rpc/channel.h"
#include "libs/rpc/server.h"
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
  context.AddMetadata("x-civic-unit-id", unit);
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

  CasesService service(logic->get(), 2);
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

}  // namespace
}  // namespace civic::cases
