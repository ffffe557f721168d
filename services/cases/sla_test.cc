// The SLA clock on Vietnam's calendar: exact due instants around lunch, nights, weekends
// and holidays; emergencies on the wall clock; at-risk thresholds; and DueAt/Elapsed
// checked against each other and a naive day-by-day reference over random starts.
#include "services/cases/sla.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"

namespace civic::cases {
namespace {

// A local instant in Vietnam.
absl::Time Vn(int year, int month, int day, int hour, int minute) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         civic::VietnamTimeZone());
}

std::string Show(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E*S %a", t, civic::VietnamTimeZone());
}

// The default calendar, on working time.
absl::Time Due(absl::Time start, double hours) {
  static const SlaCalendar calendar(SlaCalendarOptions::VietnamDefaults());
  return calendar.DueAt(start, hours, /*wall_clock=*/false);
}

#define CHECK_TIME(actual, expected)                                      \
  do {                                                                    \
    const absl::Time actual_ = (actual);                                  \
    const absl::Time expected_ = (expected);                              \
    INFO("actual " << Show(actual_) << ", expected " << Show(expected_)); \
    CHECK(actual_ == expected_);                                          \
  } while (0)

// Options with the default week but no holidays or extra days.
SlaCalendarOptions PlainWeek() {
  SlaCalendarOptions options;
  options.holidays.clear();
  options.extra_working_days.clear();
  return options;
}

// Independent reference for Elapsed: every day walked, no week skipping.
absl::Duration NaiveElapsed(const SlaCalendarOptions& o, absl::Time from, absl::Time to) {
  absl::Duration total;
  if (to <= from) return total;
  std::vector<WorkingPeriod> extra_periods;
  for (const auto& day : o.week) {
    if (!day.empty()) {
      extra_periods = day;
      break;
    }
  }
  for (absl::CivilDay day = absl::ToCivilDay(from, o.zone);
       day <= absl::ToCivilDay(to, o.zone); ++day) {
    std::vector<WorkingPeriod> periods = o.week[static_cast<int>(absl::GetWeekday(day))];
    bool holiday = false;
    for (absl::CivilDay h : o.holidays) holiday = holiday || h == day;
    bool extra = false;
    for (absl::CivilDay e : o.extra_working_days) extra = extra || e == day;
    if (holiday) {
      periods.clear();
    } else if (extra) {
      periods = extra_periods;
    }
    for (const WorkingPeriod& p : periods) {
      const absl::Time s =
          std::max(absl::FromCivil(absl::CivilMinute(day) + p.start_minute, o.zone), from);
      const absl::Time e =
          std::min(absl::FromCivil(absl::CivilMinute(day) + p.end_minute, o.zone), to);
      if (s < e) total += e - s;
    }
  }
  return total;
}

TEST_CASE("8 working hours from Monday 09:00 end Tuesday 09:00, skipping the lunch break",
          "[sla]") {
  const absl::Time monday_9 = Vn(2026, 3, 9, 9, 0);
  CHECK_TIME(Due(monday_9, 8), Vn(2026, 3, 10, 9, 0));
  // Time running out at the end of a period is due then, not after lunch.
  CHECK_TIME(Due(monday_9, 2.5), Vn(2026, 3, 9, 11, 30));
  CHECK_TIME(Due(monday_9, 3), Vn(2026, 3, 9, 13, 30));
  CHECK_TIME(Due(monday_9, 6.5), Vn(2026, 3, 9, 17, 0));
  CHECK_TIME(Due(monday_9, 0.25), Vn(2026, 3, 9, 9, 15));
}

TEST_CASE("Friday 16:00 plus 2 working hours is Monday 08:30", "[sla]") {
  CHECK_TIME(Due(Vn(2026, 3, 13, 16, 0), 2), Vn(2026, 3, 16, 8, 30));
}

TEST_CASE("a report outside working time counts from the next working period", "[sla]") {
  // 22:00 Monday: from 07:30 Tuesday.
  CHECK_TIME(Due(Vn(2026, 3, 9, 22, 0), 1), Vn(2026, 3, 10, 8, 30));
  // 05:00 Tuesday: from 07:30 the same day.
  CHECK_TIME(Due(Vn(2026, 3, 10, 5, 0), 1), Vn(2026, 3, 10, 8, 30));
  // During lunch: from 13:00.
  CHECK_TIME(Due(Vn(2026, 3, 9, 12, 0), 1), Vn(2026, 3, 9, 14, 0));
  // Saturday afternoon and Friday 17:00 sharp: from 07:30 Monday.
  CHECK_TIME(Due(Vn(2026, 3, 14, 15, 0), 1), Vn(2026, 3, 16, 8, 30));
  CHECK_TIME(Due(Vn(2026, 3, 13, 17, 0), 1), Vn(2026, 3, 16, 8, 30));
}

