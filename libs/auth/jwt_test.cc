#include "libs/auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/storage/test_dir.h"

namespace civic::auth {
namespace {

using nlohmann::json;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01Z
const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";

json UnitClaims(absl::Duration valid_for = absl::Minutes(10)) {
  return {{"sub", "agency-system-26734"},
          {"unit", "hcm.ward_pc.26734"},
          {"roles", {"unit"}},
          {"iat", absl::ToUnixSeconds(kNow)},
          {"exp", absl::ToUnixSeconds(kNow + valid_for)}};
}

VerifyKeys Hs256Keys() { return VerifyKeys{.hs256_secret = kSecret}; }

// A fresh RSA key pair as PEM (public, private), made the way a key server would.
std::pair<std::string, std::string> GenerateRsaPem(int bits = 2048) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr);
  REQUIRE(ctx != nullptr);
  REQUIRE(EVP_PKEY_keygen_init(ctx) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) == 1);
  EVP_PKEY* key = nullptr;
  REQUIRE(EVP_PKEY_keygen(ctx, &key) == 1);
  EVP_PKEY_CTX_free(ctx);
  auto to_string = [](BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(bio);
    return out;
  };
  BIO* pub = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PUBKEY(pub, key) == 1);
  BIO* priv = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  EVP_PKEY_free(key);
  return {to_string(pub), to_string(priv)};
}

// An HS256 token with a header of the test's choosing.
std::string SignWithHeader(const json& header, const json& claims, const std::string& secret) {
  const std::string input =
      absl::StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(claims.dump()));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return absl::StrCat(input, ".",
                      Base64UrlEncode(std::string(reinterpret_cast<const char*>(mac), length)));
}

// Replaces one part (0 header, 1 payload, 2 signature) of a token.
std::string WithPart(const std::string& token, int index, const std::string& part) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  parts[index] = part;
  return absl::StrCat(parts[0], ".", parts[1], ".", parts[2]);
}

TEST_CASE("an HS256 token signed with the secret is verified and its claims read", "[auth]") {
  const std::string token = SignHs256(UnitClaims(), kSecret);
  absl::StatusOr<Claims> claims = Verify(token, Hs256Keys(), kNow);
  REQUIRE(claims.ok());
  CHECK(claims->subject == "agency-system-26734");
  CHECK(claims->unit_id == "hcm.ward_pc.26734");
  CHECK(claims->roles == std::vector<std::string>{"unit"});
  CHECK(claims->issued_at == kNow);
  CHECK(claims->expires_at == kNow + absl::Minutes(10));
  CHECK(claims->raw["sub"] == "agency-system-26734");
}

