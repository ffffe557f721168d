// OpenSSL-backed primitives (see secrets.h).
#include "libs/auth/secrets.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdint>
#include <cstdlib>

#include "libs/core/log.h"

namespace civic::auth {

std::string RandomBytes(size_t count) {
  std::string out(count, '\0');
  if (count > 0 &&
      RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
    // Only when the OS cannot seed OpenSSL; issuing a guessable secret is worse than dying.
    CIVIC_LOG_ERROR("OpenSSL RAND_bytes failed: no secure randomness");
    std::abort();
  }
  return out;
}

std::string RandomDigits(int digits) {
  uint64_t bound = 1;
  for (int i = 0; i < digits; ++i) bound *= 10;
  // Rejection sampling: values above the largest multiple of `bound` would make low
  // codes likelier.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t value = 0;
  do {
    const std::string bytes = RandomBytes(sizeof(value));
    value = 0;
    for (unsigned char c : bytes) value = value << 8 | c;
  } while (value >= limit);
  std::string out = std::to_string(value % bound);
  return std::string(static_cast<size_t>(digits) - out.size(), '0') + out;
}

std::string Sha256(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // Cannot fail for SHA-256 over memory.
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // Cannot fail for SHA-256 over memory.
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string HexEncode(absl::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace civic::auth
