// Intake's judgement calls: +1 de-duplication, rate limits, the blocklist, hotline
// reports and the emergency lane.
#include <catch2/catch.hpp>

#include "libs/core/status.h"
#include "libs/storage/test_dir.h"
#include "services/intake/intake_logic.h"
#include "services/intake/outbox.h"
#include "services/intake/test_support.h"

namespace civic::intake {
namespace {

constexpr double kMetresPerDegree = 111320.0;

struct Fixture {
  storage::TestDir dir;
  std::unique_ptr<storage::Store> store =
      std::move(*storage::Store::Open({dir.path(), IntakeKeyspaces()}));
  std::unique_ptr<Catalog> catalog = std::move(*Catalog::Load(SharedData() / "categories.json"));
  FakeClock clock;
  std::unique_ptr<Blocklist> blocklist = std::move(*Blocklist::Load(store.get(), &clock));
  IntakeLimits limits = [] {
    IntakeLimits l;
    l.per_device = {.reports = 2, .per = absl::Hours(1)};
    l.per_phone = {.reports = 3, .per = absl::Hours(24)};
    return l;
  }();
  std::unique_ptr<IntakeLogic> logic = Make();

  std::unique_ptr<IntakeLogic> Make() {
    return std::make_unique<IntakeLogic>(store.get(), catalog.get(), blocklist.get(), &clock,
                                         limits);
  }
};

// A flooding report `north_m` metres north of Chợ Bến Thành.
v1::SubmitReportRequest Flood(double north_m, const std::string& category = "environment.flooding") {
  v1::SubmitReportRequest r;
  r.set_category(category);
  r.set_description("Nước ngập tới đầu gối trước chợ");
  r.mutable_location()->set_lat(10.7725 + north_m / kMetresPerDegree);
  r.mutable_location()->set_lon(106.6980);
  if (category == "environment.flooding") (*r.mutable_attributes())["water_depth"] = "30_50";
  if (category == "environment.garbage") (*r.mutable_attributes())["waste_type"] = "household";
  if (category == "emergency.fire") (*r.mutable_attributes())["people_trapped"] = "no";
  return r;
}

TEST_CASE("a report 30 m from an open one joins it, one 80 m away does not", "[intake][dup]") {
  Fixture f;
  auto first = f.logic->Submit(Flood(0), {});
  REQUIRE(first.ok());
  REQUIRE(first->supports_tracking_code().empty());

  f.clock.Advance(absl::Minutes(20));
  auto near = f.logic->Submit(Flood(30), {});
  REQUIRE(near->supports_tracking_code() == first->tracking_code());
  REQUIRE(near->tracking_code() != first->tracking_code());  // its own code, same case
  REQUIRE(f.logic->Load(near->report_id())->supports_report_id() == first->report_id());

  // 80 m south of the first, 110 m from the +1: another problem.
  REQUIRE(f.logic->Submit(Flood(-80), {})->supports_tracking_code().empty());
  // Same place, other category: a different problem.
  REQUIRE(f.logic->Submit(Flood(5, "environment.garbage"), {})->supports_tracking_code().empty());
  // A +1 of a +1 joins the original case, not a chain.
  auto third = f.logic->Submit(Flood(55), {});  // 25 m from `near`, 55 m from `first`
  REQUIRE(third->supports_tracking_code() == first->tracking_code());
}

TEST_CASE("the duplicate window closes after 72 hours and survives a restart",
          "[intake][dup]") {
  Fixture f;
  auto first = f.logic->Submit(Flood(0), {});
  f.clock.Advance(absl::Hours(71));
  f.logic = f.Make();  // a restart: the index is rebuilt from the store
  REQUIRE(f.logic->Recover().ok());
  REQUIRE(f.logic->Submit(Flood(10), {})->supports_tracking_code() == first->tracking_code());
  f.clock.Advance(absl::Hours(2));  // 73 h after the first, 2 h after the second
  // 45 m from the first (now outside the window), 55 m from the second (outside the
  // radius): a new case.
  auto later = f.logic->Submit(Flood(-45), {});
  REQUIRE(later->supports_tracking_code().empty());
}

TEST_CASE("devices and phones over their rate are refused with a retry delay",
          "[intake][abuse]") {
  Fixture f;
  const Caller phone_app{.client_id = "app", .device_id = "device-1"};
  REQUIRE(f.logic->Submit(Flood(0), phone_app).ok());
  REQUIRE(f.logic->Submit(Flood(500), phone_app).ok());
  absl::Status limited = f.logic->Submit(Flood(1000), phone_app).status();
  REQUIRE(limited.code() == absl::StatusCode::kResourceExhausted);
  REQUIRE(ReasonOf(limited) == "RATE_LIMITED");
  REQUIRE(limited.GetPayload(kRetryInfoUrl).has_value());
  // Another device is not affected; the first recovers as its bucket refills.
  REQUIRE(f.logic->Submit(Flood(1500), {.device_id = "device-2"}).ok());
  f.clock.Advance(absl::Minutes(31));
  REQUIRE(f.logic->Submit(Flood(2000), phone_app).ok());

  // Per phone, whatever the device.
  for (int i = 0; i < 3; ++i) {
    auto r = Flood(3000 + 500 * i);
    r.mutable_contact()->set_phone("0912345678");
    REQUIRE(f.logic->Submit(r, {.device_id = "d" + std::to_string(i)}).ok());
  }
  auto r = Flood(9000);
  r.mutable_contact()->set_phone("+84 912 345 678");
  REQUIRE(f.logic->Submit(r, {.device_id = "d9"}).status().code() ==
          absl::StatusCode::kResourceExhausted);
}

TEST_CASE("retries and emergencies never spend or hit the rate limit", "[intake][abuse]") {
  Fixture f;
  const Caller caller{.device_id = "device-1"};
  auto r = Flood(0);
  r.set_client_request_id("retry-me");
  for (int i = 0; i < 5; ++i) REQUIRE(f.logic->Submit(r, caller).ok());
  REQUIRE(f.logic->Submit(Flood(500), caller).ok());  // the second token
  auto fire = Flood(1000, "emergency.fire");
  for (int i = 0; i < 3; ++i) REQUIRE(f.logic->Submit(fire, caller).ok());
}

TEST_CASE("the blocklist refuses devices, phones and terms, accent-insensitively, and "
          "persists",
          "[intake][abuse]") {
  Fixture f;
  v1::Block term;
  term.set_kind(v1::BLOCK_KIND_TERM);
  term.set_value("Sim số đẹp");
  REQUIRE(f.blocklist->Put(term)->value() == "sim so dep");
  v1::Block phone;
  phone.set_kind(v1::BLOCK_KIND_PHONE);
  phone.set_value("0901 234 567");
  REQUIRE(f.blocklist->Put(phone)->value() == "+84901234567");
  v1::Block device;
  device.set_kind(v1::BLOCK_KIND_DEVICE);
  device.set_value("bad-device");
  REQUIRE(f.blocklist->Put(device).ok());
  v1::Block empty;
  empty.set_kind(v1::BLOCK_KIND_TERM);
  REQUIRE(f.blocklist->Put(empty).status().code() == absl::StatusCode::kInvalidArgument);

  auto spam = Flood(0);
  spam.set_description("Bán SIM SO DEP giá rẻ, liên hệ ngay");
  absl::Status refused = f.logic->Submit(spam, {}).status();
  REQUIRE(refused.code() == absl::StatusCode::kPermissionDenied);
  REQUIRE(ReasonOf(refused) == "BLOCKED");
  auto from_phone = Flood(100);
  from_phone.mutable_contact()->set_phone("+84901234567");
  REQUIRE(f.logic->Submit(from_phone, {}).status().code() == absl::StatusCode::kPermissionDenied);
  REQUIRE(f.logic->Submit(Flood(200), {.device_id = "bad-device"}).status().code() ==
          absl::StatusCode::kPermissionDenied);

  // Reloaded from the store, then edited.
  f.blocklist = std::move(*Blocklist::Load(f.store.get(), &f.clock));
  f.logic = f.Make();
  REQUIRE(f.blocklist->List().size() == 3);
  REQUIRE(f.blocklist->Delete(v1::BLOCK_KIND_TERM, "sim số đẹp").ok());
  REQUIRE(f.logic->Submit(spam, {}).ok());
  REQUIRE(f.blocklist->Delete(v1::BLOCK_KIND_TERM, "sim số đẹp").code() ==
          absl::StatusCode::kNotFound);
}

TEST_CASE("hotline reports need their operator, who is recorded", "[intake][hotline]") {
  Fixture f;
  auto call = Flood(0);
  call.set_channel(common::v1::CHANNEL_HOTLINE);
  REQUIRE(FieldViolationsOf(f.logic->Submit(call, {}).status()).at(0).field == "operator_id");
  call.set_operator_id("op-1022-07");
  auto stored = f.logic->Submit(call, {});
  REQUIRE(stored.ok());
  REQUIRE(f.logic->Load(stored->report_id())->request().operator_id() == "op-1022-07");
  auto app = Flood(500);
  app.set_operator_id("op-1022-07");
  REQUIRE(FieldViolationsOf(f.logic->Submit(app, {}).status()).at(0).field == "operator_id");
}

TEST_CASE("emergencies are forwarded before earlier ordinary reports, at top priority",
          "[intake][outbox]") {
  Fixture f;
  FakeRouting routing;
  FakeCases cases;
  Outbox outbox(f.store.get(), f.logic.get(), &routing, &cases, {});
  auto ordinary = f.logic->Submit(Flood(0), {});
  f.clock.Advance(absl::Milliseconds(10));
  auto flagged = Flood(500, "traffic.pothole");
  (*flagged.mutable_attributes())["size"] = "large";
  flagged.set_channel(common::v1::CHANNEL_HOTLINE);
  flagged.set_operator_id("op-1");
  flagged.set_emergency(true);  // e.g. a pothole that just caused a crash
  auto urgent = f.logic->Submit(flagged, {});
  f.clock.Advance(absl::Milliseconds(10));
  auto fire = f.logic->Submit(Flood(1000, "emergency.fire"), {});
  REQUIRE(outbox.DrainOnce().ok());
  REQUIRE(cases.order == std::vector<std::string>{urgent->report_id(), fire->report_id(),
                                                  ordinary->report_id()});
  REQUIRE(cases.requests.at(urgent->report_id()).priority() == common::v1::PRIORITY_CRITICAL);
  REQUIRE(cases.requests.at(urgent->report_id()).operator_id() == "op-1");
}

}  // namespace
}  // namespace civic::intake
