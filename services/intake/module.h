// Wiring of the intake service into civicd: config, catalogue, store, peers, outbox.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "libs/modules/service_module.h"

namespace civic::intake {

struct IntakeConfig {
  std::string listen = "127.0.0.1:7101";
  std::string routing_address = "127.0.0.1:7102";
  std::string cases_address = "127.0.0.1:7103";
  int workers = 16;
  int64_t peer_timeout_ms = 5000;
  int max_description_chars = 5000;
  std::string tracking_prefix = "PA";

  template <typename V>
  void Visit(V& v) {
    v("listen", listen, "gRPC address; port 0 picks a free one");
    v("routing_address", routing_address, "routing's gRPC address when it runs elsewhere");
    v("cases_address", cases_address, "cases' gRPC address when it runs elsewhere");
    v("workers", workers, "threads doing synced writes; more lets RocksDB group-commit");
    v("peer_timeout_ms", peer_timeout_ms, "deadline of each call to routing and cases");
    v("max_description_chars", max_description_chars, "longest description accepted");
    v("tracking_prefix", tracking_prefix, "2-4 letters opening every tracking code (PA = phản ánh)");
  }
  absl::Status Validate() const;
};

modules::ModuleSpec IntakeModuleSpec(const IntakeConfig& config, const modules::Context& context);

}  // namespace civic::intake
