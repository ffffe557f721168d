// Wiring of the notify service into civicd: store, feed consumer, gRPC server.
#pragma once

#include "services/cases/feed_service_module.h"

namespace civic::notify {

struct NotifyConfig : cases::FeedServiceConfig {
  NotifyConfig() { listen = "127.0.0.1:7104"; }
  absl::Status Validate() const { return ValidateAs("notify"); }
};

modules::ModuleSpec NotifyModuleSpec(const NotifyConfig& config, const modules::Context& context);

}  // namespace civic::notify
