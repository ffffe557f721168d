#include "services/intake/intake_logic.h"

#include <catch2/catch.hpp>

#include "libs/core/ids.h"
#include "libs/core/status.h"
#include "libs/storage/test_dir.h"
#include "services/intake/test_support.h"

namespace civic::intake {
namespace {

struct Fixture {
  storage::TestDir dir;
  std::unique_ptr<storage::Store> store =
      std::move(*storage::Store::Open({dir.path(), IntakeKeyspaces()}));
  std::unique_ptr<Catalog> catalog = std::move(*Catalog::Load(SharedData() / "categories.json"));
  FakeClock clock;
  std::unique_ptr<Blocklist> blocklist = std::move(*Blocklist::Load(store.get(), &clock));
  IntakeLogic logic{store.get(), catalog.get(), blocklist.get(), &clock, IntakeLimits{}};

  int Count(const char* cf) {
    int n = 0;
    REQUIRE(store->Scan(cf, "", "", [&](absl::string_view, absl::string_view) {
      ++n;
      return true;
    }).ok());
    return n;
  }
};

v1::SubmitReportRequest Pothole() {
  v1::SubmitReportRequest r;
  r.set_category("traffic.pothole");
  r.set_description("Ổ gà sâu khoảng 20cm trước số 12 Lê Lợi, xe máy rất dễ té");
  r.mutable_location()->set_lat(10.7725);
  r.mutable_location()->set_lon(106.6980);
  r.mutable_contact()->set_name("Nguyễn Văn A");
  r.mutable_contact()->set_phone("0901 234 567");
  r.mutable_contact()->set_email("a@example.com");
  (*r.mutable_attributes())["size"] = "large";
  return r;
}

TEST_CASE("a valid report is stored with its outbox entry and a tracking code",
          "[intake]") {
  Fixture f;
  auto response = f.logic.Submit(Pothole(), {.client_id = "app-1"});
  REQUIRE(response.ok());
  REQUIRE(NormalizeTrackingCode(response->tracking_code()) == response->tracking_code());
  REQUIRE_FALSE(response->replayed());
  auto stored = f.logic.Load(response->report_id());
  REQUIRE(stored.ok());
  REQUIRE(stored->request().contact().phone() == "+84901234567");
  REQUIRE(stored->request().channel() == common::v1::CHANNEL_APP);
  REQUIRE(stored->request().language() == "vi");
  REQUIRE(f.Count(kOutboxCf) == 1);
}

TEST_CASE("every bad field is reported at once and nothing is stored", "[intake]") {
  Fixture f;
  v1::SubmitReportRequest r = Pothole();
  r.set_category("x.y");
  r.set_description("   ");
  r.mutable_location()->set_lat(91);
  r.mutable_location()->set_lon(-200);
  r.mutable_contact()->set_phone("12345");
  r.mutable_contact()->set_email("not-an-email");
  r.set_language("fr");
  auto result = f.logic.Submit(r, {.client_id = "app-1"});
  REQUIRE(result.status().code() == absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& v : FieldViolationsOf(result.status())) fields.push_back(v.field);
  REQUIRE(fields == std::vector<std::string>{"category", "description", "location.lat",
                                             "location.lon", "contact.phone", "contact.email",
                                             "language"});
  REQUIRE(f.Count(kReportsCf) == 0);
  REQUIRE(f.Count(kOutboxCf) == 0);
}

TEST_CASE("a missing location and an over-long description are refused", "[intake]") {
  Fixture f;
  v1::SubmitReportRequest r = Pothole();
  r.clear_location();
  std::string longest;
  for (int i = 0; i < 5001; ++i) longest += "ệ";
  r.set_description(longest);
  auto result = f.logic.Submit(r, {.client_id = "app-1"});
  auto violations = FieldViolationsOf(result.status());
  REQUIRE(violations.size() == 2);
  REQUIRE(violations[0].field == "description");
  REQUIRE(violations[0].description == "has 5001 characters; at most 5000 are allowed");
  REQUIRE(violations[1].field == "location");
  REQUIRE(violations[1].description == "is required (or an address)");
  // 5,000 characters of 3 bytes each is fine: the limit counts characters, not bytes.
  r = Pothole();
  r.set_description(longest.substr(3));
  REQUIRE(f.logic.Submit(r, {.client_id = "app-1"}).ok());
}

TEST_CASE("category attributes are checked against the catalogue", "[intake]") {
  Fixture f;
  v1::SubmitReportRequest r = Pothole();
  r.set_category("environment.flooding");  // requires water_depth
  r.clear_attributes();
  auto missing = f.logic.Submit(r, {.client_id = "app-1"});
  REQUIRE(FieldViolationsOf(missing.status()).at(0).field == "attributes[water_depth]");
  (*r.mutable_attributes())["water_depth"] = "knee_deep";
  REQUIRE(FieldViolationsOf(f.logic.Submit(r, {.client_id = "app-1"}).status()).at(0).description ==
          "'knee_deep' is not one of the allowed values");
  (*r.mutable_attributes())["water_depth"] = "30_50";
  (*r.mutable_attributes())["colour"] = "brown";
  REQUIRE(FieldViolationsOf(f.logic.Submit(r, {.client_id = "app-1"}).status()).at(0).field ==
          "attributes[colour]");
  r.mutable_attributes()->erase("colour");
  REQUIRE(f.logic.Submit(r, {.client_id = "app-1"}).ok());
}

TEST_CASE("a retried client request id returns the original report", "[intake]") {
  Fixture f;
  v1::SubmitReportRequest r = Pothole();
  r.set_client_request_id("c0ffee-1");
  auto first = f.logic.Submit(r, {.client_id = "app-1"});
  auto retry = f.logic.Submit(r, {.client_id = "app-1"});
  REQUIRE(retry->tracking_code() == first->tracking_code());
  REQUIRE(retry->replayed());
  // The same id from another client is another report.
  auto other = f.logic.Submit(r, {.client_id = "app-2"});
  REQUIRE(other->tracking_code() != first->tracking_code());
  REQUIRE(f.Count(kReportsCf) == 2);
}

TEST_CASE("anonymous reports keep no contact, text is stored in NFC", "[intake]") {
  Fixture f;
  v1::SubmitReportRequest r = Pothole();
  r.set_anonymous(true);
  r.set_description("đu\xCC\x9Bo\xCC\x9B\xCC\x80ng ngập");  // "đường" typed decomposed
  auto response = f.logic.Submit(r, {.client_id = "app-1"});
  REQUIRE(response.ok());
  auto stored = f.logic.Load(response->report_id());
  REQUIRE_FALSE(stored->request().has_contact());
  REQUIRE(stored->request().description() == "đường ngập");
}

TEST_CASE("status tells received, then the case's state, and never leaks contact",
          "[intake]") {
  Fixture f;
  FakeCases cases;
  auto response = f.logic.Submit(Pothole(), {.client_id = "app-1"});
  auto status = f.logic.GetStatus(response->tracking_code(), cases);
  REQUIRE(status->status() == "received");
  cases::v1::OpenCaseRequest open;
  open.set_report_id(response->report_id());
  open.mutable_unit()->set_id("hcm.district_pc.760");
  REQUIRE(cases.OpenCase(open).ok());
  std::string lower = response->tracking_code();
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  status = f.logic.GetStatus(lower, cases);
  REQUIRE(status->status() == "new");
  REQUIRE(status->unit().id() == "hcm.district_pc.760");
  REQUIRE(status->SerializeAsString().find("+84901234567") == std::string::npos);
  REQUIRE(f.logic.GetStatus("PA-2611-AAAAA-00", cases).status().code() ==
          absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace civic::intake

namespace civic::intake {
namespace {

TEST_CASE("an address alone is enough for a report, it is never a +1", "[intake]") {
  Fixture f;
  v1::SubmitReportRequest r = Pothole();
  r.clear_location();
  r.set_address("12 Lê Lợi, phường Bến Nghé, Q.1");
  auto first = f.logic.Submit(r, {});
  REQUIRE(first.ok());
  REQUIRE_FALSE(f.logic.Load(first->report_id())->request().has_location());
  REQUIRE(f.logic.Submit(r, {})->supports_tracking_code().empty());
}

}  // namespace
}  // namespace civic::intake
