// The intake gRPC API. Submissions run on a worker pool so that many synced writes are
// in flight at once (RocksDB group-commits them); gRPC's threads never wait on fsync.
#pragma once

#include "civic/intake/v1/intake.grpc.pb.h"
#include "libs/core/worker_pool.h"
#include "services/intake/intake_logic.h"
#include "services/intake/outbox.h"

namespace civic::intake {

class IntakeService final : public v1::IntakeService::CallbackService {
 public:
  // Nothing is owned.
  IntakeService(IntakeLogic* logic, Blocklist* blocklist, Outbox* outbox, CasesClient* cases,
                int workers)
      : logic_(logic), blocklist_(blocklist), outbox_(outbox), cases_(cases), pool_(workers) {}

  grpc::ServerUnaryReactor* SubmitReport(grpc::CallbackServerContext* context,
                                         const v1::SubmitReportRequest* request,
                                         v1::SubmitReportResponse* response) override;
  grpc::ServerUnaryReactor* GetReportStatus(grpc::CallbackServerContext* context,
                                            const v1::GetReportStatusRequest* request,
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

 private:
  IntakeLogic* logic_;
  Blocklist* blocklist_;
  Outbox* outbox_;
  CasesClient* cases_;
  WorkerPool pool_;
};

// Metadata naming the calling client (an app, a hotline system; retries are
// de-duplicated per client) and the citizen's device (rate limits, blocklist). The
// gateway sets them from the caller's credentials and headers.
inline constexpr char kClientIdMetadata[] = "x-civic-client-id";
inline constexpr char kDeviceIdMetadata[] = "x-civic-device-id";

}  // namespace civic::intake
