// The case state machine and the agency API's authorization, driven through every path.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "libs/core/status.h"
#include "libs/storage/test_dir.h"
#include "services/cases/cases_logic.h"

namespace civic::cases {
namespace {

using common::v1::CaseStatus;

constexpr char kQ1[] = "hcm.district_pc.760";
constexpr char kWater[] = "hcm.util_water";
constexpr char kDrainage[] = "hcm.util_drainage";

struct Fixture {
  storage::TestDir dir;
  std::unique_ptr<storage::Store> store =
      std::move(*storage::Store::Open({dir.path(), CasesKeyspaces()}));
  FakeClock clock;
  std::unique_ptr<CasesLogic> logic = std::move(*CasesLogic::Create(
      store.get(), &clock, {.triage_by_province = {{"79", "hcm.ops_center"}}}));

  v1::Case Open(const std::string& report_id = "R1") {
    v1::OpenCaseRequest r;
    r.set_report_id(report_id);
    r.set_tracking_code("PA-2611-AAAAA-" + report_id);
    r.set_category("traffic.pothole");
    r.set_description("Ổ gà sâu trước chợ Bến Thành");
    r.mutable_unit()->set_id(kQ1);
    r.mutable_area()->set_province_code("79");
    r.mutable_contact()->set_phone("+84901234567");
    r.set_sla_hours(72);
    auto c = logic->OpenCase(r);
    REQUIRE(c.ok());
    return *c;
  }

  absl::StatusOr<v1::Case> Do(const std::string& unit, Action action, const v1::Case& c,
                              ActionArgs extra = {}) {
    extra.case_id = c.case_id();
    extra.expected_version = c.version();
    return logic->Act({unit}, action, extra);
  }

