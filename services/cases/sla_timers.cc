// SLA timers (sla_timers.h) and their firing by CasesLogic: an at-risk warning, then at
// the deadline an escalation to the handling unit's parent. Each timer is deleted in the
// same synced batch as its effect and its event, so firing is exactly once across
// crashes and restarts.
#include "services/cases/sla_timers.h"

#include <algorithm>
#include <limits>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/core/clock.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "services/cases/cases_logic.h"

namespace civic::cases {
namespace {

constexpr size_t kFireDigits = 20;  // a non-negative int64 in decimal
constexpr size_t kTimerPage = 100;
constexpr char kAtRisk[] = "at_risk";
constexpr char kBreach[] = "breach";

std::string FireField(int64_t fire_micros) {
  return absl::StrFormat("%020d", std::max<int64_t>(fire_micros, 0));
}

// Errors of the parent lookup worth waiting out: the breach timer stays for the next
// tick. Any other error means routing cannot name a parent, as for a unit without one.
bool Transient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::string_view TimerKindName(TimerKind kind) {
  return kind == TimerKind::kAtRisk ? kAtRisk : kBreach;
}

int64_t CeilUnixMicros(absl::Time t) {
  if (t <= absl::UnixEpoch()) return 0;
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  const int64_t micros = absl::ToUnixMicros(t);  // rounds down
  return absl::FromUnixMicros(micros) < t ? micros + 1 : micros;
}

int64_t DueMicros(const v1::Case& c) { return absl::ToUnixMicros(FromTimestamp(c.due_at())); }

std::string TimerKey(int64_t fire_micros, absl::string_view case_id, TimerKind kind) {
  return absl::StrCat(FireField(fire_micros), "\x1f", case_id, "\x1f", TimerKindName(kind));
}

SlaTimer ParseTimer(absl::string_view key, absl::string_view value) {
  SlaTimer timer;
  timer.key = std::string(key);
  std::vector<absl::string_view> parts = absl::StrSplit(key, '\x1f');
  if (parts.size() != 3 || parts[0].size() != kFireDigits || parts[1].empty() ||
      !absl::SimpleAtoi(parts[0], &timer.fire_micros) ||
      !absl::SimpleAtoi(value, &timer.due_micros) ||
      (parts[2] != kAtRisk && parts[2] != kBreach)) {
    timer.malformed = true;
    return timer;
  }
  timer.case_id = std::string(parts[1]);
  timer.kind = parts[2] == kAtRisk ? TimerKind::kAtRisk : TimerKind::kBreach;
  return timer;
}

absl::Time SlaStartOf(const v1::Case& c) {
  for (auto it = c.history().rbegin(); it != c.history().rend(); ++it) {
    if (it->action() == "rate" && it->to_status() == common::v1::CASE_STATUS_REOPENED) {
      return FromTimestamp(it->at());
    }
  }
  return FromTimestamp(c.opened_at());
}

void ScheduleSlaTimers(const SlaCalendar& calendar, double at_risk_fraction, bool wall_clock,
                       const v1::Case& c, storage::Batch& batch) {
  const absl::Time due = FromTimestamp(c.due_at());
  if (due == absl::InfiniteFuture()) return;
  const std::string due_value = absl::StrCat(DueMicros(c));
  const absl::Time at_risk = calendar.AtRiskAt(SlaStartOf(c), due, wall_clock, at_risk_fraction);
  const int64_t breach_micros = CeilUnixMicros(due);
  const int64_t at_risk_micros = CeilUnixMicros(at_risk);
  if (at_risk_micros < breach_micros) {
    batch.Put(kTimersCf, TimerKey(at_risk_micros, c.case_id(), TimerKind::kAtRisk), due_value);
  }
  batch.Put(kTimersCf, TimerKey(breach_micros, c.case_id(), TimerKind::kBreach), due_value);
}

absl::StatusOr<std::vector<SlaTimer>> ReadDueTimers(const storage::Store& store, absl::Time now,
                                                    absl::string_view start, size_t limit) {
  // Keys of timers due by now sort at or before this; fire fields compare as numbers.
  const std::string last_fire =
      FireField(now <= absl::UnixEpoch() ? 0 : absl::ToUnixMicros(now));
  std::vector<SlaTimer> timers;
  CIVIC_RETURN_IF_ERROR(
      store.Scan(kTimersCf, "", start, [&](absl::string_view key, absl::string_view value) {
        if (key.substr(0, kFireDigits) > last_fire) return false;
        timers.push_back(ParseTimer(key, value));
        return timers.size() < limit;
      }));
  return timers;
}

// ---- CasesLogic's side: scheduling on a new deadline and firing.

void CasesLogic::RestartSla(v1::Case& c, absl::Time now, storage::Batch& batch) const {
  // Cases stored before sla_hours was recorded get the working time they were first given.
  const double hours =
      c.sla_hours() > 0
          ? c.sla_hours()
          : absl::ToDoubleHours(calendar_.Elapsed(FromTimestamp(c.opened_at()),
                                                  FromTimestamp(c.due_at()), WallClock(c)));
  *c.mutable_due_at() = ToTimestamp(calendar_.DueAt(now, hours, WallClock(c)));
  // The timers of the old deadline stay behind and are dropped as stale when they fire.
  ScheduleSlaTimers(calendar_, options_.at_risk_fraction, WallClock(c), c, batch);
}

absl::StatusOr<int> CasesLogic::FireDueTimers() {
  const absl::Time now = clock_->Now();
  // The parent of each unit, asked of routing at most once a tick; after a transient
  // failure, breach timers wait for the next tick (logged once).
  std::map<std::string, std::string> parents;
  bool parents_unavailable = false;
  auto parent_of = [&](const std::string& unit) -> absl::StatusOr<std::string> {
    if (auto it = parents.find(unit); it != parents.end()) return it->second;
    std::string parent;
    if (options_.parent_of) {
      absl::StatusOr<std::string> found = options_.parent_of(unit);
      if (found.ok()) {
        parent = *std::move(found);
      } else if (Transient(found.status())) {
        return found.status();
      } else if (!absl::IsNotFound(found.status())) {
        CIVIC_LOG_WARN("cases: no parent known for unit {} ({}); escalating to the operations "
                       "centre",
                       unit, found.status().ToString());
      }
    }
    parents.emplace(unit, parent);
    return parent;
  };

  int fired = 0;
  std::string start;
  for (;;) {
    CIVIC_ASSIGN_OR_RETURN(std::vector<SlaTimer> page,
                           ReadDueTimers(*store_, now, start, kTimerPage));
    for (const SlaTimer& timer : page) {
      std::string unit;
      std::string escalate_to;
      if (!timer.malformed && timer.kind == TimerKind::kBreach) {
        // Routing is asked without holding open_mu_: the call may take seconds.
        absl::StatusOr<v1::Case> c = GetCase(timer.case_id);
        if (!c.ok() && !absl::IsNotFound(c.status()) && !absl::IsDataLoss(c.status())) {
          return c.status();
        }
        if (c.ok() && IsOpen(c->status()) && DueMicros(*c) == timer.due_micros) {
          if (parents_unavailable) continue;
          unit = c->unit().id();
          absl::StatusOr<std::string> parent = parent_of(unit);
          if (!parent.ok()) {
            CIVIC_LOG_WARN("cases: cannot ask routing for parent units ({}); escalations wait "
                           "for the next tick",
                           parent.status().ToString());
            parents_unavailable = true;
            continue;
          }
          // The parent, else the province's operations centre, else the national triage;
          // never the unit itself when another is known.
          const std::string province_triage = TriageUnitFor(*c);
          escalate_to = province_triage;
          for (const std::string& candidate : {*parent, province_triage, options_.triage_unit_id}) {
            if (!candidate.empty() && candidate != unit) {
              escalate_to = candidate;
              break;
            }
          }
        }
      }
      CIVIC_ASSIGN_OR_RETURN(bool applied, ApplyTimer(timer, unit, escalate_to, now));
      if (applied) ++fired;
    }
    if (page.size() < kTimerPage) break;
    start = page.back().key + '\0';  // the next key after the page
  }
  return fired;
}

absl::StatusOr<bool> CasesLogic::ApplyTimer(const SlaTimer& timer, const std::string& unit,
                                            const std::string& escalate_to, absl::Time now) {
  std::lock_guard lock(open_mu_);
  storage::Batch batch(store_);
  batch.Delete(kTimersCf, timer.key);
  if (timer.malformed) {
    CIVIC_LOG_WARN("cases: dropping an unreadable SLA timer");
    CIVIC_RETURN_IF_ERROR(store_->Write(batch));
    return false;
  }
  absl::StatusOr<v1::Case> found = GetCase(timer.case_id);
  if (absl::IsDataLoss(found.status())) {
    // Kept: the case may be repaired; the timer is retried every tick meanwhile.
    CIVIC_LOG_ERROR("cases: SLA timer of case {} skipped: {}", timer.case_id,
                    found.status().ToString());
    return false;
  }
  if (!found.ok() && !absl::IsNotFound(found.status())) return found.status();
  if (!found.ok() || !IsOpen(found->status()) || DueMicros(*found) != timer.due_micros) {
    // Stale: the case is gone or closed, or has a newer deadline with timers of its own.
    CIVIC_RETURN_IF_ERROR(store_->Write(batch));
    return false;
  }
  v1::Case c = *std::move(found);
  const bool breach = timer.kind == TimerKind::kBreach;
  // The parent was looked up for the unit handling the case then; if it has moved on (or
  // the lookup was skipped), the next tick asks again.
  if (breach && (unit.empty() || escalate_to.empty() || c.unit().id() != unit)) return false;

  c.set_version(c.version() + 1);
  *c.mutable_updated_at() = ToTimestamp(now);
  v1::HistoryEntry* entry = c.add_history();
  *entry->mutable_at() = ToTimestamp(now);
  entry->set_actor("system");
  entry->set_action(breach ? "escalate" : "at_risk");
  entry->set_from_status(c.status());
  entry->set_to_status(c.status());
  entry->set_version(c.version());
  if (breach) {
    entry->set_to_unit_id(escalate_to);
    entry->set_reason("past due");
    c.set_escalated_to_unit_id(escalate_to);
    *c.mutable_escalated_at() = ToTimestamp(now);
    // The parent's queue: it sees the case from now on (CanSee).
    batch.Put(kByUnitCf, absl::StrCat(escalate_to, "\x1f", c.case_id()), "");
  }
  batch.Put(kCasesCf, c.case_id(), c.SerializeAsString());
  CIVIC_RETURN_IF_ERROR(feed_->AppendAndWrite(batch, [&](uint64_t sequence) {
                                common::v1::CaseEvent event = EventFor(c, sequence, now);
                                event.set_type(breach ? common::v1::CASE_EVENT_TYPE_ESCALATED
                                                      : common::v1::CASE_EVENT_TYPE_AT_RISK);
                                if (breach) event.set_escalated_to_unit_id(escalate_to);
                                return event.SerializeAsString();
                              })
                            .status());
  if (breach) {
    CIVIC_LOG_INFO("case {} past due at unit {}: escalated to {}", c.case_id(), unit,
                   escalate_to);
  } else {
    CIVIC_LOG_INFO("case {} at risk of missing its deadline", c.case_id());
  }
  return true;
}

}  // namespace civic::cases
