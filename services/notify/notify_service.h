// The notify gRPC API: the citizen's messages by tracking code and across their
// reports (asking intake which are theirs), live or listed, and the citizen's sign-in
// by SMS code (sign_in.h).
#pragma once

#include <memory>

#include "civic/notify/v1/notify.grpc.pb.h"
#include "libs/auth/caller.h"
#include "libs/core/worker_pool.h"
#include "libs/rpc/stream_registry.h"
#include "services/notify/notify_logic.h"
#include "services/notify/owned_codes.h"
#include "services/notify/sign_in.h"

namespace civic::notify {

class WatchStream;  // one WatchMessages stream (notify_service.cc)

// The inbox across a citizen's reports (ListMyMessages, WatchMyMessages).
struct InboxOptions {
  // Who owns which codes (intake); null: those RPCs are UNAVAILABLE. Not owned.
  OwnedCodes* owned_codes = nullptr;
  // How often a WatchMyMessages stream asks again, so that new reports join it.
  absl::Duration refresh = absl::Seconds(30);
};

class NotifyService final : public v1::NotifyService::CallbackService {
 public:
  // Nothing is owned. Without `sign_in` the sign-in RPCs are UNAVAILABLE; `authorizer`
  // checks the SMS provider adapter's token (role "sms_sender") on ListOutgoingSms.
  NotifyService(const NotifyLogic* logic, int workers, SignIn* sign_in = nullptr,
                auth::Authorizer authorizer = {}, InboxOptions inbox = {})
      : logic_(logic),
        sign_in_(sign_in),
        authorizer_(std::move(authorizer)),
        inbox_(inbox),
        pool_(workers) {}
  ~NotifyService() override;

  grpc::ServerUnaryReactor* ListMessages(grpc::CallbackServerContext* context,
                                         const v1::ListMessagesRequest* request,
                                         v1::ListMessagesResponse* response) override;
  grpc::ServerUnaryReactor* ListMyMessages(grpc::CallbackServerContext* context,
                                           const v1::ListMyMessagesRequest* request,
                                           v1::ListMyMessagesResponse* response) override;

  // ---- Citizen sign-in.
  grpc::ServerUnaryReactor* SendSignInCode(grpc::CallbackServerContext* context,
                                           const v1::SendSignInCodeRequest* request,
                                           v1::SendSignInCodeResponse* response) override;
  grpc::ServerUnaryReactor* VerifySignInCode(grpc::CallbackServerContext* context,
                                             const v1::VerifySignInCodeRequest* request,
                                             v1::CitizenToken* response) override;
  grpc::ServerUnaryReactor* ListOutgoingSms(grpc::CallbackServerContext* context,
                                            const v1::ListOutgoingSmsRequest* request,
                                            v1::ListOutgoingSmsResponse* response) override;

  // ---- Live updates. Wakes up through logic->watch() (no stream ever starts without
  // one: FAILED_PRECONDITION). Store reads happen on the thread that wakes the stream.
  grpc::ServerWriteReactor<v1::Message>* WatchMessages(
      grpc::CallbackServerContext* context, const v1::WatchMessagesRequest* request) override;
  grpc::ServerWriteReactor<v1::Message>* WatchMyMessages(
      grpc::CallbackServerContext* context, const v1::WatchMyMessagesRequest* request) override;
  // Ends every open WatchMessages stream (UNAVAILABLE: clients reconnect later or
  // elsewhere, with their cursor) and refuses new ones; called as shutdown begins, since
  // a stream would otherwise hold the server for its whole grace period.
  void CloseStreams();

 private:
  const NotifyLogic* logic_;
  SignIn* sign_in_;
  auth::Authorizer authorizer_;
  const InboxOptions inbox_;
  WorkerPool pool_;

  // ---- Live updates: the open streams, for CloseStreams.
  friend class WatchStream;
  rpc::StreamRegistry<WatchStream> streams_;
};

// The role of the SMS provider's adapter, which alone may read the SMS outbox.
inline constexpr char kSmsSenderRole[] = "sms_sender";

}  // namespace civic::notify