  std::vector<common::v1::CaseEvent> Events() {
    std::vector<common::v1::CaseEvent> out;
    auto entries = logic->feed()->ReadAfter(0, 1000);  // named: the loop borrows from it
    REQUIRE(entries.ok());
    for (const auto& e : *entries) {
      common::v1::CaseEvent event;
      REQUIRE(event.ParseFromString(e.payload));
      out.push_back(event);
    }
    return out;
  }
};

TEST_CASE("a case goes new → accepted → in progress → resolved, with history and events",
          "[cases][actions]") {
  Fixture f;
  v1::Case c = f.Open();
  REQUIRE(c.history_size() == 1);
  c = *f.Do(kQ1, Action::kAccept, c);
  REQUIRE(c.status() == common::v1::CASE_STATUS_ACCEPTED);
  c = *f.Do(kQ1, Action::kStartWork, c);
  c = *f.Do(kQ1, Action::kReply, c, {.comment = "Đội đã đến hiện trường"});
  REQUIRE(c.status() == common::v1::CASE_STATUS_IN_PROGRESS);
  c = *f.Do(kQ1, Action::kNote, c, {.comment = "Cần xe lu, hẹn thứ Hai"});
  c = *f.Do(kQ1, Action::kResolve, c, {.comment = "Đã vá ổ gà"});
  REQUIRE(c.status() == common::v1::CASE_STATUS_RESOLVED);
  REQUIRE(c.version() == 6);
  REQUIRE(c.history_size() == 6);
  REQUIRE(c.history(4).action() == "note");
  REQUIRE_FALSE(c.history(4).public_comment());
  REQUIRE(c.history(5).public_comment());
  REQUIRE(c.history(5).actor() == kQ1);

  auto events = f.Events();
  REQUIRE(events.size() == 6);
  REQUIRE(events[1].type() == common::v1::CASE_EVENT_TYPE_STATUS_CHANGED);
  REQUIRE(events[1].from_status() == common::v1::CASE_STATUS_NEW);
  REQUIRE(events[1].to_status() == common::v1::CASE_STATUS_ACCEPTED);
  REQUIRE(events[3].type() == common::v1::CASE_EVENT_TYPE_REPLIED);
  REQUIRE(events[3].public_text() == "Đội đã đến hiện trường");
  REQUIRE(events[4].type() == common::v1::CASE_EVENT_TYPE_NOTE_ADDED);
  REQUIRE(events[4].public_text().empty());  // internal notes never reach the feed's text
  REQUIRE(events[5].public_text() == "Đã vá ổ gà");
}

TEST_CASE("an illegal transition names the allowed actions and changes nothing",
          "[cases][actions]") {
  Fixture f;
  v1::Case c = f.Open();
  auto result = f.Do(kQ1, Action::kResolve, c, {.comment = "done"});
  REQUIRE(result.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(result.status().message() ==
          "cannot resolve a case that is new; allowed: accept, reject, transfer, reply, note, "
          "merge");
  REQUIRE(f.logic->GetCase(c.case_id())->version() == 1);
  REQUIRE(f.Events().size() == 1);
  REQUIRE(FieldViolationsOf(f.Do(kQ1, Action::kResolve, c).status()).at(0).field == "comment");
}

TEST_CASE("an accepted case is assigned within the unit, reassigned, then worked",
          "[cases][actions]") {
  Fixture f;
  v1::Case c = f.Open();
  // Not before the unit has taken it.
  auto early = f.Do(kQ1, Action::kAssign, c, {.assignee = "team.roads-2"});
  REQUIRE(early.status().code() == absl::StatusCode::kFailedPrecondition);
  c = *f.Do(kQ1, Action::kAccept, c);
  auto nobody = f.Do(kQ1, Action::kAssign, c);
  REQUIRE(nobody.status().code() == absl::StatusCode::kInvalidArgument);
  c = *f.Do(kQ1, Action::kAssign, c, {.assignee = "team.roads-2"});
  REQUIRE(c.status() == common::v1::CASE_STATUS_ASSIGNED);
  REQUIRE(c.assignee() == "team.roads-2");
  c = *f.Do(kQ1, Action::kAssign, c, {.assignee = "team.roads-5"});
  REQUIRE(c.assignee() == "team.roads-5");
  REQUIRE(c.history().rbegin()->reason() == "assignee team.roads-5");
  // Another unit may not assign it.
  auto other = f.Do(kWater, Action::kAssign, c, {.assignee = "team.x"});
  REQUIRE(other.status().code() == absl::StatusCode::kNotFound);
  c = *f.Do(kQ1, Action::kStartWork, c);
  REQUIRE(c.status() == common::v1::CASE_STATUS_IN_PROGRESS);
  // The feed names no assignee.
  auto events = f.logic->feed()->ReadAfter(0, 100);
  REQUIRE(events.ok());
  for (const auto& e : *events) REQUIRE(e.payload.find("team.roads") == std::string::npos);
}

TEST_CASE("a stale version is ABORTED, two racing accepts: exactly one wins",
          "[cases][actions]") {
  Fixture f;
  v1::Case c = f.Open();
  std::atomic<int> won{0}, aborted{0};
  std::vector<std::thread> racers;
  for (int i = 0; i < 8; ++i) {
    racers.emplace_back([&] {
      auto r = f.Do(kQ1, Action::kAccept, c);
      if (r.ok()) won++;
      if (r.status().code() == absl::StatusCode::kAborted) aborted++;
    });
  }
  for (auto& t : racers) t.join();
  REQUIRE(won == 1);
  REQUIRE(aborted == 7);
  REQUIRE(ReasonOf(f.Do(kQ1, Action::kStartWork, c).status()) == "STALE_VERSION");
}

TEST_CASE("a unit cannot read or change another unit's case, nor see contact it does "
          "not handle",
          "[cases][authz]") {
  Fixture f;
  v1::Case c = f.Open();
  REQUIRE(f.logic->GetCaseFor({kWater}, c.case_id()).status().code() ==
          absl::StatusCode::kNotFound);
  REQUIRE(f.Do(kWater, Action::kAccept, c).status().code() == absl::StatusCode::kNotFound);
  REQUIRE(f.logic->GetCaseFor({""}, c.case_id()).status().code() ==
          absl::StatusCode::kUnauthenticated);
  REQUIRE(f.logic->GetCaseFor({kQ1}, c.case_id())->contact().phone() == "+84901234567");
  REQUIRE(f.logic->ListFor({kWater}, {})->cases().empty());
  REQUIRE(f.logic->ListFor({kQ1}, {})->cases_size() == 1);
}

TEST_CASE("transfers: offered, accepted by the receiver, declined back, the old unit keeps "
          "read access without contact",
          "[cases][actions][authz]") {
  Fixture f;
  v1::Case c = *f.Do(kQ1, Action::kAccept, f.Open());
  c = *f.Do(kQ1, Action::kTransfer, c, {.to_unit_id = kWater, .reason = "ống nước vỡ"});
  REQUIRE(c.status() == common::v1::CASE_STATUS_TRANSFERRED);
  // Offered, not yet handling: sees the case, not the contact; may only accept/decline.
  auto offered = f.logic->GetCaseFor({kWater}, c.case_id());
  REQUIRE(offered.ok());
  REQUIRE_FALSE(offered->has_contact());
  REQUIRE(f.Do(kWater, Action::kStartWork, c).status().code() ==
          absl::StatusCode::kFailedPrecondition);
  REQUIRE(f.Do(kQ1, Action::kAccept, c).status().code() == absl::StatusCode::kPermissionDenied);
  c = *f.Do(kWater, Action::kAccept, c);
  REQUIRE(c.unit().id() == kWater);
  REQUIRE(c.contact().phone() == "+84901234567");
  // The unit that handled it still reads it, without the contact, and cannot act.
  auto old = f.logic->GetCaseFor({kQ1}, c.case_id());
  REQUIRE(old.ok());
  REQUIRE_FALSE(old->has_contact());
  REQUIRE(f.Do(kQ1, Action::kStartWork, c).status().code() == absl::StatusCode::kPermissionDenied);

  // A chain: water → drainage, which declines: back to water, as it was.
  c = *f.Do(kWater, Action::kTransfer, c, {.to_unit_id = kDrainage});
  c = *f.Do(kDrainage, Action::kReject, c,
            {.comment = "không phải cống", .reject_reason = v1::REJECT_REASON_OUT_OF_SCOPE});
  REQUIRE(c.status() == common::v1::CASE_STATUS_ACCEPTED);
  REQUIRE(f.logic->GetCaseFor({kWater}, c.case_id())->unit().id() == kWater);
  REQUIRE(f.logic->ListFor({kDrainage}, {})->cases_size() == 1);  // it handled it once
}

TEST_CASE("rejected as not our jurisdiction, a case returns to the operations centre",
          "[cases][actions]") {
  Fixture f;
  v1::Case c = f.Open();
  c = *f.Do(kQ1, Action::kReject, c,
            {.comment = "Không thuộc địa bàn",
             .reject_reason = v1::REJECT_REASON_NOT_OUR_JURISDICTION});
  REQUIRE(c.status() == common::v1::CASE_STATUS_NEW);
  auto at_ioc = f.logic->GetCaseFor({"hcm.ops_center"}, c.case_id());
  REQUIRE(at_ioc.ok());
  REQUIRE(at_ioc->unit().id() == "hcm.ops_center");
  REQUIRE(f.Do("hcm.ops_center", Action::kAccept, *at_ioc).ok());

  // Spam is final: no replies to a rejected case.
  v1::Case spam = f.Open("R2");
  spam = *f.Do(kQ1, Action::kReject, spam, {.reject_reason = v1::REJECT_REASON_SPAM});
  REQUIRE(spam.status() == common::v1::CASE_STATUS_REJECTED);
  REQUIRE(f.Do(kQ1, Action::kReply, spam, {.comment = "?"}).status().code() ==
          absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("units find their cases by words typed without accents, never others' cases "
          "or notes",
          "[cases][search]") {
  Fixture f;
  v1::Case c = f.Open();
  c = *f.Do(kQ1, Action::kAccept, c);
  c = *f.Do(kQ1, Action::kReply, c, {.comment = "Đã cử đội vá đường"});
  c = *f.Do(kQ1, Action::kNote, c, {.comment = "bí mật nội bộ"});
  REQUIRE(f.logic->SearchFor({kQ1}, "o ga sau", 10)->cases_size() == 1);
  REQUIRE(f.logic->SearchFor({kQ1}, "VA DUONG", 10)->cases_size() == 1);
  REQUIRE(f.logic->SearchFor({kQ1}, "bi mat", 10)->cases().empty());
  REQUIRE(f.logic->SearchFor({kWater}, "o ga", 10)->cases().empty());
  REQUIRE(f.logic->SearchFor({""}, "o ga", 10).status().code() ==
          absl::StatusCode::kUnauthenticated);
}

TEST_CASE("deadlines count working hours, and a case turns at risk then breached",
          "[cases][sla]") {
  Fixture f;
  // Monday 2026-11-23 09:00 in Hồ Chí Minh City; 72 working hours = 9 working days.
  f.clock.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0), VietnamTimeZone()));
  v1::Case c = f.Open();
  REQUIRE(FromTimestamp(c.due_at()) ==
          absl::FromCivil(absl::CivilSecond(2026, 12, 4, 9, 0, 0), VietnamTimeZone()));
  REQUIRE(f.logic->GetCaseFor({kQ1}, c.case_id())->sla_state() == v1::SLA_STATE_ON_TRACK);
  f.clock.Set(absl::FromCivil(absl::CivilSecond(2026, 12, 3, 9, 0, 0), VietnamTimeZone()));
  REQUIRE(f.logic->GetCaseFor({kQ1}, c.case_id())->sla_state() == v1::SLA_STATE_AT_RISK);
  f.clock.Set(absl::FromCivil(absl::CivilSecond(2026, 12, 4, 9, 0, 0), VietnamTimeZone()));
  REQUIRE(f.logic->GetCaseFor({kQ1}, c.case_id())->sla_state() == v1::SLA_STATE_BREACHED);
  c = *f.Do(kQ1, Action::kAccept, c);
  c = *f.Do(kQ1, Action::kResolve, c, {.comment = "Đã vá"});
  REQUIRE(c.sla_state() == v1::SLA_STATE_STOPPED);
}

TEST_CASE("the reporter rates a resolution: a good rating closes, a low one within the "
          "window reopens",
          "[cases][rating]") {
  Fixture f;
  auto resolve = [&](const std::string& report) {
    v1::Case c = *f.Do(kQ1, Action::kAccept, f.Open(report));
    return *f.Do(kQ1, Action::kResolve, c, {.comment = "Đã vá"});
  };
  auto rate = [&](const v1::Case& c, int rating, const std::string& code = "") {
    v1::RateResolutionRequest r;
    r.set_case_id(c.case_id());
    r.set_tracking_code(code.empty() ? c.tracking_code() : code);
    r.set_rating(rating);
    r.set_comment("Cảm ơn");
    return f.logic->Rate(r);
  };

  v1::Case good = resolve("R1");
  REQUIRE(rate(good, 0).status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(rate(good, 5, "PA-2611-ZZZZZ-00").status().code() == absl::StatusCode::kNotFound);
  auto closed = rate(good, 5);
  REQUIRE(closed->status() == common::v1::CASE_STATUS_CLOSED);
  REQUIRE(closed->satisfaction().rating() == 5);
  REQUIRE_FALSE(closed->has_contact());
  REQUIRE(rate(*closed, 4).status().code() == absl::StatusCode::kFailedPrecondition);

  v1::Case bad = resolve("R2");
  auto reopened = rate(bad, 1);
  REQUIRE(reopened->status() == common::v1::CASE_STATUS_REOPENED);
  REQUIRE(reopened->history().rbegin()->action() == "rate");
  // Back in the unit's hands: it accepts, resolves again, and the citizen rates again.
  v1::Case again = *f.logic->GetCaseFor({kQ1}, bad.case_id());
  again = *f.Do(kQ1, Action::kAccept, again);
  again = *f.Do(kQ1, Action::kResolve, again, {.comment = "Đã vá lại"});
  f.clock.Advance(absl::Hours(24 * 8));  // past the reopen window
  REQUIRE(rate(again, 1)->status() == common::v1::CASE_STATUS_CLOSED);
}

TEST_CASE("a unit's queue: newest or oldest first, filters by status, category, area, time and overdue, cursor paging", "[cases][list]") {
  Fixture f;
  std::vector<v1::Case> cases;
  for (int i = 0; i < 7; ++i) {
    cases.push_back(f.Open("R" + std::to_string(i)));
    f.clock.Advance(absl::Minutes(1));
  }
  f.Do(kQ1, Action::kAccept, cases[2]).IgnoreError();
  v1::ListCasesRequest page;
  page.set_page_size(3);
  auto first = f.logic->ListFor({kQ1}, page);
  REQUIRE(first->cases_size() == 3);
  REQUIRE(first->cases(0).case_id() == cases[6].case_id());
  page.set_page_token(first->next_page_token());
  auto second = f.logic->ListFor({kQ1}, page);
  REQUIRE(second->cases(0).case_id() == cases[3].case_id());
  page.set_page_token(second->next_page_token());
  auto last = f.logic->ListFor({kQ1}, page);
  REQUIRE(last->cases_size() == 1);
  REQUIRE(last->next_page_token().empty());

  v1::ListCasesRequest accepted;
  accepted.set_status(common::v1::CASE_STATUS_ACCEPTED);
  REQUIRE(f.logic->ListFor({kQ1}, accepted)->cases_size() == 1);
  v1::ListCasesRequest overdue;
  overdue.set_overdue(true);
  REQUIRE(f.logic->ListFor({kQ1}, overdue)->cases().empty());

  // Oldest first, paged forward without gaps or repeats.
  v1::ListCasesRequest oldest;
  oldest.set_order(v1::LIST_ORDER_OLDEST_FIRST);
  oldest.set_page_size(3);
  std::vector<std::string> seen;
  for (int pages = 0; pages < 5; ++pages) {
    auto got = f.logic->ListFor({kQ1}, oldest);
    REQUIRE(got.ok());
    for (const auto& c : got->cases()) seen.push_back(c.case_id());
    if (got->next_page_token().empty()) break;
    oldest.set_page_token(got->next_page_token());
  }
  REQUIRE(seen.size() == 7);
  for (int i = 0; i < 7; ++i) REQUIRE(seen[i] == cases[i].case_id());

  // Area and opening time.
  v1::ListCasesRequest in_hcm;
  in_hcm.set_area_code("79");
  REQUIRE(f.logic->ListFor({kQ1}, in_hcm)->cases_size() == 7);
  in_hcm.set_area_code("46");
  REQUIRE(f.logic->ListFor({kQ1}, in_hcm)->cases().empty());
  v1::ListCasesRequest window;
  *window.mutable_opened_after() = cases[2].opened_at();
  *window.mutable_opened_before() = cases[5].opened_at();
  auto in_window = f.logic->ListFor({kQ1}, window);
  REQUIRE(in_window->cases_size() == 3);
  REQUIRE(in_window->cases(0).case_id() == cases[4].case_id());

  f.clock.Advance(absl::Hours(24 * 30));  // 72 working hours is at least two weeks
  REQUIRE(f.logic->ListFor({kQ1}, overdue)->cases_size() == 7);
}

}  // namespace
}  // namespace civic::cases
