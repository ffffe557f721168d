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

}  // namespace
}  // namespace civic::cases
