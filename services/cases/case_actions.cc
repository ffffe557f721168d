// The case state machine and the agency API's rules: who may do what to a case, in
// which status, and what each action changes. Every action is one synced batch: the
// case, its history entry, its queue index and its event.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/ids.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "services/cases/case_status.h"
#include "services/cases/cases_logic.h"

namespace civic::cases {
namespace {

using common::v1::CaseStatus;
constexpr char kDomain[] = "cases.civicdesk";

absl::string_view ActionName(Action action) {
  switch (action) {
    case Action::kAccept: return "accept";
    case Action::kAssign: return "assign";
    case Action::kStartWork: return "start";
    case Action::kResolve: return "resolve";
    case Action::kReject: return "reject";
    case Action::kTransfer: return "transfer";
    case Action::kReply: return "reply";
    case Action::kNote: return "note";
  }
  return "?";
}

// The statuses each action may start from (who may act is checked separately).
bool AllowedIn(Action action, CaseStatus s) {
  using common::v1::CaseStatus;
  switch (action) {
    case Action::kAccept:
      return s == common::v1::CASE_STATUS_NEW || s == common::v1::CASE_STATUS_REOPENED ||
             s == common::v1::CASE_STATUS_TRANSFERRED;
    case Action::kAssign:
      return s == common::v1::CASE_STATUS_ACCEPTED || s == common::v1::CASE_STATUS_ASSIGNED ||
             s == common::v1::CASE_STATUS_IN_PROGRESS;
    case Action::kStartWork:
      return s == common::v1::CASE_STATUS_ACCEPTED || s == common::v1::CASE_STATUS_ASSIGNED;
    case Action::kResolve:
      return s == common::v1::CASE_STATUS_ACCEPTED || s == common::v1::CASE_STATUS_ASSIGNED ||
             s == common::v1::CASE_STATUS_IN_PROGRESS;
    case Action::kReject:
    case Action::kTransfer:
      return s == common::v1::CASE_STATUS_NEW || s == common::v1::CASE_STATUS_ACCEPTED ||
             s == common::v1::CASE_STATUS_ASSIGNED || s == common::v1::CASE_STATUS_IN_PROGRESS ||
             s == common::v1::CASE_STATUS_REOPENED ||
             (action == Action::kReject && s == common::v1::CASE_STATUS_TRANSFERRED);
    case Action::kReply:
      return s != common::v1::CASE_STATUS_CLOSED && s != common::v1::CASE_STATUS_MERGED &&
             s != common::v1::CASE_STATUS_REJECTED;
    case Action::kNote:
      return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> CasesLogic::AllowedActions(CaseStatus status) {
  std::vector<std::string> out;
  for (Action a : {Action::kAccept, Action::kAssign, Action::kStartWork, Action::kResolve, Action::kReject,
                   Action::kTransfer, Action::kReply, Action::kNote}) {
    if (AllowedIn(a, status)) out.emplace_back(ActionName(a));
  }
  // Merging into another case (CasesLogic::Merge) is open to any open case.
  if (IsOpen(status)) out.emplace_back("merge");
  return out;
}

bool CasesLogic::CanSee(const Actor& actor, const v1::Case& c) {
  if (actor.unit_id.empty()) return false;
  if (c.unit().id() == actor.unit_id || c.offered_to_unit_id() == actor.unit_id) return true;
  // The parent a past-due case escalated to follows it (without the contact: ViewFor).
  if (c.escalated_to_unit_id() == actor.unit_id) return true;
  return std::find(c.handled_by().begin(), c.handled_by().end(), actor.unit_id) !=
         c.handled_by().end();
}

v1::Case CasesLogic::ViewFor(const Actor& actor, v1::Case c) const {
  StampSla(c);
  // The citizen's contact is for the unit handling the case, and only while it does.
  if (c.unit().id() != actor.unit_id) {
    c.clear_contact();
    for (auto& s : *c.mutable_supporters()) s.clear_contact();
  }
  return c;
}

std::string CasesLogic::TriageUnitFor(const v1::Case& c) const {
  auto it = options_.triage_by_province.find(c.area().province_code());
  return it != options_.triage_by_province.end() ? it->second : options_.triage_unit_id;
}

absl::StatusOr<v1::Case> CasesLogic::GetCaseFor(const Actor& actor,
                                                const std::string& case_id) const {
  if (actor.unit_id.empty()) {
    return WithReason(absl::UnauthenticatedError("no unit identity"), "UNAUTHENTICATED",
                      kDomain);
  }
  absl::StatusOr<v1::Case> c = GetCase(case_id);
  if (!c.ok()) return c.status();
  if (!CanSee(actor, *c)) {
    return WithReason(absl::NotFoundError(absl::StrCat("no case ", case_id)), "CASE_NOT_FOUND",
                      kDomain);
  }
  return ViewFor(actor, *std::move(c));
}

absl::StatusOr<v1::Case> CasesLogic::Act(const Actor& actor, Action action,
                                         const ActionArgs& args) {
  FieldErrors errors;
  if (args.case_id.empty()) errors.Add("case_id", "is required");
  if (args.expected_version == 0) errors.Add("expected_version", "is required");
  const bool needs_text = action == Action::kResolve || action == Action::kReply ||
                          action == Action::kNote;
  if (needs_text && args.comment.empty()) errors.Add("comment", "is required");
  if (args.comment.size() > 10000) errors.Add("comment", "at most 10,000 bytes");
  if (action == Action::kReject && args.reject_reason == v1::REJECT_REASON_UNSPECIFIED) {
    errors.Add("reason", "is required");
  }
  if (action == Action::kAssign &&
      (args.assignee.empty() || args.assignee.size() > 128)) {
    errors.Add("assignee", "is required, at most 128 bytes");
  }
  if (action == Action::kTransfer && args.to_unit_id.empty()) {
    errors.Add("to_unit_id", "is required");
  }
  // Photos go with public texts only (the repaired road), never with notes or moves.
  if (!args.photos.empty()) {
    if (action == Action::kReply || action == Action::kResolve) {
      photos::CheckPhotos(args.photos, photos::PhotoLimits{}, errors);
    } else {
      errors.Add("photos", "only a reply or a resolution may carry photos");
    }
  }
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));

  std::lock_guard lock(open_mu_);
  CIVIC_ASSIGN_OR_RETURN(v1::Case c, GetCaseFor(actor, args.case_id));
  // GetCaseFor stripped what the actor may not see; act on the full record.
  CIVIC_ASSIGN_OR_RETURN(c, GetCase(args.case_id));
  if (c.version() != args.expected_version) {
    return WithReason(absl::AbortedError(absl::StrCat(
                          "the case changed (version ", c.version(), ", you saw ",
                          args.expected_version, "): reload it and try again")),
                      "STALE_VERSION", kDomain);
  }
  const CaseStatus from = c.status();
  if (!AllowedIn(action, from)) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "cannot ", ActionName(action), " a case that is ", CaseStatusWord(from),
                          "; allowed: ", absl::StrJoin(AllowedActions(from), ", "))),
                      "ACTION_NOT_ALLOWED", kDomain);
  }
  // Who may act: the offered unit only accepts or declines a transfer; everything else
  // is for the unit handling the case.
  const bool offered = from == common::v1::CASE_STATUS_TRANSFERRED &&
                       c.offered_to_unit_id() == actor.unit_id;
  const bool handling = c.unit().id() == actor.unit_id;
  const bool may = offered ? (action == Action::kAccept || action == Action::kReject)
                           : handling && !(from == common::v1::CASE_STATUS_TRANSFERRED &&
                                           action == Action::kAccept);
  // The unit a past-due case escalated to reads it and may leave internal notes.
  const bool escalated_note =
      action == Action::kNote && c.escalated_to_unit_id() == actor.unit_id;
  if (!may && !escalated_note) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          "only the unit handling this case may ", ActionName(action), " it")),
                      "NOT_HANDLING_UNIT", kDomain);
  }

  const absl::Time now = clock_->Now();
  storage::Batch batch(store_);
  v1::HistoryEntry entry;
  *entry.mutable_at() = ToTimestamp(now);
  entry.set_actor(actor.unit_id);
  entry.set_action(std::string(ActionName(action)));
  entry.set_from_status(from);
  common::v1::CaseEventType event_type = common::v1::CASE_EVENT_TYPE_STATUS_CHANGED;
  std::string public_text;
  std::string reason;

  auto add_handler = [&](const std::string& unit) {
    if (std::find(c.handled_by().begin(), c.handled_by().end(), unit) == c.handled_by().end()) {
      c.add_handled_by(unit);
    }
  };
  auto assign_to = [&](const std::string& unit) {
    add_handler(c.unit().id());
    c.mutable_unit()->Clear();
    c.mutable_unit()->set_id(unit);
    batch.Put(kByUnitCf, absl::StrCat(unit, "\x1f", c.case_id()), "");
  };

  switch (action) {
    case Action::kAccept:
      if (offered) {
        assign_to(actor.unit_id);
        c.clear_offered_to_unit_id();
      }
      c.set_status(common::v1::CASE_STATUS_ACCEPTED);
      add_handler(actor.unit_id);
      break;
    case Action::kAssign:
      c.set_status(common::v1::CASE_STATUS_ASSIGNED);
      c.set_assignee(args.assignee);
      break;
    case Action::kStartWork:
      c.set_status(common::v1::CASE_STATUS_IN_PROGRESS);
      break;
    case Action::kResolve:
      c.set_status(common::v1::CASE_STATUS_RESOLVED);
      *c.mutable_resolved_at() = ToTimestamp(now);
      entry.set_public_comment(true);
      public_text = args.comment;
      break;
    case Action::kReject: {
      reason = v1::RejectReason_Name(args.reject_reason);
      entry.set_public_comment(true);
      public_text = args.comment;
      if (offered) {
        // Declining a transfer: the case goes back to the unit that offered it, in the
        // status it had before.
        CaseStatus before = common::v1::CASE_STATUS_ACCEPTED;
        for (auto it = c.history().rbegin(); it != c.history().rend(); ++it) {
          if (it->action() == "transfer") {
            before = it->from_status();
            break;
          }
        }
        add_handler(actor.unit_id);
        c.clear_offered_to_unit_id();
        c.set_status(before);
        entry.set_public_comment(false);
        public_text.clear();
      } else if (args.reject_reason == v1::REJECT_REASON_NOT_OUR_JURISDICTION) {
        // Never into a void: back to the operations centre to be routed again.
        const std::string triage = TriageUnitFor(c);
        assign_to(triage);
        entry.set_to_unit_id(triage);
        c.set_status(common::v1::CASE_STATUS_NEW);
      } else {
        c.set_status(common::v1::CASE_STATUS_REJECTED);
      }
      break;
    }
    case Action::kTransfer:
      if (args.to_unit_id == c.unit().id()) {
        return WithReason(absl::InvalidArgumentError("a case cannot be transferred to its own unit"),
                          "INVALID_FIELDS", kDomain);
      }
      c.set_status(common::v1::CASE_STATUS_TRANSFERRED);
      c.set_offered_to_unit_id(args.to_unit_id);
      entry.set_to_unit_id(args.to_unit_id);
      reason = args.reason;
      batch.Put(kByUnitCf, absl::StrCat(args.to_unit_id, "\x1f", c.case_id()), "");
      break;
    case Action::kReply:
      entry.set_public_comment(true);
      public_text = args.comment;
      event_type = common::v1::CASE_EVENT_TYPE_REPLIED;
      break;
    case Action::kNote:
      event_type = common::v1::CASE_EVENT_TYPE_NOTE_ADDED;
      break;
  }
  if (!args.photos.empty()) {
    // Stored with the entry that shows them, in its batch: both become durable or neither.
    CIVIC_ASSIGN_OR_RETURN(std::vector<std::string> photo_ids,
                           photos::PhotoStore(store_).Add(args.photos, batch, now));
    for (auto& id : photo_ids) entry.add_photo_ids(std::move(id));
  }
  entry.set_comment(args.comment);
  entry.set_reason(reason);
  // Who in the unit has it stays in the case's history, never on the feed.
  if (action == Action::kAssign) entry.set_reason(absl::StrCat("assignee ", args.assignee));
  entry.set_to_status(c.status());
  c.set_version(c.version() + 1);
  entry.set_version(c.version());
  *c.mutable_updated_at() = ToTimestamp(now);
  *c.add_history() = entry;

  batch.Put(kCasesCf, c.case_id(), c.SerializeAsString());
  // Public texts are searchable; internal notes are not indexed (search results carry
  // no notes, but the words alone must not reveal them either).
  if (entry.public_comment() && !args.comment.empty()) search_.Index(c.case_id(), args.comment, batch);
  CIVIC_RETURN_IF_ERROR(feed_->AppendAndWrite(batch, [&](uint64_t sequence) {
                                common::v1::CaseEvent event = EventFor(c, sequence, now);
                                event.set_type(event_type);
                                event.set_from_status(from);
                                event.set_to_status(c.status());
                                event.set_public_text(public_text);
                                event.set_reason(reason);
                                return event.SerializeAsString();
                              })
                            .status());
  CIVIC_LOG_INFO("case {}: {} by {} ({} → {}, v{})", c.case_id(), ActionName(action),
                 actor.unit_id, CaseStatusWord(from), CaseStatusWord(c.status()), c.version());
  return ViewFor(actor, std::move(c));
}

