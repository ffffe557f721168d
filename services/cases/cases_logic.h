// The case store and its rules: opening a case for a routed report (once per report),
// reading cases, and recording every change on the cases change feed in the same atomic
// write as the change itself.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "civic/cases/v1/cases.pb.h"
#include "libs/core/clock.h"
#include "libs/photos/photos.h"
#include "libs/storage/change_feed.h"
#include "libs/storage/store.h"
#include "services/cases/public_view.h"
#include "services/cases/search_index.h"
#include "services/cases/sla.h"
#include "services/cases/sla_timers.h"

namespace civic::cases {

// Keyspaces of the cases store.
inline constexpr char kCasesCf[] = "cases";          // case_id → Case
inline constexpr char kByReportCf[] = "by_report";   // report_id → case_id
inline constexpr char kFeedCf[] = "feed";            // sequence → CaseEvent
inline constexpr char kByUnitCf[] = "by_unit";       // unit \x1f case_id → "" (its queue)
std::vector<std::string> CasesKeyspaces();

// A unit acting through the agency API. An empty unit id is an unauthenticated caller.
struct Actor {
  std::string unit_id;
};

// What a unit can do to a case.
enum class Action { kAccept, kAssign, kStartWork, kResolve, kReject, kTransfer, kReply, kNote };

struct ActionArgs {
  std::string case_id;
  uint64_t expected_version = 0;
  std::string comment;
  v1::RejectReason reject_reason = v1::REJECT_REASON_UNSPECIFIED;
  std::string to_unit_id;  // Transfer
  std::string reason;      // Transfer
  std::string assignee;    // Assign
  // Reply and Resolve only: photos with the text (the repaired road), at most 5.
  google::protobuf::RepeatedPtrField<common::v1::PhotoUpload> photos;
};

struct CasesOptions {
  // The operations centre of each province ("79" → "hcm.ops_center"): where cases a unit
  // rejects as not its jurisdiction go back to, never into a void.
  std::map<std::string, std::string> triage_by_province;
  // ... and for a province without one.
  std::string triage_unit_id = "ioc.triage";
  // Working time for SLAs: Vietnam's working week and public holidays by default.
  SlaCalendarOptions calendar;
  double at_risk_fraction = 0.8;
  // A citizen may dispute a resolution (rating 1-2) this long after it.
  absl::Duration reopen_window = absl::Hours(24 * 7);
  // The parent of a unit ("" when it has none), where its cases escalate when past due
  // (routing's GetUnit). A transient error (UNAVAILABLE, DEADLINE_EXCEEDED,
  // RESOURCE_EXHAUSTED, CANCELLED) keeps the breach timer for the next tick; no parent
  // (empty, NOT_FOUND, another error, or parent_of unset) escalates to the province's
  // operations centre.
  std::function<absl::StatusOr<std::string>(const std::string& unit_id)> parent_of;
};

class CasesLogic {
 public:
  // `store` and `clock` must outlive the logic.
  static absl::StatusOr<std::unique_ptr<CasesLogic>> Create(storage::Store* store,
                                                            const Clock* clock,
                                                            CasesOptions options = {});

  // Opens the case for `request.report_id`, status NEW, assigned to the routed unit, due
  // `sla_hours` after opening, and appends a CASE_EVENT_TYPE_OPENED event. When
  // `supports_report_id` names a report whose case is still open, the report joins that
  // case as a supporter instead (CASE_EVENT_TYPE_SUPPORTED) and that case is returned.
  // Idempotent: a second call for the same report returns its case and appends nothing.
  // INVALID_ARGUMENT when report_id, tracking_code, category or unit.id is missing.
  absl::StatusOr<v1::Case> OpenCase(const v1::OpenCaseRequest& request);

  // NOT_FOUND when unknown.
  absl::StatusOr<v1::Case> GetCase(const std::string& case_id) const;
  absl::StatusOr<v1::Case> GetCaseByReport(const std::string& report_id) const;

  storage::ChangeFeed* feed() { return feed_.get(); }

  // ---- Agency API (see cases.proto for the contract of each action).

  // Applies `action` for `actor`: checks identity (UNAUTHENTICATED), visibility
  // (NOT_FOUND), the version (ABORTED), who may act (PERMISSION_DENIED) and the status
  // (FAILED_PRECONDITION naming the allowed actions); then writes the case, a history
  // entry and an event in one synced batch. Returns the case as `actor` may see it.
  absl::StatusOr<v1::Case> Act(const Actor& actor, Action action, const ActionArgs& args);

  // The case as `actor` may see it: NOT_FOUND unless assigned, offered or handled by it
  // (or escalated to it when past due); the contact only while it handles the case.
  absl::StatusOr<v1::Case> GetCaseFor(const Actor& actor, const std::string& case_id) const;

  // The actor's cases, newest first.
  absl::StatusOr<v1::ListCasesResponse> ListFor(const Actor& actor,
                                                const v1::ListCasesRequest& request) const;

  // Cases the actor may see matching `query` (see SearchIndex), newest first.
  absl::StatusOr<v1::ListCasesResponse> SearchFor(const Actor& actor, absl::string_view query,
                                                  int page_size) const;

  // The reporter rates a resolved case (see RateResolution in cases.proto):
  // NOT_FOUND unless `tracking_code` is the case's own; FAILED_PRECONDITION unless
  // resolved and not yet rated; INVALID_ARGUMENT for a rating outside 1-5.
  absl::StatusOr<v1::Case> Rate(const v1::RateResolutionRequest& request);