TEST_CASE("Tet 2026: 24 working hours from Friday 13/2 10:00 land after the nine-day break",
          "[sla]") {
  // Friday 13/2: 1.5 h + 4 h; 14/2–22/2 off; Monday 23/2 and Tuesday 24/2: 16 h;
  // Wednesday 25/2: the last 2.5 h from 07:30.
  CHECK_TIME(Due(Vn(2026, 2, 13, 10, 0), 24), Vn(2026, 2, 25, 10, 0));
  // Nothing counts during the break, night or day.
  const SlaCalendar calendar(SlaCalendarOptions::VietnamDefaults());
  CHECK(calendar.Elapsed(Vn(2026, 2, 13, 17, 0), Vn(2026, 2, 23, 7, 30), false) ==
        absl::ZeroDuration());
}

TEST_CASE("30/4 and 1/5 2026 are days off, and so is Gio To's compensation day 27/4",
          "[sla]") {
  // Wednesday 29/4 15:00: 2 h that day; Thu 30/4, Fri 1/5, weekend off; Monday 4/5 the
  // other 6 h.
  CHECK_TIME(Due(Vn(2026, 4, 29, 15, 0), 8), Vn(2026, 5, 4, 15, 0));
  // Giỗ Tổ Hùng Vương falls on Sunday 26/4, so Monday 27/4 is off too.
  CHECK_TIME(Due(Vn(2026, 4, 24, 15, 0), 8), Vn(2026, 4, 28, 15, 0));
}

TEST_CASE("an emergency's wall-clock hour is exactly one hour, at night and on holidays",
          "[sla]") {
  const SlaCalendar calendar(SlaCalendarOptions::VietnamDefaults());
  for (const absl::Time start : {Vn(2026, 2, 17, 23, 30),   // Tết, night
                                 Vn(2026, 4, 30, 2, 0),     // 30/4, small hours
                                 Vn(2026, 3, 14, 12, 0),    // Saturday noon
                                 Vn(2026, 3, 9, 11, 0)}) {  // across lunch
    INFO(Show(start));
    CHECK(calendar.DueAt(start, 1, /*wall_clock=*/true) == start + absl::Hours(1));
    CHECK(calendar.DueAt(start, 1.5, true) == start + absl::Minutes(90));
    CHECK(calendar.Elapsed(start, start + absl::Hours(1), true) == absl::Hours(1));
  }
}

TEST_CASE("72 working hours are 9 working days", "[sla]") {
  // From the start of Monday 9/3: nine full days, ending Thursday 19/3 at 17:00.
  CHECK_TIME(Due(Vn(2026, 3, 9, 7, 30), 72), Vn(2026, 3, 19, 17, 0));
  // From Monday 09:00: the same time of day nine working days later.
  CHECK_TIME(Due(Vn(2026, 3, 9, 9, 0), 72), Vn(2026, 3, 20, 9, 0));
  // Whole weeks from a midnight end on Friday 17:00, not at the next Monday's opening.
  CHECK_TIME(Due(Vn(2026, 3, 8, 20, 0), 40), Vn(2026, 3, 13, 17, 0));
  CHECK_TIME(Due(Vn(2026, 3, 9, 0, 0), 80), Vn(2026, 3, 20, 17, 0));
}

