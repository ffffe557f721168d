// Turns case events into messages for the citizen who reported, stored per tracking
// code. Delivery channels (push, SMS, e-mail) come later; a stored message is what the
// in-app inbox shows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "civic/common/v1/events.pb.h"
#include "civic/notify/v1/notify.pb.h"
#include "libs/core/clock.h"
#include "libs/storage/store.h"
#include "services/notify/message_watch.h"

namespace civic::notify {

inline constexpr char kMessagesCf[] = "messages";  // tracking code \x1f sequence → Message
inline constexpr char kMetaCf[] = "meta";          // feed cursor
std::vector<std::string> NotifyKeyspaces();

class NotifyLogic {
 public:
  // `watch`, when set, is told of every message Apply adds (see message_watch.h); it
  // must outlive the logic.
  NotifyLogic(storage::Store* store, const Clock* clock, MessageWatch* watch = nullptr)
      : store_(store), clock_(clock), watch_(watch) {}

  // Adds to `batch` the messages `event` calls for (none for events citizens are not
  // told about). The message id derives from the event's sequence, so applying an event
  // twice could not make two messages even without the consumer's cursor.
  absl::Status Apply(const common::v1::CaseEvent& event, storage::Batch& batch) const;

  // The citizen's messages for a tracking code, oldest first.
  absl::StatusOr<std::vector<v1::Message>> List(const std::string& tracking_code) const;

  // ---- Live updates (WatchMessages).
  // Up to `limit` of a normalised tracking code's messages made by events after
  // `after_sequence`, oldest first.
  absl::StatusOr<std::vector<v1::Message>> ListAfter(const std::string& normalized_code,
                                                     uint64_t after_sequence,
                                                     size_t limit) const;
  // The same across several codes (one citizen's reports): merged in event order, one
  // message per event (an event told to two of the codes is the same news).
  absl::StatusOr<std::vector<v1::Message>> ListAfterAny(const std::vector<std::string>& codes,
                                                        uint64_t after_sequence,
                                                        size_t limit) const;

  // ---- The inbox across a citizen's reports (ListMyMessages): the messages of `codes`,
  // newest first, one per event, a page at a time. INVALID_ARGUMENT for a page_size
  // outside 0..100 or a page_token this did not give out.
  absl::StatusOr<v1::ListMyMessagesResponse> ListInbox(
      const std::vector<std::string>& codes, const v1::ListMyMessagesRequest& request) const;

  // The watch Apply tells of new messages; null when none.
  MessageWatch* watch() const { return watch_; }

 private:
  storage::Store* store_;
  const Clock* clock_;
  MessageWatch* watch_;
};

// The event sequence a message id stands for ("msg-42" -> 42): message ids order as
// these numbers do, not as text. 0 for "" (before every message); nullopt for anything
// that is not a message id.
std::optional<uint64_t> MessageCursor(absl::string_view message_id);

}  // namespace civic::notify