  // ---- SLA timers (sla_timers.cc).

  // Fires the persisted timers due by now, in fire order: an at-risk timer adds an
  // "at_risk" history entry and a CASE_EVENT_TYPE_AT_RISK event; a breach timer
  // escalates the case to its unit's parent (else the province's operations centre):
  // sets escalated_to_unit_id, queues the case for that unit, adds an "escalate" entry
  // and a CASE_EVENT_TYPE_ESCALATED event. Each timer is deleted in the same synced
  // batch as its effect, so none is lost or fired twice across restarts; timers of a
  // closed case or an older deadline are dropped. Returns how many fired. Call it
  // periodically (the module does, every cases.timer_interval_ms).
  absl::StatusOr<int> FireDueTimers();

  // ---- Merging duplicates and reply photos (case_merge.cc).

  // Merges the actor's case `request.case_id` (a duplicate) into `request.into_case_id`
  // (see Merge in cases.proto). UNAUTHENTICATED without an identity; NOT_FOUND when the
  // actor cannot see either case; ABORTED when the duplicate's version is stale;
  // PERMISSION_DENIED unless the actor handles the duplicate; FAILED_PRECONDITION when
  // either case is closed (resolved, closed, rejected, merged) or both are the same case;
  // INVALID_ARGUMENT for missing fields. In one synced batch: the duplicate becomes
  // MERGED with merged_into_case_id and a "merge" history entry; the master gains the
  // duplicate's reporter and supporters as supporters and a "merged" entry; the feed
  // gets the duplicate's STATUS_CHANGED (to MERGED) then the master's MERGED event. The
  // reports keep pointing at the duplicate (a citizen's code still finds their case,
  // which names the master). Returns the duplicate as the actor may see it.
  absl::StatusOr<v1::Case> Merge(const Actor& actor, const v1::MergeRequest& request);

  // The public copy of a photo of a public history entry (reply, resolution) of the
  // case; anyone may read it. NOT_FOUND when the case is unknown or has no public photo
  // with that id.
  absl::StatusOr<common::v1::PhotoContent> GetCasePhoto(const std::string& case_id,
                                                        const std::string& photo_id) const;

  // ---- Public view (public_view.cc): anyone may read it, no identity needed.

  // The case as anyone may see it (ToPublic: no personal data; private reports
  // coarsened). NOT_FOUND when unknown; INVALID_ARGUMENT without an id.
  absl::StatusOr<v1::PublicCase> GetPublic(const std::string& case_id) const;

  // Public cases near a point (geodesic radius), in a box, or anywhere; filtered by
  // category, status, opening time and ids; newest first, one page after `page_token`
  // (the last case id of the previous page). INVALID_ARGUMENT naming every bad field.
  absl::StatusOr<v1::ListPublicCasesResponse> ListPublic(
      const v1::ListPublicCasesRequest& request) const;

  // False once resolved, closed, rejected or merged.
  static bool IsOpen(common::v1::CaseStatus status);

  // Names of the actions a case in `status` allows, for error messages and UIs.
  static std::vector<std::string> AllowedActions(common::v1::CaseStatus status);

 private:
  CasesLogic(storage::Store* store, const Clock* clock, CasesOptions options)
      : store_(store),
        clock_(clock),
        options_(std::move(options)),
        search_(store),
        calendar_(options_.calendar) {}

  // Critical cases (emergencies) run on the wall clock; others in working hours.
  static bool WallClock(const v1::Case& c) {
    return c.priority() == common::v1::PRIORITY_CRITICAL;
  }
  // Sets sla_state for now.
  void StampSla(v1::Case& c) const;

  static bool CanSee(const Actor& actor, const v1::Case& c);
  v1::Case ViewFor(const Actor& actor, v1::Case c) const;
  std::string TriageUnitFor(const v1::Case& c) const;

  // SLA timers (sla_timers.cc). A new deadline from `now` (the case's sla_hours again)
  // and its timers in `batch`.
  void RestartSla(v1::Case& c, absl::Time now, storage::Batch& batch) const;
  // Under open_mu_: deletes `timer` and, unless stale, applies it, all in one batch.
  // Breach timers escalate to `escalate_to`, found as the parent of `unit`; they stay
  // when the case is no longer at `unit`. True when it fired.
  absl::StatusOr<bool> ApplyTimer(const SlaTimer& timer, const std::string& unit,
                                  const std::string& escalate_to, absl::Time now);

  static common::v1::CaseEvent EventFor(const v1::Case& c, uint64_t sequence, absl::Time now);
  // Requires open_mu_.
  absl::StatusOr<v1::Case> AddSupporter(v1::Case master, const v1::OpenCaseRequest& request,
                                        absl::Time now);

  // Fills geo_ from the store (Create, before serving).
  absl::Status LoadPublicIndex();

  storage::Store* store_;
  const Clock* clock_;
  CasesOptions options_;
  SearchIndex search_;
  SlaCalendar calendar_;
  std::unique_ptr<storage::ChangeFeed> feed_;
  // Public locations of the cases, for ListPublic (added to by OpenCase).
  CaseGeoIndex geo_;
  // One mutation at a time: read-check-write of a case (report → case on open, the
  // version on every action) must be atomic. Appends to the feed are serial anyway.
  std::mutex open_mu_;
};

}  // namespace civic::cases
