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

// ---- Rating a resolution (RateReport) and what the status tells of the case.
namespace civic::intake {
namespace {

// The report's case in the fake, resolved with a public text and, later, a note.
cases::v1::Case& Resolve(FakeCases& cases, const std::string& report_id) {
  cases::v1::Case& c = cases.opened.at(report_id);
  c.set_status(common::v1::CASE_STATUS_RESOLVED);
  auto* resolved = c.add_history();
  resolved->set_action("resolve");
  resolved->set_comment("Đã vá ổ gà, mặt đường đã phẳng");
  resolved->set_public_comment(true);
  auto* note = c.add_history();
  note->set_action("note");
  note->set_comment("ghi chú nội bộ");
  return c;
}

cases::v1::OpenCaseRequest OpenFor(const v1::SubmitReportResponse& report) {
  cases::v1::OpenCaseRequest open;
  open.set_report_id(report.report_id());
  open.set_tracking_code(report.tracking_code());
  open.mutable_unit()->set_id("hcm.district_pc.760");
  return open;
}

v1::RateReportRequest Rating(const std::string& code, int rating) {
  v1::RateReportRequest r;
  r.set_tracking_code(code);
  r.set_rating(rating);
  r.set_comment("Cảm ơn, sửa nhanh");
  return r;
}

TEST_CASE("the reporter rates the resolved case by their tracking code", "[intake][rate]") {
  Fixture f;
  FakeCases cases;
  auto report = f.logic.Submit(Pothole(), {.client_id = "app-1"});
  REQUIRE(report.ok());
  const std::string code = report->tracking_code();

  // Before the case exists there is nothing to rate.
  auto early = f.logic.Rate(Rating(code, 5), cases);
  REQUIRE(early.status().code() == absl::StatusCode::kFailedPrecondition);

  REQUIRE(cases.OpenCase(OpenFor(*report)).ok());
  // Cases refuses an unresolved case; intake passes that on.
  REQUIRE(f.logic.Rate(Rating(code, 5), cases).status().code() ==
          absl::StatusCode::kFailedPrecondition);

  Resolve(cases, report->report_id());
  std::string lower = code;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(ch));
  auto rated = f.logic.Rate(Rating(lower, 5), cases);
  REQUIRE(rated.ok());
  REQUIRE(rated->status() == "closed");
  REQUIRE(rated->rating() == 5);
  REQUIRE(rated->tracking_code() == code);
  REQUIRE(rated->case_id() == "case-" + report->report_id());
  REQUIRE(rated->latest_public_text() == "Đã vá ổ gà, mặt đường đã phẳng");
  REQUIRE(rated->SerializeAsString().find("+84901234567") == std::string::npos);
  REQUIRE(cases.rate_requests.back().tracking_code() == code);
  REQUIRE(cases.rate_requests.back().case_id() == "case-" + report->report_id());
  REQUIRE(cases.rate_requests.back().comment() == "Cảm ơn, sửa nhanh");

