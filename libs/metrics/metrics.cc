#include "libs/metrics/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "prometheus/gauge.h"

namespace civic::metrics {
namespace {

prometheus::MetricFamily Family(const std::string& name, const std::string& help,
                                prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(metric);
  return family;
}

class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    std::vector<prometheus::MetricFamily> out;
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));

    // /proc/self/stat: fields after the ")" that closes the command name.
    std::ifstream stat_file("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
    const size_t close = stat.rfind(')');
    if (close != std::string::npos) {
      std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ');
      // f[0] is field 3 (state): utime=14, stime=15, starttime=22, vsize=23, rss=24.
      auto field = [&](int n) { return f.size() > size_t(n - 3) ? std::stod(f[n - 3]) : 0.0; };
      out.push_back(Family("process_cpu_seconds_total",
                           "Total user and system CPU time spent in seconds.",
                           MetricType::Counter, (field(14) + field(15)) / ticks));
      out.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                           MetricType::Gauge, field(23)));
      out.push_back(Family("process_resident_memory_bytes",
                           "Resident memory size in bytes.", MetricType::Gauge,
                           field(24) * page));
      out.push_back(Family("process_start_time_seconds",
                           "Start time of the process since unix epoch in seconds.",
                           MetricType::Gauge, BootTime() + field(22) / ticks));
    }
    int fds = 0;
    if (DIR* dir = opendir("/proc/self/fd")) {
      while (dirent* e = readdir(dir)) {
        if (e->d_name[0] != '.') ++fds;
      }
      closedir(dir);
      --fds;  // the directory handle itself
    }
    out.push_back(Family("process_open_fds", "Number of open file descriptors.",
                         MetricType::Gauge, fds));
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    out.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                         MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
    return out;
  }

 private:
  static double BootTime() {
    std::ifstream in("/proc/stat");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
    }
    return 0;
  }
};

}  // namespace

std::shared_ptr<prometheus::Registry> Registry() {
  static auto* registry = new std::shared_ptr<prometheus::Registry>(
      std::make_shared<prometheus::Registry>());  // leaked: metrics live until exit
  return *registry;
}

std::shared_ptr<prometheus::Collectable> MakeProcessCollector() {
  return std::make_shared<ProcessCollector>();
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& address) {
  auto server = std::make_unique<MetricsServer>();
  try {
    server->exposer_ = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("metrics: cannot listen on ", address, ": ",
                                               e.what()));
  }
  server->exposer_->RegisterCollectable(Registry());
  server->process_ = MakeProcessCollector();
  server->exposer_->RegisterCollectable(server->process_);
  const auto ports = server->exposer_->GetListeningPorts();
  if (ports.empty()) return absl::UnavailableError("metrics: no listening port");
  server->port_ = ports.front();
  return server;
}

void RegisterBuildInfo(const std::string& version, const std::string& revision) {
  prometheus::BuildGauge()
      .Name("civicdesk_build_info")
      .Help("CivicDesk build: version and source revision; always 1.")
      .Register(*Registry())
      .Add({{"version", version}, {"revision", revision}})
      .Set(1);
}

}  // namespace civic::metrics
