// Identifiers: sortable unique ids for records, and short human-friendly tracking codes
// that citizens read aloud to a hotline operator.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace civic {

// A 26-character id in Crockford base32: 48 bits of milliseconds since the Unix epoch
// followed by 80 random bits (ULID layout). Ids made later sort after earlier ones
// (within one process, ids of the same millisecond are strictly increasing too).
// Thread-safe.
std::string NewSortableId(absl::Time now);

// The 10-character time prefix of ids made at `t`: the lower bound, in key order, of
// every id made at or after `t`. Pure (unlike NewSortableId, it keeps no state).
std::string SortableIdPrefix(absl::Time t);

// A tracking code like "HCM-2611-K7Q3M-9X": region prefix, yymm of `now` in Vietnam time,
// 5 random Crockford base32 characters (33M per prefix and month) and a 2-character check. No I, L, O or U, so it
// reads unambiguously; case-insensitive on input. `prefix` is 2-4 upper-case letters.
std::string NewTrackingCode(absl::string_view prefix, absl::Time now);

// Upper-cases and maps look-alikes (O→0, I/L→1) so that a code typed by a person
// matches; returns "" when `code` cannot be a tracking code (wrong shape or checksum).
std::string NormalizeTrackingCode(absl::string_view code);

}  // namespace civic
