#include "services/notify/notify_logic.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/core/clock.h"
#include "libs/core/ids.h"
#include "libs/core/status.h"
#include "libs/storage/store.h"

namespace civic::notify {
namespace {

std::string Key(const std::string& tracking_code, uint64_t sequence) {
  return absl::StrCat(tracking_code, "\x1f", storage::EncodeUint64(sequence));
}

// Templates, Vietnamese first. Only what the event says, never personal data.
void FillOpened(const common::v1::CaseEvent& event, v1::Message& m) {
  const std::string& unit_vi =
      event.unit().name_vi().empty() ? event.unit().id() : event.unit().name_vi();
  const std::string& unit_en =
      event.unit().name_en().empty() ? event.unit().id() : event.unit().name_en();
  if (m.language() == "en") {
    m.set_subject(absl::StrCat("Report ", event.tracking_code(), " received"));
    m.set_body(absl::StrCat("Thank you. Your report ", event.tracking_code(),
                            " has been received and sent to ", unit_en,
                            ". We will tell you when it changes."));
  } else {
    m.set_subject(absl::StrCat("Đã tiếp nhận phản ánh ", event.tracking_code()));
    m.set_body(absl::StrCat("Cảm ơn bạn. Phản ánh ", event.tracking_code(),
                            " đã được tiếp nhận và chuyển đến ", unit_vi,
                            ". Chúng tôi sẽ báo khi có cập nhật."));
  }
}

// To a citizen whose report joined a case someone else reported first.
void FillSupported(const common::v1::CaseEvent& event, v1::Message& m) {
  const std::string& code = event.supporter_tracking_code();
  if (m.language() == "en") {
    m.set_subject(absl::StrCat("Report ", code, " received"));
    m.set_body(absl::StrCat("Thank you. The same problem was already reported as ",
                            event.tracking_code(), " and is being handled by ",
                            event.unit().name_en().empty() ? event.unit().id()
                                                           : event.unit().name_en(),
                            ". Your report ", code,
                            " follows that case: we will tell you when it changes."));
  } else {
    m.set_subject(absl::StrCat("Đã tiếp nhận phản ánh ", code));
    m.set_body(absl::StrCat("Cảm ơn bạn. Vấn đề này đã được phản ánh với mã ",
                            event.tracking_code(), " và đang được ",
                            event.unit().name_vi().empty() ? event.unit().id()
                                                           : event.unit().name_vi(),
                            " xử lý. Phản ánh ", code,
                            " của bạn theo dõi vụ việc đó: chúng tôi sẽ báo khi có cập nhật."));
  }
}

// A status change or reply, told to the reporter (and followers) in their language.
// Returns false when citizens are not told about this change.
bool FillUpdate(const common::v1::CaseEvent& event, const std::string& code, v1::Message& m) {
  const bool en = m.language() == "en";
  std::string what;
  if (event.type() == common::v1::CASE_EVENT_TYPE_REPLIED) {
    m.set_template_("case_replied");
    what = en ? "has a reply" : "có phản hồi mới";
  } else {
    switch (event.to_status()) {
      case common::v1::CASE_STATUS_ACCEPTED:
        m.set_template_("case_accepted");
        what = en ? "was accepted by the unit in charge" : "đã được đơn vị xử lý tiếp nhận";
        break;
      case common::v1::CASE_STATUS_IN_PROGRESS:
        m.set_template_("case_in_progress");
        what = en ? "is being worked on" : "đang được xử lý";
        break;
      case common::v1::CASE_STATUS_RESOLVED:
        m.set_template_("case_resolved");
        what = en ? "was resolved" : "đã được xử lý xong";
        break;
      case common::v1::CASE_STATUS_REJECTED:
        m.set_template_("case_rejected");
        what = en ? "was not accepted" : "không được tiếp nhận";
        break;
      case common::v1::CASE_STATUS_REOPENED:
        m.set_template_("case_reopened");
        what = en ? "was reopened after your rating" : "đã được mở lại theo đánh giá của bạn";
        break;
      case common::v1::CASE_STATUS_MERGED:
        // To the duplicate's reporter and followers, once: they now follow the master
        // case (its events list them as followers), whose MERGED event tells nobody.
        m.set_template_("case_merged");
        what = en ? "was joined with another report of the same problem"
                  : "đã được gộp với một phản ánh khác về cùng vấn đề";
        break;
      default:
        return false;  // internal moves (transfers, triage) are not news to the citizen
    }
  }
  m.set_subject(en ? absl::StrCat("Report ", code, " ", what)
                   : absl::StrCat("Phản ánh ", code, " ", what));
  std::string body = m.subject() + ".";
  if (m.template_() == "case_merged") {
    absl::StrAppend(&body, en ? " The unit in charge handles them together, and you will "
                                "receive that case's updates from now on."
                              : " Đơn vị xử lý sẽ giải quyết chung, và từ nay bạn sẽ nhận "
                                "được cập nhật của vụ việc đó.");
  }
  if (!event.public_text().empty()) {
    absl::StrAppend(&body, "\n", en ? "Message from the unit: " : "Nội dung từ đơn vị: ",
                    event.public_text());
  }
  m.set_body(body);
  return true;
}

}  // namespace

std::vector<std::string> NotifyKeyspaces() { return {kMessagesCf, kMetaCf}; }

absl::Status NotifyLogic::Apply(const common::v1::CaseEvent& event,
                                storage::Batch& batch) const {
  v1::Message m;
  m.set_message_id(absl::StrCat("msg-", event.sequence()));
  m.set_case_id(event.case_id());
  m.set_event_sequence(event.sequence());
  switch (event.type()) {
    case common::v1::CASE_EVENT_TYPE_OPENED:
      m.set_tracking_code(event.tracking_code());
      m.set_template_("case_opened");
      m.set_language(event.language() == "en" ? "en" : "vi");
      FillOpened(event, m);
      break;
    case common::v1::CASE_EVENT_TYPE_SUPPORTED:
      m.set_tracking_code(event.supporter_tracking_code());
      m.set_template_("case_supported");
      m.set_language(event.supporter_language() == "en" ? "en" : "vi");
      FillSupported(event, m);
      break;
    case common::v1::CASE_EVENT_TYPE_RATED:
      // Only a dispute that reopens the case is news to the citizen who rated.
      if (event.to_status() != common::v1::CASE_STATUS_REOPENED) return absl::OkStatus();
      [[fallthrough]];
    case common::v1::CASE_EVENT_TYPE_STATUS_CHANGED:
    case common::v1::CASE_EVENT_TYPE_REPLIED: {
      // The reporter and every follower (+1) hear of it, each under their own code.
      std::vector<std::string> codes = {event.tracking_code()};
      codes.insert(codes.end(), event.follower_tracking_codes().begin(),
                   event.follower_tracking_codes().end());
      std::set<std::string> told;
      for (const auto& code : codes) {
        if (!told.insert(code).second) continue;  // one message per citizen and event
        v1::Message update = m;
        update.set_tracking_code(code);
        update.set_language(event.language() == "en" ? "en" : "vi");
        if (!FillUpdate(event, code, update)) return absl::OkStatus();
        *update.mutable_created_at() = ToTimestamp(clock_->Now());
        batch.Put(kMessagesCf, Key(code, event.sequence()), update.SerializeAsString());
        if (watch_ != nullptr) watch_->Stage(event.sequence(), code);
      }
      return absl::OkStatus();
    }
    case common::v1::CASE_EVENT_TYPE_MERGED:
      // The master gained followers: they were told by the duplicate's STATUS_CHANGED
      // (to MERGED) just before, and the master's own reporter hears nothing new.
    case common::v1::CASE_EVENT_TYPE_AT_RISK:
    case common::v1::CASE_EVENT_TYPE_ESCALATED:
      // Deadline warnings and escalations are internal to the units.
    case common::v1::CASE_EVENT_TYPE_NOTE_ADDED:
      return absl::OkStatus();
    default:
      return absl::OkStatus();  // notes and the like: nothing the citizen is told about
  }
  *m.mutable_created_at() = ToTimestamp(clock_->Now());
  batch.Put(kMessagesCf, Key(m.tracking_code(), event.sequence()), m.SerializeAsString());
  if (watch_ != nullptr) watch_->Stage(event.sequence(), m.tracking_code());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Message>> NotifyLogic::List(
    const std::string& tracking_code) const {
  std::vector<v1::Message> out;
  const std::string code = NormalizeTrackingCode(tracking_code);
  if (code.empty()) return out;
  absl::Status parse = absl::OkStatus();
  CIVIC_RETURN_IF_ERROR(store_->Scan(kMessagesCf, absl::StrCat(code, "\x1f"), "",
                                     [&](absl::string_view, absl::string_view value) {
                                       v1::Message m;
                                       if (!m.ParseFromArray(value.data(),
                                                             static_cast<int>(value.size()))) {
                                         parse = absl::DataLossError("unreadable message");
                                         return false;
                                       }
                                       out.push_back(std::move(m));
                                       return true;
                                     }));
  CIVIC_RETURN_IF_ERROR(parse);
  return out;
}

// ---- Live updates (WatchMessages).

absl::StatusOr<std::vector<v1::Message>> NotifyLogic::ListAfter(
    const std::string& normalized_code, uint64_t after_sequence, size_t limit) const {
  std::vector<v1::Message> out;
  if (normalized_code.empty() || limit == 0 || after_sequence == UINT64_MAX) return out;
  absl::Status parse = absl::OkStatus();
  CIVIC_RETURN_IF_ERROR(store_->Scan(
      kMessagesCf, absl::StrCat(normalized_code, "\x1f"), Key(normalized_code, after_sequence + 1),
      [&](absl::string_view, absl::string_view value) {
        v1::Message m;
        if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parse = absl::DataLossError("unreadable message");
          return false;
        }
        out.push_back(std::move(m));
        return out.size() < limit;
      }));
  CIVIC_RETURN_IF_ERROR(parse);
  return out;
}

absl::StatusOr<std::vector<v1::Message>> NotifyLogic::ListAfterAny(
    const std::vector<std::string>& codes, uint64_t after_sequence, size_t limit) const {
  std::vector<v1::Message> merged;
  for (const std::string& code : codes) {
    // Each code's first `limit` suffice: the merged page takes no more from any one.
    CIVIC_ASSIGN_OR_RETURN(std::vector<v1::Message> page,
                           ListAfter(NormalizeTrackingCode(code), after_sequence, limit));
    for (auto& m : page) merged.push_back(std::move(m));
  }
  std::stable_sort(merged.begin(), merged.end(), [](const v1::Message& a, const v1::Message& b) {
    return a.event_sequence() < b.event_sequence();
  });
  std::vector<v1::Message> out;
  for (auto& m : merged) {
    if (out.size() == limit) break;
    if (!out.empty() && out.back().event_sequence() == m.event_sequence()) continue;
    out.push_back(std::move(m));
  }
  return out;
}

absl::StatusOr<v1::ListMyMessagesResponse> NotifyLogic::ListInbox(
    const std::vector<std::string>& codes, const v1::ListMyMessagesRequest& request) const {
  constexpr int kDefaultPageSize = 20;
  constexpr int kMaxPageSize = 100;
  FieldErrors errors;
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    errors.Add("page_size", absl::StrCat("must be 0..", kMaxPageSize));
  }
  // The token is the id of the last message of the previous page.
  const std::optional<uint64_t> before = MessageCursor(request.page_token());
  if (!before) errors.Add("page_token", "is not a token this API gave out");
  CIVIC_RETURN_IF_ERROR(errors.ToStatus("notify.civicdesk"));
  const size_t page_size =
      static_cast<size_t>(request.page_size() == 0 ? kDefaultPageSize : request.page_size());

