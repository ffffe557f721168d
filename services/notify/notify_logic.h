// Turns case events into messages for the citizen who reported, stored per tracking
// code. Delivery channels (push, SMS, e-mail) come later; a stored message is what the
// in-app inbox shows.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "civic/common/v1/events.pb.h"
#include "civic/notify/v1/notify.pb.h"
#include "libs/core/clock.h"
#include "libs/storage/store.h"

namespace civic::notify {

inline constexpr char kMessagesCf[] = "messages";  // tracking code \x1f sequence → Message
inline constexpr char kMetaCf[] = "meta";          // feed cursor
std::vector<std::string> NotifyKeyspaces();

class NotifyLogic {
 public:
  NotifyLogic(storage::Store* store, const Clock* clock) : store_(store), clock_(clock) {}

  // Adds to `batch` the messages `event` calls for (none for events citizens are not
  // told about). The message id derives from the event's sequence, so applying an event
  // twice could not make two messages even without the consumer's cursor.
  absl::Status Apply(const common::v1::CaseEvent& event, storage::Batch& batch) const;

  // The citizen's messages for a tracking code, oldest first.
  absl::StatusOr<std::vector<v1::Message>> List(const std::string& tracking_code) const;

 private:
  storage::Store* store_;
  const Clock* clock_;
};

}  // namespace civic::notify
