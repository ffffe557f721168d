#include "services/routing/module.h"

#include "libs/config/config.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "services/routing/routing_logic.h"
#include "services/routing/routing_service.h"

namespace civic::routing {
namespace {

class RoutingModule final : public modules::ServiceModule {
 public:
  RoutingModule(const RoutingConfig& config, const modules::Context& context)
      : ServiceModule("routing", context), config_(config) {}

  absl::Status Start() override {
    // The directory and rules move into routing's own store with the routing issue;
    // for now they are loaded from the reference data at every start.
    CIVIC_ASSIGN_OR_RETURN(logic_, RoutingLogic::Load({.data_dir = context().shared_data,
                                                       .triage_unit_id = config_.triage_unit_id}));
    CIVIC_LOG_INFO("routing loaded {} wards and {} units", logic_->ward_count(),
                   logic_->unit_count());
    service_ = std::make_unique<RoutingService>(logic_.get());
    return Serve(config_.listen, {service_.get()}, {v1::RoutingService::service_full_name()});
  }

  void Stop(absl::Duration grace) override {
    StopServer(grace);
    service_.reset();
    logic_.reset();
  }

 private:
  RoutingConfig config_;
  std::unique_ptr<RoutingLogic> logic_;
  std::unique_ptr<RoutingService> service_;
};

}  // namespace

absl::Status RoutingConfig::Validate() const {
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(listen, "routing.listen"));
  if (triage_unit_id.empty()) {
    return absl::InvalidArgumentError("config routing.triage_unit_id: must not be empty");
  }
  return absl::OkStatus();
}

modules::ModuleSpec RoutingModuleSpec(const RoutingConfig& config,
                                      const modules::Context& context) {
  return {.name = "routing",
          .deps = {"metrics"},
          .factory = [config, &context]() -> absl::StatusOr<std::unique_ptr<modules::Module>> {
            return std::make_unique<RoutingModule>(config, context);
          }};
}

}  // namespace civic::routing
