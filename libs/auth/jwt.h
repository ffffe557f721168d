// Signed bearer tokens (JWT, RFC 7519) for callers that cannot present a client
// certificate: development tools, tests, and later the gateway's staff sign-in. Only
// HS256 and RS256 are understood, each accepted only when its key is configured, so a
// token cannot choose a weaker check than the verifier intends ("alg": "none", or HS256
// keyed with a published RSA key).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

// OpenSSL's EVP_PKEY, kept out of this header.
struct evp_pkey_st;

namespace civic::auth {

// An RSA key held by OpenSSL, parsed once. Immutable and thread-safe once built.
class RsaKey {
 public:
  // A "BEGIN PUBLIC KEY" (SubjectPublicKeyInfo) PEM. INVALID_ARGUMENT when it is not
  // one, is not RSA, or has fewer than 2048 bits.
  static absl::StatusOr<std::shared_ptr<const RsaKey>> PublicFromPem(absl::string_view pem);
  // A private key PEM (PKCS#8 or traditional RSA), for signing. Same failures.
  static absl::StatusOr<std::shared_ptr<const RsaKey>> PrivateFromPem(absl::string_view pem);

  ~RsaKey();
  RsaKey(const RsaKey&) = delete;
  RsaKey& operator=(const RsaKey&) = delete;

  bool is_private() const { return private_; }
  // The OpenSSL key (EVP_PKEY*), for this library's implementation.
  evp_pkey_st* native() const { return key_; }

 private:
  RsaKey(evp_pkey_st* key, bool is_private) : key_(key), private_(is_private) {}
  evp_pkey_st* key_;
  bool private_;
};

// What a verifier accepts. A token is checked with the key of its own "alg", and only
// algorithms whose key is set here are accepted at all.
struct VerifyKeys {
  // HS256 shared secret; empty: HS256 tokens are refused.
  std::string hs256_secret;
  // RS256 public key; null: RS256 tokens are refused.
  std::shared_ptr<const RsaKey> rs256_public_key;
  // When set, "iss" must equal it.
  std::string issuer;
  // When set, "aud" (a string or an array of strings) must contain it.
  std::string audience;
  // Clock skew tolerated on "exp" and "nbf".
  absl::Duration leeway = absl::Seconds(30);
  // Tokens without "exp" are refused: a leaked token must stop working by itself.
  bool require_expiry = true;

  bool empty() const { return hs256_secret.empty() && rs256_public_key == nullptr; }
};

// Reads the key files named in a config (either may be empty: that algorithm stays
// off). The secret file's surrounding whitespace is dropped; it must then hold at least
// 32 bytes (HS256 is only as strong as its secret). INVALID_ARGUMENT naming the file
// when one cannot be read or used.
absl::StatusOr<VerifyKeys> LoadVerifyKeys(const std::string& hs256_secret_file,
                                          const std::string& rs256_public_key_file);

// What a verified token says. The well-known claims are typed; everything is in `raw`.
struct Claims {
  std::string subject;                          // "sub"
  std::string unit_id;                          // "unit": the government unit the bearer acts for
  std::vector<std::string> roles;               // "roles"
  std::string issuer;                           // "iss"
  absl::Time issued_at = absl::InfinitePast();  // "iat", when present
  absl::Time expires_at = absl::InfiniteFuture();  // "exp", when present
  nlohmann::json raw = nlohmann::json::object();   // the whole payload
};

// Checks `token` (compact JWS: header.payload.signature, base64url without padding)
// at time `now`: the header's "alg" is HS256 or RS256 with its key configured in
// `keys` and no "crit"; the signature verifies; "exp" (required unless
// keys.require_expiry is false) and "nbf" hold within the leeway; "iss" and "aud"
// match when configured; the typed claims have their types. UNAUTHENTICATED, with a
// message saying which check failed (never the token), when anything does not hold.
absl::StatusOr<Claims> Verify(absl::string_view token, const VerifyKeys& keys, absl::Time now);

// Signs `claims` (a JSON object) as an HS256 token. For tests and development tools.
std::string SignHs256(const nlohmann::json& claims, absl::string_view secret);

// Signs `claims` as an RS256 token with a private key. INVALID_ARGUMENT when the key
// is a public one; INTERNAL when OpenSSL fails.
absl::StatusOr<std::string> SignRs256(const nlohmann::json& claims, const RsaKey& key);

// base64url without padding (RFC 7515 §2), as JWS uses it.
std::string Base64UrlEncode(absl::string_view data);
// Strict: only the URL-safe alphabet, no padding, no whitespace, no stray bits;
// INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text);

}  // namespace civic::auth
