// The SLA clock of cases with an injected time source: persisted at-risk and breach
// timers fire once each, across restarts of the store and around public holidays, and a
// breach escalates the case to its unit's parent.
#include "services/cases/sla_timers.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "libs/core/status.h"
#include "libs/storage/test_dir.h"
#include "services/cases/cases_logic.h"

namespace civic::cases {
namespace {

constexpr char kQ1[] = "hcm.district_pc.760";
constexpr char kCityPc[] = "hcm.city_pc";

absl::Time Local(int y, int m, int d, int hh, int mm, int ss = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss), VietnamTimeZone());
}

// A cases store and logic that can be restarted (logic destroyed, store closed and
// reopened from the same directory), with a fake routing directory for parents.
struct Fixture {
  explicit Fixture(absl::Time start, bool with_parents = true) : with_parents(with_parents) {
    clock.Set(start);
    Start();
  }

  void Start() {
    absl::StatusOr<std::unique_ptr<storage::Store>> opened =
        storage::Store::Open({dir.path(), CasesKeyspaces()});
    REQUIRE(opened.ok());
    store = *std::move(opened);
    CasesOptions options{.triage_by_province = {{"79", "hcm.ops_center"}}};
    if (with_parents) {
      options.parent_of = [this](const std::string& unit) -> absl::StatusOr<std::string> {
        ++parent_calls;
        if (!parent_status.ok()) return parent_status;
        auto it = parents.find(unit);
        if (it == parents.end()) return absl::NotFoundError("no such unit");
        return it->second;
      };
    }
    absl::StatusOr<std::unique_ptr<CasesLogic>> created =
        CasesLogic::Create(store.get(), &clock, options);
    REQUIRE(created.ok());
    logic = *std::move(created);
  }

  void Restart() {
    logic.reset();
    store.reset();
    Start();
  }

  v1::Case Open(const std::string& report_id, double sla_hours,
                common::v1::Priority priority = common::v1::PRIORITY_NORMAL) {
    v1::OpenCaseRequest r;
    r.set_report_id(report_id);
    r.set_tracking_code("PA-2704-AAAAA-" + report_id);
    r.set_category("traffic.pothole");
    r.set_description("Ổ gà sâu trước chợ Bến Thành");
    r.mutable_unit()->set_id(kQ1);
    r.mutable_area()->set_province_code("79");
    r.mutable_contact()->set_phone("+84901234567");
    r.set_sla_hours(sla_hours);
    r.set_priority(priority);
    absl::StatusOr<v1::Case> c = logic->OpenCase(r);
    REQUIRE(c.ok());
    return *std::move(c);
  }

  absl::StatusOr<v1::Case> Do(const std::string& unit, Action action, const v1::Case& c,
                              ActionArgs extra = {}) {
    extra.case_id = c.case_id();
    extra.expected_version = c.version();
    return logic->Act({unit}, action, extra);
  }

  int FireAt(absl::Time t) {
    clock.Set(t);
    absl::StatusOr<int> fired = logic->FireDueTimers();
    INFO(fired.status().ToString());
    REQUIRE(fired.ok());
    return *fired;
  }

  std::vector<common::v1::CaseEvent> Events(common::v1::CaseEventType type) {
    std::vector<common::v1::CaseEvent> out;
    auto entries = logic->feed()->ReadAfter(0, 10000);
    REQUIRE(entries.ok());
    for (const auto& e : *entries) {
      common::v1::CaseEvent event;
      REQUIRE(event.ParseFromString(e.payload));
      if (event.type() == type) out.push_back(event);
    }
    return out;
  }

  size_t TimerCount() {
    size_t n = 0;
    REQUIRE(store
                ->Scan(kTimersCf, "", "",
                       [&](absl::string_view, absl::string_view) {
                         ++n;
                         return true;
                       })
                .ok());
    return n;
  }

  storage::TestDir dir;
  FakeClock clock;
  bool with_parents;
  std::map<std::string, std::string> parents = {{kQ1, kCityPc}};
  absl::Status parent_status;
  int parent_calls = 0;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<CasesLogic> logic;
};

TEST_CASE("timer keys sort in fire order and parse back", "[cases][sla][timers]") {
  const std::string early = TimerKey(999, "01CASEB", TimerKind::kBreach);
  const std::string late = TimerKey(1000, "01CASEA", TimerKind::kAtRisk);
  CHECK(early < late);
  SlaTimer timer = ParseTimer(late, "123456");
  CHECK_FALSE(timer.malformed);
  CHECK(timer.fire_micros == 1000);
  CHECK(timer.case_id == "01CASEA");
  CHECK(timer.kind == TimerKind::kAtRisk);
  CHECK(timer.due_micros == 123456);
  CHECK(ParseTimer("garbage", "1").malformed);
  CHECK(ParseTimer(early, "not a number").malformed);
  CHECK(CeilUnixMicros(absl::FromUnixNanos(1001)) == 2);
  CHECK(CeilUnixMicros(absl::FromUnixMicros(7)) == 7);
}