absl::StatusOr<v1::ListCasesResponse> CasesLogic::ListFor(
    const Actor& actor, const v1::ListCasesRequest& request) const {
  if (actor.unit_id.empty()) {
    return WithReason(absl::UnauthenticatedError("no unit identity"), "UNAUTHENTICATED",
                      kDomain);
  }
  const int page_size = request.page_size() <= 0 ? 50 : std::min(request.page_size(), 500);
  const std::string prefix = absl::StrCat(actor.unit_id, "\x1f");
  const bool oldest_first = request.order() == v1::LIST_ORDER_OLDEST_FIRST;
  const absl::Time opened_after = request.has_opened_after()
                                      ? FromTimestamp(request.opened_after())
                                      : absl::InfinitePast();
  const absl::Time opened_before = request.has_opened_before()
                                       ? FromTimestamp(request.opened_before())
                                       : absl::InfiniteFuture();
  const std::string& area = request.area_code();
  const absl::Time now = clock_->Now();
  v1::ListCasesResponse response;
  absl::Status status;
  std::string last_id;
  auto visit = [&](absl::string_view key, absl::string_view) {
    const std::string case_id(key.substr(prefix.size()));
    // Forward scans start at the token itself: it was the last page's last case.
    if (oldest_first && !request.page_token().empty() && case_id == request.page_token()) {
      return true;
    }
    last_id = case_id;
    absl::StatusOr<v1::Case> c = GetCase(case_id);
    if (!c.ok()) {
      status = c.status();
      return false;
    }
    if (!CanSee(actor, *c)) return true;  // queued here once, since moved on
    if (request.status() != common::v1::CASE_STATUS_UNSPECIFIED &&
        c->status() != request.status()) {
      return true;
    }
    if (!request.category().empty() && c->category() != request.category()) return true;
    if (request.overdue() && !(IsOpen(c->status()) && FromTimestamp(c->due_at()) < now)) {
      return true;
    }
    if (!area.empty() && c->area().province_code() != area && c->area().district_code() != area &&
        c->area().ward_code() != area) {
      return true;
    }
    const absl::Time opened = FromTimestamp(c->opened_at());
    if (opened < opened_after || opened >= opened_before) return true;
    *response.add_cases() = ViewFor(actor, *std::move(c));
    return response.cases_size() < page_size;
  };
  if (oldest_first) {
    const std::string start =
        request.page_token().empty() ? prefix : absl::StrCat(prefix, request.page_token());
    CIVIC_RETURN_IF_ERROR(store_->Scan(kByUnitCf, prefix, start, visit));
  } else {
    const std::string before =
        request.page_token().empty() ? "" : absl::StrCat(prefix, request.page_token());
    CIVIC_RETURN_IF_ERROR(store_->ScanBackward(kByUnitCf, prefix, before, visit));
  }
  CIVIC_RETURN_IF_ERROR(status);
  if (response.cases_size() == page_size) response.set_next_page_token(last_id);
  return response;
}

