#include "libs/core/ids.h"

#include <set>

#include <catch2/catch.hpp>

#include "libs/core/clock.h"

namespace civic {
namespace {

TEST_CASE("sortable ids are unique and sort in creation order", "[core][ids]") {
  FakeClock clock;
  std::vector<std::string> ids;
  for (int i = 0; i < 2000; ++i) {
    if (i % 500 == 0) clock.Advance(absl::Milliseconds(1));
    ids.push_back(NewSortableId(clock.Now()));
  }
  REQUIRE(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
  REQUIRE(std::is_sorted(ids.begin(), ids.end()));
  REQUIRE(ids.front().size() == 26);
  REQUIRE(SortableIdPrefix(clock.Now()) <= ids.back());
  REQUIRE(SortableIdPrefix(clock.Now() + absl::Milliseconds(1)) > ids.back());
  REQUIRE(SortableIdPrefix(clock.Now()) == ids.back().substr(0, 10));
}

TEST_CASE("tracking codes read well and survive human retyping", "[core][ids]") {
  FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0),
                                  VietnamTimeZone()));
  const std::string code = NewTrackingCode("HCM", clock.Now());
  REQUIRE(code.size() == std::string("HCM-2611-K7Q3M-9X").size());
  REQUIRE(code.substr(0, 9) == "HCM-2611-");
  REQUIRE(NormalizeTrackingCode(code) == code);

  std::string lower = code;
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  REQUIRE(NormalizeTrackingCode(" " + lower + " ") == code);

  // A mistyped character is caught by the check.
  std::string typo = code;
  typo[10] = typo[10] == 'A' ? 'B' : 'A';
  REQUIRE(NormalizeTrackingCode(typo).empty());
  REQUIRE(NormalizeTrackingCode("NOPE").empty());
  REQUIRE(NormalizeTrackingCode("HCM-2611-K7Q3M").empty());
}

TEST_CASE("tracking codes use Vietnam's calendar month", "[core][ids]") {
  // 2026-11-30 20:00 UTC is already 1 December in Ho Chi Minh City.
  const absl::Time t = absl::FromCivil(absl::CivilSecond(2026, 11, 30, 20, 0, 0),
                                       absl::UTCTimeZone());
  REQUIRE(NewTrackingCode("HUE", t).substr(0, 9) == "HUE-2612-");
}

}  // namespace
}  // namespace civic
