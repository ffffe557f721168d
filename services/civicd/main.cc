// civicd: every CivicDesk service in one binary. `--target=all` runs the whole suite in
// one process (each service on its own gRPC port, talking gRPC to the others, as when
// split); `--target=cases` runs one service, as in a Kubernetes pod.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "libs/core/clock.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "libs/metrics/metrics.h"
#include "libs/modules/modules.h"
#include "libs/modules/service_module.h"
#include "services/civicd/civicd_config.h"
#include "services/gateway/module.h"

extern char** environ;

namespace civic::civicd {
namespace {

// The /metrics endpoint every process serves, whatever its targets.
class MetricsModule final : public modules::Module {
 public:
  MetricsModule(std::string listen, modules::AddressBook* addresses)
      : listen_(std::move(listen)), addresses_(addresses) {}
  absl::Status Start() override {
    CIVIC_ASSIGN_OR_RETURN(server_, metrics::MetricsServer::Start(listen_));
    const std::string address =
        absl::StrCat(listen_.substr(0, listen_.rfind(':')), ":", server_->port());
    addresses_->Publish("metrics_http", address);
    CIVIC_LOG_INFO("metrics on http://{}/metrics", address);
    return absl::OkStatus();
  }
  void Stop(absl::Duration) override { server_.reset(); }

 private:
  std::string listen_;
  modules::AddressBook* addresses_;
  std::unique_ptr<metrics::MetricsServer> server_;
};

// Writes the bound addresses as JSON, atomically (temp file + rename), so a test or a
// supervisor never reads half a file.
absl::Status WriteReadyFile(const std::string& path, const modules::AddressBook& addresses) {
  nlohmann::json ready = {{"pid", getpid()}};
  nlohmann::json grpc = nlohmann::json::object();
  for (const auto& [name, address] : addresses.All()) {
    if (name == "gateway_http" || name == "metrics_http") {
      ready[name] = address;
    } else {
      grpc[name] = address;
    }
  }
  ready["grpc"] = grpc;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << ready.dump(2) << "\n";
    if (!out.flush()) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", ec.message()));
  return absl::OkStatus();
}

int Run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);

  CivicdConfig config;
  Flags flags;
  absl::Status loaded = LoadConfig(args, env, config, flags);
  if (flags.help) {
    std::cout << Usage();
    return 0;
  }
  if (loaded.ok()) loaded = config.Validate();
  if (!loaded.ok()) {
    std::cerr << "civicd: " << loaded.message() << "\n";
    return 2;
  }
  if (flags.print_config) {
    std::cout << config.ToJson().dump(2) << "\n";
    return 0;
  }
  InitLogging(config.server.log_level);
  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex's deadlock detection
  // on: a lock-order graph updated on every lock of gRPC's mutexes, several percent of
  // the CPU of a busy gateway (perf: GraphCycles::GetId, InsertEdge, RemoveNode).
  // CivicDesk's own code locks std::mutex, which it never covered.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Block the stop signals in every thread (inherited by those started below); the main
  // thread waits for them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  metrics::RegisterBuildInfo(CIVIC_VERSION, CIVIC_REVISION);
  modules::AddressBook addresses;
  const modules::Context context{.data_dir = config.server.data_dir,
                                 .shared_data = config.server.shared_data,
                                 .clock = SystemClock::Get(),
                                 .addresses = &addresses};

  modules::Manager manager;
  manager.Register({.name = "metrics",
                    .deps = {},
                    .internal = true,
                    .always_with = true,
                    .factory = [&]() -> absl::StatusOr<std::unique_ptr<modules::Module>> {
                      return std::make_unique<MetricsModule>(config.server.metrics_listen,
                                                             &addresses);
                    }});
  manager.Register(routing::RoutingModuleSpec(config.routing, context));
  manager.Register(cases::CasesModuleSpec(config.cases, context));
  manager.Register(intake::IntakeModuleSpec(config.intake, context));
  manager.Register(notify::NotifyModuleSpec(config.notify, context));
  manager.Register(analytics::AnalyticsModuleSpec(config.analytics, context));
  manager.Register(gateway::GatewayModuleSpec(config.gateway, context));

  absl::StatusOr<std::vector<std::string>> order = manager.Resolve(flags.targets);
  if (!order.ok()) {
    std::cerr << "civicd: " << order.status().message() << "\n";
    return 2;
  }
  CIVIC_LOG_INFO("civicd {} ({}) starting: {}", CIVIC_VERSION, CIVIC_REVISION,
                 absl::StrJoin(*order, ", "));
  if (absl::Status started = manager.StartAll(*order); !started.ok()) {
    CIVIC_LOG_ERROR("civicd failed to start: {}", started.ToString());
    return 1;
  }
  if (!flags.ready_file.empty()) {
    if (absl::Status ready = WriteReadyFile(flags.ready_file, addresses); !ready.ok()) {
      CIVIC_LOG_ERROR("{}", ready.ToString());
      manager.StopAll(absl::Seconds(1));
      return 1;
    }
  }
  const std::string gateway = addresses.Lookup("gateway_http", "");
  if (!gateway.empty()) {
    std::printf("CivicDesk is up: http://%s/v1/  (metrics: http://%s/metrics)\n",
                gateway.c_str(), addresses.Lookup("metrics_http", "").c_str());
    std::fflush(stdout);
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  CIVIC_LOG_INFO("signal {}: draining", signal_number);
  manager.StopAll(absl::Milliseconds(config.server.shutdown_grace_ms));
  CIVIC_LOG_INFO("civicd stopped cleanly");
  return 0;
}

}  // namespace
}  // namespace civic::civicd

int main(int argc, char** argv) { return civic::civicd::Run(argc, argv); }
