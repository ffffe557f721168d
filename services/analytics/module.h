// Wiring of the analytics service into civicd: store, feed consumer, gRPC server.
#pragma once

#include "services/cases/feed_service_module.h"

namespace civic::analytics {

struct AnalyticsConfig : cases::FeedServiceConfig {
  AnalyticsConfig() { listen = "127.0.0.1:7105"; }
  absl::Status Validate() const { return ValidateAs("analytics"); }
};

modules::ModuleSpec AnalyticsModuleSpec(const AnalyticsConfig& config,
                                        const modules::Context& context);

}  // namespace civic::analytics
