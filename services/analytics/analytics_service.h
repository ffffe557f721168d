// The analytics gRPC API: aggregates for dashboards.
#pragma once

#include <functional>

#include "civic/analytics/v1/analytics.grpc.pb.h"
#include "libs/core/worker_pool.h"
#include "services/analytics/analytics_logic.h"

namespace civic::analytics {

class AnalyticsService final : public v1::AnalyticsService::CallbackService {
 public:
  // `position` tells the last feed sequence folded in.
  AnalyticsService(const AnalyticsLogic* logic, std::function<uint64_t()> position, int workers)
      : logic_(logic), position_(std::move(position)), pool_(workers) {}

  grpc::ServerUnaryReactor* GetCaseCounts(grpc::CallbackServerContext* context,
                                          const v1::GetCaseCountsRequest* request,
                                          v1::GetCaseCountsResponse* response) override;

 private:
  const AnalyticsLogic* logic_;
  std::function<uint64_t()> position_;
  WorkerPool pool_;
};

}  // namespace civic::analytics
