// Who is calling the cases service. Agency systems come in over the mutual-TLS agency
// port, and their client certificate's verified common name is their unit; a signed
// bearer token naming the unit serves development tools and tests; an unsigned header
// only local experiments, when explicitly enabled. Internal services (intake, notify,
// analytics) come in over the plaintext internal port with no identity at all.
#pragma once

#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "libs/auth/jwt.h"
#include "libs/core/clock.h"

namespace civic::cases {

struct UnitIdentityOptions {
  // Signed tokens accepted in "authorization: Bearer <JWT>"; their "unit" claim is the
  // unit. None by default.
  auth::VerifyKeys tokens;
  // Honour the unsigned "x-civic-unit-id" header: anyone who can reach the port can then
  // claim any unit. Local experiments only.
  bool dev_unit_header = false;
  // For token expiry; the system clock when null.
  const Clock* clock = nullptr;
};

enum class IdentitySource { kNone, kCertificate, kToken, kDevHeader };

struct Caller {
  // "" when the caller has no unit identity.
  std::string unit_id;
  IdentitySource source = IdentitySource::kNone;
  // The call came over the agency (mutual-TLS) port.
  bool agency_port = false;
};

class UnitIdentity {
 public:
  explicit UnitIdentity(UnitIdentityOptions options = {});

  // The caller's unit, first found of: the verified client certificate's CN (agency
  // port); a valid bearer token's "unit" claim; the development header when enabled.
  // A presented but invalid token gives no identity (it never falls through to the
  // header). A unit id must look like one ([A-Za-z0-9._-], at most 128 characters).
  Caller Identify(const grpc::ServerContextBase& context) const;

  // For the internal RPCs (OpenCase, GetCaseByReport, Subscribe, RateResolution, GetCase
  // without a unit): PERMISSION_DENIED when the call came over the agency port or
  // carries a unit identity, since those RPCs trust their caller with every case.
  absl::Status CheckInternalCaller(const grpc::ServerContextBase& context) const;

  const UnitIdentityOptions& options() const { return options_; }

 private:
  UnitIdentityOptions options_;
};

// Whether `id` is acceptable as a unit id from a certificate, token or header.
bool IsPlausibleUnitId(absl::string_view id);

}  // namespace civic::cases
