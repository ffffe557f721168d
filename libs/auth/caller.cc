// Callers from bearer tokens (see caller.h).
#include "libs/auth/caller.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/auth/secrets.h"
#include "libs/core/log.h"

namespace civic::auth {
namespace {

// Failures that say only "this key did not sign it": when one verifier fails so and the
// other for a reason about the token itself (expired...), the latter is the story.
bool IsKeyMismatch(const absl::Status& status) {
  const absl::string_view m = status.message();
  return absl::StrContains(m, "bad signature") || absl::StrContains(m, "is not accepted") ||
         absl::StrContains(m, "wrong issuer");
}

// CallerFromAuthorization without copying the keys into an AuthKeys.
absl::StatusOr<Caller> FromAuthorization(absl::string_view authorization,
                                         const VerifyKeys& staff_keys,
                                         const VerifyKeys& citizen_keys, absl::Time now) {
  absl::string_view value = absl::StripAsciiWhitespace(authorization);
  // RFC 9110 §11.1: the scheme is case-insensitive.
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError("Authorization must be \"Bearer <token>\"");
  }
  const absl::string_view token = absl::StripLeadingAsciiWhitespace(value.substr(kScheme.size()));

  absl::Status citizen_error = absl::UnauthenticatedError("citizen tokens are not accepted here");
  if (!citizen_keys.empty()) {
    absl::StatusOr<Claims> claims = Verify(token, citizen_keys, now);
    if (claims.ok()) {
      if (!absl::StartsWith(claims->subject, "phone:")) {
        return absl::UnauthenticatedError("bearer token refused: not a citizen subject");
      }
      Caller caller;
      caller.kind = Caller::Kind::kCitizen;
      caller.subject = claims->subject;
      caller.roles = {kCitizenRole};  // whatever else the token says
      return caller;
    }
    citizen_error = claims.status();
  }
  absl::Status staff_error = absl::UnauthenticatedError("staff tokens are not accepted here");
  if (!staff_keys.empty()) {
    absl::StatusOr<Claims> claims = Verify(token, staff_keys, now);
    if (claims.ok()) {
      // A token minted for citizens never acts as staff, even if the secrets were shared.
      if (claims->issuer == kCitizenTokenIssuer) {
        return absl::UnauthenticatedError("bearer token refused: a citizen token");
      }
      Caller caller;
      caller.kind = Caller::Kind::kStaff;
      caller.subject = claims->subject;
      caller.roles = claims->roles;
      caller.unit_id = claims->unit_id;
      return caller;
    }
    staff_error = claims.status();
  }
  if (citizen_keys.empty() && staff_keys.empty()) {
    return absl::UnauthenticatedError("bearer tokens are not accepted here");
  }
  if (!citizen_keys.empty() && !IsKeyMismatch(citizen_error)) return citizen_error;
  if (!staff_keys.empty()) return staff_error;
  return citizen_error;
}

}  // namespace

PhoneSubjects::PhoneSubjects(std::string key) : key_(std::move(key)) {
  if (key_.empty()) {
    // A programming error (config loading refuses empty keys): subjects made with an
    // empty key would be guessable from the number, which this class exists to prevent.
    CIVIC_LOG_ERROR("PhoneSubjects: empty key");
    std::abort();
  }
}

std::string PhoneSubjects::For(absl::string_view e164_phone) const {
  return absl::StrCat("phone:", HexEncode(HmacSha256(key_, e164_phone)));
}

absl::StatusOr<std::optional<PhoneSubjects>> LoadPhoneSubjects(const std::string& key_file) {
  if (key_file.empty()) return std::optional<PhoneSubjects>();
  // The same rules as the token secrets (an HS256 key is what this is, too).
  absl::StatusOr<VerifyKeys> read = LoadVerifyKeys(key_file, "");
  if (!read.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("phone subject key ", read.status().message()));
  }
  return std::optional<PhoneSubjects>(PhoneSubjects(std::move(read->hs256_secret)));
}

bool Caller::HasRole(absl::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

absl::StatusOr<AuthKeys> LoadAuthKeys(const AuthKeyFiles& files) {
  AuthKeys keys;
  absl::StatusOr<VerifyKeys> staff = LoadVerifyKeys(files.staff_token_hs256_secret_file,
                                                    files.staff_token_rs256_public_key_file);
  if (!staff.ok()) return staff.status();
  keys.staff = *std::move(staff);
  absl::StatusOr<VerifyKeys> citizen = LoadVerifyKeys(files.citizen_token_secret_file, "");
  if (!citizen.ok()) return citizen.status();
  keys.citizen = *std::move(citizen);
  keys.citizen.issuer = kCitizenTokenIssuer;
  return keys;
}

absl::StatusOr<Caller> CallerFromAuthorization(absl::string_view authorization,
                                               const AuthKeys& keys, absl::Time now) {
  return FromAuthorization(authorization, keys.staff, keys.citizen, now);
}

absl::StatusOr<Caller> CallerFromMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata, const VerifyKeys& staff,
    const VerifyKeys& citizen, absl::Time now) {
  const auto range = metadata.equal_range(kAuthorizationMetadata);
  if (range.first == range.second) return Caller();
  // Two tokens: which one would count is ambiguous, so neither does.
  if (std::next(range.first) != range.second) {
    return absl::UnauthenticatedError("more than one authorization value");
  }
  const grpc::string_ref& value = range.first->second;
  return FromAuthorization(absl::string_view(value.data(), value.size()), staff, citizen, now);
}

absl::Status RequireRole(const Caller& caller, std::initializer_list<absl::string_view> roles,
                         absl::string_view what) {
  const std::string needed = absl::StrJoin(roles, "\" or \"");
  if (caller.kind == Caller::Kind::kAnonymous) {
    return absl::UnauthenticatedError(absl::StrCat(
        what, " needs a staff bearer token with role \"", needed, "\""));
  }
  if (caller.kind == Caller::Kind::kStaff) {
    for (absl::string_view role : roles) {
      if (caller.HasRole(role)) return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat(what, " needs role \"", needed, "\", which the caller does not have"));
}

absl::Time Authorizer::Now() const { return clock_ ? clock_->Now() : absl::Now(); }

absl::StatusOr<Caller> Authorizer::Identify(const grpc::ServerContextBase& context) const {
  return CallerFromMetadata(context.client_metadata(), keys_.staff, keys_.citizen, Now());
}

absl::Status Authorizer::Require(const grpc::ServerContextBase& context,
                                 std::initializer_list<absl::string_view> roles,
                                 absl::string_view what) const {
  absl::StatusOr<Caller> caller = Identify(context);
  if (!caller.ok()) return caller.status();
  return RequireRole(*caller, roles, what);
}

std::string MetadataValue(const grpc::ServerContextBase& context, absl::string_view key,
                          size_t max_bytes) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), std::min(it->second.size(), max_bytes));
}

}  // namespace civic::auth