TEST_CASE("StateAt is on track below 80%, at risk from 80%, breached at 100%", "[sla]") {
  const SlaCalendar calendar(SlaCalendarOptions::VietnamDefaults());
  const absl::Time opened = Vn(2026, 3, 9, 7, 30);
  const absl::Time due = calendar.DueAt(opened, 10, false);  // 8 h Monday + 2 h Tuesday
  CHECK_TIME(due, Vn(2026, 3, 10, 9, 30));
  const auto state = [&](absl::Time now) {
    return calendar.StateAt(opened, due, now, /*wall_clock=*/false);
  };
  CHECK(state(opened) == SlaState::kOnTrack);
  CHECK(state(Vn(2026, 3, 9, 16, 54)) == SlaState::kOnTrack);  // 7 h 54 min: 79%
  CHECK(state(Vn(2026, 3, 9, 17, 0)) == SlaState::kAtRisk);    // 8 h: 80%
  CHECK(state(Vn(2026, 3, 9, 23, 0)) == SlaState::kAtRisk);    // still 80% overnight
  CHECK(state(due - absl::Seconds(1)) == SlaState::kAtRisk);
  CHECK(state(due) == SlaState::kBreached);  // 100%
  CHECK(state(due + absl::Hours(100)) == SlaState::kBreached);

  // The threshold is configurable: at half of the time.
  CHECK(calendar.StateAt(opened, due, Vn(2026, 3, 9, 13, 0), false, 0.5) ==
        SlaState::kOnTrack);  // 4 h: 40%
  CHECK(calendar.StateAt(opened, due, Vn(2026, 3, 9, 14, 0), false, 0.5) ==
        SlaState::kAtRisk);  // 5 h: 50%

  // On the wall clock (emergencies), night hours count.
  const absl::Time night = Vn(2026, 3, 14, 22, 0);
  const absl::Time night_due = calendar.DueAt(night, 10, true);
  CHECK(calendar.StateAt(night, night_due, night + absl::Minutes(474), true) ==
        SlaState::kOnTrack);  // 79%
  CHECK(calendar.StateAt(night, night_due, night + absl::Hours(8), true) ==
        SlaState::kAtRisk);  // 80%
  CHECK(calendar.StateAt(night, night_due, night_due, true) == SlaState::kBreached);
}

TEST_CASE(
    "Elapsed(start, DueAt(start, h)) is exactly h over random starts, and both agree "
    "with a naive day-by-day count",
    "[sla]") {
  std::vector<SlaCalendarOptions> calendars = {SlaCalendarOptions::VietnamDefaults()};
  // A zone with daylight saving time exercises the walk around offset changes.
  absl::TimeZone new_york;
  if (absl::LoadTimeZone("America/New_York", &new_york)) {
    SlaCalendarOptions options = SlaCalendarOptions::VietnamDefaults();
    options.zone = new_york;
    // A night shift crossing the 02:00 change, and a Saturday morning.
    options.week[6] = {{60, 180}};
    options.week[5] = {{8 * 60, 12 * 60}};
    calendars.push_back(options);
  }
  std::mt19937_64 rng(20260417);
  const int64_t first = absl::ToUnixSeconds(Vn(2025, 12, 1, 0, 0));
  const int64_t last = absl::ToUnixSeconds(Vn(2027, 12, 31, 0, 0));
  std::uniform_int_distribution<int64_t> second_in_range(first, last);
  std::uniform_real_distribution<double> hours_in_range(0.01, 600);
  for (const SlaCalendarOptions& options : calendars) {
    const SlaCalendar calendar(options);
    for (int i = 0; i < 400; ++i) {
      const absl::Time start = absl::FromUnixSeconds(second_in_range(rng));
      // Whole minutes half of the time (landing on period ends), any real otherwise.
      double hours = hours_in_range(rng);
      if (i % 2 == 0) hours = static_cast<int>(hours * 60) / 60.0;
      const absl::Time due = calendar.DueAt(start, hours, false);
      INFO(options.zone.name() << " start " << Show(start) << " hours " << hours << " due "
                               << Show(due));
      REQUIRE(due > start);
      CHECK(calendar.Elapsed(start, due, false) == absl::Hours(hours));
      CHECK(NaiveElapsed(options, start, due) == absl::Hours(hours));
      // The due instant is the first one with that much time: a moment earlier is short.
      CHECK(calendar.Elapsed(start, due - absl::Nanoseconds(1), false) <
            absl::Hours(hours));
    }
    // Elapsed alone, on arbitrary spans of up to two years.
    for (int i = 0; i < 200; ++i) {
      absl::Time a = absl::FromUnixSeconds(second_in_range(rng));
      absl::Time b = absl::FromUnixSeconds(second_in_range(rng));
      if (b < a) std::swap(a, b);
      INFO(options.zone.name() << " from " << Show(a) << " to " << Show(b));
      CHECK(calendar.Elapsed(a, b, false) == NaiveElapsed(options, a, b));
      CHECK(calendar.Elapsed(b, a, false) == absl::ZeroDuration());
    }
  }
}

