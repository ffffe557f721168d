// Working-time arithmetic for case SLAs: walks the calendar day by day around holidays
// and skips ordinary weeks whole, so a due date years away costs a handful of steps.
#include "services/cases/sla.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace civic::cases {
namespace {

constexpr int kMinutesPerDay = 24 * 60;
constexpr const char* kWeekdayNames[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                          "Friday", "Saturday", "Sunday"};

WorkingPeriod Period(int start_hour, int start_min, int end_hour, int end_min) {
  return {start_hour * 60 + start_min, end_hour * 60 + end_min};
}

std::string FormatMinute(int minute) {
  return absl::StrFormat("%02d:%02d", minute / 60, minute % 60);
}

std::string FormatPeriod(const WorkingPeriod& p) {
  if (p.start_minute < 0 || p.start_minute > kMinutesPerDay || p.end_minute < 0 ||
      p.end_minute > kMinutesPerDay) {
    return absl::StrCat("[", p.start_minute, ", ", p.end_minute, ") minutes");
  }
  return absl::StrCat(FormatMinute(p.start_minute), "-", FormatMinute(p.end_minute));
}

// Config text quoted for an error message: escaped, and cut when long.
std::string Quote(absl::string_view text) {
  constexpr size_t kMaxShown = 64;
  std::string shown = absl::CHexEscape(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) shown += "...";
  return absl::StrCat("\"", shown, "\"");
}

// Parses exactly `digits.size()` ASCII digits (no sign, no space); -1 when not all digits.
int ParseDigits(absl::string_view digits) {
  if (digits.empty() || digits.size() > 4) return -1;
  int value = 0;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// "H:MM" or "HH:MM" as minutes after midnight, 0..1440 ("24:00" is 1440); -1 when bad.
int ParseClock(absl::string_view text) {
  const size_t colon = text.find(':');
  if (colon == absl::string_view::npos || colon == 0 || colon > 2) return -1;
  if (text.size() - colon - 1 != 2) return -1;
  const int hour = ParseDigits(text.substr(0, colon));
  const int minute = ParseDigits(text.substr(colon + 1));
  if (hour < 0 || minute < 0 || minute > 59 || hour > 24) return -1;
  if (hour == 24 && minute != 0) return -1;
  return hour * 60 + minute;
}

// Sorted, unique copy of `days`.
std::vector<absl::CivilDay> SortedUnique(std::vector<absl::CivilDay> days) {
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  return days;
}

bool Contains(const std::vector<absl::CivilDay>& sorted, absl::CivilDay day) {
  return std::binary_search(sorted.begin(), sorted.end(), day);
}

// Periods clamped to the day, empty ones dropped, sorted, overlaps merged.
std::vector<WorkingPeriod> Normalized(std::vector<WorkingPeriod> periods) {
  std::vector<WorkingPeriod> kept;
  for (WorkingPeriod p : periods) {
    p.start_minute = std::clamp(p.start_minute, 0, kMinutesPerDay);
    p.end_minute = std::clamp(p.end_minute, 0, kMinutesPerDay);
    if (p.start_minute < p.end_minute) kept.push_back(p);
  }
  std::sort(kept.begin(), kept.end(), [](const WorkingPeriod& a, const WorkingPeriod& b) {
    return a.start_minute < b.start_minute;
  });
  std::vector<WorkingPeriod> merged;
  for (const WorkingPeriod& p : kept) {
    if (!merged.empty() && p.start_minute <= merged.back().end_minute) {
      merged.back().end_minute = std::max(merged.back().end_minute, p.end_minute);
    } else {
      merged.push_back(p);
    }
  }
  return merged;
}

// Whole weeks from `day` before the first day of `sorted` at or after it (no limit when
// there is none).
int64_t WeeksBeforeNextListed(const std::vector<absl::CivilDay>& sorted,
                              absl::CivilDay day) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), day);
  if (it == sorted.end()) return std::numeric_limits<int64_t>::max();
  return (*it - day) / 7;
}

}  // namespace

std::array<std::vector<WorkingPeriod>, 7> VietnamWorkingWeek() {
  std::array<std::vector<WorkingPeriod>, 7> week;
  for (int weekday = 0; weekday < 5; ++weekday) {
    week[weekday] = {Period(7, 30, 11, 30), Period(13, 0, 17, 0)};
  }
  return week;
}

