// Wiring of the notify service into civicd: store, feed consumer, gRPC server.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "libs/modules/service_module.h"

namespace civic::notify {

struct NotifyConfig {
  std::string listen = "127.0.0.1:7104";
  std::string cases_address = "127.0.0.1:7103";
  int workers = 4;

  template <typename V>
  void Visit(V& v) {
    v("listen", listen, "gRPC address; port 0 picks a free one");
    v("cases_address", cases_address, "cases' gRPC address (its change feed) when elsewhere");
    v("workers", workers, "threads answering inbox reads");
  }
  absl::Status Validate() const;
};

modules::ModuleSpec NotifyModuleSpec(const NotifyConfig& config, const modules::Context& context);

}  // namespace civic::notify
