// Checks the published rules: time windows in Vietnam time (across midnight too), the
// specificity order (ward > district, category > group, windowed > not), versions named
// in decisions, fallback to the default rules, dry runs that publish nothing, optimistic
// concurrency, field-by-field validation, and readers never blocked by a publisher.
#include "services/routing/routing_rules.h"

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "libs/core/status.h"
#include "services/routing/routing_logic.h"
#include "services/routing/test_data.h"

namespace civic::routing {
namespace {

using civic::routing::v1::RouteDecision;
using civic::routing::v1::RouteRequest;
using testing::StoreFixture;
using testing::VietnamTime;

constexpr double kBenThanhLat = 10.7725;  // Phường Bến Thành (26743), Quận 1 (760)
constexpr double kBenThanhLon = 106.6980;
constexpr double kBenNgheLat = 10.78027;  // Phường Bến Nghé (26740) label point
constexpr double kBenNgheLon = 106.70286;

v1::TimeWindow Window(uint32_t start, uint32_t end, std::vector<v1::Weekday> days = {}) {
  v1::TimeWindow w;
  w.set_start_hour(start);
  w.set_end_hour(end);
  for (v1::Weekday d : days) w.add_days(d);
  return w;
}

LocalTime At(int weekday, int hour) { return {.hour = hour, .weekday = weekday}; }

v1::Rule Rule(const std::string& id, const std::string& category, v1::AreaLevel level,
              const std::string& area_code, const std::string& unit_id) {
  v1::Rule rule;
  rule.set_id(id);
  rule.set_category(category);
  rule.set_area_level(level);
  rule.set_area_code(area_code);
  rule.set_unit_id(unit_id);
  return rule;
}

v1::Rule GroupRule(const std::string& id, const std::string& group, v1::AreaLevel level,
                   const std::string& area_code, const std::string& unit_id) {
  v1::Rule rule = Rule(id, "", level, area_code, unit_id);
  rule.set_category_group(group);
  return rule;
}

v1::RuleChange MustPut(RoutingLogic& logic, const v1::Rule& rule) {
  v1::PutRuleRequest request;
  *request.mutable_rule() = rule;
  absl::StatusOr<v1::RuleChange> change = logic.PutRule(request);
  INFO(rule.ShortDebugString() << ": " << change.status().ToString());
  REQUIRE(change.ok());
  return *std::move(change);
}

RouteDecision MustRoute(const RoutingLogic& logic, const std::string& category, double lat,
                        double lon) {
  RouteRequest request;
  request.set_category(category);
  request.mutable_location()->set_lat(lat);
  request.mutable_location()->set_lon(lon);
  absl::StatusOr<RouteDecision> decision = logic.Route(request);
  INFO(category << " at (" << lat << ", " << lon << "): " << decision.status().ToString());
  REQUIRE(decision.ok());
  return *std::move(decision);
}

TEST_CASE("WindowContains: same-day windows, windows across midnight, days", "[rules]") {
  const v1::TimeWindow office = Window(8, 17);
  CHECK(WindowContains(office, At(1, 8)));
  CHECK(WindowContains(office, At(7, 16)));
  CHECK_FALSE(WindowContains(office, At(1, 17)));
  CHECK_FALSE(WindowContains(office, At(1, 7)));

  // Friday night 22 → 6: Friday evening and Saturday early morning only.
  const v1::TimeWindow friday_night = Window(22, 6, {v1::WEEKDAY_FRIDAY});
  CHECK(WindowContains(friday_night, At(5, 22)));
  CHECK(WindowContains(friday_night, At(5, 23)));
  CHECK(WindowContains(friday_night, At(6, 0)));
  CHECK(WindowContains(friday_night, At(6, 5)));
  CHECK_FALSE(WindowContains(friday_night, At(6, 6)));
  CHECK_FALSE(WindowContains(friday_night, At(5, 2)));   // Thursday's night, not Friday's
  CHECK_FALSE(WindowContains(friday_night, At(6, 23)));  // Saturday evening
  CHECK_FALSE(WindowContains(friday_night, At(4, 23)));

  // Sunday night runs into Monday: the week wraps.
  const v1::TimeWindow sunday_night = Window(20, 2, {v1::WEEKDAY_SUNDAY});
  CHECK(WindowContains(sunday_night, At(1, 1)));
  CHECK_FALSE(WindowContains(sunday_night, At(7, 1)));

  const v1::TimeWindow weekend = Window(0, 24, {v1::WEEKDAY_SATURDAY, v1::WEEKDAY_SUNDAY});
  CHECK(WindowContains(weekend, At(6, 0)));
  CHECK(WindowContains(weekend, At(7, 23)));
  CHECK_FALSE(WindowContains(weekend, At(1, 12)));
}

TEST_CASE("ToLocalTime reads hours and weekdays in Vietnam time", "[rules]") {
  // 2026-01-01 17:30 UTC is Friday 2026-01-02 00:30 in Vietnam.
  const LocalTime t = ToLocalTime(
      absl::FromCivil(absl::CivilSecond(2026, 1, 1, 17, 30, 0), absl::UTCTimeZone()),
      VietnamTimeZone());
  CHECK(t.hour == 0);
  CHECK(t.weekday == 5);
  const LocalTime sunday = ToLocalTime(VietnamTime(2026, 1, 4, 23, 59), VietnamTimeZone());
  CHECK(sunday.hour == 23);
  CHECK(sunday.weekday == 7);
}

TEST_CASE("A ward rule beats a district rule", "[rules]") {
  StoreFixture f;
  MustPut(f.logic(), Rule("q1-potholes", "traffic.pothole", v1::AREA_LEVEL_DISTRICT, "760",
                          "hcm.dept_transport"));
  MustPut(f.logic(), Rule("ben-thanh-potholes", "traffic.pothole", v1::AREA_LEVEL_WARD,
                          "26743", "hcm.ward_pc.26743"));
  // A broader rule with a lower order still loses to the more local one.
  v1::Rule province = Rule("hcm-potholes", "traffic.pothole", v1::AREA_LEVEL_PROVINCE, "79",
                           "hcm.city_pc");
  province.set_order(-100);
  MustPut(f.logic(), province);

  const RouteDecision ward = MustRoute(f.logic(), "traffic.pothole", kBenThanhLat, kBenThanhLon);
  CHECK(ward.unit().id() == "hcm.ward_pc.26743");
  CHECK(ward.rule() == "rule:ben-thanh-potholes@v1");
  CHECK(ward.rule_id() == "ben-thanh-potholes");
  CHECK(ward.rule_version() == 1);
  CHECK(ward.rule_set_version() == 3);
  CHECK(ward.priority() == civic::common::v1::PRIORITY_HIGH);  // the category's default
  CHECK(ward.sla_hours() == 72);

  const RouteDecision district = MustRoute(f.logic(), "traffic.pothole", kBenNgheLat, kBenNgheLon);
  CHECK(district.area().ward_code() == "26740");
  CHECK(district.unit().id() == "hcm.dept_transport");
  CHECK(district.rule() == "rule:q1-potholes@v1");

  // Huế is covered by no rule: the default rules decide, and say so.
  const RouteDecision hue = MustRoute(f.logic(), "traffic.pothole", 16.4698, 107.5786);
  CHECK(hue.unit().id() == "hue.district_pc.474");
  CHECK(hue.rule() == "primary:district_pc@district:474");
  CHECK(hue.rule_id().empty());
  CHECK(hue.rule_set_version() == 3);
}

TEST_CASE("A category rule beats a group rule, an any-area rule is the broadest", "[rules]") {
  StoreFixture f;
  MustPut(f.logic(), GroupRule("q1-traffic", "traffic", v1::AREA_LEVEL_DISTRICT, "760",
                               "hcm.district_police.760"));
  v1::Rule potholes = Rule("q1-potholes", "traffic.pothole", v1::AREA_LEVEL_DISTRICT, "760",
                           "hcm.dept_transport");
  potholes.set_order(10);  // order only breaks ties between equally specific rules
  potholes.set_priority(civic::common::v1::PRIORITY_URGENT);
  potholes.set_sla_hours(12);
  MustPut(f.logic(), potholes);
  MustPut(f.logic(), Rule("everywhere-noise", "public_order.noise", v1::AREA_LEVEL_ANY, "",
                          "hcm.city_police"));

  const RouteDecision pothole = MustRoute(f.logic(), "traffic.pothole", kBenThanhLat, kBenThanhLon);
  CHECK(pothole.unit().id() == "hcm.dept_transport");
  CHECK(pothole.rule() == "rule:q1-potholes@v1");
  CHECK(pothole.priority() == civic::common::v1::PRIORITY_URGENT);
  CHECK(pothole.sla_hours() == 12);

  const RouteDecision signal =
      MustRoute(f.logic(), "traffic.signal_fault", kBenThanhLat, kBenThanhLon);
  CHECK(signal.unit().id() == "hcm.district_police.760");
  CHECK(signal.rule() == "rule:q1-traffic@v1");
  CHECK(signal.priority() == civic::common::v1::PRIORITY_URGENT);
  CHECK(signal.sla_hours() == 6);

  // Another group is untouched.
  const RouteDecision garbage =
      MustRoute(f.logic(), "environment.garbage", kBenThanhLat, kBenThanhLon);
  CHECK(garbage.rule() == "primary:district_public_services@district:760");

  // AREA_LEVEL_ANY covers even places outside every province.
  const RouteDecision sea = MustRoute(f.logic(), "public_order.noise", 12.0, 111.0);
  CHECK(sea.unit().id() == "hcm.city_police");
  CHECK(sea.rule() == "rule:everywhere-noise@v1");
}

TEST_CASE("A time-window rule applies only inside its window, across midnight too",
          "[rules]") {
  StoreFixture f;
  v1::Rule night = Rule("q1-night-noise", "public_order.noise", v1::AREA_LEVEL_DISTRICT, "760",
                        "hcm.district_police.760");
  *night.mutable_window() = Window(22, 6, {v1::WEEKDAY_FRIDAY, v1::WEEKDAY_SATURDAY});
  MustPut(f.logic(), night);
  // A windowed rule beats an unwindowed one of the same area and category.
  MustPut(f.logic(), Rule("q1-noise", "public_order.noise", v1::AREA_LEVEL_DISTRICT, "760",
                          "hcm.district_pc.760"));
  auto unit_at = [&](absl::Time t) {
    f.clock().Set(t);
    return MustRoute(f.logic(), "public_order.noise", kBenThanhLat, kBenThanhLon).unit().id();
  };
  CHECK(unit_at(VietnamTime(2026, 1, 2, 21, 59)) == "hcm.district_pc.760");      // Fri
  CHECK(unit_at(VietnamTime(2026, 1, 2, 22, 0)) == "hcm.district_police.760");   // Fri
  CHECK(unit_at(VietnamTime(2026, 1, 3, 0, 30)) == "hcm.district_police.760");   // Sat
  CHECK(unit_at(VietnamTime(2026, 1, 3, 5, 59)) == "hcm.district_police.760");   // Sat
  CHECK(unit_at(VietnamTime(2026, 1, 3, 6, 0)) == "hcm.district_pc.760");        // Sat
  CHECK(unit_at(VietnamTime(2026, 1, 4, 3, 0)) == "hcm.district_police.760");    // Sun
  CHECK(unit_at(VietnamTime(2026, 1, 4, 23, 0)) == "hcm.district_pc.760");       // Sun
  CHECK(unit_at(VietnamTime(2026, 1, 5, 2, 0)) == "hcm.district_pc.760");        // Mon
  CHECK(unit_at(VietnamTime(2026, 1, 2, 2, 0)) == "hcm.district_pc.760");        // Fri

  // The report's own time wins over the clock (a report routed late, after an outage).
  f.clock().Set(VietnamTime(2026, 1, 5, 12, 0));
  RouteRequest late;
  late.set_category("public_order.noise");
  late.mutable_location()->set_lat(kBenThanhLat);
  late.mutable_location()->set_lon(kBenThanhLon);
  const absl::Time reported = VietnamTime(2026, 1, 2, 23, 15);
  late.mutable_reported_at()->set_seconds(absl::ToUnixSeconds(reported));
  absl::StatusOr<RouteDecision> decision = f.logic().Route(late);
  REQUIRE(decision.ok());
  CHECK(decision->unit().id() == "hcm.district_police.760");
  CHECK(decision->rule() == "rule:q1-night-noise@v1");
}

TEST_CASE("PutRule publishes a new version that decisions name, DeleteRule falls back",
          "[rules]") {
  StoreFixture f;
  CHECK(f.logic().rule_set_version() == 0);
  const RouteDecision before = MustRoute(f.logic(), "traffic.pothole", kBenThanhLat, kBenThanhLon);
  CHECK(before.rule() == "primary:district_pc@district:760");
  CHECK(before.rule_set_version() == 0);

  v1::Rule rule = Rule("q1-potholes", "traffic.pothole", v1::AREA_LEVEL_DISTRICT, "760",
                       "hcm.dept_transport");
  rule.set_description("District 1 hands potholes to the Department of Transport");
  const v1::RuleChange first = MustPut(f.logic(), rule);
  CHECK(first.rule_set_version() == 1);
  CHECK(first.rule().version() == 1);
  CHECK(first.rule().updated_at().seconds() == absl::ToUnixSeconds(f.clock().Now()));
  RouteDecision d = MustRoute(f.logic(), "traffic.pothole", kBenThanhLat, kBenThanhLon);
  CHECK(d.rule() == "rule:q1-potholes@v1");
  CHECK(d.rule_set_version() == 1);

  rule.set_unit_id("hcm.ward_pc.26743");
  const v1::RuleChange second = MustPut(f.logic(), rule);
  CHECK(second.rule_set_version() == 2);
  CHECK(second.rule().version() == 2);
  d = MustRoute(f.logic(), "traffic.pothole", kBenThanhLat, kBenThanhLon);
  CHECK(d.unit().id() == "hcm.ward_pc.26743");
  CHECK(d.rule() == "rule:q1-potholes@v2");
  CHECK(d.rule_version() == 2);
  CHECK(d.rule_set_version() == 2);

  absl::StatusOr<v1::RuleSet> listed = f.logic().ListRules(v1::ListRulesRequest());
  REQUIRE(listed.ok());
  CHECK(listed->version() == 2);
  REQUIRE(listed->rules_size() == 1);
  CHECK(listed->rules(0).unit_id() == "hcm.ward_pc.26743");

  v1::DeleteRuleRequest del;
  del.set_rule_id("q1-potholes");
  absl::StatusOr<v1::RuleChange> removed = f.logic().DeleteRule(del);
  REQUIRE(removed.ok());
  CHECK(removed->rule_set_version() == 3);
  CHECK(removed->rule().id() == "q1-potholes");
  d = MustRoute(f.logic(), "traffic.pothole", kBenThanhLat, kBenThanhLon);
  CHECK(d.unit().id() == "hcm.district_pc.760");
  CHECK(d.rule() == "primary:district_pc@district:760");
  CHECK(d.rule_set_version() == 3);

  // Every version stays readable.
  v1::ListRulesRequest old;
  old.set_version(1);
  listed = f.logic().ListRules(old);
  REQUIRE(listed.ok());
  REQUIRE(listed->rules_size() == 1);
  CHECK(listed->rules(0).unit_id() == "hcm.dept_transport");
  old.set_version(9);
  CHECK(f.logic().ListRules(old).status().code() == absl::StatusCode::kNotFound);

  CHECK(f.logic().DeleteRule(del).status().code() == absl::StatusCode::kNotFound);
  CHECK(f.logic().rule_set_version() == 3);
}

TEST_CASE("DryRun shows what a draft would decide without publishing it", "[rules]") {
  StoreFixture f;
  MustPut(f.logic(), Rule("q1-potholes", "traffic.pothole", v1::AREA_LEVEL_DISTRICT, "760",
                          "hcm.dept_transport"));

  v1::DryRunRequest dry;
  dry.set_category("traffic.pothole");
  dry.mutable_location()->set_lat(kBenThanhLat);
  dry.mutable_location()->set_lon(kBenThanhLon);

  // No draft: the published rules.
  absl::StatusOr<RouteDecision> d = f.logic().DryRun(dry);
  REQUIRE(d.ok());
  CHECK(d->rule() == "rule:q1-potholes@v1");

  // A draft replacing the rule and adding a more local one.
  v1::Rule replaced = Rule("q1-potholes", "traffic.pothole", v1::AREA_LEVEL_DISTRICT, "760",
                           "hcm.district_police.760");
  *dry.add_draft_rules() = replaced;
  d = f.logic().DryRun(dry);
  REQUIRE(d.ok());
  CHECK(d->unit().id() == "hcm.district_police.760");
  CHECK(d->rule() == "rule:q1-potholes@v2");
  CHECK(d->rule_set_version() == 1);
  *dry.add_draft_rules() = Rule("ben-thanh", "traffic.pothole", v1::AREA_LEVEL_WARD, "26743",
                                "hcm.ward_pc.26743");
  d = f.logic().DryRun(dry);
  REQUIRE(d.ok());
  CHECK(d->rule() == "rule:ben-thanh@v1");

  // Nothing was published.
  const RouteDecision live = MustRoute(f.logic(), "traffic.pothole", kBenThanhLat, kBenThanhLon);
  CHECK(live.unit().id() == "hcm.dept_transport");
  CHECK(live.rule() == "rule:q1-potholes@v1");
  CHECK(f.logic().rule_set_version() == 1);

  // Removing the published rule in a draft shows the fallback.
  v1::DryRunRequest without;
  without.set_category("traffic.pothole");
  without.set_address("p. Bến Thành, Q.1");
  without.add_remove_rule_ids("q1-potholes");
  d = f.logic().DryRun(without);
  REQUIRE(d.ok());
  CHECK(d->rule() == "address:ward+district;primary:district_pc@district:760");
  CHECK(d->area().ward_code() == "26743");

  // A draft is validated like PutRule, field by field.
  v1::DryRunRequest bad = dry;
  bad.mutable_draft_rules(1)->set_unit_id("no.such.unit");
  bad.add_remove_rule_ids("never-published");
  d = f.logic().DryRun(bad);
  REQUIRE(d.status().code() == absl::StatusCode::kInvalidArgument);
  std::set<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(d.status())) fields.insert(v.field);
  CHECK(fields == std::set<std::string>{"draft_rules[1].unit_id", "remove_rule_ids[0]"});
}

TEST_CASE("PutRule names every bad field and publishes nothing", "[rules]") {
  StoreFixture f;
  v1::Rule bad;
  bad.set_id("Bad Id!");
  bad.set_area_level(v1::AREA_LEVEL_UNSPECIFIED);
  *bad.mutable_window() = Window(25, 25, {static_cast<v1::Weekday>(9)});
  bad.set_unit_id("no.such.unit");
  bad.set_sla_hours(-1);
  bad.set_description(std::string(501, 'x'));
  v1::PutRuleRequest request;
  *request.mutable_rule() = bad;
  absl::StatusOr<v1::RuleChange> change = f.logic().PutRule(request);
  REQUIRE(change.status().code() == absl::StatusCode::kInvalidArgument);
  std::set<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(change.status())) fields.insert(v.field);
  CHECK(fields == std::set<std::string>{"rule.id", "rule.category", "rule.area_level",
                                        "rule.window.start_hour", "rule.window.end_hour",
                                        "rule.window.days[0]", "rule.unit_id",
                                        "rule.sla_hours", "rule.description"});

