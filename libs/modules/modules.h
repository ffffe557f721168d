// The module manager behind `civicd --target=...`: every service (and shared piece such
// as the metrics endpoint) is a module with dependencies; the manager expands targets,
// starts modules in dependency order and stops them in reverse.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace civic::modules {

// A running piece of the process.
class Module {
 public:
  virtual ~Module() = default;
  // Opens stores, binds ports, starts threads; reports SERVING only when ready.
  virtual absl::Status Start() = 0;
  // First phase of shutdown: stop advertising (health NOT_SERVING), keep serving.
  virtual void BeginShutdown() {}
  // Second phase: drain in-flight work within `grace`, stop threads, close stores.
  virtual void Stop(absl::Duration grace) = 0;
};

struct ModuleSpec {
  std::string name;
  // Modules that must start first when they run in this process. Modules marked
  // `always_with` are also pulled in (e.g. the metrics endpoint); other deps only
  // order start-up, since in a split deployment they are reached over the network.
  std::vector<std::string> deps;
  // Not a user-facing target: runs only as a dependency of one.
  bool internal = false;
  // Pulled in by every target that lists it in deps.
  bool always_with = false;
  std::function<absl::StatusOr<std::unique_ptr<Module>>()> factory;
};

class Manager {
 public:
  // Registration order breaks ties between independent modules.
  void Register(ModuleSpec spec);

  // Expands a comma-separated target list ("all", "intake,routing") to the modules to
  // run, in start order. INVALID_ARGUMENT for unknown names or dependency cycles.
  absl::StatusOr<std::vector<std::string>> Resolve(const std::string& targets) const;

  // Creates and starts the resolved modules in order; on a failure, stops those already
  // started (in reverse) and returns the error, naming the module.
  absl::Status StartAll(const std::vector<std::string>& order);

  // BeginShutdown on every module (reverse order), then Stop in reverse order.
  void StopAll(absl::Duration grace);

  // Names of user-facing targets, for --help.
  std::vector<std::string> Targets() const;

 private:
  std::vector<ModuleSpec> specs_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> running_;

  const ModuleSpec* Find(const std::string& name) const;
};

}  // namespace civic::modules
