#include "services/gateway/module.h"

#include "absl/strings/str_cat.h"
#include "civic/analytics/v1/analytics.grpc.pb.h"
#include "civic/cases/v1/cases.grpc.pb.h"
#include "civic/intake/v1/intake.grpc.pb.h"
#include "civic/notify/v1/notify.grpc.pb.h"
#include "civic/routing/v1/routing.grpc.pb.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "libs/rpc/channel.h"
#include "services/gateway/gateway.h"

namespace civic::gateway {
namespace {

class GatewayModule final : public modules::Module {
 public:
  GatewayModule(const GatewayConfig& config, const modules::Context& context)
      : config_(config), context_(context) {}

  absl::Status Start() override {
    // Answers may carry a photo (10 MiB by default, GetPhoto / GetCasePhoto).
    const rpc::ChannelOptions options{.max_receive_bytes = 64 << 20};
    auto channel = [&](const std::string& module, const std::string& configured) {
      return context_.addresses->Channel(module, configured, options);
    };
    Backends backends = {
        {intake::v1::IntakeService::service_full_name(),
         channel("intake", config_.intake_address)},
        {routing::v1::RoutingService::service_full_name(),
         channel("routing", config_.routing_address)},
        {notify::v1::NotifyService::service_full_name(),
         channel("notify", config_.notify_address)},
        {analytics::v1::AnalyticsService::service_full_name(),
         channel("analytics", config_.analytics_address)},
        {cases::v1::CasesService::service_full_name(), channel("cases", config_.cases_address)},
    };
    gateway_ = std::make_unique<Gateway>(config_, std::move(backends));
    CIVIC_RETURN_IF_ERROR(gateway_->Start());
    const std::string host = config_.http_listen.substr(0, config_.http_listen.rfind(':'));
    const std::string address = absl::StrCat(host, ":", gateway_->port());
    context_.addresses->Publish("gateway_http", address);
    CIVIC_LOG_INFO("gateway serving HTTP on http://{}", address);
    return absl::OkStatus();
  }

  void BeginShutdown() override {
    if (gateway_) gateway_->BeginDrain();
  }

  void Stop(absl::Duration) override {
    if (gateway_) gateway_->Stop();
    gateway_.reset();
  }

 private:
  GatewayConfig config_;
  const modules::Context& context_;
  std::unique_ptr<Gateway> gateway_;
};

}  // namespace

modules::ModuleSpec GatewayModuleSpec(const GatewayConfig& config,
                                      const modules::Context& context) {
  return {.name = "gateway",
          .deps = {"metrics", "intake", "routing", "cases", "notify", "analytics"},
          .factory = [config, &context]() -> absl::StatusOr<std::unique_ptr<modules::Module>> {
            return std::make_unique<GatewayModule>(config, context);
          }};
}

}  // namespace civic::gateway
