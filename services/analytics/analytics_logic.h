// Folds case events into the aggregates the operations centre queries: for now, cases
// opened by category and district. Aggregates live in analytics' own store, updated in
// the same batch as the feed cursor, so each event counts exactly once.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "civic/analytics/v1/analytics.pb.h"
#include "civic/common/v1/events.pb.h"
#include "libs/storage/store.h"

namespace civic::analytics {

inline constexpr char kCountsCf[] = "counts";  // category \x1f district → CaseCount
inline constexpr char kMetaCf[] = "meta";      // feed cursor
std::vector<std::string> AnalyticsKeyspaces();

class AnalyticsLogic {
 public:
  explicit AnalyticsLogic(storage::Store* store) : store_(store) {}

  // Adds the effect of `event` to `batch`. Must be called by one thread at a time, with
  // each batch written before the next call (the feed consumer guarantees both), since
  // it reads the current count from the store.
  absl::Status Apply(const common::v1::CaseEvent& event, storage::Batch& batch);

  // Counts matching the request's filters, and their total.
  absl::StatusOr<v1::GetCaseCountsResponse> Counts(const v1::GetCaseCountsRequest& request) const;

 private:
  storage::Store* store_;
};

}  // namespace civic::analytics
