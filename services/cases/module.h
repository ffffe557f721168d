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
  }
  absl::Status Validate() const;
};

// The module spec for civicd's manager. `context` must outlive the module.
modules::ModuleSpec CasesModuleSpec(const CasesConfig& config, const modules::Context& context);

}  // namespace civic::cases
