#include "services/civicd/civicd_config.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/config/config.h"
#include "libs/core/status.h"

namespace civic::civicd {
namespace {

absl::Status ApplyOverride(CivicdConfig& config, absl::string_view assignment,
                           absl::string_view origin) {
  const size_t eq = assignment.find('=');
  const size_t dot = assignment.find('.');
  if (eq == absl::string_view::npos || dot == absl::string_view::npos || dot > eq) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": expected section.key=value, got '", assignment, "'"));
  }
  const absl::string_view section = assignment.substr(0, dot);
  const absl::string_view key = assignment.substr(dot + 1, eq - dot - 1);
  const absl::string_view value = assignment.substr(eq + 1);
  absl::Status status = absl::InvalidArgumentError(
      absl::StrCat(origin, ": unknown config section '", section, "'"));
  config.ForEachSection([&](absl::string_view name, auto& s) {
    if (name == section) status = config::SetField(s, name, key, value);
  });
  return status;
}

}  // namespace

absl::Status ServerConfig::Validate() const {
  if (data_dir.empty()) return absl::InvalidArgumentError("config server.data_dir: empty");
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(metrics_listen, "server.metrics_listen"));
  if (log_level != "debug" && log_level != "info" && log_level != "warn" &&
      log_level != "error") {
    return absl::InvalidArgumentError(
        "config server.log_level: must be debug, info, warn or error");
  }
  if (shutdown_grace_ms < 0) {
    return absl::InvalidArgumentError("config server.shutdown_grace_ms: must not be negative");
  }
  return absl::OkStatus();
}

absl::Status CivicdConfig::Validate() {
  absl::Status status;
  ForEachSection([&](absl::string_view, auto& s) {
    if (status.ok()) status = s.Validate();
  });
  return status;
}

nlohmann::json CivicdConfig::ToJson() {
  nlohmann::json out = nlohmann::json::object();
  ForEachSection([&](absl::string_view name, auto& s) {
    out[std::string(name)] = config::ToJson(s);
  });
  return out;
}

absl::Status LoadConfig(const std::vector<std::string>& args,
                        const std::vector<std::string>& env, CivicdConfig& config,
                        Flags& flags) {
  // Pass 1: the config file, wherever --config appears.
  for (const auto& arg : args) {
    absl::string_view path = arg;
    if (!absl::ConsumePrefix(&path, "--config=")) continue;
    std::ifstream in{std::string(path)};
    if (!in) return absl::NotFoundError(absl::StrCat("--config: cannot read ", path));
    nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
    }
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      bool known = false;
      config.ForEachSection([&](absl::string_view name, auto&) { known = known || name == it.key(); });
      if (!known) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": unknown config section '", it.key(), "'"));
      }
    }
    absl::Status status;
    config.ForEachSection([&](absl::string_view name, auto& s) {
      if (status.ok() && doc.contains(std::string(name))) {
        status = config::ReadSection(doc[std::string(name)], name, s);
      }
    });
    CIVIC_RETURN_IF_ERROR(status);
  }

  // Pass 2: environment, CIVIC_<SECTION>_<KEY>.
  for (const auto& entry : env) {
    absl::string_view e = entry;
    if (!absl::ConsumePrefix(&e, "CIVIC_")) continue;
    const size_t eq = e.find('=');
    if (eq == absl::string_view::npos) continue;
    const std::string name = absl::AsciiStrToLower(e.substr(0, eq));
    absl::Status status;
    bool in_section = false, matched = false;
    config.ForEachSection([&](absl::string_view section, auto& s) {
      if (!absl::StartsWith(name, absl::StrCat(section, "_"))) return;
      in_section = true;
      for (const auto& key : config::KeysOf(s)) {
        if (status.ok() && name == absl::StrCat(section, "_", key)) {
          matched = true;
          status = config::SetField(s, section, key, e.substr(eq + 1));
        }
      }
    });
    CIVIC_RETURN_IF_ERROR(status);
    // CIVIC_INTAKE_WORKRS must not be silently ignored; CIVIC_<other> may belong to
    // something else (tests use CIVIC_SHARED_DATA).
    if (in_section && !matched) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment CIVIC_", e.substr(0, eq), ": unknown config key"));
    }
  }

  // Pass 3: flags, in order (so a --set after --ephemeral-ports pins that one port).
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    absl::string_view value;
    auto flag = [&](absl::string_view name) {
      // Accepts --name=value and --name value.
      if (absl::ConsumePrefix(&arg, absl::StrCat(name, "="))) {
        value = arg;
        return true;
      }
      if (arg == name && i + 1 < args.size()) {
        value = args[++i];
        return true;
      }
      return false;
    };
    if (absl::StartsWith(arg, "--config=")) continue;
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
    } else if (arg == "--print-config") {
      flags.print_config = true;
    } else if (arg == "--ephemeral-ports") {
      const std::string any = "127.0.0.1:0";
      config.server.metrics_listen = any;
      config.intake.listen = any;
      config.routing.listen = any;
      config.cases.listen = any;
      config.notify.listen = any;
      config.analytics.listen = any;
      config.gateway.http_listen = any;
    } else if (flag("--target")) {
      flags.targets = std::string(value);
    } else if (flag("--ready-file")) {
      flags.ready_file = std::string(value);
    } else if (flag("--data-dir")) {
      config.server.data_dir = std::string(value);
    } else if (flag("--shared-data")) {
      config.server.shared_data = std::string(value);
    } else if (flag("--set")) {
      CIVIC_RETURN_IF_ERROR(ApplyOverride(config, value, "--set"));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag '", args[i], "' (see --help)"));
    }
  }
  return absl::OkStatus();
}

std::string Usage() {
  return R"(civicd: CivicDesk in one binary.

Usage: civicd [flags]
  --target=T          all (default), or a comma-separated list of: gateway, intake,
                      routing, cases, notify, analytics
  --config=FILE       JSON file with sections server, intake, routing, cases, notify,
                      analytics, gateway (see --print-config for every key)
  --set S.K=V         override one key, e.g. --set intake.workers=32 (repeatable)
  --data-dir=DIR      where each service keeps its store (server.data_dir)
  --shared-data=DIR   reference data: boundaries, categories, agencies
  --ephemeral-ports   bind every listener to 127.0.0.1:0 (tests)
  --ready-file=FILE   write the bound addresses here (JSON) once everything serves
  --print-config      print the effective configuration and exit
Environment: CIVIC_<SECTION>_<KEY>=value overrides the file, e.g. CIVIC_SERVER_LOG_LEVEL=debug.
)";
}

}  // namespace civic::civicd