TEST_CASE("an extra working day (a Saturday) counts, with a weekday's hours", "[sla]") {
  // Default calendar: Friday 2/1/2026 was swapped for Saturday 10/1/2026.
  CHECK_TIME(Due(Vn(2026, 1, 9, 16, 0), 2), Vn(2026, 1, 10, 8, 30));
  CHECK_TIME(Due(Vn(2025, 12, 31, 16, 0), 2), Vn(2026, 1, 5, 8, 30));  // 1/1 and 2/1 off

  SlaCalendarOptions options = PlainWeek();
  options.extra_working_days = {absl::CivilDay(2026, 3, 14)};
  const SlaCalendar calendar(options);
  CHECK_TIME(calendar.DueAt(Vn(2026, 3, 13, 16, 0), 2, false), Vn(2026, 3, 14, 8, 30));
  CHECK(calendar.Elapsed(Vn(2026, 3, 14, 0, 0), Vn(2026, 3, 15, 0, 0), false) ==
        absl::Hours(8));
}

TEST_CASE("a calendar with no working time returns InfiniteFuture without hanging",
          "[sla]") {
  SlaCalendarOptions options = PlainWeek();
  for (auto& day : options.week) day.clear();
  options.extra_working_days = {absl::CivilDay(2026, 3, 14)};  // no weekday hours to use
  const SlaCalendar empty(options);
  CHECK(empty.DueAt(Vn(2026, 3, 9, 9, 0), 8, false) == absl::InfiniteFuture());
  CHECK(empty.DueAt(Vn(2026, 3, 9, 9, 0), 8, true) == Vn(2026, 3, 9, 17, 0));
  CHECK(empty.Elapsed(Vn(2026, 1, 1, 0, 0), Vn(2027, 1, 1, 0, 0), false) ==
        absl::ZeroDuration());
  CHECK(empty.StateAt(Vn(2026, 3, 9, 9, 0), absl::InfiniteFuture(), Vn(2030, 1, 1, 0, 0),
                      false) == SlaState::kOnTrack);
}

