// Wiring of the notify service into civicd: store, feed consumer, gRPC server.
#pragma once

#include "libs/auth/caller.h"
#include "services/cases/feed_service_module.h"

namespace civic::notify {

struct NotifyConfig : cases::FeedServiceConfig {
  NotifyConfig() { listen = "127.0.0.1:7104"; }
  // Citizen sign-in: citizen_token_secret_file signs the tokens (sign-in is off without
  // it); the staff keys verify the SMS provider adapter's token.
  auth::AuthKeyFiles auth;

  template <typename V>
  void Visit(V& v) {
    cases::FeedServiceConfig::Visit(v);
    auth.Visit(v);
  }
  absl::Status Validate() const { return ValidateAs("notify"); }
};

modules::ModuleSpec NotifyModuleSpec(const NotifyConfig& config, const modules::Context& context);

}  // namespace civic::notify
