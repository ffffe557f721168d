// Checks what routing keeps in its store: the directory is seeded from agencies.json on
// the first start only (edits and deletions survive restarts), rule sets survive
// restarts with their versions, and the directory's admin calls (list with filters
// and pages, put, delete) validate their input and guard units that rules use.
#include "services/routing/routing_store.h"

#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"
#include "libs/core/status.h"
#include "services/routing/routing_logic.h"
#include "services/routing/test_data.h"

namespace civic::routing {
namespace {

using civic::routing::v1::RouteDecision;
using civic::routing::v1::RouteRequest;
using testing::StoreFixture;

constexpr double kBenThanhLat = 10.7725;
constexpr double kBenThanhLon = 106.6980;

RouteDecision MustRoute(const RoutingLogic& logic, const std::string& category) {
  RouteRequest request;
  request.set_category(category);
  request.mutable_location()->set_lat(kBenThanhLat);
  request.mutable_location()->set_lon(kBenThanhLon);
  absl::StatusOr<RouteDecision> decision = logic.Route(request);
  INFO(decision.status().ToString());
  REQUIRE(decision.ok());
  return *std::move(decision);
}

std::vector<v1::Unit> ListAll(const RoutingLogic& logic, v1::ListUnitsRequest request) {
  std::vector<v1::Unit> units;
  for (int pages = 0; pages < 100; ++pages) {
    absl::StatusOr<v1::ListUnitsResponse> page = logic.ListUnits(request);
    INFO(page.status().ToString());
    REQUIRE(page.ok());
    units.insert(units.end(), page->units().begin(), page->units().end());
    if (page->next_page_token().empty()) return units;
    request.set_page_token(page->next_page_token());
  }
  FAIL("ListUnits never ended");
  return units;
}

v1::Unit District1Committee(const RoutingLogic& logic) {
  v1::ListUnitsRequest request;
  request.set_page_size(1);
  // The first id after "hcm.district_pc.76" in id order is "hcm.district_pc.760".
  request.set_page_token(absl::WebSafeBase64Escape("hcm.district_pc.76"));
  absl::StatusOr<v1::ListUnitsResponse> page = logic.ListUnits(request);
  REQUIRE(page.ok());
  REQUIRE(page->units_size() == 1);
  REQUIRE(page->units(0).id() == "hcm.district_pc.760");
  return page->units(0);
}

TEST_CASE("The directory is seeded from agencies.json on the first start only",
          "[store]") {
  StoreFixture f;
  CHECK(f.logic().unit_count() == 1072);

  v1::Unit unit = District1Committee(f.logic());
  CHECK(unit.name_vi() == "UBND Quận 1");
  CHECK(unit.level() == v1::AREA_LEVEL_DISTRICT);
  CHECK(unit.jurisdiction_code() == "760");
  CHECK(unit.province_code() == "79");
  CHECK(unit.parent_id() == "hcm.city_pc");
  CHECK_FALSE(unit.email().empty());

  // An administrator renames it and removes a ward unit.
  unit.set_name_vi("UBND Quận 1 (đã sửa)");
  v1::PutUnitRequest put;
  *put.mutable_unit() = unit;
  REQUIRE(f.logic().PutUnit(put).ok());
  v1::DeleteUnitRequest del;
  del.set_unit_id("hcm.ward_pc.26743");
  REQUIRE(f.logic().DeleteUnit(del).ok());
  CHECK(MustRoute(f.logic(), "traffic.pothole").unit().name_vi() == "UBND Quận 1 (đã sửa)");

  f.Reopen();
  CHECK(f.logic().unit_count() == 1071);
  CHECK(District1Committee(f.logic()).name_vi() == "UBND Quận 1 (đã sửa)");
  CHECK(MustRoute(f.logic(), "traffic.pothole").unit().name_vi() == "UBND Quận 1 (đã sửa)");
  // construction.illegal_building goes to the ward committee, now gone: the next type.
  CHECK(MustRoute(f.logic(), "construction.illegal_building").unit().id() ==
        "hcm.district_pc.760");
}

TEST_CASE("Published rules survive a restart with their versions", "[store]") {
  StoreFixture f;
  v1::PutRuleRequest put;
  v1::Rule* rule = put.mutable_rule();
  rule->set_id("q1-potholes");
  rule->set_category("traffic.pothole");
  rule->set_area_level(v1::AREA_LEVEL_DISTRICT);
  rule->set_area_code("760");
  rule->set_unit_id("hcm.dept_transport");
  REQUIRE(f.logic().PutRule(put).ok());
  rule->set_unit_id("hcm.city_pc");
  REQUIRE(f.logic().PutRule(put).ok());
  rule->set_id("q1-signals");
  rule->set_category("traffic.signal_fault");
  REQUIRE(f.logic().PutRule(put).ok());

  f.Reopen();
  CHECK(f.logic().rule_set_version() == 3);
  const RouteDecision d = MustRoute(f.logic(), "traffic.pothole");
  CHECK(d.unit().id() == "hcm.city_pc");
  CHECK(d.rule() == "rule:q1-potholes@v2");
  CHECK(d.rule_set_version() == 3);
  v1::ListRulesRequest first;
  first.set_version(1);
  absl::StatusOr<v1::RuleSet> v1_set = f.logic().ListRules(first);
  REQUIRE(v1_set.ok());
  REQUIRE(v1_set->rules_size() == 1);
  CHECK(v1_set->rules(0).unit_id() == "hcm.dept_transport");
  CHECK(v1_set->published_at().seconds() > 0);

  // The next change continues the numbering.
  v1::DeleteRuleRequest del;
  del.set_rule_id("q1-signals");
  absl::StatusOr<v1::RuleChange> change = f.logic().DeleteRule(del);
  REQUIRE(change.ok());
  CHECK(change->rule_set_version() == 4);
}

TEST_CASE("ListUnits filters by province and unit type and pages in id order", "[store]") {
  StoreFixture f;
  v1::ListUnitsRequest request;
  request.set_page_size(100);
  const std::vector<v1::Unit> all = ListAll(f.logic(), request);
  CHECK(all.size() == 1072);
  std::set<std::string> ids;
  for (size_t i = 0; i < all.size(); ++i) {
    ids.insert(all[i].id());
    if (i > 0) CHECK(all[i - 1].id() < all[i].id());
  }
  CHECK(ids.size() == 1072);

  request.set_province_code("46");
  const std::vector<v1::Unit> hue = ListAll(f.logic(), request);
  CHECK(hue.size() == 338);
  for (const v1::Unit& unit : hue) CHECK(unit.province_code() == "46");

  request.set_unit_type("ops_center");
  const std::vector<v1::Unit> ops = ListAll(f.logic(), request);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].id() == "hue.ops_center");

