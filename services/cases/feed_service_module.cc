#include "services/cases/feed_service_module.h"

#include "absl/strings/str_cat.h"
#include "libs/config/config.h"
#include "libs/core/status.h"
#include "libs/rpc/channel.h"
#include "services/cases/feed_client.h"

namespace civic::cases {
namespace {

class FeedServiceModule final : public modules::ServiceModule {
 public:
  FeedServiceModule(FeedServiceSpec spec, FeedServiceConfig config,
                    const modules::Context& context)
      : ServiceModule(spec.name, context), spec_(std::move(spec)), config_(std::move(config)) {}

  absl::Status Start() override {
    CIVIC_RETURN_IF_ERROR(OpenStore(spec_.keyspaces));
    CIVIC_ASSIGN_OR_RETURN(parts_, spec_.make(store(), context().clock, [this] {
                             return consumer_ ? consumer_->position() : 0;
                           }));
    consumer_ = MakeCaseFeedConsumer(
        spec_.name, store(), spec_.cursor_keyspace,
        context().addresses->Channel("cases", config_.cases_address),
        parts_.apply);
    if (parts_.committed) consumer_->OnCommitted(parts_.committed);
    CIVIC_RETURN_IF_ERROR(consumer_->Start());
    return Serve(config_.listen, {parts_.service.get()}, {parts_.service_name});
  }

  void BeginShutdown() override {
    ServiceModule::BeginShutdown();
    if (parts_.close_streams) parts_.close_streams();
  }

  void Stop(absl::Duration grace) override {
    if (parts_.close_streams) parts_.close_streams();
    StopServer(grace);
    if (consumer_) consumer_->Stop();
    consumer_.reset();
    parts_ = FeedServiceParts();  // service, then the logic it used
    CloseStore();
  }

 private:
  FeedServiceSpec spec_;
  FeedServiceConfig config_;
  FeedServiceParts parts_;
  std::unique_ptr<storage::FeedConsumer> consumer_;
};

}  // namespace

absl::Status FeedServiceConfig::ValidateAs(absl::string_view section) const {
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(listen, absl::StrCat(section, ".listen")));
  CIVIC_RETURN_IF_ERROR(
      config::ValidateHostPort(cases_address, absl::StrCat(section, ".cases_address")));
  if (workers < 1 || workers > 64) {
    return absl::InvalidArgumentError(absl::StrCat("config ", section, ".workers: must be 1..64"));
  }
  return absl::OkStatus();
}

modules::ModuleSpec FeedServiceModuleSpec(FeedServiceSpec spec, FeedServiceConfig config,
                                          const modules::Context& context) {
  const std::string name = spec.name;
  return {.name = name,
          .deps = {"metrics", "cases"},
          .factory = [spec = std::move(spec), config = std::move(config),
                      &context]() -> absl::StatusOr<std::unique_ptr<modules::Module>> {
            return std::make_unique<FeedServiceModule>(spec, config, context);
          }};
}

}  // namespace civic::cases
