// Callers from bearer tokens, and the primitives credentials are made of.
#include "libs/auth/caller.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "libs/auth/secrets.h"
#include "libs/storage/test_dir.h"

namespace civic::auth {
namespace {

using nlohmann::json;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01Z
const std::string kStaffSecret = "staff-secret-0123456789abcdef-0123456789";
const std::string kCitizenSecret = "citizen-secret-0123456789abcdef-01234567";
const PhoneSubjects kPhones("phone-subject-key-0123456789abcdef-0123456");

AuthKeys Keys() {
  AuthKeys keys;
  keys.staff.hs256_secret = kStaffSecret;
  keys.citizen.hs256_secret = kCitizenSecret;
  keys.citizen.issuer = kCitizenTokenIssuer;
  return keys;
}

std::string StaffToken(const json& roles, const std::string& unit = "",
                       absl::Duration valid_for = absl::Minutes(10)) {
  json claims = {{"sub", "ops-1"},
                 {"roles", roles},
                 {"iat", absl::ToUnixSeconds(kNow)},
                 {"exp", absl::ToUnixSeconds(kNow + valid_for)}};
  if (!unit.empty()) claims["unit"] = unit;
  return SignHs256(claims, kStaffSecret);
}

std::string CitizenToken(const std::string& secret = kCitizenSecret,
                         const std::string& issuer = kCitizenTokenIssuer) {
  return SignHs256({{"sub", kPhones.For("+84901234567")},
                    {"roles", {"citizen", "admin"}},  // a citizen never gets more than "citizen"
                    {"iss", issuer},
                    {"exp", absl::ToUnixSeconds(kNow + absl::Hours(1))}},
                   secret);
}

using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

TEST_CASE("no token is an anonymous caller, and x-civic-* metadata alone proves nothing",
          "[auth][caller]") {
  const std::string subject = "ops-1", roles = "admin", unit = "hcm.ward_pc.26734";
  Metadata metadata = {{kSubjectMetadata, subject},
                       {kRolesMetadata, roles},
                       {kUnitIdMetadata, unit}};
  const AuthKeys keys = Keys();
  absl::StatusOr<Caller> caller = CallerFromMetadata(metadata, keys.staff, keys.citizen, kNow);
  REQUIRE(caller.ok());
  CHECK(caller->kind == Caller::Kind::kAnonymous);
  CHECK(caller->roles.empty());
  CHECK(RequireRole(*caller, {"admin"}, "the blocklist").code() ==
        absl::StatusCode::kUnauthenticated);
}

TEST_CASE("a staff token gives its subject, roles and unit", "[auth][caller]") {
  const std::string header = "Bearer " + StaffToken({"admin", "ops"}, "hcm.ward_pc.26734");
  Metadata metadata = {{kAuthorizationMetadata, header}};
  const AuthKeys keys = Keys();
  absl::StatusOr<Caller> caller = CallerFromMetadata(metadata, keys.staff, keys.citizen, kNow);
  REQUIRE(caller.ok());
  CHECK(caller->kind == Caller::Kind::kStaff);
  CHECK(caller->subject == "ops-1");
  CHECK(caller->roles == std::vector<std::string>{"admin", "ops"});
  CHECK(caller->unit_id == "hcm.ward_pc.26734");
  CHECK(RequireRole(*caller, {"admin"}, "x").ok());
  CHECK(RequireRole(*caller, {"routing_admin", "ops"}, "x").ok());
  const absl::Status denied = RequireRole(*caller, {"routing_admin"}, "changing the rules");
  CHECK(denied.code() == absl::StatusCode::kPermissionDenied);
  CHECK(denied.message() ==
        "changing the rules needs role \"routing_admin\", which the caller does not have");
  // The scheme is case-insensitive.
  CHECK(CallerFromAuthorization("bearer " + StaffToken({"ops"}), keys, kNow).ok());
}

TEST_CASE("a citizen token is a citizen with role citizen only", "[auth][caller]") {
  absl::StatusOr<Caller> caller =
      CallerFromAuthorization("Bearer " + CitizenToken(), Keys(), kNow);
  REQUIRE(caller.ok());
  CHECK(caller->kind == Caller::Kind::kCitizen);
  CHECK(caller->subject == kPhones.For("+84901234567"));
  CHECK(caller->roles == std::vector<std::string>{"citizen"});
  CHECK(RequireRole(*caller, {"admin"}, "x").code() == absl::StatusCode::kPermissionDenied);
}

TEST_CASE("bad, expired, misplaced and ambiguous tokens are refused", "[auth][caller]") {
  const AuthKeys keys = Keys();
  auto refused = [&](const std::string& header, absl::Time now = kNow) {
    absl::StatusOr<Caller> caller = CallerFromAuthorization(header, keys, now);
    REQUIRE_FALSE(caller.ok());
    CHECK(caller.status().code() == absl::StatusCode::kUnauthenticated);
    return std::string(caller.status().message());
  };
  CHECK(refused("Basic dXNlcjpwYXNz") == "Authorization must be \"Bearer <token>\"");
  CHECK(refused("Bearer") == "Authorization must be \"Bearer <token>\"");
  CHECK(refused("Bearer not.a.token").find("bearer token refused") != std::string::npos);
  // Signed with neither key.
  CHECK(refused("Bearer " + SignHs256({{"sub", "x"}, {"exp", absl::ToUnixSeconds(kNow) + 60}},
                                      "some-other-secret-0123456789abcdef012345")) ==
        "bearer token refused: bad signature");
  // Expired: the reason is the expiry, whichever key signed it.
  CHECK(refused("Bearer " + StaffToken({"admin"}, "", absl::Minutes(1)), kNow + absl::Hours(1)) ==
        "bearer token refused: expired");
  CHECK(refused("Bearer " + CitizenToken(), kNow + absl::Hours(2)) ==
        "bearer token refused: expired");
  // A citizen-secret token without the citizen issuer is neither.
  CHECK(refused("Bearer " + CitizenToken(kCitizenSecret, "someone")) ==
        "bearer token refused: bad signature");
  // A token minted as a citizen's never passes for staff, even with shared secrets.
  AuthKeys shared = keys;
  shared.citizen.hs256_secret = kStaffSecret;
  CHECK_FALSE(CallerFromAuthorization("Bearer " + CitizenToken(kStaffSecret, kCitizenTokenIssuer),
                                      AuthKeys{.staff = shared.staff}, kNow)
                  .ok());
  // No keys at all.
  CHECK(CallerFromAuthorization("Bearer " + StaffToken({"admin"}), AuthKeys{}, kNow)
            .status()
            .message() == "bearer tokens are not accepted here");
  // Two authorization values: neither counts.
  const std::string a = "Bearer " + StaffToken({"admin"}), b = "Bearer " + StaffToken({"ops"});
  Metadata two = {{kAuthorizationMetadata, a}, {kAuthorizationMetadata, b}};
  CHECK(CallerFromMetadata(two, keys.staff, keys.citizen, kNow).status().code() ==
        absl::StatusCode::kUnauthenticated);
}

TEST_CASE("RS256 staff tokens verify with the configured public key", "[auth][caller]") {
  EVP_PKEY* pkey = EVP_RSA_gen(2048);
  REQUIRE(pkey != nullptr);
  BIO* pub = BIO_new(BIO_s_mem());
  BIO* priv = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PUBKEY(pub, pkey) == 1);
  REQUIRE(PEM_write_bio_PrivateKey(priv, pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  auto text = [](BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(bio);
    return out;
  };
  const std::string public_pem = text(pub), private_pem = text(priv);
  EVP_PKEY_free(pkey);

  storage::TestDir dir;
  const std::string key_file = (dir.path() / "staff.pub").string();
  const std::string secret_file = (dir.path() / "citizen.secret").string();
  std::ofstream(key_file) << public_pem;
  std::ofstream(secret_file) << kCitizenSecret << "\n";
  absl::StatusOr<AuthKeys> keys = LoadAuthKeys({.staff_token_rs256_public_key_file = key_file,
                                                .citizen_token_secret_file = secret_file});
  REQUIRE(keys.ok());
  CHECK(keys->staff.hs256_secret.empty());
  CHECK(keys->citizen.issuer == kCitizenTokenIssuer);

  absl::StatusOr<std::string> token =
      SignRs256({{"sub", "ioc-7"}, {"roles", {"routing_admin"}},
                 {"exp", absl::ToUnixSeconds(kNow + absl::Minutes(5))}},
                **RsaKey::PrivateFromPem(private_pem));
  REQUIRE(token.ok());
  absl::StatusOr<Caller> caller = CallerFromAuthorization("Bearer " + *token, *keys, kNow);
  REQUIRE(caller.ok());
  CHECK(caller->kind == Caller::Kind::kStaff);
  CHECK(caller->HasRole("routing_admin"));
  // HS256 staff tokens are off: no secret configured.
  CHECK_FALSE(CallerFromAuthorization("Bearer " + StaffToken({"admin"}), *keys, kNow).ok());
  // And a missing file is named.
  absl::StatusOr<AuthKeys> missing =
      LoadAuthKeys({.staff_token_hs256_secret_file = (dir.path() / "nope").string()});
  CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(missing.status().message().find("nope") != absl::string_view::npos);
}

TEST_CASE("secrets: SHA-256, hex, constant-time equality and random codes", "[auth][secrets]") {
  CHECK(HexEncode(Sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(ConstantTimeEquals("same", "same"));
  CHECK_FALSE(ConstantTimeEquals("same", "sane"));
  CHECK_FALSE(ConstantTimeEquals("same", "samey"));
  CHECK(RandomBytes(32).size() == 32);
  CHECK(RandomBytes(32) != RandomBytes(32));
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string code = RandomDigits(6);
    REQUIRE(code.size() == 6);
    for (char c : code) REQUIRE((c >= '0' && c <= '9'));
    seen.insert(code);
  }
  CHECK(seen.size() > 190);  // 200 draws from a million rarely collide
  // RFC 4231, test case 2.
  CHECK(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("a phone's subject is keyed: not its plain hash, and another key gives another",
          "[auth][secrets]") {
  const std::string subject = kPhones.For("+84901234567");
  CHECK(subject == "phone:" + HexEncode(HmacSha256("phone-subject-key-0123456789abcdef-0123456",
                                                   "+84901234567")));
  CHECK(subject != "phone:" + HexEncode(Sha256("+84901234567")));
  CHECK(subject.find("901234567") == std::string::npos);
  CHECK(PhoneSubjects("another-key-0123456789abcdef-0123456789ab").For("+84901234567") !=
        subject);
  CHECK(kPhones.For("+84901234568") != subject);

  // From a file, as the secrets are read; no file configured: none.
  storage::TestDir dir;
  const std::string key_file = (dir.path() / "phone-subject.key").string();
  std::ofstream(key_file) << "  phone-subject-key-0123456789abcdef-0123456\n";
  absl::StatusOr<std::optional<PhoneSubjects>> loaded = LoadPhoneSubjects(key_file);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->has_value());
  CHECK((*loaded)->For("+84901234567") == subject);
  absl::StatusOr<std::optional<PhoneSubjects>> none = LoadPhoneSubjects("");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  const std::string short_file = (dir.path() / "short.key").string();
  std::ofstream(short_file) << "too-short";
  CHECK(LoadPhoneSubjects(short_file).status().code() == absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::optional<PhoneSubjects>> missing =
      LoadPhoneSubjects((dir.path() / "nope").string());
  CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(missing.status().message().find("nope") != absl::string_view::npos);
}

}  // namespace
}  // namespace civic::auth
