#include "absl/strings/string_view.h"
#include "libs/modules/modules.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/core/log.h"
#include "libs/core/status.h"

namespace civic::modules {

void Manager::Register(ModuleSpec spec) { specs_.push_back(std::move(spec)); }

const ModuleSpec* Manager::Find(const std::string& name) const {
  for (const auto& s : specs_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::vector<std::string> Manager::Targets() const {
  std::vector<std::string> out{"all"};
  for (const auto& s : specs_) {
    if (!s.internal) out.push_back(s.name);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> Manager::Resolve(const std::string& targets) const {
  std::set<std::string> wanted;
  for (absl::string_view raw : absl::StrSplit(targets, ',', absl::SkipWhitespace())) {
    const std::string name(absl::StripAsciiWhitespace(raw));
    if (name == "all") {
      for (const auto& s : specs_) {
        if (!s.internal) wanted.insert(s.name);
      }
      continue;
    }
    const ModuleSpec* spec = Find(name);
    if (spec == nullptr || spec->internal) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown target '", name, "'; known: ", absl::StrJoin(Targets(), ", ")));
    }
    wanted.insert(name);
  }
  if (wanted.empty()) return absl::InvalidArgumentError("no target given");

  // Pull in always_with dependencies transitively.
  bool grew = true;
  while (grew) {
    grew = false;
    for (const auto& name : std::vector<std::string>(wanted.begin(), wanted.end())) {
      for (const auto& dep : Find(name)->deps) {
        const ModuleSpec* d = Find(dep);
        if (d == nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat("module ", name, " depends on unknown ", dep));
        }
        if (d->always_with && wanted.insert(dep).second) grew = true;
      }
    }
  }

  // Depth-first topological order over the wanted set, in registration order.
  std::vector<std::string> order;
  std::map<std::string, int> state;  // 1 visiting, 2 done
  std::function<absl::Status(const ModuleSpec&)> visit = [&](const ModuleSpec& s) {
    if (state[s.name] == 2) return absl::OkStatus();
    if (state[s.name] == 1) {
      return absl::InvalidArgumentError(absl::StrCat("dependency cycle through ", s.name));
    }
    state[s.name] = 1;
    for (const auto& dep : s.deps) {
      if (wanted.count(dep)) CIVIC_RETURN_IF_ERROR(visit(*Find(dep)));
    }
    state[s.name] = 2;
    order.push_back(s.name);
    return absl::OkStatus();
  };
  for (const auto& s : specs_) {
    if (wanted.count(s.name)) CIVIC_RETURN_IF_ERROR(visit(s));
  }
  return order;
}

absl::Status Manager::StartAll(const std::vector<std::string>& order) {
  for (const auto& name : order) {
    const ModuleSpec* spec = Find(name);
    absl::StatusOr<std::unique_ptr<Module>> module = spec->factory();
    absl::Status status = module.ok() ? (*module)->Start() : module.status();
    if (!status.ok()) {
      StopAll(absl::Seconds(5));
      return absl::Status(status.code(), absl::StrCat(name, ": ", status.message()));
    }
    CIVIC_LOG_INFO("module {} started", name);
    running_.emplace_back(name, std::move(*module));
  }
  return absl::OkStatus();
}

void Manager::StopAll(absl::Duration grace) {
  for (auto it = running_.rbegin(); it != running_.rend(); ++it) it->second->BeginShutdown();
  for (auto it = running_.rbegin(); it != running_.rend(); ++it) {
    it->second->Stop(grace);
    CIVIC_LOG_INFO("module {} stopped", it->first);
  }
  running_.clear();
}

}  // namespace civic::modules
