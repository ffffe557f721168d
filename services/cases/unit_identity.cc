// Who is calling the cases service (see unit_identity.h).
#include "services/cases/unit_identity.h"

#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "libs/rpc/tls.h"

namespace civic::cases {
namespace {

constexpr char kDomain[] = "cases.civicdesk";
constexpr char kDevUnitHeader[] = "x-civic-unit-id";
constexpr size_t kMaxUnitIdBytes = 128;

absl::string_view View(const grpc::string_ref& ref) { return {ref.data(), ref.size()}; }

}  // namespace

bool IsPlausibleUnitId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxUnitIdBytes) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

UnitIdentity::UnitIdentity(UnitIdentityOptions options) : options_(std::move(options)) {}

Caller UnitIdentity::Identify(const grpc::ServerContextBase& context) const {
  Caller caller;
  caller.agency_port = rpc::PeerUsesTls(context);
  if (caller.agency_port) {
    // The handshake verified the certificate against our client CA: its name is the
    // unit. Nothing the client sends in metadata can override it.
    const std::string cn = rpc::PeerCommonName(context);
    if (IsPlausibleUnitId(cn)) {
      caller.unit_id = cn;
      caller.source = IdentitySource::kCertificate;
      return caller;
    }
    if (!cn.empty()) CIVIC_LOG_DEBUG("cases: client certificate CN is not a unit id");
  }

  const auto& metadata = context.client_metadata();
  if (auto [first, last] = metadata.equal_range("authorization"); first != last) {
    // One credential per call: two would leave it unclear which one acts.
    if (std::next(first) != last) return caller;
    absl::string_view value = View(first->second);
    constexpr absl::string_view kScheme = "bearer ";
    if (!absl::StartsWithIgnoreCase(value, kScheme)) return caller;
    value.remove_prefix(kScheme.size());
    const absl::Time now = options_.clock != nullptr ? options_.clock->Now() : absl::Now();
    absl::StatusOr<auth::Claims> claims =
        auth::Verify(absl::StripAsciiWhitespace(value), options_.tokens, now);
    if (!claims.ok()) {
      CIVIC_LOG_DEBUG("cases: {}", claims.status().message());
      return caller;
    }
    if (IsPlausibleUnitId(claims->unit_id)) {
      caller.unit_id = claims->unit_id;
      caller.source = IdentitySource::kToken;
    }
    // A valid token without a unit (staff, later) is no unit identity either; and a
    // presented credential never falls through to the unsigned header.
    return caller;
  }

  if (options_.dev_unit_header) {
    auto it = metadata.find(kDevUnitHeader);
    if (it != metadata.end() && IsPlausibleUnitId(View(it->second))) {
      caller.unit_id = std::string(View(it->second));
      caller.source = IdentitySource::kDevHeader;
    }
  }
  return caller;
}

absl::Status UnitIdentity::CheckInternalCaller(const grpc::ServerContextBase& context) const {
  const Caller caller = Identify(context);
  if (caller.agency_port || !caller.unit_id.empty()) {
    return WithReason(
        absl::PermissionDeniedError("internal RPC: not available to agency systems"),
        "INTERNAL_RPC", kDomain);
  }
  return absl::OkStatus();
}

}  // namespace civic::cases
