#include "services/cases/module.h"

#include "libs/config/config.h"
#include "libs/core/status.h"
#include "services/cases/cases_logic.h"
#include "services/cases/cases_service.h"

namespace civic::cases {
namespace {

class CasesModule final : public modules::ServiceModule {
 public:
  CasesModule(const CasesConfig& config, const modules::Context& context)
      : ServiceModule("cases", context), config_(config) {}

  absl::Status Start() override {
    CIVIC_RETURN_IF_ERROR(OpenStore(CasesKeyspaces()));
    CIVIC_ASSIGN_OR_RETURN(logic_, CasesLogic::Create(store(), context().clock));
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
