#include "libs/core/clock.h"

#include "google/protobuf/util/time_util.h"

namespace civic {

SystemClock* SystemClock::Get() {
  static auto* clock = new SystemClock();  // intentionally leaked: used until exit
  return clock;
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(google::protobuf::util::TimeUtil::TimestampToNanoseconds(t));
}

absl::TimeZone VietnamTimeZone() {
  absl::TimeZone tz;
  if (absl::LoadTimeZone("Asia/Ho_Chi_Minh", &tz)) return tz;
  // Machines without tzdata: Vietnam has had no DST since 1975, so a fixed offset is exact.
  return absl::FixedTimeZone(7 * 3600);
}

}  // namespace civic
