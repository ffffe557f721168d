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
  IntakeService(IntakeLogic* logic, Outbox* outbox, CasesClient* cases, int workers)
      : logic_(logic), outbox_(outbox), cases_(cases), pool_(workers) {}

  grpc::ServerUnaryReactor* SubmitReport(grpc::CallbackServerContext* context,
                                         const v1::SubmitReportRequest* request,
                                         v1::SubmitReportResponse* response) override;
  grpc::ServerUnaryReactor* GetReportStatus(grpc::CallbackServerContext* context,
                                            const v1::GetReportStatusRequest* request,
                                            v1::ReportStatus* response) override;

 private:
  IntakeLogic* logic_;
  Outbox* outbox_;
  CasesClient* cases_;
  WorkerPool pool_;
};

// Metadata key naming the calling client (an app, a hotline system); retries are
// de-duplicated per client. The gateway sets it from the caller's credentials.
inline constexpr char kClientIdMetadata[] = "x-civic-client-id";

}  // namespace civic::intake