// Sources: the Labour Code 2019, art. 112 (1/1; 5 days of Tết; 10/3 lunar; 30/4; 1/5; 2/9
// plus 1/9 or 3/9; a holiday on a weekly day off is compensated on the next working day),
// and the government's decisions for each year. Lunar dates were computed with Hồ Ngọc
// Đức's algorithm for UTC+7 (it gives Tết 2025 = 29/1 and Giỗ Tổ 2025 = 7/4, as observed).
std::vector<absl::CivilDay> VietnamPublicHolidays() {
  using D = absl::CivilDay;
  std::vector<D> days = {
      // --- 2026 ---
      // Tết Dương lịch: Thu 1/1, plus Fri 2/1 swapped for Sat 10/1 (Văn bản
      // 12729/VPCP-KGVX, 25/12/2025).
      D(2026, 1, 1), D(2026, 1, 2),
      // Tết Nguyên đán Bính Ngọ (mùng 1 = Tue 17/2): Sat 14/2 (27 Chạp) to Sun 22/2
      // (mùng 6), nine days, the five working days being Mon 16/2 to Fri 20/2.
      D(2026, 2, 14), D(2026, 2, 15), D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 18),
      D(2026, 2, 19), D(2026, 2, 20), D(2026, 2, 21), D(2026, 2, 22),
      // Giỗ Tổ Hùng Vương, 10/3 lunar = Sun 26/4; compensated Mon 27/4.
      D(2026, 4, 26), D(2026, 4, 27),
      // Ngày Giải phóng miền Nam (Thu 30/4) and Quốc tế Lao động (Fri 1/5).
      D(2026, 4, 30), D(2026, 5, 1),
      // Quốc khánh, Wed 2/9, with Tue 1/9 as the adjacent day (the usual choice; not
      // confirmed when this was written).
      D(2026, 9, 1), D(2026, 9, 2),
      // --- 2027 (not yet decided when this was written: the Labour Code's days, placed
      // as in years with the same weekdays) ---
      // Tết Dương lịch: Fri 1/1.
      D(2027, 1, 1),
      // Tết Nguyên đán Đinh Mùi (mùng 1 = Sat 6/2, 29 Chạp = Fri 5/2): Thu 4/2 to Wed
      // 10/2, as in 2024 when Tết also fell on a Saturday (five working days off).
      D(2027, 2, 4), D(2027, 2, 5), D(2027, 2, 6), D(2027, 2, 7), D(2027, 2, 8),
      D(2027, 2, 9), D(2027, 2, 10),
      // Giỗ Tổ Hùng Vương, 10/3 lunar = Fri 16/4.
      D(2027, 4, 16),
      // 30/4 (Fri) and 1/5 (Sat), compensated Mon 3/5.
      D(2027, 4, 30), D(2027, 5, 1), D(2027, 5, 3),
      // Quốc khánh, Thu 2/9, with Fri 3/9 as the adjacent day (as in 2021).
      D(2027, 9, 2), D(2027, 9, 3),
      // Not included: Ngày Văn hóa Việt Nam (24/11), a day off decided in principle by
      // Nghị quyết 80-NQ/TW (2026) but awaiting an amendment of the Labour Code.
  };
  return days;
}

std::vector<absl::CivilDay> VietnamExtraWorkingDays() {
  return {absl::CivilDay(2026, 1, 10)};  // Sat, worked for Fri 2/1/2026
}

SlaCalendarOptions SlaCalendarOptions::VietnamDefaults() { return SlaCalendarOptions(); }

SlaCalendar::SlaCalendar(SlaCalendarOptions options) : options_(std::move(options)) {
  int64_t week_minutes = 0;
  for (std::vector<WorkingPeriod>& day : options_.week) {
    day = Normalized(std::move(day));
    for (const WorkingPeriod& p : day) week_minutes += p.end_minute - p.start_minute;
  }
  week_time_ = absl::Minutes(week_minutes);
  options_.holidays = SortedUnique(std::move(options_.holidays));
  std::vector<absl::CivilDay> extra;
  for (absl::CivilDay day : SortedUnique(std::move(options_.extra_working_days))) {
    if (!Contains(options_.holidays, day)) extra.push_back(day);
  }
  options_.extra_working_days = std::move(extra);
  for (const std::vector<WorkingPeriod>& day : options_.week) {
    if (!day.empty()) {
      extra_day_periods_ = day;
      break;
    }
  }
}

const std::vector<WorkingPeriod>& SlaCalendar::PeriodsOn(absl::CivilDay day) const {
  if (Contains(options_.holidays, day)) return no_periods_;
  if (Contains(options_.extra_working_days, day)) return extra_day_periods_;
  return options_.week[static_cast<int>(absl::GetWeekday(day))];
}