absl::StatusOr<v1::Case> CasesLogic::Rate(const v1::RateResolutionRequest& request) {
  FieldErrors errors;
  if (request.case_id().empty()) errors.Add("case_id", "is required");
  if (request.rating() < 1 || request.rating() > 5) errors.Add("rating", "must be 1 to 5");
  if (request.comment().size() > 2000) errors.Add("comment", "at most 2,000 bytes");
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));

  std::lock_guard lock(open_mu_);
  absl::StatusOr<v1::Case> found = GetCase(request.case_id());
  // Only the citizen who reported, known by their code, may rate; anyone else learns
  // nothing about the case.
  if (!found.ok() || found->tracking_code() != request.tracking_code()) {
    return WithReason(absl::NotFoundError(absl::StrCat("no case ", request.case_id())),
                      "CASE_NOT_FOUND", kDomain);
  }
  v1::Case c = *std::move(found);
  if (c.status() != common::v1::CASE_STATUS_RESOLVED || c.has_satisfaction()) {
    return WithReason(
        absl::FailedPreconditionError("only a resolved case can be rated, and only once"),
        "ACTION_NOT_ALLOWED", kDomain);
  }
  const absl::Time now = clock_->Now();
  const CaseStatus from = c.status();
  const bool disputed = request.rating() <= 2 &&
                        now - FromTimestamp(c.resolved_at()) <= options_.reopen_window;
  c.set_status(disputed ? common::v1::CASE_STATUS_REOPENED : common::v1::CASE_STATUS_CLOSED);
  if (disputed) {
    // The rating stays in the history; the next resolution can be rated afresh.
    c.clear_satisfaction();
  } else {
    v1::Satisfaction* satisfaction = c.mutable_satisfaction();
    satisfaction->set_rating(request.rating());
    satisfaction->set_comment(request.comment());
    *satisfaction->mutable_rated_at() = ToTimestamp(now);
  }
  c.set_version(c.version() + 1);
  *c.mutable_updated_at() = ToTimestamp(now);
  v1::HistoryEntry* entry = c.add_history();
  *entry->mutable_at() = ToTimestamp(now);
  entry->set_actor("citizen");
  entry->set_action("rate");
  entry->set_from_status(from);
  entry->set_to_status(c.status());
  entry->set_comment(request.comment());
  entry->set_reason(absl::StrCat("rating ", request.rating()));
  entry->set_version(c.version());

  storage::Batch batch(store_);
  if (disputed) RestartSla(c, now, batch);  // a fresh deadline and its timers
  batch.Put(kCasesCf, c.case_id(), c.SerializeAsString());
  CIVIC_RETURN_IF_ERROR(feed_->AppendAndWrite(batch, [&](uint64_t sequence) {
                                common::v1::CaseEvent event = EventFor(c, sequence, now);
                                event.set_type(common::v1::CASE_EVENT_TYPE_RATED);
                                event.set_from_status(from);
                                event.set_to_status(c.status());
                                event.set_rating(request.rating());
                                return event.SerializeAsString();
                              })
                            .status());
  CIVIC_LOG_INFO("case {} rated {} by the citizen ({})", c.case_id(), request.rating(),
                 disputed ? "reopened" : "closed");
  c.clear_contact();  // the caller is not a unit
  return c;
}

absl::StatusOr<v1::ListCasesResponse> CasesLogic::SearchFor(const Actor& actor,
                                                            absl::string_view query,
                                                            int page_size) const {
  if (actor.unit_id.empty()) {
    return WithReason(absl::UnauthenticatedError("no unit identity"), "UNAUTHENTICATED",
                      kDomain);
  }
  const size_t limit = page_size <= 0 ? 20 : static_cast<size_t>(std::min(page_size, 200));
  v1::ListCasesResponse response;
  absl::Status status;
  CIVIC_ASSIGN_OR_RETURN(
      std::vector<std::string> ids,
      search_.Search(query, limit, [&](const std::string& case_id) {
        absl::StatusOr<v1::Case> c = GetCase(case_id);
        if (!c.ok()) {
          status = c.status();
          return false;
        }
        return CanSee(actor, *c);
      }));
  CIVIC_RETURN_IF_ERROR(status);
  for (const auto& id : ids) {
    CIVIC_ASSIGN_OR_RETURN(v1::Case c, GetCase(id));
    *response.add_cases() = ViewFor(actor, std::move(c));
  }
  return response;
}

}  // namespace civic::cases
