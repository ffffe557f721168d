// Callers from bearer tokens (see caller.h).
#include "libs/auth/caller.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/auth/secrets.h"

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

std::string CitizenSubjectForPhone(absl::string_view e164_phone) {
  return absl::StrCat("phone:", HexEncode(Sha256(e164_phone)));
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

}  // namespace civic::auth
