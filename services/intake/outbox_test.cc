#include "services/intake/outbox.h"

#include <catch2/catch.hpp>

#include "libs/storage/test_dir.h"
#include "services/intake/test_support.h"

namespace civic::intake {
namespace {

TEST_CASE("the outbox holds reports while peers are down and forwards them in order "
          "once they return, one case each",
          "[intake][outbox]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), IntakeKeyspaces()}));
  auto catalog = std::move(*Catalog::Load(SharedData() / "categories.json"));
  FakeClock clock;
  auto blocklist = std::move(*Blocklist::Load(store.get(), &clock));
  IntakeLogic logic(store.get(), catalog.get(), blocklist.get(), &clock, {});
  FakeRouting routing;
  FakeCases cases;
  Outbox outbox(store.get(), &logic, &routing, &cases, {});

  routing.down = true;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    v1::SubmitReportRequest r;
    r.set_category("environment.garbage");
    (*r.mutable_attributes())["waste_type"] = "household";
    r.set_description("Rác tồn đọng " + std::to_string(i));
    r.mutable_location()->set_lat(10.77);
    r.mutable_location()->set_lon(106.69);
    ids.push_back(logic.Submit(r, {.client_id = "app"})->report_id());
    clock.Advance(absl::Milliseconds(5));
  }
  REQUIRE(outbox.DrainOnce().code() == absl::StatusCode::kUnavailable);
  REQUIRE(outbox.pending() == 5);

  routing.down = false;
  cases.down = true;
  REQUIRE(outbox.DrainOnce().code() == absl::StatusCode::kUnavailable);
  cases.down = false;
  REQUIRE(outbox.DrainOnce().ok());
  REQUIRE(outbox.pending() == 0);
  REQUIRE(cases.order == ids);
  REQUIRE(logic.Load(ids[0])->case_id() == "case-" + ids[0]);

  // A second pass finds nothing: no report becomes two cases.
  REQUIRE(outbox.DrainOnce().ok());
  REQUIRE(cases.opened.size() == 5);
}

TEST_CASE("the outbox thread forwards on its own and a report refused downstream is "
          "parked, not retried forever",
          "[intake][outbox]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), IntakeKeyspaces()}));
  auto catalog = std::move(*Catalog::Load(SharedData() / "categories.json"));
  FakeClock clock;
  auto blocklist = std::move(*Blocklist::Load(store.get(), &clock));
  IntakeLogic logic(store.get(), catalog.get(), blocklist.get(), &clock, {});
  FakeRouting routing;
  FakeCases cases;

  // A stored report whose category routing refuses (as after a catalogue change).
  v1::StoredReport poisoned;
  poisoned.set_report_id("00000000000000000000000000");
  poisoned.mutable_request()->set_category("poison");
  storage::Batch batch(store.get());
  batch.Put(kReportsCf, poisoned.report_id(), poisoned.SerializeAsString());
  batch.Put(kOutboxCf, std::string(kNormalLane) + "\x1f" + poisoned.report_id(), "");
  REQUIRE(store->Write(batch).ok());

  v1::SubmitReportRequest r;
  r.set_category("environment.garbage");
  (*r.mutable_attributes())["waste_type"] = "household";
  r.set_description("Rác");
  r.mutable_location()->set_lat(10.77);
  r.mutable_location()->set_lon(106.69);
  const std::string good = logic.Submit(r, {.client_id = "app"})->report_id();

  Outbox outbox(store.get(), &logic, &routing, &cases,
                {.initial_backoff = absl::Milliseconds(1), .max_attempts = 3});
  outbox.Start();
  outbox.Wake();
  for (int i = 0; i < 500 && logic.Load(good)->case_id().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  outbox.Stop();
  REQUIRE(logic.Load(good)->case_id() == "case-" + good);
  REQUIRE(store->Get(kDeadLetterCf, poisoned.report_id())->has_value());
}

}  // namespace
}  // namespace civic::intake

// ---- What the outbox tells cases for the public view.
namespace civic::intake {
namespace {

TEST_CASE("the outbox forwards a report's privacy flag, photos and address to cases",
          "[intake][outbox]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), IntakeKeyspaces()}));
  auto catalog = std::move(*Catalog::Load(SharedData() / "categories.json"));
  FakeClock clock;
  auto blocklist = std::move(*Blocklist::Load(store.get(), &clock));
  IntakeLogic logic(store.get(), catalog.get(), blocklist.get(), &clock, {});
  FakeRouting routing;
  FakeCases cases;
  Outbox outbox(store.get(), &logic, &routing, &cases, {});

  v1::SubmitReportRequest r;
  r.set_category("environment.garbage");
  (*r.mutable_attributes())["waste_type"] = "household";
  r.set_description("Rác đổ trước cửa nhà tôi");
  r.set_address("45 Nguyễn Đình Chiểu, phường 6, Quận 3");
  r.mutable_location()->set_lat(10.78312);
  r.mutable_location()->set_lon(106.69473);
  r.set_private_location(true);
  auto submitted = logic.Submit(r, {.client_id = "app"});
  REQUIRE(submitted.ok());
  REQUIRE(logic.Load(submitted->report_id())->request().private_location());
  // The stored photo ids go along (set here directly: the photo store has tests of its own).
  v1::StoredReport stored = *logic.Load(submitted->report_id());
  stored.add_photo_ids("01PHOTOA");
  stored.add_photo_ids("01PHOTOB");
  storage::Batch batch(store.get());
  batch.Put(kReportsCf, stored.report_id(), stored.SerializeAsString());
  REQUIRE(store->Write(batch).ok());

  REQUIRE(outbox.DrainOnce().ok());
  const cases::v1::OpenCaseRequest& open = cases.requests.at(submitted->report_id());
  REQUIRE(open.private_location());
  REQUIRE(open.address() == "45 Nguyễn Đình Chiểu, phường 6, Quận 3");
  REQUIRE(std::vector<std::string>(open.photo_ids().begin(), open.photo_ids().end()) ==
          std::vector<std::string>{"01PHOTOA", "01PHOTOB"});
}

}  // namespace
}  // namespace civic::intake
