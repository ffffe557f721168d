#include "services/notify/module.h"

#include "libs/config/config.h"
#include "libs/core/status.h"
#include "libs/rpc/channel.h"
#include "libs/storage/feed_consumer.h"
#include "services/cases/feed_client.h"
#include "services/notify/notify_logic.h"
#include "services/notify/notify_service.h"

namespace civic::notify {
namespace {

class NotifyModule final : public modules::ServiceModule {
 public:
  NotifyModule(const NotifyConfig& config, const modules::Context& context)
      : ServiceModule("notify", context), config_(config) {}

  absl::Status Start() override {
    CIVIC_RETURN_IF_ERROR(OpenStore(NotifyKeyspaces()));
    logic_ = std::make_unique<NotifyLogic>(store(), context().clock);
    consumer_ = cases::MakeCaseFeedConsumer(
        "notify", store(), kMetaCf,
        rpc::MakeChannel(context().addresses->Lookup("cases", config_.cases_address)),
        [this](const common::v1::CaseEvent& event, storage::Batch& batch) {
          return logic_->Apply(event, batch);
        });
    CIVIC_RETURN_IF_ERROR(consumer_->Start());
    service_ = std::make_unique<NotifyService>(logic_.get(), config_.workers);
    return Serve(config_.listen, {service_.get()}, {v1::NotifyService::service_full_name()});
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
  NotifyConfig config_;
  std::unique_ptr<NotifyLogic> logic_;
  std::unique_ptr<storage::FeedConsumer> consumer_;
  std::unique_ptr<NotifyService> service_;
};

}  // namespace

absl::Status NotifyConfig::Validate() const {
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(listen, "notify.listen"));
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(cases_address, "notify.cases_address"));
  if (workers < 1 || workers > 64) {
    return absl::InvalidArgumentError("config notify.workers: must be 1..64");
  }
  return absl::OkStatus();
}

modules::ModuleSpec NotifyModuleSpec(const NotifyConfig& config, const modules::Context& context) {
  return {.name = "notify",
          .deps = {"metrics", "cases"},
          .factory = [config, &context]() -> absl::StatusOr<std::unique_ptr<modules::Module>> {
            return std::make_unique<NotifyModule>(config, context);
          }};
}

}  // namespace civic::notify