TEST_CASE("a token whose payload was changed after signing is refused", "[auth]") {
  const std::string token = SignHs256(UnitClaims(), kSecret);
  json other = UnitClaims();
  other["unit"] = "hcm.ward_pc.26740";
  const std::string forged = WithPart(token, 1, Base64UrlEncode(other.dump()));
  absl::StatusOr<Claims> claims = Verify(forged, Hs256Keys(), kNow);
  REQUIRE(claims.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(claims.status().message().find("signature") != absl::string_view::npos);
}

TEST_CASE("a token signed with another secret is refused", "[auth]") {
  const std::string token = SignHs256(UnitClaims(), "another-secret-of-enough-length-0123456789");
  CHECK(Verify(token, Hs256Keys(), kNow).status().code() == absl::StatusCode::kUnauthenticated);
}

TEST_CASE("an expired token is refused, within the leeway it is still accepted", "[auth]") {
  const std::string token = SignHs256(UnitClaims(absl::Minutes(10)), kSecret);
  CHECK(Verify(token, Hs256Keys(), kNow + absl::Minutes(10) + absl::Seconds(10)).ok());
  absl::StatusOr<Claims> late = Verify(token, Hs256Keys(), kNow + absl::Minutes(11));
  REQUIRE(late.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(late.status().message().find("expired") != absl::string_view::npos);
}

TEST_CASE("a token that is not valid yet, or never expires, is refused", "[auth]") {
  json early = UnitClaims();
  early["nbf"] = absl::ToUnixSeconds(kNow + absl::Minutes(5));
  CHECK_FALSE(Verify(SignHs256(early, kSecret), Hs256Keys(), kNow).ok());
  CHECK(Verify(SignHs256(early, kSecret), Hs256Keys(), kNow + absl::Minutes(5)).ok());

  json forever = UnitClaims();
  forever.erase("exp");
  CHECK_FALSE(Verify(SignHs256(forever, kSecret), Hs256Keys(), kNow).ok());
  VerifyKeys lenient = Hs256Keys();
  lenient.require_expiry = false;
  CHECK(Verify(SignHs256(forever, kSecret), lenient, kNow).ok());
}

TEST_CASE("alg none is refused, with or without a signature", "[auth]") {
  const std::string payload = Base64UrlEncode(UnitClaims().dump());
  for (const char* alg : {"none", "None", "NONE"}) {
    const std::string header = Base64UrlEncode(json{{"alg", alg}, {"typ", "JWT"}}.dump());
    INFO(alg);
    CHECK(Verify(absl::StrCat(header, ".", payload, "."), Hs256Keys(), kNow).status().code() ==
          absl::StatusCode::kUnauthenticated);
    CHECK_FALSE(Verify(absl::StrCat(header, ".", payload, ".AAAA"), Hs256Keys(), kNow).ok());
  }
  // A header without alg.
  CHECK_FALSE(
      Verify(absl::StrCat(Base64UrlEncode("{}"), ".", payload, "."), Hs256Keys(), kNow).ok());
}

TEST_CASE("a correctly signed token with an unknown critical header extension is refused",
          "[auth]") {
  const json header = {{"alg", "HS256"}, {"crit", {"x-civic"}}, {"x-civic", 1}};
  CHECK_FALSE(Verify(SignWithHeader(header, UnitClaims(), kSecret), Hs256Keys(), kNow).ok());
  // The same signing path with a plain header verifies: only "crit" was wrong.
  CHECK(Verify(SignWithHeader({{"alg", "HS256"}}, UnitClaims(), kSecret), Hs256Keys(), kNow).ok());
}

TEST_CASE("RS256 tokens verify with the public key of a key pair made by OpenSSL", "[auth]") {
  const auto [public_pem, private_pem] = GenerateRsaPem();
  absl::StatusOr<std::shared_ptr<const RsaKey>> private_key = RsaKey::PrivateFromPem(private_pem);
  absl::StatusOr<std::shared_ptr<const RsaKey>> public_key = RsaKey::PublicFromPem(public_pem);
  REQUIRE(private_key.ok());
  REQUIRE(public_key.ok());
  const VerifyKeys keys{.rs256_public_key = *public_key};

  absl::StatusOr<std::string> token = SignRs256(UnitClaims(), **private_key);
  REQUIRE(token.ok());
  absl::StatusOr<Claims> claims = Verify(*token, keys, kNow);
  REQUIRE(claims.ok());
  CHECK(claims->unit_id == "hcm.ward_pc.26734");

  // Tampered, or signed by another key pair: refused.
  json other = UnitClaims();
  other["roles"] = {"unit", "admin"};
  CHECK_FALSE(Verify(WithPart(*token, 1, Base64UrlEncode(other.dump())), keys, kNow).ok());
  const auto [other_public, other_private] = GenerateRsaPem();
  absl::StatusOr<std::string> foreign =
      SignRs256(UnitClaims(), **RsaKey::PrivateFromPem(other_private));
  REQUIRE(foreign.ok());
  CHECK(Verify(*foreign, keys, kNow).status().code() == absl::StatusCode::kUnauthenticated);
  // A public key cannot sign; a verifier without an RS256 key refuses RS256.
  CHECK(SignRs256(UnitClaims(), **public_key).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(Verify(*token, Hs256Keys(), kNow).ok());
}

TEST_CASE("an HS256 token keyed with the RS256 public key is refused (alg confusion)", "[auth]") {
  const auto [public_pem, private_pem] = GenerateRsaPem();
  const VerifyKeys rs_only{.rs256_public_key = *RsaKey::PublicFromPem(public_pem)};
  // The attacker knows the public key and uses its bytes as an HMAC secret.
  const std::string forged = SignHs256(UnitClaims(), public_pem);
  absl::StatusOr<Claims> claims = Verify(forged, rs_only, kNow);
  REQUIRE(claims.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(claims.status().message().find("HS256") != absl::string_view::npos);
  // With both algorithms on, HS256 still checks only against the shared secret.
  VerifyKeys both = rs_only;
  both.hs256_secret = kSecret;
  CHECK_FALSE(Verify(forged, both, kNow).ok());
  // And an RS256 header over an HMAC does not verify as RSA.
  const std::string header = Base64UrlEncode(json{{"alg", "RS256"}}.dump());
  CHECK_FALSE(Verify(WithPart(forged, 0, header), both, kNow).ok());
}

TEST_CASE("keys too weak for their algorithm are refused", "[auth]") {
  const auto [public_pem, private_pem] = GenerateRsaPem(1024);
  CHECK(RsaKey::PublicFromPem(public_pem).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(
      RsaKey::PublicFromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());

  storage::TestDir dir;
  const std::string short_secret = (dir.path() / "short").string();
  std::ofstream(short_secret) << "too-short\n";
  CHECK(LoadVerifyKeys(short_secret, "").status().code() == absl::StatusCode::kInvalidArgument);
  const std::string good_secret = (dir.path() / "good").string();
  std::ofstream(good_secret) << kSecret << "\n";
  absl::StatusOr<VerifyKeys> keys = LoadVerifyKeys(good_secret, "");
  REQUIRE(keys.ok());
  CHECK(keys->hs256_secret == kSecret);  // the newline is not part of it
  CHECK(keys->rs256_public_key == nullptr);
  CHECK_FALSE(LoadVerifyKeys((dir.path() / "missing").string(), "").ok());
  CHECK(LoadVerifyKeys("", "").ok());
  CHECK(LoadVerifyKeys("", "")->empty());
}

TEST_CASE("issuer and audience are checked when configured", "[auth]") {
  VerifyKeys keys = Hs256Keys();
  keys.issuer = "https://sso.civicdesk.example";
  keys.audience = "civicdesk-cases";
  json claims = UnitClaims();
  CHECK_FALSE(Verify(SignHs256(claims, kSecret), keys, kNow).ok());
  claims["iss"] = "https://sso.civicdesk.example";
  claims["aud"] = "civicdesk-gateway";
  CHECK_FALSE(Verify(SignHs256(claims, kSecret), keys, kNow).ok());
  claims["aud"] = {"civicdesk-gateway", "civicdesk-cases"};
  CHECK(Verify(SignHs256(claims, kSecret), keys, kNow).ok());
  claims["iss"] = "https://evil.example";
  CHECK_FALSE(Verify(SignHs256(claims, kSecret), keys, kNow).ok());
}

TEST_CASE("claims of the wrong type and malformed tokens are refused", "[auth]") {
  json claims = UnitClaims();
  claims["unit"] = 26734;
  CHECK_FALSE(Verify(SignHs256(claims, kSecret), Hs256Keys(), kNow).ok());
  claims = UnitClaims();
  claims["roles"] = "admin";
  CHECK_FALSE(Verify(SignHs256(claims, kSecret), Hs256Keys(), kNow).ok());
  claims = UnitClaims();
  claims["exp"] = "tomorrow";
  CHECK_FALSE(Verify(SignHs256(claims, kSecret), Hs256Keys(), kNow).ok());

  for (const std::string bad : {"", "a", "a.b", "a.b.c.d", "..", "!!.??.**"}) {
    INFO(bad);
    CHECK(Verify(bad, Hs256Keys(), kNow).status().code() == absl::StatusCode::kUnauthenticated);
  }
  CHECK_FALSE(Verify(std::string(20000, 'a'), Hs256Keys(), kNow).ok());
  // Padding is not part of a JWS.
  const std::string token = SignHs256(UnitClaims(), kSecret);
  CHECK_FALSE(Verify(absl::StrCat(token, "="), Hs256Keys(), kNow).ok());
}

TEST_CASE("base64url is strict and round-trips every byte", "[auth]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= 5; ++n) {
    const std::string data = all.substr(250, n);
    CHECK(*Base64UrlDecode(Base64UrlEncode(data)) == data);
  }
  CHECK(*Base64UrlDecode(Base64UrlEncode(all)) == all);
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK_FALSE(Base64UrlDecode("-_8=").ok());  // padding
  CHECK_FALSE(Base64UrlDecode("+/8").ok());   // the other alphabet
  CHECK_FALSE(Base64UrlDecode("-_9").ok());   // stray low bits
  CHECK_FALSE(Base64UrlDecode("A").ok());     // impossible length
}

}  // namespace
}  // namespace civic::auth
