#include "services/notify/notify_service.h"

#include "libs/core/status.h"
#include "libs/rpc/unary.h"

namespace civic::notify {

grpc::ServerUnaryReactor* NotifyService::ListMessages(grpc::CallbackServerContext* context,
                                                      const v1::ListMessagesRequest* request,
                                                      v1::ListMessagesResponse* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(std::vector<v1::Message> messages,
                           logic_->List(request->tracking_code()));
    for (auto& m : messages) *response->add_messages() = std::move(m);
    return absl::OkStatus();
  });
}

}  // namespace civic::notify