absl::Time SlaCalendar::At(absl::CivilDay day, int minute) const {
  return absl::FromCivil(absl::CivilMinute(day) + minute, options_.zone);
}

int64_t SlaCalendar::OrdinaryWeeksFrom(absl::CivilDay day) const {
  int64_t weeks = std::min(WeeksBeforeNextListed(options_.holidays, day),
                           WeeksBeforeNextListed(options_.extra_working_days, day));
  // An offset change (DST) makes the days around it longer or shorter than their
  // periods say; walk those days one by one. A day of margin on each side is plenty.
  absl::TimeZone::CivilTransition transition;
  if (options_.zone.NextTransition(absl::FromCivil(day - 1, options_.zone), &transition)) {
    const absl::CivilDay first_odd_day =
        absl::CivilDay(std::min(transition.from, transition.to)) - 1;
    weeks = std::min<int64_t>(weeks, first_odd_day < day ? 0 : (first_odd_day - day) / 7);
  }
  return weeks;
}

absl::Time SlaCalendar::DueAt(absl::Time start, double hours, bool wall_clock) const {
  if (!(hours > 0)) return start;  // also NaN
  if (start == absl::InfiniteFuture() || start == absl::InfinitePast()) return start;
  if (wall_clock) return start + absl::Hours(hours);  // infinite hours: InfiniteFuture
  if (week_time_ <= absl::ZeroDuration() || hours > kMaxWorkingHours) {
    return absl::InfiniteFuture();
  }
  return AfterWorkingTime(start, absl::Hours(hours));
}

absl::Time SlaCalendar::AfterWorkingTime(absl::Time start, absl::Duration working) const {
  absl::Duration remaining = working;
  absl::CivilDay day = absl::ToCivilDay(start, options_.zone);
  for (;;) {
    if (absl::FromCivil(day, options_.zone) >= start) {
      // Skip whole ordinary weeks, always leaving some time for the walk so that the due
      // instant is found inside a period.
      const int64_t weeks =
          std::min(OrdinaryWeeksFrom(day), (remaining - absl::Nanoseconds(1)) / week_time_);
      if (weeks > 0) {
        day += weeks * 7;
        remaining -= week_time_ * weeks;
        continue;
      }
    }
    for (const WorkingPeriod& p : PeriodsOn(day)) {
      const absl::Time period_start = std::max(At(day, p.start_minute), start);
      const absl::Time period_end = At(day, p.end_minute);
      if (period_start >= period_end) continue;
      const absl::Duration available = period_end - period_start;
      if (remaining <= available) return period_start + remaining;
      remaining -= available;
    }
    ++day;
  }
}

absl::Duration SlaCalendar::Elapsed(absl::Time from, absl::Time to, bool wall_clock) const {
  if (!(to > from)) return absl::ZeroDuration();
  if (wall_clock) return to - from;
  if (week_time_ <= absl::ZeroDuration()) return absl::ZeroDuration();
  if (from == absl::InfinitePast() || to == absl::InfiniteFuture()) {
    return absl::InfiniteDuration();
  }
  absl::Duration total = absl::ZeroDuration();
  const absl::CivilDay last_day = absl::ToCivilDay(to, options_.zone);
  for (absl::CivilDay day = absl::ToCivilDay(from, options_.zone); day <= last_day;) {
    if (absl::FromCivil(day, options_.zone) >= from) {
      // Weeks ending at or before the start of `last_day` lie wholly inside [from, to).
      const int64_t weeks = std::min(OrdinaryWeeksFrom(day), (last_day - day) / 7);
      if (weeks > 0) {
        day += weeks * 7;
        total += week_time_ * weeks;
        continue;
      }
    }
    for (const WorkingPeriod& p : PeriodsOn(day)) {
      const absl::Time period_start = std::max(At(day, p.start_minute), from);
      const absl::Time period_end = std::min(At(day, p.end_minute), to);
      if (period_start < period_end) total += period_end - period_start;
    }
    ++day;
  }
  return total;
}

SlaState SlaCalendar::StateAt(absl::Time opened, absl::Time due, absl::Time now,
                              bool wall_clock, double at_risk_fraction) const {
  if (now >= due) return SlaState::kBreached;
  const double fraction =
      std::isnan(at_risk_fraction) ? 1.0 : std::clamp(at_risk_fraction, 0.0, 1.0);
  const absl::Duration allowed = Elapsed(opened, due, wall_clock);
  if (allowed <= absl::ZeroDuration()) return SlaState::kOnTrack;
  const absl::Duration used = Elapsed(opened, now, wall_clock);
  // A ratio of exact tick counts, so "8h of 10h" is exactly 0.8.
  return absl::FDivDuration(used, allowed) >= fraction ? SlaState::kAtRisk
                                                       : SlaState::kOnTrack;
}

