// Persisted SLA timers: for each open case, the instant it turns at risk and the instant
// it is past due, kept in the cases store in fire order. A timer is written in the same
// batch as the deadline it serves and deleted in the same batch as its effect (the case
// change and its event), so a crash or restart neither loses a timer nor fires it twice.
// A timer whose deadline has since changed (a reopened case) or whose case has closed is
// stale: it is recognised by the deadline it carries and dropped without effect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "civic/cases/v1/cases.pb.h"
#include "libs/storage/store.h"
#include "services/cases/sla.h"

namespace civic::cases {

// fire time \x1f case_id \x1f kind → the case's due_at the timer was set for. The fire
// time is unix microseconds, zero-padded to 20 digits, so a forward scan is fire order;
// the due time is unix microseconds in decimal.
inline constexpr char kTimersCf[] = "timers";

enum class TimerKind { kAtRisk, kBreach };

// "at_risk" or "breach", as in the key.
absl::string_view TimerKindName(TimerKind kind);

struct SlaTimer {
  std::string key;  // as stored
  int64_t fire_micros = 0;
  std::string case_id;
  TimerKind kind = TimerKind::kAtRisk;
  int64_t due_micros = 0;  // the deadline it was set for
  bool malformed = false;  // key or value unreadable: only to be deleted
};

// Unix microseconds of `t`, rounded up: a timer keyed so never fires before `t`.
// Clamped to 0 for times before 1970.
int64_t CeilUnixMicros(absl::Time t);

// Unix microseconds of a case's due_at, as a timer records it.
int64_t DueMicros(const v1::Case& c);

// The key of a timer.
std::string TimerKey(int64_t fire_micros, absl::string_view case_id, TimerKind kind);

// Parses a stored timer; `malformed` set when it cannot be read.
SlaTimer ParseTimer(absl::string_view key, absl::string_view value);

// When the case's current SLA time started: when a low rating last reopened it, else
// when it was opened. The at-risk point is a fraction of the time from here to due_at.
absl::Time SlaStartOf(const v1::Case& c);

// Adds the at-risk and breach timers of case `c` (its current due_at, counted from
// SlaStartOf, in working time unless `wall_clock`) to `batch`. No at-risk timer when the
// case cannot be at risk before due, none at all when due_at is infinite.
void ScheduleSlaTimers(const SlaCalendar& calendar, double at_risk_fraction, bool wall_clock,
                       const v1::Case& c, storage::Batch& batch);

// Up to `limit` timers with fire time <= `now`, in fire order, from key `start` on.
absl::StatusOr<std::vector<SlaTimer>> ReadDueTimers(const storage::Store& store, absl::Time now,
                                                    absl::string_view start, size_t limit);

}  // namespace civic::cases