TEST_CASE("DueAt is fast for 10,000 hours and across a year of holidays", "[sla]") {
  const SlaCalendar calendar(SlaCalendarOptions::VietnamDefaults());
  const absl::Time start = Vn(2026, 1, 1, 0, 0);
  const auto began = std::chrono::steady_clock::now();
  const absl::Time due = calendar.DueAt(start, 10'000, false);
  const absl::Duration elapsed = calendar.Elapsed(start, due, false);
  const auto took = std::chrono::steady_clock::now() - began;
  CHECK(elapsed == absl::Hours(10'000));
  CHECK(took < std::chrono::seconds(2));  // generous: sanitizers, loaded machines
  // 10,000 h of 40-hour weeks is 250 weeks; the 2026–2027 holidays push it a little later.
  CHECK(due > start + absl::Hours(24 * 7 * 250));
  CHECK(due < start + absl::Hours(24 * 7 * 256));

  // Too long to be meaningful: never due.
  CHECK(calendar.DueAt(start, 2 * SlaCalendar::kMaxWorkingHours, false) ==
        absl::InfiniteFuture());

  // Every day of 2026 a holiday: the first working time is Friday 1/1/2027.
  SlaCalendarOptions options = PlainWeek();
  for (absl::CivilDay d(2026, 1, 1); d < absl::CivilDay(2027, 1, 1); ++d) {
    options.holidays.push_back(d);
  }
  const SlaCalendar closed_year(options);
  CHECK_TIME(closed_year.DueAt(start, 8, false), Vn(2027, 1, 1, 17, 0));
}

TEST_CASE("zero or invalid hours are due at once", "[sla]") {
  const SlaCalendar calendar(SlaCalendarOptions::VietnamDefaults());
  const absl::Time night = Vn(2026, 3, 9, 22, 0);
  CHECK(calendar.DueAt(night, 0, false) == night);
  CHECK(calendar.DueAt(night, -3, false) == night);
  CHECK(calendar.DueAt(night, std::nan(""), true) == night);
}

TEST_CASE("Validate accepts the defaults and rejects overlapping or malformed periods",
          "[sla]") {
  CHECK(SlaCalendar::Validate(SlaCalendarOptions::VietnamDefaults()).ok());

  SlaCalendarOptions options = PlainWeek();
  options.week[2] = {{7 * 60 + 30, 12 * 60}, {11 * 60 + 30, 17 * 60}};
  absl::Status status = SlaCalendar::Validate(options);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(status.message(), "Wednesday"));
  CHECK(absl::StrContains(status.message(), "overlaps"));
  // Touching periods are fine.
  options.week[2] = {{7 * 60 + 30, 12 * 60}, {12 * 60, 17 * 60}};
  CHECK(SlaCalendar::Validate(options).ok());

  options.week[2] = {{13 * 60, 17 * 60}, {7 * 60 + 30, 11 * 60 + 30}};
  CHECK(absl::StrContains(SlaCalendar::Validate(options).message(), "sorted"));
  options.week[2] = {{17 * 60, 13 * 60}};
  CHECK(SlaCalendar::Validate(options).code() == absl::StatusCode::kInvalidArgument);
  options.week[2] = {{-10, 60}};
  CHECK(SlaCalendar::Validate(options).code() == absl::StatusCode::kInvalidArgument);
  options.week[2] = {{60, 1441}};
  CHECK(SlaCalendar::Validate(options).code() == absl::StatusCode::kInvalidArgument);
  options.week[2] = {{0, 1440}};
  CHECK(SlaCalendar::Validate(options).ok());

  options.holidays = {absl::CivilDay(2026, 3, 14)};
  options.extra_working_days = {absl::CivilDay(2026, 3, 14)};
  status = SlaCalendar::Validate(options);
  CHECK(absl::StrContains(status.message(), "2026-03-14"));

  // The constructor copes with what Validate rejects: overlaps merge.
  SlaCalendarOptions messy = PlainWeek();
  messy.week[0] = {{13 * 60, 17 * 60}, {7 * 60 + 30, 12 * 60}, {11 * 60, 12 * 60 + 30}};
  const SlaCalendar calendar(messy);
  CHECK(calendar.Elapsed(Vn(2026, 3, 9, 0, 0), Vn(2026, 3, 10, 0, 0), false) ==
        absl::Hours(9));
}

TEST_CASE("the default holidays are sorted and hold the known 2026 and 2027 days",
          "[sla]") {
  const std::vector<absl::CivilDay> holidays = VietnamPublicHolidays();
  CHECK(std::is_sorted(holidays.begin(), holidays.end()));
  for (const absl::CivilDay day :
       {absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 2, 17),
        absl::CivilDay(2026, 4, 27), absl::CivilDay(2026, 4, 30),
        absl::CivilDay(2026, 5, 1), absl::CivilDay(2026, 9, 2), absl::CivilDay(2027, 2, 8),
        absl::CivilDay(2027, 4, 16), absl::CivilDay(2027, 9, 2)}) {
    INFO(day);
    CHECK(std::binary_search(holidays.begin(), holidays.end(), day));
  }
}

TEST_CASE("ParseDay reads YYYY-MM-DD and names bad text", "[sla]") {
  absl::StatusOr<absl::CivilDay> day = ParseDay("2026-04-30");
  REQUIRE(day.ok());
  CHECK(*day == absl::CivilDay(2026, 4, 30));
  CHECK(*ParseDay(" 2028-02-29 ") == absl::CivilDay(2028, 2, 29));
  for (const char* bad : {"2026-02-30", "2027-02-29", "2026-4-30", "30/04/2026",
                          "2026-13-01", "2026-04-30x", "", "2026-04-3a", "+026-04-30"}) {
    INFO(bad);
    const absl::StatusOr<absl::CivilDay> parsed = ParseDay(bad);
    REQUIRE(!parsed.ok());
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(parsed.status().message(), absl::StrCat("\"", bad, "\"")));
  }
}

TEST_CASE("ParsePeriod reads HH:MM-HH:MM and names bad text", "[sla]") {
  CHECK(*ParsePeriod("07:30-11:30") == WorkingPeriod{450, 690});
  CHECK(*ParsePeriod("7:30-11:30") == WorkingPeriod{450, 690});
  CHECK(*ParsePeriod("13:00-24:00") == WorkingPeriod{780, 1440});
  CHECK(*ParsePeriod("00:00-00:01") == WorkingPeriod{0, 1});
  for (const char* bad : {"11:30-07:30", "07:30-07:30", "24:00-24:00", "25:00-26:00",
                          "07:60-08:00", "0730-1130", "07:30", "7:3-11:30", "-07:30-11:30",
                          "07:30-11:30-12:00", "", "a:bc-d:ef", "24:30-24:45"}) {
    INFO(bad);
    const absl::StatusOr<WorkingPeriod> parsed = ParsePeriod(bad);
    REQUIRE(!parsed.ok());
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(parsed.status().message(), absl::StrCat("\"", bad, "\"")));
  }
}

}  // namespace
}  // namespace civic::cases
