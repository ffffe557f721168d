#include "absl/strings/string_view.h"
#include "libs/core/ids.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/core/clock.h"

namespace civic {
namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int CrockfordValue(char c) {
  for (int i = 0; i < 32; ++i) {
    if (kCrockford[i] == c) return i;
  }
  return -1;
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

// Check characters: a weighted sum over the body, mod 32*32, so a swapped pair or a
// mistyped character changes the check.
std::string CheckOf(absl::string_view body) {
  uint32_t sum = 0;
  uint32_t weight = 1;
  for (unsigned char c : body) {
    sum += weight * c;
    weight = weight * 31 % 1021;
  }
  sum %= 1024;
  return {kCrockford[sum / 32], kCrockford[sum % 32]};
}

}  // namespace

std::string NewSortableId(absl::Time now) {
  static std::mutex mu;
  static uint64_t last_ms = 0;
  static uint64_t last_hi = 0, last_lo = 0;  // 80 random bits: hi 16, lo 64

  uint64_t ms = static_cast<uint64_t>(absl::ToUnixMillis(now));
  uint64_t hi, lo;
  {
    std::lock_guard lock(mu);
    if (ms <= last_ms) {
      // Same (or earlier) millisecond: keep order by incrementing the random part.
      ms = last_ms;
      lo = last_lo + 1;
      hi = last_hi + (lo == 0 ? 1 : 0);
    } else {
      hi = Rng()() & 0xFFFF;
      lo = Rng()();
    }
    last_ms = ms;
    last_hi = hi;
    last_lo = lo;
  }
  std::string out(26, '0');
  // 48-bit time → 10 characters (50 bits, top 2 zero).
  for (int i = 9; i >= 0; --i) {
    out[i] = kCrockford[ms & 31];
    ms >>= 5;
  }
  // 80 random bits → 16 characters.
  for (int i = 25; i >= 10; --i) {
    out[i] = kCrockford[lo & 31];
    lo = (lo >> 5) | (hi << 59);
    hi >>= 5;
  }
  return out;
}

std::string SortableIdPrefix(absl::Time t) {
  uint64_t ms = static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixMillis(t)));
  std::string out(10, '0');
  for (int i = 9; i >= 0; --i) {
    out[i] = kCrockford[ms & 31];
    ms >>= 5;
  }
  return out;
}

std::string NewTrackingCode(absl::string_view prefix, absl::Time now) {
  const absl::TimeZone tz = VietnamTimeZone();
  std::string body = absl::StrCat(prefix, "-", absl::FormatTime("%y%m", now, tz), "-");
  for (int i = 0; i < 5; ++i) body.push_back(kCrockford[Rng()() % 32]);
  return absl::StrCat(body, "-", CheckOf(body));
}

std::string NormalizeTrackingCode(absl::string_view code) {
  std::string up = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(code));
  std::vector<std::string> parts = absl::StrSplit(up, '-');
  if (parts.size() != 4) return "";
  const std::string& prefix = parts[0];
  if (prefix.size() < 2 || prefix.size() > 4) return "";
  for (char c : prefix) {
    if (c < 'A' || c > 'Z') return "";
  }
  auto fix = [](std::string& s) {
    for (char& c : s) {
      if (c == 'O') c = '0';
      if (c == 'I' || c == 'L') c = '1';
    }
  };
  fix(parts[1]);
  fix(parts[2]);
  fix(parts[3]);
  if (parts[1].size() != 4 || parts[2].size() != 5 || parts[3].size() != 2) return "";
  for (char c : parts[1]) {
    if (c < '0' || c > '9') return "";
  }
  for (const auto* part : {&parts[2], &parts[3]}) {
    for (char c : *part) {
      if (CrockfordValue(c) < 0) return "";
    }
  }
  std::string body = absl::StrCat(prefix, "-", parts[1], "-", parts[2]);
  if (CheckOf(body) != parts[3]) return "";
  return absl::StrCat(body, "-", parts[3]);
}

}  // namespace civic
