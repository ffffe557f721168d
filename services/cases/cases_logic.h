// The case store and its rules: opening a case for a routed report (once per report),
// reading cases, and recording every change on the cases change feed in the same atomic
// write as the change itself.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "civic/cases/v1/cases.pb.h"
#include "libs/core/clock.h"
#include "libs/storage/change_feed.h"
#include "libs/storage/store.h"
#include "services/cases/search_index.h"
#include "services/cases/sla.h"

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
enum class Action { kAccept, kStartWork, kResolve, kReject, kTransfer, kReply, kNote };

struct ActionArgs {
  std::string case_id;
  uint64_t expected_version = 0;
  std::string comment;
  v1::RejectReason reject_reason = v1::REJECT_REASON_UNSPECIFIED;
  std::string to_unit_id;  // Transfer
  std::string reason;      // Transfer
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

  // The case as `actor` may see it: NOT_FOUND unless assigned, offered or handled by it;
  // the contact only while it handles the case.
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

  static common::v1::CaseEvent EventFor(const v1::Case& c, uint64_t sequence, absl::Time now);
  // Requires open_mu_.
  absl::StatusOr<v1::Case> AddSupporter(v1::Case master, const v1::OpenCaseRequest& request,
                                        absl::Time now);

  storage::Store* store_;
  const Clock* clock_;
  CasesOptions options_;
  SearchIndex search_;
  SlaCalendar calendar_;
  std::unique_ptr<storage::ChangeFeed> feed_;
  // One mutation at a time: read-check-write of a case (report → case on open, the
  // version on every action) must be atomic. Appends to the feed are serial anyway.
  std::mutex open_mu_;
};

}  // namespace civic::cases
