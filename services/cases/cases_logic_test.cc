#include "services/cases/cases_logic.h"

#include <catch2/catch.hpp>

#include "libs/core/status.h"
#include "libs/storage/test_dir.h"

namespace civic::cases {
namespace {

v1::OpenCaseRequest PotholeAtBenThanh() {
  v1::OpenCaseRequest r;
  r.set_report_id("01REPORT");
  r.set_tracking_code("PA-2611-ABCDE-12");
  r.set_category("traffic.pothole");
  r.set_description("Ổ gà lớn trước chợ Bến Thành");
  r.mutable_location()->set_lat(10.7725);
  r.mutable_location()->set_lon(106.6980);
  r.mutable_unit()->set_id("hcm.district_pc.760");
  r.mutable_area()->set_ward_code("26743");
  r.mutable_area()->set_district_code("760");
  r.mutable_contact()->set_phone("+84901234567");
  r.set_sla_hours(72);
  r.set_priority(common::v1::PRIORITY_HIGH);
  return r;
}

TEST_CASE("opening a case is idempotent per report and emits one event", "[cases]") {
  storage::TestDir dir;
  auto store = storage::Store::Open({dir.path(), CasesKeyspaces()});
  FakeClock clock;
  auto logic = CasesLogic::Create(store->get(), &clock);
  REQUIRE(logic.ok());

  auto first = (*logic)->OpenCase(PotholeAtBenThanh());
  REQUIRE(first.ok());
  REQUIRE(first->status() == common::v1::CASE_STATUS_NEW);
  REQUIRE(first->unit().id() == "hcm.district_pc.760");
  // 72 working hours by Vietnam's calendar (the wall clock only for critical cases).
  REQUIRE(FromTimestamp(first->due_at()) ==
          SlaCalendar(SlaCalendarOptions::VietnamDefaults())
              .DueAt(FromTimestamp(first->opened_at()), 72, /*wall_clock=*/false));
  auto again = (*logic)->OpenCase(PotholeAtBenThanh());
  REQUIRE(again->case_id() == first->case_id());

  REQUIRE((*logic)->feed()->last_sequence() == 1);
  auto entries = (*logic)->feed()->ReadAfter(0, 10);
  common::v1::CaseEvent event;
  REQUIRE(event.ParseFromString(entries->at(0).payload));
  REQUIRE(event.type() == common::v1::CASE_EVENT_TYPE_OPENED);
  REQUIRE(event.tracking_code() == "PA-2611-ABCDE-12");
  REQUIRE(event.area().district_code() == "760");
  // The feed carries no personal data.
  REQUIRE(event.SerializeAsString().find("+84901234567") == std::string::npos);

  REQUIRE((*logic)->GetCaseByReport("01REPORT")->case_id() == first->case_id());
  REQUIRE((*logic)->GetCase("nope").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("an emergency's deadline runs on the wall clock", "[cases]") {
  storage::TestDir dir;
  auto store = storage::Store::Open({dir.path(), CasesKeyspaces()});
  FakeClock clock;
  auto logic = CasesLogic::Create(store->get(), &clock);
  auto request = PotholeAtBenThanh();
  request.set_priority(common::v1::PRIORITY_CRITICAL);
  request.set_sla_hours(1);
  auto c = (*logic)->OpenCase(request);
  REQUIRE(c->due_at().seconds() - c->opened_at().seconds() == 3600);
}

TEST_CASE("an anonymous report's case keeps no contact", "[cases]") {
  storage::TestDir dir;
  auto store = storage::Store::Open({dir.path(), CasesKeyspaces()});
  FakeClock clock;
  auto logic = CasesLogic::Create(store->get(), &clock);
  auto request = PotholeAtBenThanh();
  request.set_anonymous(true);
  auto c = (*logic)->OpenCase(request);
  REQUIRE(c.ok());
  REQUIRE_FALSE(c->has_contact());
}

TEST_CASE("opening a case without its keys changes nothing", "[cases]") {
  storage::TestDir dir;
  auto store = storage::Store::Open({dir.path(), CasesKeyspaces()});
  FakeClock clock;
  auto logic = CasesLogic::Create(store->get(), &clock);
  v1::OpenCaseRequest empty;
  auto result = (*logic)->OpenCase(empty);
  REQUIRE(result.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(FieldViolationsOf(result.status()).size() == 4);
  REQUIRE((*logic)->feed()->last_sequence() == 0);
}

}  // namespace
}  // namespace civic::cases