  request.Clear();
  request.set_unit_type("district_pc");
  request.set_page_size(10);
  absl::StatusOr<v1::ListUnitsResponse> page = f.logic().ListUnits(request);
  REQUIRE(page.ok());
  CHECK(page->units_size() == 10);
  CHECK_FALSE(page->next_page_token().empty());
  CHECK(ListAll(f.logic(), request).size() == 24 + 9);

  request.set_page_size(-1);
  CHECK(f.logic().ListUnits(request).status().code() == absl::StatusCode::kInvalidArgument);
  request.set_page_size(0);
  request.set_page_token("not base64 at all!");
  absl::StatusOr<v1::ListUnitsResponse> bad = f.logic().ListUnits(request);
  REQUIRE(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldViolationsOf(bad.status()).at(0).field == "page_token");
}

TEST_CASE("PutUnit creates a unit that rules can target, naming every bad field",
          "[store]") {
  StoreFixture f;
  v1::Unit unit;
  unit.set_id("hcm.flood_taskforce.760");
  unit.set_name_vi("Tổ công tác chống ngập Quận 1");
  unit.set_name_en("District 1 flood task force");
  unit.add_unit_types("util_drainage");
  unit.set_level(v1::AREA_LEVEL_DISTRICT);
  unit.set_jurisdiction_code("760");
  unit.set_province_code("01");  // output only: overwritten from the jurisdiction
  v1::PutUnitRequest put;
  *put.mutable_unit() = unit;
  absl::StatusOr<v1::Unit> stored = f.logic().PutUnit(put);
  REQUIRE(stored.ok());
  CHECK(stored->province_code() == "79");
  CHECK(f.logic().unit_count() == 1073);

  // The default rules now find a district-level drainage unit before the city's.
  CHECK(MustRoute(f.logic(), "environment.flooding").unit().id() == "hcm.flood_taskforce.760");
  CHECK(MustRoute(f.logic(), "environment.flooding").rule() ==
        "primary:util_drainage@district:760");

  v1::Unit bad;
  bad.set_id("Bad Id");
  bad.add_unit_types("no_such_type");
  bad.set_level(v1::AREA_LEVEL_ANY);
  bad.set_email("not an address");
  *put.mutable_unit() = bad;
  absl::StatusOr<v1::Unit> refused = f.logic().PutUnit(put);
  REQUIRE(refused.status().code() == absl::StatusCode::kInvalidArgument);
  std::set<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(refused.status())) fields.insert(v.field);
  CHECK(fields == std::set<std::string>{"unit.id", "unit.name_vi", "unit.name_en",
                                        "unit.unit_types[0]", "unit.level", "unit.email"});
  bad = unit;
  bad.set_level(v1::AREA_LEVEL_WARD);  // 760 is a district code, not a ward's
  *put.mutable_unit() = bad;
  refused = f.logic().PutUnit(put);
  REQUIRE(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldViolationsOf(refused.status()).at(0).field == "unit.jurisdiction_code");
  CHECK(f.logic().unit_count() == 1073);
}

