// The intake gRPC API. Submissions run on a worker pool so that many synced writes are
// in flight at once (RocksDB group-commits them); gRPC's threads never wait on fsync.
#pragma once

#include "civic/intake/v1/intake.grpc.pb.h"
#include "libs/auth/caller.h"
#include "libs/core/worker_pool.h"
#include "services/intake/intake_logic.h"
#include "services/intake/api_keys.h"
#include "services/intake/my_reports.h"
#include "services/intake/outbox.h"

namespace civic::intake {

// Who may do what (authentication): the keys callers' bearer tokens are verified with,
// and the stores of API keys and report owners. Pointers are not owned.
struct IntakeAccess {
  // Without keys every token is refused: the admin RPCs (blocklist, API keys; role
  // "admin") are then closed, and "my reports" serves devices only.
  auth::Authorizer authorizer;
  ApiKeyStore* api_keys = nullptr;        // null: the API key RPCs are UNAVAILABLE
  const MyReports* my_reports = nullptr;  // null: ListMyReports is UNAVAILABLE
};

class IntakeService final : public v1::IntakeService::CallbackService {
 public:
  // Nothing is owned.
  IntakeService(IntakeLogic* logic, Blocklist* blocklist, Outbox* outbox, CasesClient* cases,
                int workers, IntakeAccess access = {})
      : logic_(logic),
        blocklist_(blocklist),
        outbox_(outbox),
        cases_(cases),
        access_(std::move(access)),
        pool_(workers) {}

  grpc::ServerUnaryReactor* SubmitReport(grpc::CallbackServerContext* context,
                                         const v1::SubmitReportRequest* request,
                                         v1::SubmitReportResponse* response) override;
  grpc::ServerUnaryReactor* GetReportStatus(grpc::CallbackServerContext* context,
                                            const v1::GetReportStatusRequest* request,
                                            v1::ReportStatus* response) override;
  grpc::ServerUnaryReactor* RateReport(grpc::CallbackServerContext* context,
                                       const v1::RateReportRequest* request,
                                       v1::ReportStatus* response) override;
  grpc::ServerUnaryReactor* GetPhoto(grpc::CallbackServerContext* context,
                                     const v1::GetPhotoRequest* request,
                                     common::v1::PhotoContent* response) override;
  grpc::ServerUnaryReactor* ListBlocks(grpc::CallbackServerContext* context,
                                       const v1::ListBlocksRequest* request,
                                       v1::ListBlocksResponse* response) override;
  grpc::ServerUnaryReactor* PutBlock(grpc::CallbackServerContext* context,
                                     const v1::Block* request, v1::Block* response) override;
  grpc::ServerUnaryReactor* DeleteBlock(grpc::CallbackServerContext* context,
                                        const v1::DeleteBlockRequest* request,
                                        v1::DeleteBlockResponse* response) override;

  // ---- The category catalogue (Open311's services). Answered inline: in memory.
  grpc::ServerUnaryReactor* ListCategories(grpc::CallbackServerContext* context,
                                           const v1::ListCategoriesRequest* request,
                                           v1::ListCategoriesResponse* response) override;
  grpc::ServerUnaryReactor* GetCategory(grpc::CallbackServerContext* context,
                                        const v1::GetCategoryRequest* request,
                                        v1::Category* response) override;

  // ---- Authentication: apps' API keys (admin; CheckApiKey for the gateway) and the
  // caller's own reports.
  grpc::ServerUnaryReactor* CreateApiKey(grpc::CallbackServerContext* context,
                                         const v1::CreateApiKeyRequest* request,
                                         v1::ApiKey* response) override;
  grpc::ServerUnaryReactor* ListApiKeys(grpc::CallbackServerContext* context,
                                        const v1::ListApiKeysRequest* request,
                                        v1::ListApiKeysResponse* response) override;
  grpc::ServerUnaryReactor* RevokeApiKey(grpc::CallbackServerContext* context,
                                         const v1::RevokeApiKeyRequest* request,
                                         v1::ApiKey* response) override;
  grpc::ServerUnaryReactor* CheckApiKey(grpc::CallbackServerContext* context,
                                        const v1::CheckApiKeyRequest* request,
                                        v1::ApiKeyCheck* response) override;
  grpc::ServerUnaryReactor* ListMyReports(grpc::CallbackServerContext* context,
                                          const v1::ListMyReportsRequest* request,
                                          v1::ListMyReportsResponse* response) override;
  grpc::ServerUnaryReactor* ListMyTrackingCodes(
      grpc::CallbackServerContext* context, const v1::ListMyTrackingCodesRequest* request,
      v1::ListMyTrackingCodesResponse* response) override;

 private:
  // OK for staff with role "admin" (see auth::RequireRole for the errors).
  absl::Status RequireAdmin(const grpc::CallbackServerContext& context) const;

  IntakeLogic* logic_;
  Blocklist* blocklist_;
  Outbox* outbox_;
  CasesClient* cases_;
  IntakeAccess access_;
  WorkerPool pool_;
};

// Metadata naming the calling client (an app, a hotline system; retries are
// de-duplicated per client) and the citizen's device (auth::kDeviceIdMetadata: rate limits, blocklist). The
// gateway sets them from the caller's credentials and headers. An app whose API key the
// gateway verified (auth::kAppIdMetadata, "x-civic-app-id") is the client "app:<key_id>",
// whatever x-civic-client-id says.
inline constexpr char kClientIdMetadata[] = "x-civic-client-id";

}  // namespace civic::intake
