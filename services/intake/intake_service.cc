#include "services/intake/intake_service.h"

#include "libs/core/status.h"
#include "libs/rpc/unary.h"
#include "services/intake/metrics.h"

namespace civic::intake {
namespace {

std::string MetadataValue(const grpc::CallbackServerContext& context, const char* key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(key);
  if (it == metadata.end()) return "";
  // Bounded: metadata is caller-controlled and becomes map keys.
  return std::string(it->second.data(), std::min<size_t>(it->second.size(), 128));
}

Caller CallerOf(const grpc::CallbackServerContext& context) {
  Caller caller;
  if (std::string client = MetadataValue(context, kClientIdMetadata); !client.empty()) {
    caller.client_id = std::move(client);
  }
  caller.device_id = MetadataValue(context, kDeviceIdMetadata);
  return caller;
}

}  // namespace

grpc::ServerUnaryReactor* IntakeService::SubmitReport(grpc::CallbackServerContext* context,
                                                      const v1::SubmitReportRequest* request,
                                                      v1::SubmitReportResponse* response) {
  return rpc::RunUnary(context, pool_, [this, request, response,
                                        caller = CallerOf(*context)]() -> absl::Status {
    auto& metrics = IntakeMetrics::Get();
    absl::StatusOr<v1::SubmitReportResponse> result = logic_->Submit(*request, caller);
    if (!result.ok()) {
      switch (result.status().code()) {
        case absl::StatusCode::kInvalidArgument: metrics.invalid.Increment(); break;
        case absl::StatusCode::kPermissionDenied: metrics.blocked.Increment(); break;
        case absl::StatusCode::kResourceExhausted: metrics.rate_limited.Increment(); break;
        default: metrics.failed.Increment();
      }
      return result.status();
    }
    if (!result->supports_tracking_code().empty()) metrics.supporting.Increment();
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

grpc::ServerUnaryReactor* IntakeService::GetPhoto(grpc::CallbackServerContext* context,
                                                  const v1::GetPhotoRequest* request,
                                                  common::v1::PhotoContent* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->GetPhoto(request->photo_id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::ListBlocks(grpc::CallbackServerContext* context,
                                                    const v1::ListBlocksRequest*,
                                                    v1::ListBlocksResponse* response) {
  return rpc::RunUnary(context, pool_, [this, response]() -> absl::Status {
    for (auto& block : blocklist_->List()) *response->add_blocks() = std::move(block);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::PutBlock(grpc::CallbackServerContext* context,
                                                  const v1::Block* request,
                                                  v1::Block* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(*response, blocklist_->Put(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::DeleteBlock(grpc::CallbackServerContext* context,
                                                     const v1::DeleteBlockRequest* request,
                                                     v1::DeleteBlockResponse*) {
  return rpc::RunUnary(context, pool_, [this, request]() -> absl::Status {
    return blocklist_->Delete(request->kind(), request->value());
  });
}

}  // namespace civic::intake