TEST_CASE("DeleteUnit refuses unknown units and units that rules send reports to",
          "[store]") {
  StoreFixture f;
  v1::DeleteUnitRequest del;
  CHECK(f.logic().DeleteUnit(del).code() == absl::StatusCode::kInvalidArgument);
  del.set_unit_id("no.such.unit");
  CHECK(f.logic().DeleteUnit(del).code() == absl::StatusCode::kNotFound);

  v1::PutRuleRequest put;
  v1::Rule* rule = put.mutable_rule();
  rule->set_id("q1-potholes");
  rule->set_category("traffic.pothole");
  rule->set_area_level(v1::AREA_LEVEL_DISTRICT);
  rule->set_area_code("760");
  rule->set_unit_id("hcm.dept_transport");
  REQUIRE(f.logic().PutRule(put).ok());
  del.set_unit_id("hcm.dept_transport");
  const absl::Status in_use = f.logic().DeleteUnit(del);
  CHECK(in_use.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(in_use) == "UNIT_IN_USE");
  CHECK_THAT(std::string(in_use.message()), Catch::Contains("q1-potholes"));
  CHECK(f.logic().unit_count() == 1072);
}

TEST_CASE("GetUnit returns one unit with its parent, NOT_FOUND when unknown", "[store]") {
  StoreFixture f;
  v1::GetUnitRequest request;
  request.set_unit_id("hcm.district_pc.760");
  absl::StatusOr<v1::Unit> unit = f.logic().GetUnit(request);
  REQUIRE(unit.ok());
  CHECK(unit->parent_id() == "hcm.city_pc");
  CHECK(unit->province_code() == "79");
  request.set_unit_id("hcm.no_such_unit");
  CHECK(f.logic().GetUnit(request).status().code() == absl::StatusCode::kNotFound);
  request.clear_unit_id();
  CHECK(f.logic().GetUnit(request).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace civic::routing