TEST_CASE("AtRiskAt is where StateAt turns at risk, in working time", "[cases][sla][timers]") {
  const SlaCalendar calendar(SlaCalendarOptions::VietnamDefaults());
  const absl::Time opened = Local(2026, 11, 23, 9, 0);  // Monday
  const absl::Time due = calendar.DueAt(opened, 10, false);
  const absl::Time at_risk = calendar.AtRiskAt(opened, due, false, 0.8);
  // 8 working hours: Monday 09:00-11:30 and 13:00-17:00, then Tuesday 07:30-09:00.
  CHECK(at_risk == Local(2026, 11, 24, 9, 0));
  CHECK(calendar.StateAt(opened, due, at_risk, false, 0.8) == SlaState::kAtRisk);
  CHECK(calendar.StateAt(opened, due, at_risk - absl::Seconds(1), false, 0.8) ==
        SlaState::kOnTrack);
  CHECK(calendar.AtRiskAt(opened, opened + absl::Hours(10), true, 0.8) ==
        opened + absl::Hours(8));
  CHECK(calendar.AtRiskAt(opened, due, false, 0) == opened);
  CHECK(calendar.AtRiskAt(opened, due, false, 1) == due);
  CHECK(calendar.AtRiskAt(opened, opened, false, 0.8) == opened);
}

