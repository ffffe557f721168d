// The SLA clock of a case: when it is due and how much of its time is used, counted in
// the working hours of the unit handling it (working week, public holidays, worked
// Saturdays) or, for emergencies, on the wall clock.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"

namespace civic::cases {

// A span of local working time within one day: minutes after local midnight, [start, end).
// 0 <= start_minute < end_minute <= 1440; an end of 1440 is the next midnight.
struct WorkingPeriod {
  int start_minute;
  int end_minute;

  friend bool operator==(const WorkingPeriod&, const WorkingPeriod&) = default;
};

// Vietnamese public administration's working week: Monday to Friday 07:30–11:30 and
// 13:00–17:00, nothing on Saturday and Sunday (index 0 = Monday ... 6 = Sunday).
std::array<std::vector<WorkingPeriod>, 7> VietnamWorkingWeek();

// Vietnam's public holidays of 2026 and 2027 as days off for public administration
// (local dates, sorted), including the bridge and compensatory days the government
// granted. The exact days are decided each year by the government (the Prime Minister
// approves the Ministry of Home Affairs' plan, usually late in the previous year), so
// deployments take them from configuration; these are only defaults. See sla.cc for the
// source and certainty of each date.
std::vector<absl::CivilDay> VietnamPublicHolidays();

// Weekend days worked in exchange for a bridge holiday in the years VietnamPublicHolidays
// covers (local dates, sorted).
std::vector<absl::CivilDay> VietnamExtraWorkingDays();

// What a calendar counts as working time. Default-constructed options are Vietnam's
// defaults (the same as VietnamDefaults()).
struct SlaCalendarOptions {
  // Local working periods per weekday (index 0 = Monday ... 6 = Sunday), sorted and not
  // overlapping. Default: Vietnamese public administration, Mon–Fri 07:30–11:30 and
  // 13:00–17:00; Sat/Sun none.
  std::array<std::vector<WorkingPeriod>, 7> week = VietnamWorkingWeek();
  // Public holidays (local dates): no working time on them, whatever the weekday. Default:
  // Vietnam's official holidays for 2026 and 2027 (VietnamPublicHolidays()). The exact
  // days are decided each year by the government and come from config.
  std::vector<absl::CivilDay> holidays = VietnamPublicHolidays();
  // Extra working days (e.g. a Saturday worked to compensate a bridge holiday). Such a day
  // has the periods of the first weekday, from Monday on, that has any. A holiday wins over
  // an extra working day (Validate rejects a day listed as both).
  std::vector<absl::CivilDay> extra_working_days = VietnamExtraWorkingDays();
  // The zone the periods and dates are local to.
  absl::TimeZone zone = civic::VietnamTimeZone();

  // Vietnam's defaults, as above.
  static SlaCalendarOptions VietnamDefaults();
};

enum class SlaState { kOnTrack, kAtRisk, kBreached };

// Working-time arithmetic over one calendar. Immutable after construction, so it is
// thread-safe and may be shared.
class SlaCalendar {
 public:
  // SLAs longer than this many working hours (over a century of office time) are treated
  // as never due: DueAt returns absl::InfiniteFuture().
  static constexpr double kMaxWorkingHours = 1'000'000;

  // `options` should pass Validate(). Invalid periods are not fatal: they are clamped to
  // the day, empty ones dropped, the rest sorted and overlaps merged, so every method stays
  // well-defined.
  explicit SlaCalendar(SlaCalendarOptions options);

  // The instant `hours` of working time after `start` (wall-clock hours when `wall_clock`,
  // for emergencies). A start outside working time counts from the next working period.
  // When the time runs out exactly at the end of a period, that end is the answer (a
  // case due "by 11:30", not "at 13:00"). `hours` <= 0 (or NaN) returns `start`; an
  // infinite `start` is returned as is. Returns absl::InfiniteFuture() when the time never
  // runs out: a calendar with no working time at all, or `hours` over kMaxWorkingHours.
  // Fast for any `hours`: ordinary weeks (no holiday, extra day or zone offset change)
  // are skipped whole.
  absl::Time DueAt(absl::Time start, double hours, bool wall_clock) const;

  // Working time between two instants (wall time when `wall_clock`): the part of [from,
  // to) inside working periods. Zero when `to` <= `from`; absl::InfiniteDuration() when
  // an end is infinite and the calendar has working time. For finite h within range,
  // Elapsed(s, DueAt(s, h, w), w) == absl::Hours(h) exactly.
  absl::Duration Elapsed(absl::Time from, absl::Time to, bool wall_clock) const;

  // The state at `now` of a case opened at `opened` and due at `due`: kBreached at or
  // after `due`; otherwise kAtRisk once the time used, Elapsed(opened, now), is at least
  // `at_risk_fraction` of the time allowed, Elapsed(opened, due); otherwise kOnTrack.
  // The fraction is clamped to [0, 1] (NaN counts as 1: never at risk before due). A case
  // allowed no working time at all is on track until due.
  SlaState StateAt(absl::Time opened, absl::Time due, absl::Time now, bool wall_clock,
                   double at_risk_fraction = 0.8) const;

  // When a case opened at `opened` and due at `due` turns at risk: the instant at which
  // `at_risk_fraction` (clamped as in StateAt) of the time allowed, Elapsed(opened, due),
  // is used, so StateAt says kAtRisk from then until `due`. `opened` for a fraction of 0;
  // `due` when the case is never at risk before it (no time allowed, or an infinite due).
  // Never after `due`. For the at-risk timer of a case (sla_timers.h).
  absl::Time AtRiskAt(absl::Time opened, absl::Time due, bool wall_clock,
                      double at_risk_fraction = 0.8) const;

  // OK when every period lies inside 0..1440 with start < end, each day's periods are
  // sorted and do not overlap (touching is fine), and no day is both a holiday and an
  // extra working day; otherwise INVALID_ARGUMENT naming the first problem.
  static absl::Status Validate(const SlaCalendarOptions& options);

  // Working time of an ordinary week of this calendar.
  absl::Duration week_working_time() const { return week_time_; }

 private:
  // The working periods of local day `day` (none on holidays).
  const std::vector<WorkingPeriod>& PeriodsOn(absl::CivilDay day) const;
  // The instant of `minute` minutes after local midnight of `day`.
  absl::Time At(absl::CivilDay day, int minute) const;
  // How many consecutive weeks from the start of `day` on are ordinary: hold no holiday,
  // no extra working day and no zone offset change, so each has exactly week_time_.
  int64_t OrdinaryWeeksFrom(absl::CivilDay day) const;
  // The instant `working` (> 0, finite) of working time after finite `start`, in a
  // calendar with working time: DueAt's walk, on an exact duration.
  absl::Time AfterWorkingTime(absl::Time start, absl::Duration working) const;

  SlaCalendarOptions options_;  // normalized: periods clean, day lists sorted and unique
  std::vector<WorkingPeriod> extra_day_periods_;
  std::vector<WorkingPeriod> no_periods_;
  absl::Duration week_time_;
};

// Parses a local date for config, "2026-04-30" (YYYY-MM-DD, surrounding ASCII space
// ignored). INVALID_ARGUMENT naming the text when malformed or not a real date.
absl::StatusOr<absl::CivilDay> ParseDay(absl::string_view text);

// Parses a working period for config, "07:30-11:30" (H:MM or HH:MM, "24:00" allowed as
// the end; surrounding ASCII space ignored). INVALID_ARGUMENT naming the text when
// malformed, out of range, or not start < end.
absl::StatusOr<WorkingPeriod> ParsePeriod(absl::string_view text);

}  // namespace civic::cases