  // A citizen's reports have few messages each: reading them whole is cheaper than a
  // cross-code index would be to keep.
  std::vector<v1::Message> all;
  for (const std::string& code : codes) {
    CIVIC_ASSIGN_OR_RETURN(std::vector<v1::Message> messages, List(code));
    for (auto& m : messages) {
      if (*before == 0 || m.event_sequence() < *before) all.push_back(std::move(m));
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const v1::Message& a, const v1::Message& b) {
    return a.event_sequence() > b.event_sequence();
  });
  v1::ListMyMessagesResponse response;
  bool more = false;
  for (auto& m : all) {
    const int n = response.messages_size();
    if (n > 0 && response.messages(n - 1).event_sequence() == m.event_sequence()) continue;
    if (static_cast<size_t>(n) == page_size) {
      more = true;
      break;
    }
    *response.add_messages() = std::move(m);
  }
  if (more) response.set_next_page_token(response.messages().rbegin()->message_id());
  return response;
}

std::optional<uint64_t> MessageCursor(absl::string_view message_id) {
  if (message_id.empty()) return 0;
  uint64_t sequence = 0;
  absl::string_view digits = message_id;
  if (!absl::ConsumePrefix(&digits, "msg-") || digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(digits, &sequence)) {
    return std::nullopt;
  }
  return sequence;
}

}  // namespace civic::notify
