// Wiring of the routing service into civicd: config, reference data, routing's store
// (unit directory and rule sets), gRPC server.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "libs/auth/caller.h"
#include "libs/modules/service_module.h"

namespace civic::routing {

struct RoutingConfig {
  std::string listen = "127.0.0.1:7102";
  std::string triage_unit_id = "ioc.triage";
  int admin_workers = 2;
  // Keys of the staff tokens that may change the directory and the rules.
  auth::AuthKeyFiles auth;

  template <typename V>
  void Visit(V& v) {
    v("listen", listen, "gRPC address; port 0 picks a free one");
    v("triage_unit_id", triage_unit_id,
      "unit receiving reports outside every covered province");
    v("admin_workers", admin_workers,
      "threads for directory and rule changes (synced writes; changes run one at a time)");
    auth.Visit(v);
  }
  absl::Status Validate() const;
};

modules::ModuleSpec RoutingModuleSpec(const RoutingConfig& config,
                                      const modules::Context& context);

}  // namespace civic::routing
