#include "services/cases/module.h"

#include "absl/strings/str_cat.h"
#include "libs/config/config.h"
#include "libs/core/status.h"
#include "services/cases/cases_logic.h"
#include "services/cases/cases_service.h"
#include "services/cases/sla.h"

namespace civic::cases {
namespace {

class CasesModule final : public modules::ServiceModule {
 public:
  CasesModule(const CasesConfig& config, const modules::Context& context)
      : ServiceModule("cases", context), config_(config) {}

  absl::Status Start() override {
    CIVIC_RETURN_IF_ERROR(OpenStore(CasesKeyspaces()));
    CasesOptions options{.triage_unit_id = config_.triage_unit_id,
                         .calendar = SlaCalendarOptions::VietnamDefaults(),
                         .at_risk_fraction = config_.at_risk_fraction,
                         .reopen_window = absl::Hours(config_.reopen_window_hours)};
    // Validate() has checked every date.
    for (const auto& day : config_.extra_holidays) options.calendar.holidays.push_back(*ParseDay(day));
    for (const auto& day : config_.extra_working_days) {
      options.calendar.extra_working_days.push_back(*ParseDay(day));
    }
    for (const auto& entry : config_.triage_units) {
      const size_t eq = entry.find('=');
      options.triage_by_province[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    CIVIC_ASSIGN_OR_RETURN(logic_, CasesLogic::Create(store(), context().clock, options));
    service_ = std::make_unique<CasesService>(logic_.get(), config_.workers);
    return Serve(config_.listen, {service_.get()}, {v1::CasesService::service_full_name()});
  }

  void BeginShutdown() override {
    ServiceModule::BeginShutdown();
    if (service_) service_->CloseStreams();
  }

  void Stop(absl::Duration grace) override {
    if (service_) service_->CloseStreams();
    StopServer(grace);
    service_.reset();
    logic_.reset();
    CloseStore();
  }

 private:
  CasesConfig config_;
  std::unique_ptr<CasesLogic> logic_;
  std::unique_ptr<CasesService> service_;
};

}  // namespace

absl::Status CasesConfig::Validate() const {
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(listen, "cases.listen"));
  if (workers < 1 || workers > 256) {
    return absl::InvalidArgumentError("config cases.workers: must be 1..256");
  }
  for (const auto& entry : triage_units) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config cases.triage_units: '", entry, "' is not province=unit"));
    }
  }
  for (const auto* days : {&extra_holidays, &extra_working_days}) {
    for (const auto& day : *days) {
      if (absl::StatusOr<absl::CivilDay> parsed = ParseDay(day); !parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("config cases: ", parsed.status().message()));
      }
    }
  }
  if (reopen_window_hours < 0 || reopen_window_hours > 24 * 365) {
    return absl::InvalidArgumentError("config cases.reopen_window_hours: must be 0..8760");
  }
  if (!(at_risk_fraction > 0 && at_risk_fraction <= 1)) {
    return absl::InvalidArgumentError("config cases.at_risk_fraction: must be in (0, 1]");
  }
  if (triage_unit_id.empty()) {
    return absl::InvalidArgumentError("config cases.triage_unit_id: must not be empty");
  }
  return absl::OkStatus();
}

modules::ModuleSpec CasesModuleSpec(const CasesConfig& config, const modules::Context& context) {
  return {.name = "cases",
          .deps = {"metrics"},
          .factory = [config, &context]() -> absl::StatusOr<std::unique_ptr<modules::Module>> {
            return std::make_unique<CasesModule>(config, context);
          }};
}

}  // namespace civic::cases
