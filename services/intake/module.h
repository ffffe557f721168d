// Wiring of the intake service into civicd: config, catalogue, store, peers, outbox.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "libs/auth/caller.h"
#include "libs/modules/service_module.h"

namespace civic::intake {

struct IntakeConfig {
  std::string listen = "127.0.0.1:7101";
  std::string routing_address = "127.0.0.1:7102";
  std::string cases_address = "127.0.0.1:7103";
  int workers = 16;
  int64_t peer_timeout_ms = 5000;
  int max_description_chars = 5000;
  std::string tracking_prefix = "PA";
  double duplicate_radius_m = 50;
  int64_t duplicate_window_hours = 72;
  int device_reports_per_hour = 10;
  int phone_reports_per_day = 20;
  int max_photos = 5;
  int64_t max_photo_bytes = 10 << 20;
  // Keys of the bearer tokens intake accepts (admin RPCs; citizens' "my reports").
  auth::AuthKeyFiles auth;
  // The key of citizens' phone subjects, the same file as notify's: reports are indexed
  // by it for signed-in citizens. Empty: by device only, and citizens' listings are off.
  std::string phone_subject_key_file;

  template <typename V>
  void Visit(V& v) {
    v("listen", listen, "gRPC address; port 0 picks a free one");
    v("routing_address", routing_address, "routing's gRPC address when it runs elsewhere");
    v("cases_address", cases_address, "cases' gRPC address when it runs elsewhere");
    v("workers", workers, "threads doing synced writes; more lets RocksDB group-commit");
    v("peer_timeout_ms", peer_timeout_ms, "deadline of each call to routing and cases");
    v("max_description_chars", max_description_chars, "longest description accepted");
    v("tracking_prefix", tracking_prefix, "2-4 letters opening every tracking code (PA = phản ánh)");
    v("duplicate_radius_m", duplicate_radius_m,
      "a report this close to an earlier one of its category joins that case (+1)");
    v("duplicate_window_hours", duplicate_window_hours, "... if the earlier one is this recent");
    v("device_reports_per_hour", device_reports_per_hour, "rate limit per device (burst)");
    v("phone_reports_per_day", phone_reports_per_day, "rate limit per reporter phone (burst)");
    v("max_photos", max_photos, "photos accepted with one report");
    v("max_photo_bytes", max_photo_bytes, "largest photo accepted, in bytes");
    auth.Visit(v);
    v("phone_subject_key_file", phone_subject_key_file,
      "file holding notify's phone subject key (the same file); empty: reports are indexed "
      "by device only and signed-in citizens cannot list theirs");
  }
  absl::Status Validate() const;
};

modules::ModuleSpec IntakeModuleSpec(const IntakeConfig& config, const modules::Context& context);

}  // namespace civic::intake
