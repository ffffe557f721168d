// The cases gRPC API: unary calls run on a worker pool; Subscribe streams the change
// feed to consumers (notify, analytics), replaying from their cursor and then live.
#pragma once

#include <memory>

#include "civic/cases/v1/cases.grpc.pb.h"
#include "libs/core/worker_pool.h"
#include "libs/rpc/stream_registry.h"
#include "services/cases/cases_logic.h"
#include "services/cases/unit_identity.h"

namespace civic::cases {

template <typename Out>
class FeedStream;
class FeedStreamBase;  // one feed stream (cases_service.cc)

class CasesService final : public v1::CasesService::CallbackService {
 public:
  // `identity` says which credentials name the calling unit (see unit_identity.h).
  CasesService(CasesLogic* logic, int workers, UnitIdentityOptions identity = {});
  ~CasesService() override;

  grpc::ServerUnaryReactor* OpenCase(grpc::CallbackServerContext* context,
                                     const v1::OpenCaseRequest* request,
                                     v1::Case* response) override;
  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* context,
                                    const v1::GetCaseRequest* request,
                                    v1::Case* response) override;
  grpc::ServerUnaryReactor* GetCaseByReport(grpc::CallbackServerContext* context,
                                            const v1::GetCaseByReportRequest* request,
                                            v1::Case* response) override;
  grpc::ServerWriteReactor<common::v1::CaseEvent>* Subscribe(
      grpc::CallbackServerContext* context,
      const common::v1::SubscribeRequest* request) override;

  // Agency API.
  grpc::ServerUnaryReactor* Accept(grpc::CallbackServerContext* context,
                                   const v1::CaseActionRequest* request,
                                   v1::Case* response) override;
  grpc::ServerUnaryReactor* StartWork(grpc::CallbackServerContext* context,
                                      const v1::CaseActionRequest* request,
                                      v1::Case* response) override;
  grpc::ServerUnaryReactor* Resolve(grpc::CallbackServerContext* context,
                                    const v1::CaseActionRequest* request,
                                    v1::Case* response) override;
  grpc::ServerUnaryReactor* Reject(grpc::CallbackServerContext* context,
                                   const v1::RejectRequest* request,
                                   v1::Case* response) override;
  grpc::ServerUnaryReactor* Assign(grpc::CallbackServerContext* context,
                                   const v1::AssignRequest* request, v1::Case* response) override;
  grpc::ServerUnaryReactor* Transfer(grpc::CallbackServerContext* context,
                                     const v1::TransferRequest* request,
                                     v1::Case* response) override;
  grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* context,
                                  const v1::CaseActionRequest* request,
                                  v1::Case* response) override;
  grpc::ServerUnaryReactor* AddNote(grpc::CallbackServerContext* context,
                                    const v1::CaseActionRequest* request,
                                    v1::Case* response) override;
  grpc::ServerUnaryReactor* ListCases(grpc::CallbackServerContext* context,
                                      const v1::ListCasesRequest* request,
                                      v1::ListCasesResponse* response) override;
  grpc::ServerUnaryReactor* RateResolution(grpc::CallbackServerContext* context,
                                           const v1::RateResolutionRequest* request,
                                           v1::Case* response) override;
  grpc::ServerWriteReactor<v1::QueueUpdate>* WatchQueue(
      grpc::CallbackServerContext* context, const v1::WatchQueueRequest* request) override;
  grpc::ServerUnaryReactor* SearchCases(grpc::CallbackServerContext* context,
                                        const v1::SearchCasesRequest* request,
                                        v1::ListCasesResponse* response) override;

  // Public view: anyone may call these; no identity is read.
  grpc::ServerUnaryReactor* GetPublicCase(grpc::CallbackServerContext* context,
                                          const v1::GetPublicCaseRequest* request,
                                          v1::PublicCase* response) override;
  grpc::ServerUnaryReactor* ListPublicCases(grpc::CallbackServerContext* context,
                                            const v1::ListPublicCasesRequest* request,
                                            v1::ListPublicCasesResponse* response) override;

  // Merging duplicates (agency API) and reply photos (public view).
  grpc::ServerUnaryReactor* Merge(grpc::CallbackServerContext* context,
                                  const v1::MergeRequest* request,
                                  v1::Case* response) override;
  grpc::ServerUnaryReactor* GetCasePhoto(grpc::CallbackServerContext* context,
                                         const v1::GetCasePhotoRequest* request,
                                         common::v1::PhotoContent* response) override;

  // Ends every open Subscribe stream (UNAVAILABLE, so consumers reconnect elsewhere or
  // later) and refuses new ones; called before the server shuts down, since streams
  // would otherwise hold the shutdown for its whole grace period.
  void CloseStreams();

 private:
  template <typename Out>
  friend class FeedStream;
  template <typename Out>
  grpc::ServerWriteReactor<Out>* StartStream(FeedStream<Out>* stream);
  grpc::ServerUnaryReactor* RunAction(grpc::CallbackServerContext* context, Action action,
                                      ActionArgs args, v1::Case* response);
  // The calling unit (see UnitIdentity::Identify); empty when it has none.
  Actor ActorOf(const grpc::CallbackServerContext& context) const;

  CasesLogic* logic_;
  UnitIdentity identity_;
  WorkerPool pool_;
  rpc::StreamRegistry<FeedStreamBase> streams_;
};

}  // namespace civic::cases
