#include "services/routing/module.h"

#include "libs/config/config.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "services/routing/routing_logic.h"
#include "services/routing/routing_service.h"
#include "services/routing/routing_store.h"

namespace civic::routing {
namespace {

class RoutingModule final : public modules::ServiceModule {
 public:
  RoutingModule(const RoutingConfig& config, const modules::Context& context)
      : ServiceModule("routing", context), config_(config) {}

  absl::Status Start() override {
    // The token keys first: a missing key file must fail before anything starts.
    CIVIC_ASSIGN_OR_RETURN(auth::AuthKeys keys, auth::LoadAuthKeys(config_.auth));
    // Boundaries and categories come from the reference data at every start; the unit
    // directory (seeded from agencies.json on the first) and the rules from the store.
    CIVIC_RETURN_IF_ERROR(OpenStore(RoutingKeyspaces()));
    CIVIC_ASSIGN_OR_RETURN(logic_, RoutingLogic::Load({.data_dir = context().shared_data,
                                                       .triage_unit_id = config_.triage_unit_id,
                                                       .store = store(),
                                                       .clock = context().clock}));
    CIVIC_LOG_INFO("routing loaded {} wards, {} units, rule set version {}",
                   logic_->ward_count(), logic_->unit_count(), logic_->rule_set_version());
    service_ = std::make_unique<RoutingService>(
        logic_.get(), config_.admin_workers, auth::Authorizer(std::move(keys), context().clock));
    return Serve(config_.listen, {service_.get()}, {v1::RoutingService::service_full_name()});
  }

  void Stop(absl::Duration grace) override {
    StopServer(grace);
    service_.reset();  // joins the admin workers: no write is left in flight
    logic_.reset();
    CloseStore();
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
  if (admin_workers < 1 || admin_workers > 64) {
    return absl::InvalidArgumentError("config routing.admin_workers: must be 1..64");
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
