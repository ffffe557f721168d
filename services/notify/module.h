// Wiring of the notify service into civicd: store, feed consumer, gRPC server.
#pragma once

#include "libs/auth/caller.h"
#include "libs/core/status.h"
#include "services/cases/feed_service_module.h"

namespace civic::notify {

struct NotifyConfig : cases::FeedServiceConfig {
  NotifyConfig() { listen = "127.0.0.1:7104"; }
  // Citizen sign-in: citizen_token_secret_file signs the tokens (sign-in is off without
  // it); the staff keys verify the SMS provider adapter's token.
  auth::AuthKeyFiles auth;
  // The inbox across a citizen's reports asks intake which reports are theirs.
  std::string intake_address = "127.0.0.1:7101";
  int inbox_refresh_seconds = 30;
  // ---- Citizen sign-in's own settings (sign_in.h).
  // The key of citizens' phone subjects, the same file as intake's; required when
  // citizen_token_secret_file is set (sign-in on).
  std::string phone_subject_key_file;
  int max_sms_per_minute = 60;

  template <typename V>
  void Visit(V& v) {
    cases::FeedServiceConfig::Visit(v);
    auth.Visit(v);
    v("intake_address", intake_address,
      "intake's gRPC address when elsewhere (which reports are a citizen's)");
    v("inbox_refresh_seconds", inbox_refresh_seconds,
      "how often a live stream of a citizen's messages looks for their new reports");
    v("phone_subject_key_file", phone_subject_key_file,
      "file holding the key of citizens' phone subjects (HMAC; intake reads the same file); "
      "required with citizen_token_secret_file");
    v("max_sms_per_minute", max_sms_per_minute,
      "sign-in SMS sent per minute at most, all phones together; 0: unlimited");
  }
  absl::Status Validate() const {
    CIVIC_RETURN_IF_ERROR(ValidateAs("notify"));
    if (max_sms_per_minute < 0 || max_sms_per_minute > 1000000) {
      return absl::InvalidArgumentError("config notify.max_sms_per_minute: must be 0..1000000");
    }
    // SignIn refuses to work without the key: say so at start-up, not to the first citizen.
    if (!auth.citizen_token_secret_file.empty() && phone_subject_key_file.empty()) {
      return absl::InvalidArgumentError(
          "config notify.phone_subject_key_file: required when citizen_token_secret_file is "
          "set (citizen sign-in is on)");
    }
    return absl::OkStatus();
  }
};

modules::ModuleSpec NotifyModuleSpec(const NotifyConfig& config, const modules::Context& context);

}  // namespace civic::notify