absl::Time SlaCalendar::AtRiskAt(absl::Time opened, absl::Time due, bool wall_clock,
                                 double at_risk_fraction) const {
  if (!(due > opened) || opened == absl::InfinitePast()) return due;
  const double fraction =
      std::isnan(at_risk_fraction) ? 1.0 : std::clamp(at_risk_fraction, 0.0, 1.0);
  const absl::Duration allowed = Elapsed(opened, due, wall_clock);
  if (allowed <= absl::ZeroDuration() || allowed == absl::InfiniteDuration()) return due;
  absl::Duration target = allowed * fraction;
  // Duration * double may round down: step up to the first duration StateAt's ratio
  // counts as at risk (a few ticks at most; bounded all the same).
  for (int i = 0; i < (1 << 16) && absl::FDivDuration(target, allowed) < fraction; ++i) {
    target += absl::Nanoseconds(1);
  }
  if (target <= absl::ZeroDuration()) return opened;
  if (target >= allowed) return due;
  const absl::Time at = wall_clock ? opened + target : AfterWorkingTime(opened, target);
  return std::min(at, due);
}

absl::Status SlaCalendar::Validate(const SlaCalendarOptions& options) {
  for (int weekday = 0; weekday < 7; ++weekday) {
    const std::vector<WorkingPeriod>& periods = options.week[weekday];
    for (size_t i = 0; i < periods.size(); ++i) {
      const WorkingPeriod& p = periods[i];
      const std::string where =
          absl::StrCat("week[", weekday, "] (", kWeekdayNames[weekday], ") period ", i,
                       " (", FormatPeriod(p), ")");
      if (p.start_minute < 0 || p.end_minute > kMinutesPerDay) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, " is outside the day (minutes 0..1440)"));
      }
      if (p.start_minute >= p.end_minute) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, " does not start before it ends"));
      }
      if (i == 0) continue;
      const WorkingPeriod& prev = periods[i - 1];
      if (p.start_minute < prev.start_minute) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, " starts before the previous period (", FormatPeriod(prev),
                         "); periods must be sorted"));
      }
      if (p.start_minute < prev.end_minute) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, " overlaps the previous period (", FormatPeriod(prev), ")"));
      }
    }
  }
  const std::vector<absl::CivilDay> holidays = SortedUnique(options.holidays);
  for (absl::CivilDay day : options.extra_working_days) {
    if (Contains(holidays, day)) {
      return absl::InvalidArgumentError(absl::StrCat(
          absl::FormatCivilTime(day), " is both a holiday and an extra working day"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::CivilDay> ParseDay(absl::string_view text) {
  const absl::string_view s = absl::StripAsciiWhitespace(text);
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("bad date ", Quote(text), ": want YYYY-MM-DD, e.g. 2026-04-30"));
  };
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return bad();
  const int year = ParseDigits(s.substr(0, 4));
  const int month = ParseDigits(s.substr(5, 2));
  const int day = ParseDigits(s.substr(8, 2));
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > 31) return bad();
  const absl::CivilDay civil(year, month, day);
  // CivilDay normalizes out-of-range fields (2026-02-30 becomes 2026-03-02).
  if (civil.month() != month || civil.day() != day) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad date ", Quote(text), ": no such day in the calendar"));
  }
  return civil;
}

absl::StatusOr<WorkingPeriod> ParsePeriod(absl::string_view text) {
  const absl::string_view s = absl::StripAsciiWhitespace(text);
  const size_t dash = s.find('-');
  const int start = dash == absl::string_view::npos ? -1 : ParseClock(s.substr(0, dash));
  const int end = dash == absl::string_view::npos ? -1 : ParseClock(s.substr(dash + 1));
  if (start < 0 || end < 0 || start == kMinutesPerDay) {
    return absl::InvalidArgumentError(absl::StrCat("bad working period ", Quote(text),
                                                   ": want HH:MM-HH:MM, e.g. 07:30-11:30"));
  }
  if (start >= end) {
    return absl::InvalidArgumentError(absl::StrCat("bad working period ", Quote(text),
                                                   ": the start must be before the end"));
  }
  return WorkingPeriod{start, end};
}

}  // namespace civic::cases
