// One Prometheus registry and one /metrics endpoint per process, with the process_*
// metrics every operator expects and a <app>_build_info gauge.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace civic::metrics {

// The process-wide registry every module adds its metrics to. Never destroyed.
std::shared_ptr<prometheus::Registry> Registry();

// Serves Registry() (and process metrics) over HTTP at /metrics.
class MetricsServer {
 public:
  // Binds `address` ("host:port", port 0 for a free one). UNAVAILABLE when it cannot.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address);
  int port() const { return port_; }

 private:
  std::unique_ptr<prometheus::Exposer> exposer_;
  // The exposer holds collectables by weak_ptr: keep ours alive here.
  std::shared_ptr<prometheus::Collectable> process_;
  int port_ = 0;
};

// Collects process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds from /proc, as the Go and Java clients name them.
std::shared_ptr<prometheus::Collectable> MakeProcessCollector();

// Sets civicdesk_build_info{version, revision} 1 in Registry().
void RegisterBuildInfo(const std::string& version, const std::string& revision);

}  // namespace civic::metrics
