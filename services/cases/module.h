// Wiring of the cases service into civicd: config, store, gRPC server.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "libs/modules/service_module.h"

namespace civic::cases {

struct CasesConfig {
  std::string listen = "127.0.0.1:7103";
  int workers = 8;
  std::vector<std::string> triage_units = {"79=hcm.ops_center", "46=hue.ops_center"};
  std::string triage_unit_id = "ioc.triage";
  std::vector<std::string> extra_holidays;
  std::vector<std::string> extra_working_days;
  double at_risk_fraction = 0.8;
  int64_t reopen_window_hours = 24 * 7;
  // SLA timers: where to ask for a unit's parent, and how often to fire due timers.
  std::string routing_address = "127.0.0.1:7102";
  int timer_interval_ms = 1000;
  // ---- Unit identity (README "Unit identity"): the agency port with mutual TLS, where
  // a unit's client certificate names it; signed tokens for development and staff.
  std::string agency_listen;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  std::string staff_token_hs256_secret_file;
  std::string staff_token_rs256_public_key_file;
  bool dev_unit_header = false;

  template <typename V>
  void Visit(V& v) {
    v("listen", listen, "gRPC address; port 0 picks a free one");
    v("workers", workers, "threads doing synced writes; more lets RocksDB group-commit");
    v("triage_units", triage_units,
      "province code=operations centre unit, where cases rejected as not a unit's "
      "jurisdiction return");
    v("triage_unit_id", triage_unit_id, "... for provinces not listed");
    v("extra_holidays", extra_holidays,
      "YYYY-MM-DD days off beyond the built-in Vietnamese holidays (the government sets "
      "each year's)");
    v("extra_working_days", extra_working_days,
      "YYYY-MM-DD weekend days worked to make up for a bridge holiday");
    v("at_risk_fraction", at_risk_fraction, "share of the SLA time after which a case is at risk");
    v("reopen_window_hours", reopen_window_hours,
      "how long after a resolution a low rating (1-2) reopens the case");
    v("routing_address", routing_address,
      "routing's gRPC address, for the parent unit a past-due case escalates to (when routing "
      "runs in another process)");
    v("timer_interval_ms", timer_interval_ms,
      "how often due SLA timers (at risk, breach) fire, 10..60000");
    // ---- Unit identity
    v("agency_listen", agency_listen,
      "agency gRPC address with mutual TLS (the client certificate's CN is the unit); "
      "\"\" = off; port 0 picks a free one");
    v("tls_cert_file", tls_cert_file, "PEM server certificate (chain) of the agency port");
    v("tls_key_file", tls_key_file, "PEM private key of that certificate");
    v("tls_client_ca_file", tls_client_ca_file,
      "PEM CA certificates that sign units' client certificates");
    v("staff_token_hs256_secret_file", staff_token_hs256_secret_file,
      "file holding the HS256 secret (at least 32 bytes) of accepted bearer tokens; "
      "\"\" = none (development, tests)");
    v("staff_token_rs256_public_key_file", staff_token_rs256_public_key_file,
      "PEM RSA public key of accepted RS256 bearer tokens (an identity provider's); "
      "\"\" = none");
    v("dev_unit_header", dev_unit_header,
      "trust the unsigned x-civic-unit-id header as the unit: anyone could claim any "
      "unit; local experiments only");
  }
  absl::Status Validate() const;
};

// The module spec for civicd's manager. `context` must outlive the module.
modules::ModuleSpec CasesModuleSpec(const CasesConfig& config, const modules::Context& context);

}  // namespace civic::cases