TEST_CASE("the SLA clock skips a public holiday, and each timer fires once across restarts",
          "[cases][sla][timers]") {
  // Thursday 29/4/2027 09:00. Then 30/4, 1/5 (and Monday 3/5 in compensation) are public
  // holidays. 16 working hours: Thursday 6.5 h, Tuesday 4/5 8 h, Wednesday 07:30-09:00.
  Fixture f(Local(2027, 4, 29, 9, 0));
  const v1::Case c = f.Open("R1", 16);
  CHECK(c.sla_hours() == 16);
  REQUIRE(FromTimestamp(c.due_at()) == Local(2027, 5, 5, 9, 0));
  CHECK(f.TimerCount() == 2);
  // At risk after 12.8 working hours: Thursday 6.5 h, Tuesday 07:30-11:30 and 13:00-15:18.
  const absl::Time at_risk = Local(2027, 5, 4, 15, 18);

  CHECK(f.FireAt(Local(2027, 4, 29, 17, 0)) == 0);
  CHECK(f.FireAt(Local(2027, 5, 3, 16, 0)) == 0);  // a holiday: no working time passes
  CHECK(f.FireAt(at_risk - absl::Seconds(1)) == 0);
  CHECK(f.logic->GetCaseFor({kQ1}, c.case_id())->sla_state() == v1::SLA_STATE_ON_TRACK);
  CHECK(f.FireAt(at_risk + absl::Seconds(1)) == 1);
  REQUIRE(f.Events(common::v1::CASE_EVENT_TYPE_AT_RISK).size() == 1);
  CHECK(f.Events(common::v1::CASE_EVENT_TYPE_AT_RISK)[0].case_id() == c.case_id());
  {
    const v1::Case now = *f.logic->GetCaseFor({kQ1}, c.case_id());
    CHECK(now.sla_state() == v1::SLA_STATE_AT_RISK);
    CHECK(now.version() == 2);
    CHECK(now.history().rbegin()->action() == "at_risk");
    CHECK(now.history().rbegin()->actor() == "system");
  }
  CHECK(f.FireAt(at_risk + absl::Seconds(2)) == 0);

  // A restart: the at-risk timer is gone for good, the breach timer is still there.
  f.Restart();
  CHECK(f.TimerCount() == 1);
  CHECK(f.FireAt(at_risk + absl::Seconds(3)) == 0);
  CHECK(f.FireAt(Local(2027, 5, 5, 8, 59, 59)) == 0);
  CHECK(f.logic->GetCaseFor({kCityPc}, c.case_id()).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(f.FireAt(Local(2027, 5, 5, 9, 0, 1)) == 1);
  const auto escalated = f.Events(common::v1::CASE_EVENT_TYPE_ESCALATED);
  REQUIRE(escalated.size() == 1);
  CHECK(escalated[0].case_id() == c.case_id());
  CHECK(escalated[0].escalated_to_unit_id() == kCityPc);
  CHECK(f.Events(common::v1::CASE_EVENT_TYPE_AT_RISK).size() == 1);
  CHECK(f.parent_calls == 1);

  // The parent sees the case, in its queue, without the citizen's contact.
  absl::StatusOr<v1::Case> seen = f.logic->GetCaseFor({kCityPc}, c.case_id());
  REQUIRE(seen.ok());
  CHECK_FALSE(seen->has_contact());
  CHECK(seen->escalated_to_unit_id() == kCityPc);
  CHECK(seen->has_escalated_at());
  CHECK(seen->sla_state() == v1::SLA_STATE_BREACHED);
  CHECK(seen->version() == 3);
  CHECK(seen->history().rbegin()->action() == "escalate");
  CHECK(seen->history().rbegin()->to_unit_id() == kCityPc);
  CHECK(f.logic->GetCaseFor({kQ1}, c.case_id())->contact().phone() == "+84901234567");
  absl::StatusOr<v1::ListCasesResponse> queue = f.logic->ListFor({kCityPc}, {});
  REQUIRE(queue.ok());
  REQUIRE(queue->cases_size() == 1);
  CHECK_FALSE(queue->cases(0).has_contact());

  // Restarted again: nothing left to fire.
  f.Restart();
  CHECK(f.TimerCount() == 0);
  CHECK(f.FireAt(Local(2027, 5, 20, 9, 0)) == 0);
  CHECK(f.Events(common::v1::CASE_EVENT_TYPE_ESCALATED).size() == 1);
  CHECK(f.Events(common::v1::CASE_EVENT_TYPE_AT_RISK).size() == 1);

  // The parent reads and notes, but does not take over the case.
  CHECK(f.Do(kCityPc, Action::kAccept, *seen).status().code() ==
        absl::StatusCode::kPermissionDenied);
  absl::StatusOr<v1::Case> noted =
      f.Do(kCityPc, Action::kNote, *seen, {.comment = "Đề nghị Quận 1 xử lý gấp"});
  REQUIRE(noted.ok());
  CHECK_FALSE(noted->has_contact());
}

TEST_CASE("a case resolved before its deadline never escalates", "[cases][sla][timers]") {
  Fixture f(Local(2026, 11, 23, 9, 0));
  v1::Case c = f.Open("R1", 16);
  c = *f.Do(kQ1, Action::kAccept, c);
  f.clock.Set(Local(2026, 11, 23, 10, 0));
  c = *f.Do(kQ1, Action::kResolve, c, {.comment = "Đã vá ổ gà"});
  CHECK(f.FireAt(Local(2026, 12, 31, 9, 0)) == 0);
  CHECK(f.TimerCount() == 0);  // both dropped as stale
  CHECK(f.Events(common::v1::CASE_EVENT_TYPE_AT_RISK).empty());
  CHECK(f.Events(common::v1::CASE_EVENT_TYPE_ESCALATED).empty());
  CHECK(f.parent_calls == 0);
}

TEST_CASE("a reopened case gets a fresh deadline and escalates after it",
          "[cases][sla][timers]") {
  // No parent lookup: escalations go to the province's operations centre.
  Fixture f(Local(2026, 11, 23, 9, 0), /*with_parents=*/false);
  v1::Case c = f.Open("R1", 16);
  REQUIRE(FromTimestamp(c.due_at()) == Local(2026, 11, 25, 9, 0));
  c = *f.Do(kQ1, Action::kAccept, c);
  f.clock.Set(Local(2026, 11, 23, 10, 0));
  c = *f.Do(kQ1, Action::kResolve, c, {.comment = "Đã vá ổ gà"});
  f.clock.Set(Local(2026, 11, 23, 11, 0));
  v1::RateResolutionRequest rating;
  rating.set_case_id(c.case_id());
  rating.set_tracking_code(c.tracking_code());
  rating.set_rating(1);
  absl::StatusOr<v1::Case> reopened = f.logic->Rate(rating);
  REQUIRE(reopened.ok());
  REQUIRE(reopened->status() == common::v1::CASE_STATUS_REOPENED);
  // 16 working hours again from Monday 11:00: 4.5 h Monday, 8 h Tuesday, 3.5 h Wednesday.
  REQUIRE(FromTimestamp(reopened->due_at()) == Local(2026, 11, 25, 11, 0));

  // Past the old deadline: its timers are stale; the new at-risk point (12.8 h from
  // Monday 11:00 = Wednesday 07:48) has passed.
  CHECK(f.FireAt(Local(2026, 11, 25, 9, 0, 1)) == 1);
  CHECK(f.Events(common::v1::CASE_EVENT_TYPE_AT_RISK).size() == 1);
  CHECK(f.Events(common::v1::CASE_EVENT_TYPE_ESCALATED).empty());
  CHECK(f.logic->GetCaseFor({kQ1}, c.case_id())->sla_state() == v1::SLA_STATE_AT_RISK);
  CHECK(f.TimerCount() == 1);

  f.Restart();
  CHECK(f.FireAt(Local(2026, 11, 25, 10, 59, 59)) == 0);
  CHECK(f.FireAt(Local(2026, 11, 25, 11, 0, 1)) == 1);
  const auto escalated = f.Events(common::v1::CASE_EVENT_TYPE_ESCALATED);
  REQUIRE(escalated.size() == 1);
  CHECK(escalated[0].escalated_to_unit_id() == "hcm.ops_center");
  CHECK(f.logic->GetCaseFor({"hcm.ops_center"}, c.case_id()).ok());
  CHECK(f.TimerCount() == 0);
}

TEST_CASE("while routing is unavailable breach timers wait, then fire once it recovers",
          "[cases][sla][timers]") {
  Fixture f(Local(2026, 11, 23, 9, 0));
  const v1::Case first = f.Open("R1", 8);
  const v1::Case second = f.Open("R2", 8);
  f.parent_status = absl::UnavailableError("routing is down");
  // Both past due: the at-risk timers fire; the breach timers wait, and routing is asked
  // once this tick, not once per case.
  CHECK(f.FireAt(Local(2026, 11, 30, 9, 0)) == 2);
  CHECK(f.parent_calls == 1);
  CHECK(f.Events(common::v1::CASE_EVENT_TYPE_ESCALATED).empty());
  CHECK(f.TimerCount() == 2);
  CHECK(f.FireAt(Local(2026, 11, 30, 9, 1)) == 0);
  CHECK(f.parent_calls == 2);

  f.Restart();
  f.parent_status = absl::OkStatus();
  CHECK(f.FireAt(Local(2026, 11, 30, 9, 2)) == 2);
  CHECK(f.parent_calls == 3);  // one look-up for the unit, this tick
  const auto escalated = f.Events(common::v1::CASE_EVENT_TYPE_ESCALATED);
  REQUIRE(escalated.size() == 2);
  for (const auto& event : escalated) CHECK(event.escalated_to_unit_id() == kCityPc);
  CHECK(f.FireAt(Local(2026, 12, 30, 9, 0)) == 0);
  CHECK(f.Events(common::v1::CASE_EVENT_TYPE_AT_RISK).size() == 2);

  // A unit without a parent escalates to its province's operations centre.
  f.parents.clear();
  f.clock.Set(Local(2027, 1, 4, 9, 0));
  const v1::Case third = f.Open("R3", 1);
  CHECK(f.FireAt(Local(2027, 1, 4, 10, 0, 1)) == 2);  // at risk, then breached
  CHECK(f.Events(common::v1::CASE_EVENT_TYPE_ESCALATED).back().escalated_to_unit_id() ==
        "hcm.ops_center");
}

TEST_CASE("an emergency runs on the wall clock through a weekend", "[cases][sla][timers]") {
  // Friday 27/11/2026 16:00; 24 hours for the critical case, 24 working hours for the
  // normal one opened at the same time.
  Fixture f(Local(2026, 11, 27, 16, 0));
  const v1::Case emergency = f.Open("R1", 24, common::v1::PRIORITY_CRITICAL);
  const v1::Case normal = f.Open("R2", 24);
  REQUIRE(FromTimestamp(emergency.due_at()) == Local(2026, 11, 28, 16, 0));  // Saturday
  REQUIRE(FromTimestamp(normal.due_at()) > Local(2026, 12, 2, 0, 0));

  // At risk after 19.2 hours: Saturday 11:12.
  CHECK(f.FireAt(Local(2026, 11, 28, 11, 11, 59)) == 0);
  CHECK(f.FireAt(Local(2026, 11, 28, 11, 12, 1)) == 1);
  const auto at_risk = f.Events(common::v1::CASE_EVENT_TYPE_AT_RISK);
  REQUIRE(at_risk.size() == 1);
  CHECK(at_risk[0].case_id() == emergency.case_id());
  CHECK(f.FireAt(Local(2026, 11, 28, 16, 0, 1)) == 1);
  const auto escalated = f.Events(common::v1::CASE_EVENT_TYPE_ESCALATED);
  REQUIRE(escalated.size() == 1);
  CHECK(escalated[0].case_id() == emergency.case_id());
  CHECK(f.FireAt(Local(2026, 11, 29, 23, 0)) == 0);  // Sunday: the normal case waits
  CHECK(f.logic->GetCaseFor({kQ1}, normal.case_id())->sla_state() == v1::SLA_STATE_ON_TRACK);
}

}  // namespace
}  // namespace civic::cases
