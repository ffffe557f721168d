// The notify gRPC API: the citizen's inbox by tracking code.
#pragma once

#include "civic/notify/v1/notify.grpc.pb.h"
#include "libs/core/worker_pool.h"
#include "services/notify/notify_logic.h"

namespace civic::notify {

class NotifyService final : public v1::NotifyService::CallbackService {
 public:
  NotifyService(const NotifyLogic* logic, int workers) : logic_(logic), pool_(workers) {}

  grpc::ServerUnaryReactor* ListMessages(grpc::CallbackServerContext* context,
                                         const v1::ListMessagesRequest* request,
                                         v1::ListMessagesResponse* response) override;

 private:
  const NotifyLogic* logic_;
  WorkerPool pool_;
};

}  // namespace civic::notify
