// Who is calling a service, decided from the bearer token in the call's metadata and
// nothing else. The gateway verifies tokens and forwards them unchanged ("authorization")
// next to the identity it read ("x-civic-subject", "x-civic-roles", "x-civic-unit-id");
// services verify the token again here and never trust the x-civic-* copies, so a peer
// on the network cannot claim an identity by setting a header.
#pragma once

#include <grpcpp/grpcpp.h>

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/auth/jwt.h"
#include "libs/core/clock.h"

namespace civic::auth {

// Metadata keys between the gateway and the services.
inline constexpr char kAuthorizationMetadata[] = "authorization";  // "Bearer <jwt>"
inline constexpr char kSubjectMetadata[] = "x-civic-subject";      // informational copies
inline constexpr char kRolesMetadata[] = "x-civic-roles";          // (comma-separated)
inline constexpr char kUnitIdMetadata[] = "x-civic-unit-id";
// The app whose API key the gateway verified (its key id).
inline constexpr char kAppIdMetadata[] = "x-civic-app-id";
// The app's installation id (the X-Device-Id header): an anonymous citizen's "own"
// reports, and the scope of per-device limits. Not a credential of its own.
inline constexpr char kDeviceIdMetadata[] = "x-civic-device-id";

// The first value of metadata `key` in a call, cut to `max_bytes` (metadata is the
// caller's to choose); "" when absent.
std::string MetadataValue(const grpc::ServerContextBase& context, absl::string_view key,
                          size_t max_bytes = std::string::npos);

// Citizen tokens are minted by notify with this issuer, and only tokens carrying it are
// taken as citizens' (so a staff token can never pass for one, nor the reverse).
inline constexpr char kCitizenTokenIssuer[] = "civicdesk/citizen";
inline constexpr char kCitizenRole[] = "citizen";

// Citizens' pseudonymous subjects: "phone:" followed by the hex HMAC-SHA256 of the E.164
// number under a server key. Tokens and indexes carry this, never the number. Keyed
// because phone numbers are few (about 10^9 per country code): an unkeyed hash of one is
// reversed by hashing them all, in minutes. notify (which mints citizen tokens) and
// intake (which indexes reports by phone) must use the same key; a new key makes every
// existing subject (live tokens, indexes, pending codes) match no one. Immutable.
class PhoneSubjects {
 public:
  // `key` is the server secret. An empty one aborts: it would make subjects as
  // reversible as the unkeyed hash this exists to avoid (LoadPhoneSubjects checks files).
  explicit PhoneSubjects(std::string key);

  // The subject of `e164_phone`, e.g. "+84901234567" (normalise first: another spelling
  // of the number is another subject).
  std::string For(absl::string_view e164_phone) const;

 private:
  std::string key_;
};

// The PhoneSubjects keyed with the secret in `key_file`, read as the HS256 secret files
// are (LoadVerifyKeys: surrounding whitespace dropped, at least 32 bytes left); nullopt
// for an empty path (the caller decides what is then off). INVALID_ARGUMENT naming the
// file when it cannot be read or is too short.
absl::StatusOr<std::optional<PhoneSubjects>> LoadPhoneSubjects(const std::string& key_file);

struct Caller {
  enum class Kind { kAnonymous, kCitizen, kStaff };
  Kind kind = Kind::kAnonymous;
  // The token's "sub" ("phone:<hex>" for citizens); "" when anonymous.
  std::string subject;
  // Staff: the token's "roles"; citizens: {"citizen"}.
  std::vector<std::string> roles;
  // Staff acting for a government unit: the token's "unit".
  std::string unit_id;

  bool HasRole(absl::string_view role) const;
};

// The keys a service accepts tokens with.
struct AuthKeys {
  VerifyKeys staff;    // HS256 secret and/or RS256 public key (operations centre, units)
  VerifyKeys citizen;  // notify's citizen-token secret (HS256), issuer kCitizenTokenIssuer
};

// The key files of a config section, the same three keys in every service (each may be
// empty: that kind of token is then refused).
struct AuthKeyFiles {
  std::string staff_token_hs256_secret_file;
  std::string staff_token_rs256_public_key_file;
  std::string citizen_token_secret_file;

  template <typename V>
  void Visit(V& v) {
    v("staff_token_hs256_secret_file", staff_token_hs256_secret_file,
      "file holding the HS256 secret of staff tokens (development); empty: refused");
    v("staff_token_rs256_public_key_file", staff_token_rs256_public_key_file,
      "PEM public key verifying RS256 staff tokens (production); empty: refused");
    v("citizen_token_secret_file", citizen_token_secret_file,
      "file holding the HS256 secret notify signs citizen tokens with; empty: refused");
  }
};

// Reads the files (see LoadVerifyKeys for the checks). INVALID_ARGUMENT naming the file.
absl::StatusOr<AuthKeys> LoadAuthKeys(const AuthKeyFiles& files);

// The caller of an "Authorization" value, e.g. "Bearer eyJ...": a citizen when the token
// verifies with the citizen keys (issuer kCitizenTokenIssuer), else staff when it
// verifies with the staff keys. UNAUTHENTICATED when the value is not a bearer token or
// the token verifies with neither (the message says why: expired, bad signature...).
absl::StatusOr<Caller> CallerFromAuthorization(absl::string_view authorization,
                                               const AuthKeys& keys, absl::Time now);

// The caller of a gRPC call: anonymous without "authorization" metadata, else as
// CallerFromAuthorization. x-civic-subject, -roles and -unit-id are ignored.
absl::StatusOr<Caller> CallerFromMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata, const VerifyKeys& staff,
    const VerifyKeys& citizen, absl::Time now);

// OK when `caller` is staff holding one of `roles`. UNAUTHENTICATED for an anonymous
// caller (no token), PERMISSION_DENIED otherwise, naming `what` and the roles needed.
absl::Status RequireRole(const Caller& caller, std::initializer_list<absl::string_view> roles,
                         absl::string_view what);

// What a service keeps to identify its callers. Copyable; immutable once built.
class Authorizer {
 public:
  // No keys: every token is refused, callers without one are anonymous.
  Authorizer() = default;
  // `clock` must outlive the authorizer (null: the system clock).
  Authorizer(AuthKeys keys, const Clock* clock) : keys_(std::move(keys)), clock_(clock) {}

  absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& context) const;
  // Identify, then RequireRole.
  absl::Status Require(const grpc::ServerContextBase& context,
                       std::initializer_list<absl::string_view> roles,
                       absl::string_view what) const;

  const AuthKeys& keys() const { return keys_; }

 private:
  absl::Time Now() const;

  AuthKeys keys_;
  const Clock* clock_ = nullptr;
};

}  // namespace civic::auth
