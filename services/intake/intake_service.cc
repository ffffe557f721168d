#include "services/intake/intake_service.h"

#include "libs/core/status.h"
#include "libs/rpc/unary.h"
#include "services/intake/metrics.h"

namespace civic::intake {
namespace {

std::string ClientIdOf(const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kClientIdMetadata);
  if (it == metadata.end() || it->second.empty()) return "public";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

grpc::ServerUnaryReactor* IntakeService::SubmitReport(grpc::CallbackServerContext* context,
                                                      const v1::SubmitReportRequest* request,
                                                      v1::SubmitReportResponse* response) {
  std::string client_id = ClientIdOf(*context);
  return rpc::RunUnary(context, pool_, [this, request, response,
                                        client_id = std::move(client_id)]() -> absl::Status {
    auto& metrics = IntakeMetrics::Get();
    absl::StatusOr<v1::SubmitReportResponse> result = logic_->Submit(*request, client_id);
    if (!result.ok()) {
      (result.status().code() == absl::StatusCode::kInvalidArgument ? metrics.invalid
                                                                     : metrics.failed)
          .Increment();
      return result.status();
    }
    (result->replayed() ? metrics.replayed : metrics.accepted).Increment();
    *response = std::move(*result);
    if (!response->replayed()) outbox_->Wake();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::GetReportStatus(
    grpc::CallbackServerContext* context, const v1::GetReportStatusRequest* request,
    v1::ReportStatus* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->GetStatus(request->tracking_code(), *cases_));
    return absl::OkStatus();
  });
}

}  // namespace civic::intake