  // Once only.
  REQUIRE(f.logic.Rate(Rating(code, 4), cases).status().code() ==
          absl::StatusCode::kFailedPrecondition);
  // The status shows the rating too.
  REQUIRE(f.logic.GetStatus(code, cases)->rating() == 5);
}

TEST_CASE("a bad rating is refused before any look-up, an unknown code is not found",
          "[intake][rate]") {
  Fixture f;
  FakeCases cases;
  auto report = f.logic.Submit(Pothole(), {.client_id = "app-1"});
  REQUIRE(cases.OpenCase(OpenFor(*report)).ok());
  Resolve(cases, report->report_id());

  for (int rating : {0, 6, -1}) {
    auto refused = f.logic.Rate(Rating(report->tracking_code(), rating), cases);
    REQUIRE(refused.status().code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(FieldViolationsOf(refused.status()).at(0).field == "rating");
  }
  auto long_comment = Rating(report->tracking_code(), 3);
  long_comment.set_comment(std::string(2001, 'x'));
  REQUIRE(f.logic.Rate(long_comment, cases).status().code() ==
          absl::StatusCode::kInvalidArgument);
  // Even an unknown code gets the field errors first.
  REQUIRE(f.logic.Rate(Rating("PA-2611-AAAAA-00", 9), cases).status().code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(cases.rate_requests.empty());

  REQUIRE(f.logic.Rate(Rating("PA-2611-AAAAA-00", 3), cases).status().code() ==
          absl::StatusCode::kNotFound);
  REQUIRE(f.logic.Rate(Rating("", 3), cases).status().code() == absl::StatusCode::kNotFound);

  cases.down = true;
  REQUIRE(f.logic.Rate(Rating(report->tracking_code(), 3), cases).status().code() ==
          absl::StatusCode::kUnavailable);
}

TEST_CASE("a +1 reporter cannot rate the case another report opened", "[intake][rate]") {
  Fixture f;
  FakeCases cases;
  auto first = f.logic.Submit(Pothole(), {.client_id = "app-1"});
  auto second = f.logic.Submit(Pothole(), {.client_id = "app-2"});
  REQUIRE(second->supports_tracking_code() == first->tracking_code());
  REQUIRE(cases.OpenCase(OpenFor(*first)).ok());
  // As cases does: the supporter's report maps to the first report's case.
  cases.opened[second->report_id()] = Resolve(cases, first->report_id());

  auto refused = f.logic.Rate(Rating(second->tracking_code(), 5), cases);
  REQUIRE(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(ReasonOf(refused.status()) == "NOT_CASE_REPORTER");
  // The first reporter still can.
  REQUIRE(f.logic.Rate(Rating(first->tracking_code(), 2), cases)->status() == "reopened");
}

TEST_CASE("the status names the case a report's case was merged into", "[intake][rate]") {
  Fixture f;
  FakeCases cases;
  auto report = f.logic.Submit(Pothole(), {.client_id = "app-1"});
  REQUIRE(cases.OpenCase(OpenFor(*report)).ok());
  cases::v1::Case& c = cases.opened.at(report->report_id());
  c.set_status(common::v1::CASE_STATUS_MERGED);
  c.set_merged_into_case_id("01MASTERCASE");
  auto status = f.logic.GetStatus(report->tracking_code(), cases);
  REQUIRE(status->status() == "merged");
  REQUIRE(status->merged_into_case_id() == "01MASTERCASE");
  REQUIRE(status->latest_public_text().empty());
  REQUIRE(f.logic.Rate(Rating(report->tracking_code(), 5), cases).status().code() ==
          absl::StatusCode::kFailedPrecondition);
}

// ---- Links to pictures hosted elsewhere (Open311's media_url).

TEST_CASE("media URLs are kept when they are http(s) links, refused by index otherwise",
          "[intake][media]") {
  Fixture f;
  v1::SubmitReportRequest good = Pothole();
  good.add_media_urls("https://photos.example.vn/a.jpg");
  good.add_media_urls("HTTP://example.com/b.png?size=large");
  auto stored = f.logic.Submit(good, {.client_id = "app-1"});
  REQUIRE(stored.ok());
  REQUIRE(f.logic.Load(stored->report_id())->request().media_urls_size() == 2);

  v1::SubmitReportRequest bad = Pothole();
  bad.add_media_urls("https://ok.example/x.jpg");
  bad.add_media_urls("javascript:alert(1)");
  bad.add_media_urls("https://");
  bad.add_media_urls("https://a.example/with space.jpg");
  bad.add_media_urls("https://a.example/" + std::string(2048, 'x'));
  bad.add_media_urls("https://ok.example/y.jpg");
  auto refused = f.logic.Submit(bad, {.client_id = "app-1"});
  REQUIRE(refused.status().code() == absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& v : FieldViolationsOf(refused.status())) fields.push_back(v.field);
  REQUIRE(fields == std::vector<std::string>{"media_urls", "media_urls[1]", "media_urls[2]",
                                             "media_urls[3]", "media_urls[4]"});
}

}  // namespace
}  // namespace civic::intake
