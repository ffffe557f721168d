#include "services/analytics/analytics_service.h"

#include "libs/core/status.h"
#include "libs/rpc/unary.h"

namespace civic::analytics {

grpc::ServerUnaryReactor* AnalyticsService::GetCaseCounts(
    grpc::CallbackServerContext* context, const v1::GetCaseCountsRequest* request,
    v1::GetCaseCountsResponse* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    // Read the position first: the counts are then at least that fresh.
    const uint64_t position = position_();
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->Counts(*request));
    response->set_feed_sequence(position);
    return absl::OkStatus();
  });
}

}  // namespace civic::analytics