  v1::Rule unknown = Rule("x", "traffic.unicorn", v1::AREA_LEVEL_WARD, "99999", "hcm.city_pc");
  *request.mutable_rule() = unknown;
  change = f.logic().PutRule(request);
  fields.clear();
  for (const FieldViolation& v : FieldViolationsOf(change.status())) fields.insert(v.field);
  CHECK(fields == std::set<std::string>{"rule.category", "rule.area_code"});

  v1::Rule group = GroupRule("y", "no_such_group", v1::AREA_LEVEL_ANY, "79", "hcm.city_pc");
  *request.mutable_rule() = group;
  change = f.logic().PutRule(request);
  fields.clear();
  for (const FieldViolation& v : FieldViolationsOf(change.status())) fields.insert(v.field);
  CHECK(fields == std::set<std::string>{"rule.category_group", "rule.area_code"});

  CHECK(f.logic().PutRule(v1::PutRuleRequest()).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.logic().rule_set_version() == 0);
}

TEST_CASE("expected_rule_set_version guards against lost updates", "[rules]") {
  StoreFixture f;
  v1::PutRuleRequest put;
  *put.mutable_rule() =
      Rule("a", "traffic.pothole", v1::AREA_LEVEL_DISTRICT, "760", "hcm.dept_transport");
  put.set_expected_rule_set_version(0);
  REQUIRE(f.logic().PutRule(put).ok());
  // A second administrator still looking at version 0.
  put.mutable_rule()->set_unit_id("hcm.city_pc");
  absl::StatusOr<v1::RuleChange> stale = f.logic().PutRule(put);
  CHECK(stale.status().code() == absl::StatusCode::kAborted);
  CHECK(ReasonOf(stale.status()) == "RULE_SET_VERSION_MISMATCH");
  v1::DeleteRuleRequest del;
  del.set_rule_id("a");
  del.set_expected_rule_set_version(0);
  CHECK(f.logic().DeleteRule(del).status().code() == absl::StatusCode::kAborted);
  del.set_expected_rule_set_version(1);
  CHECK(f.logic().DeleteRule(del).ok());
}

TEST_CASE("Route keeps answering from a snapshot while rules are published", "[rules]") {
  StoreFixture f;
  std::atomic<bool> done = false;
  std::atomic<int> failures = 0;
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (!done.load()) {
        RouteRequest request;
        request.set_category("traffic.pothole");
        request.mutable_location()->set_lat(kBenThanhLat);
        request.mutable_location()->set_lon(kBenThanhLon);
        absl::StatusOr<RouteDecision> d = f.logic().Route(request);
        // Versions only move forward, and a decision is consistent with its version.
        if (!d.ok() || d->rule_set_version() < last ||
            (d->rule_set_version() > 0) != (d->rule_id() == "q1")) {
          ++failures;
        }
        if (d.ok()) last = d->rule_set_version();
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    MustPut(f.logic(), Rule("q1", "traffic.pothole", v1::AREA_LEVEL_DISTRICT, "760",
                            i % 2 == 0 ? "hcm.dept_transport" : "hcm.city_pc"));
  }
  done = true;
  for (std::thread& t : readers) t.join();
  CHECK(failures.load() == 0);
  CHECK(f.logic().rule_set_version() == 20);
}

}  // namespace
}  // namespace civic::routing
