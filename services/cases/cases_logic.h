// The case store and its rules: opening a case for a routed report (once per report),
// reading cases, and recording every change on the cases change feed in the same atomic
// write as the change itself.
#pragma once

#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "civic/cases/v1/cases.pb.h"
#include "libs/core/clock.h"
#include "libs/storage/change_feed.h"
#include "libs/storage/store.h"

namespace civic::cases {

// Keyspaces of the cases store.
inline constexpr char kCasesCf[] = "cases";          // case_id → Case
inline constexpr char kByReportCf[] = "by_report";   // report_id → case_id
inline constexpr char kFeedCf[] = "feed";            // sequence → CaseEvent
std::vector<std::string> CasesKeyspaces();

class CasesLogic {
 public:
  // `store` and `clock` must outlive the logic.
  static absl::StatusOr<std::unique_ptr<CasesLogic>> Create(storage::Store* store,
                                                            const Clock* clock);

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

 private:
  CasesLogic(storage::Store* store, const Clock* clock) : store_(store), clock_(clock) {}

  static bool IsOpen(common::v1::CaseStatus status);
  static common::v1::CaseEvent EventFor(const v1::Case& c, uint64_t sequence, absl::Time now);
  // Requires open_mu_.
  absl::StatusOr<v1::Case> AddSupporter(v1::Case master, const v1::OpenCaseRequest& request,
                                        absl::Time now);

  storage::Store* store_;
  const Clock* clock_;
  std::unique_ptr<storage::ChangeFeed> feed_;
  std::mutex open_mu_;  // one OpenCase at a time: the report → case check must be atomic
};

}  // namespace civic::cases
