// civicd's whole configuration: one typed section per module. Sources, later winning:
// built-in defaults, the JSON file (--config), CIVIC_<SECTION>_<KEY> environment
// variables, then command-line flags (--set section.key=value and the shortcuts).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "services/analytics/module.h"
#include "services/cases/module.h"
#include "services/gateway/gateway_config.h"
#include "services/intake/module.h"
#include "services/notify/module.h"
#include "services/routing/module.h"

namespace civic::civicd {

// Process-wide settings.
struct ServerConfig {
  std::string data_dir = "./data";
  std::string shared_data = "../shared/data";
  std::string metrics_listen = "127.0.0.1:9464";
  std::string log_level = "info";
  int64_t shutdown_grace_ms = 5000;

  template <typename V>
  void Visit(V& v) {
    v("data_dir", data_dir, "each service's RocksDB store lives in <data_dir>/<service>");
    v("shared_data", shared_data, "reference data: boundaries/, categories.json, agencies.json");
    v("metrics_listen", metrics_listen, "Prometheus /metrics address; port 0 picks a free one");
    v("log_level", log_level, "debug, info, warn or error");
    v("shutdown_grace_ms", shutdown_grace_ms, "how long SIGTERM waits for calls in flight");
  }
  absl::Status Validate() const;
};

struct CivicdConfig {
  ServerConfig server;
  intake::IntakeConfig intake;
  routing::RoutingConfig routing;
  cases::CasesConfig cases;
  notify::NotifyConfig notify;
  analytics::AnalyticsConfig analytics;
  gateway::GatewayConfig gateway;

  // Calls f(section_name, section) for every section.
  template <typename F>
  void ForEachSection(F&& f) {
    f("server", server);
    f("intake", intake);
    f("routing", routing);
    f("cases", cases);
    f("notify", notify);
    f("analytics", analytics);
    f("gateway", gateway);
  }

  // Every section's Validate(), first error wins.
  absl::Status Validate();
  // The effective configuration, section by section.
  nlohmann::json ToJson();
};

// Command-line options besides the configuration itself.
struct Flags {
  std::string targets = "all";
  std::string ready_file;
  bool print_config = false;
  bool help = false;
};

// Builds the configuration from argv and the environment (`env` as "KEY=VALUE"
// strings, i.e. environ). INVALID_ARGUMENT naming the flag, key or file at fault.
absl::Status LoadConfig(const std::vector<std::string>& args, const std::vector<std::string>& env,
                        CivicdConfig& config, Flags& flags);

// Usage text for --help.
std::string Usage();

}  // namespace civic::civicd
