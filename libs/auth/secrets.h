// The few cryptographic primitives CivicDesk's credentials need (API keys, sign-in
// codes, the citizen's pseudonymous subject), on OpenSSL, so services never hand-roll
// them: a CSPRNG, SHA-256, HMAC-SHA256 and comparison in constant time.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace civic::auth {

// `count` bytes from OpenSSL's CSPRNG (RAND_bytes). Aborts if the generator fails:
// a credential made from weak randomness must never be issued.
std::string RandomBytes(size_t count);

// A uniformly random decimal code of `digits` digits (leading zeros kept), e.g. a
// one-time sign-in code. `digits` is 1..18.
std::string RandomDigits(int digits);

// SHA-256 of `data`: 32 raw bytes.
std::string Sha256(absl::string_view data);

// HMAC-SHA256 of `data` under `key` (RFC 2104): 32 raw bytes. For hashes of small input
// spaces (phone numbers) that must not be reversible by trying every input.
std::string HmacSha256(absl::string_view key, absl::string_view data);

// Lower-case hexadecimal of `bytes`.
std::string HexEncode(absl::string_view bytes);

// True when `a` and `b` are equal, in time that depends only on their lengths (for
// comparing secrets and their hashes).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace civic::auth
