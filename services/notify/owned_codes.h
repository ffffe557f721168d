// Which tracking codes are the caller's: notify's inbox across a citizen's reports
// (ListMyMessages, WatchMyMessages) asks intake, which alone knows who sent what, with
// the citizen's own credentials. Notify never decides ownership itself, so the inbox
// shows exactly the reports ListMyReports shows.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace civic::notify {

// What identifies a citizen to intake, copied from the incoming call's metadata.
struct CitizenCredentials {
  std::string authorization;  // "Bearer <citizen token>", or empty
  std::string device_id;      // the app's x-civic-device-id, or empty
};
CitizenCredentials CredentialsOf(const grpc::ServerContextBase& context);

class OwnedCodes {
 public:
  virtual ~OwnedCodes() = default;
  // The tracking codes of the citizen's reports, newest first. Intake's errors
  // (UNAUTHENTICATED without credentials, PERMISSION_DENIED for staff...) as they are;
  // UNAVAILABLE or DEADLINE_EXCEEDED while intake cannot be reached.
  virtual absl::StatusOr<std::vector<std::string>> Of(const CitizenCredentials& who) = 0;
};

// Asks intake's ListMyTrackingCodes. `channel` is called once, on first use (intake may
// start after notify in one process); each call waits up to `timeout`.
std::unique_ptr<OwnedCodes> MakeIntakeOwnedCodes(
    std::function<std::shared_ptr<grpc::Channel>()> channel, absl::Duration timeout);

}  // namespace civic::notify
