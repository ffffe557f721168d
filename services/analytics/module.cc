#include "services/analytics/module.h"

#include "libs/config/config.h"
#include "libs/core/status.h"
#include "libs/rpc/channel.h"
#include "libs/storage/feed_consumer.h"
#include "services/cases/feed_client.h"
#include "services/analytics/analytics_logic.h"
#include "services/analytics/analytics_service.h"

namespace civic::analytics {
namespace {

class AnalyticsModule final : public modules::ServiceModule {
 public:
  AnalyticsModule(const AnalyticsConfig& config, const modules::Context& context)
      : ServiceModule("analytics", context), config_(config) {}

  absl::Status Start() override {
    CIVIC_RETURN_IF_ERROR(OpenStore(AnalyticsKeyspaces()));
    logic_ = std::make_unique<AnalyticsLogic>(store());
    consumer_ = cases::MakeCaseFeedConsumer(
        "analytics", store(), kMetaCf,
        rpc::MakeChannel(context().addresses->Lookup("cases", config_.cases_address)),
        [this](const common::v1::CaseEvent& event, storage::Batch& batch) {
          return logic_->Apply(event, batch);
        });
    CIVIC_RETURN_IF_ERROR(consumer_->Start());
    service_ = std::make_unique<AnalyticsService>(
        logic_.get(), [this] { return consumer_->position(); }, config_.workers);
    return Serve(config_.listen, {service_.get()}, {v1::AnalyticsService::service_full_name()});
  }

  void Stop(absl::Duration grace) override {
    StopServer(grace);
    if (consumer_) consumer_->Stop();
    service_.reset();
    consumer_.reset();
    logic_.reset();
    CloseStore();
  }

 private:
  AnalyticsConfig config_;
  std::unique_ptr<AnalyticsLogic> logic_;
  std::unique_ptr<storage::FeedConsumer> consumer_;
  std::unique_ptr<AnalyticsService> service_;
};

}  // namespace

absl::Status AnalyticsConfig::Validate() const {
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(listen, "analytics.listen"));
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(cases_address, "analytics.cases_address"));
  if (workers < 1 || workers > 64) {
    return absl::InvalidArgumentError("config analytics.workers: must be 1..64");
  }
  return absl::OkStatus();
}

modules::ModuleSpec AnalyticsModuleSpec(const AnalyticsConfig& config, const modules::Context& context) {
  return {.name = "analytics",
          .deps = {"metrics", "cases"},
          .factory = [config, &context]() -> absl::StatusOr<std::unique_ptr<modules::Module>> {
            return std::make_unique<AnalyticsModule>(config, context);
          }};
}

}  // namespace civic::analytics
