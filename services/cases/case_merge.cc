// Merging a duplicate case into the case it duplicates, so one master case carries the
// work and everyone who reported the problem follows it; and serving the photos units
// attach to their public replies and resolutions.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/ids.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "services/cases/case_status.h"
#include "services/cases/cases_logic.h"

namespace civic::cases {
namespace {

constexpr char kDomain[] = "cases.civicdesk";

absl::Status CaseNotFound(const std::string& case_id) {
  return WithReason(absl::NotFoundError(absl::StrCat("no case ", case_id)), "CASE_NOT_FOUND",
                    kDomain);
}

}  // namespace

absl::StatusOr<v1::Case> CasesLogic::Merge(const Actor& actor, const v1::MergeRequest& request) {
  FieldErrors errors;
  if (request.case_id().empty()) errors.Add("case_id", "is required");
  if (request.expected_version() == 0) errors.Add("expected_version", "is required");
  if (request.into_case_id().empty()) errors.Add("into_case_id", "is required");
  if (request.comment().size() > 10000) errors.Add("comment", "at most 10,000 bytes");
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));

  std::lock_guard lock(open_mu_);
  // Identity and visibility of the duplicate first, so ids cannot be probed.
  CIVIC_RETURN_IF_ERROR(GetCaseFor(actor, request.case_id()).status());
  CIVIC_ASSIGN_OR_RETURN(v1::Case dup, GetCase(request.case_id()));
  if (dup.version() != request.expected_version()) {
    return WithReason(absl::AbortedError(absl::StrCat(
                          "the case changed (version ", dup.version(), ", you saw ",
                          request.expected_version(), "): reload it and try again")),
                      "STALE_VERSION", kDomain);
  }
  if (dup.unit().id() != actor.unit_id) {
    return WithReason(
        absl::PermissionDeniedError("only the unit handling this case may merge it"),
        "NOT_HANDLING_UNIT", kDomain);
  }
  const common::v1::CaseStatus from = dup.status();
  if (!IsOpen(from)) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "cannot merge a case that is ", CaseStatusWord(from), "; allowed: ",
                          absl::StrJoin(AllowedActions(from), ", "))),
                      "ACTION_NOT_ALLOWED", kDomain);
  }
  if (request.into_case_id() == request.case_id()) {
    return WithReason(absl::FailedPreconditionError("a case cannot be merged into itself"),
                      "ACTION_NOT_ALLOWED", kDomain);
  }
  // The master: an unknown case and one the actor may not see look the same.
  absl::StatusOr<v1::Case> found = GetCase(request.into_case_id());
  if (found.status().code() == absl::StatusCode::kNotFound ||
      (found.ok() && !CanSee(actor, *found))) {
    return CaseNotFound(request.into_case_id());
  }
  if (!found.ok()) return found.status();
  v1::Case master = *std::move(found);
  if (!IsOpen(master.status())) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "cannot merge into a case that is ", CaseStatusWord(master.status()),
                          ": only an open case can take over a duplicate")),
                      "ACTION_NOT_ALLOWED", kDomain);
  }

  const absl::Time now = clock_->Now();
  // The duplicate: closed as merged, pointing at its master. Its supporters stay on
  // its record (its history), but follow the master from now on.
  dup.set_status(common::v1::CASE_STATUS_MERGED);
  dup.set_merged_into_case_id(master.case_id());
  dup.clear_offered_to_unit_id();  // a pending transfer offer lapses
  dup.set_version(dup.version() + 1);
  *dup.mutable_updated_at() = ToTimestamp(now);
  v1::HistoryEntry* merge = dup.add_history();
  *merge->mutable_at() = ToTimestamp(now);
  merge->set_actor(actor.unit_id);
  merge->set_action("merge");
  merge->set_from_status(from);
  merge->set_to_status(common::v1::CASE_STATUS_MERGED);
  merge->set_comment(request.comment());  // internal
  merge->set_reason(master.case_id());
  merge->set_version(dup.version());

  // The master: the duplicate's reporter and its supporters join it, as a "+1" would.
  const int supporters_before = master.supporters_size();
  v1::Supporter* reporter = master.add_supporters();
  reporter->set_report_id(dup.report_id());
  reporter->set_tracking_code(dup.tracking_code());
  *reporter->mutable_joined_at() = ToTimestamp(now);
  if (!dup.anonymous()) *reporter->mutable_contact() = dup.contact();
  for (const auto& s : dup.supporters()) {
    v1::Supporter* moved = master.add_supporters();
    *moved = s;
    *moved->mutable_joined_at() = ToTimestamp(now);
  }
  master.set_version(master.version() + 1);
  *master.mutable_updated_at() = ToTimestamp(now);
  v1::HistoryEntry* merged = master.add_history();
  *merged->mutable_at() = ToTimestamp(now);
  merged->set_actor(actor.unit_id);
  merged->set_action("merged");
  merged->set_from_status(master.status());
  merged->set_to_status(master.status());
  merged->set_reason(dup.case_id());
  merged->set_version(master.version());

  // Reports (by_report) keep pointing at the duplicate; the unit queues are unchanged.
  storage::Batch batch(store_);
  batch.Put(kCasesCf, dup.case_id(), dup.SerializeAsString());
  batch.Put(kCasesCf, master.case_id(), master.SerializeAsString());
  CIVIC_RETURN_IF_ERROR(
      feed_->AppendAllAndWrite(batch, 2, [&](size_t i, uint64_t sequence) {
              if (i == 0) {
                // The duplicate's reporter and followers hear of the merge from this one.
                common::v1::CaseEvent event = EventFor(dup, sequence, now);
                event.set_type(common::v1::CASE_EVENT_TYPE_STATUS_CHANGED);
                event.set_from_status(from);
                event.set_to_status(common::v1::CASE_STATUS_MERGED);
                event.set_merged_into_case_id(master.case_id());
                return event.SerializeAsString();
              }
              common::v1::CaseEvent event = EventFor(master, sequence, now);
              event.set_type(common::v1::CASE_EVENT_TYPE_MERGED);
              event.set_merged_case_id(dup.case_id());
              return event.SerializeAsString();
            })
          .status());
  CIVIC_LOG_INFO("case {} merged into case {} by {} ({} → {} supporters, v{})", dup.case_id(),
                 master.case_id(), actor.unit_id, supporters_before, master.supporters_size(),
                 master.version());
  return ViewFor(actor, std::move(dup));
}

absl::StatusOr<common::v1::PhotoContent> CasesLogic::GetCasePhoto(
    const std::string& case_id, const std::string& photo_id) const {
  if (case_id.empty() || photo_id.empty()) return CaseNotFound(case_id);
  absl::StatusOr<v1::Case> c = GetCase(case_id);
  if (!c.ok()) return c.status();
  // Only photos shown with a public text; anything else (and any other case's photo)
  // reads as absent.
  const bool shown = std::any_of(c->history().begin(), c->history().end(),
                                 [&](const v1::HistoryEntry& e) {
                                   return e.public_comment() &&
                                          std::find(e.photo_ids().begin(), e.photo_ids().end(),
                                                    photo_id) != e.photo_ids().end();
                                 });
  if (!shown) {
    return WithReason(absl::NotFoundError("the case has no public photo with that id"),
                      "PHOTO_NOT_FOUND", kDomain);
  }
  return photos::PhotoStore(store_).GetPublic(photo_id);
}

}  // namespace civic::cases
