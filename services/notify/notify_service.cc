#include "services/notify/notify_service.h"

#include <chrono>
#include <deque>
#include <optional>
#include <vector>

#include <grpcpp/alarm.h>

#include "libs/core/ids.h"
#include "libs/core/status.h"
#include "libs/rpc/status.h"
#include "libs/rpc/unary.h"

namespace civic::notify {
namespace {

absl::Status NoSignIn() { return absl::UnavailableError("citizen sign-in is not set up"); }

}  // namespace

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

grpc::ServerUnaryReactor* NotifyService::SendSignInCode(
    grpc::CallbackServerContext* context, const v1::SendSignInCodeRequest* request,
    v1::SendSignInCodeResponse* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    if (sign_in_ == nullptr) return NoSignIn();
    CIVIC_ASSIGN_OR_RETURN(*response, sign_in_->SendCode(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* NotifyService::VerifySignInCode(
    grpc::CallbackServerContext* context, const v1::VerifySignInCodeRequest* request,
    v1::CitizenToken* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    if (sign_in_ == nullptr) return NoSignIn();
    CIVIC_ASSIGN_OR_RETURN(*response, sign_in_->Verify(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* NotifyService::ListOutgoingSms(
    grpc::CallbackServerContext* context, const v1::ListOutgoingSmsRequest* request,
    v1::ListOutgoingSmsResponse* response) {
  return rpc::RunUnary(
      context, pool_,
      [this, request, response,
       allowed = authorizer_.Require(*context, {kSmsSenderRole}, "the SMS outbox")]()
          -> absl::Status {
        CIVIC_RETURN_IF_ERROR(allowed);
        if (sign_in_ == nullptr) return NoSignIn();
        CIVIC_ASSIGN_OR_RETURN(*response, sign_in_->ListOutgoing(*request));
        return absl::OkStatus();
      });
}

// ---- Live updates (WatchMessages, WatchMyMessages).

using WatchHandle = std::shared_ptr<rpc::StreamHandle<WatchStream>>;

// One WatchMessages or WatchMyMessages call. Reads its codes' messages after its cursor
// a page at a time and writes them one by one; when caught up, waits on the
// MessageWatch, which wakes it once notify has written the next message for one of the
// codes. A WatchMyMessages stream first asks intake for the caller's codes (on the
// worker pool: it blocks), and asks again every refresh interval so that reports sent
// meanwhile join. All state is guarded by the handle's mutex (recursive: gRPC may run a
// reaction inline from StartWrite or Finish, and a wake-up may come at once).
class WatchStream final : public grpc::ServerWriteReactor<v1::Message> {
 public:
  // The caller's codes, asked of intake (WatchMyMessages).
  struct Owner {
    OwnedCodes* owned = nullptr;
    CitizenCredentials credentials;
    absl::Duration refresh;
  };

  WatchStream(NotifyService* owner, grpc::CallbackServerContext* context,
              const NotifyLogic* logic, std::vector<std::string> codes, uint64_t after,
              std::optional<Owner> caller = std::nullopt)
      : owner_(owner),
        context_(context),
        logic_(logic),
        codes_(std::move(codes)),
        cursor_(after),
        caller_(std::move(caller)),
        handle_(std::make_shared<rpc::StreamHandle<WatchStream>>()) {
    handle_->stream = this;
  }

  // Requires handle()->mu. The initial metadata goes out as soon as the codes are known,
  // before any message exists: the gateway answers its HTTP client when it arrives (and
  // answers with the error when intake refuses the caller).
  void Begin() {
    if (caller_) {
      Fetch();
      return;
    }
    Open();
    Pump();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(handle_->mu);
    writing_ = false;
    if (!ok) {
      FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    Pump();
  }

  void OnCancel() override {
    std::lock_guard lock(handle_->mu);
    FinishOnce(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      std::lock_guard lock(handle_->mu);
      handle_->stream = nullptr;  // a wake-up, refresh or alarm on its way is a no-op
      if (ticket_ != 0) logic_->watch()->Cancel(ticket_);
    }
    owner_->streams_.Remove(handle_);
    delete this;  // also cancels a pending refresh alarm
  }

  // Requires handle()->mu.
  void CloseLocked() {
    FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "notify is shutting down"));
  }

  // Requires handle()->mu: the watch has woken this stream (and forgotten its ticket).
  void Wake() {
    ticket_ = 0;
    Pump();
  }

  const WatchHandle& handle() const { return handle_; }

 private:
  // Messages read from the store at once; the rest wait for the next read.
  static constexpr size_t kPage = 64;

  // Requires handle_->mu. Tells the caller the stream is open (rpc::kStreamOpenMetadata).
  void Open() {
    started_ = true;
    context_->AddInitialMetadata(rpc::kStreamOpenMetadata, "1");
    StartSendInitialMetadata();
  }

  // Requires handle_->mu. Asks intake for the caller's codes on the worker pool.
  void Fetch() {
    if (finished_ || fetching_) return;
    fetching_ = true;
    owner_->pool_.Submit([handle = handle_, owned = caller_->owned,
                          credentials = caller_->credentials] {
      absl::StatusOr<std::vector<std::string>> codes = owned->Of(credentials);
      std::lock_guard lock(handle->mu);
      if (handle->stream != nullptr) handle->stream->OnCodes(std::move(codes));
    });
  }

  // Requires handle_->mu.
  void OnCodes(absl::StatusOr<std::vector<std::string>> codes) {
    fetching_ = false;
    if (finished_) return;
    if (!codes.ok()) {
      // Refused or intake unreachable at the start: the call fails as intake said. Later
      // on, the stream carries on with the codes it has and tries again next time.
      if (!started_) {
        FinishOnce(rpc::ToGrpcStatus(codes.status()));
        return;
      }
    } else {
      codes_ = *std::move(codes);
      if (ticket_ != 0) {  // waiting on the old codes: wait again on the new ones
        logic_->watch()->Cancel(ticket_);
        ticket_ = 0;
      }
    }
    if (!started_) Open();
    ArmRefresh();
    Pump();
  }

  // Requires handle_->mu.
  void ArmRefresh() {
    // A new alarm each time; replacing a fired one is safe (gRPC keeps its own
    // reference until the callback has run).
    alarm_ = std::make_unique<grpc::Alarm>();
    alarm_->Set(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(caller_->refresh),
                [handle = handle_](bool fired) {
                  if (!fired) return;  // cancelled: the stream is gone
                  std::lock_guard lock(handle->mu);
                  if (handle->stream != nullptr) handle->stream->Fetch();
                });
  }

  // Requires handle_->mu.
  void Pump() {
    if (finished_ || writing_ || ticket_ != 0 || fetching_) return;
    MessageWatch* watch = logic_->watch();
    while (pending_.empty()) {
      // The version is taken before the read: a message published after it makes Wait
      // refuse, and the loop reads again, so nothing falls between the read and the wait.
      const uint64_t seen = watch->version();
      absl::StatusOr<std::vector<v1::Message>> page =
          logic_->ListAfterAny(codes_, cursor_, kPage);
      if (!page.ok()) {
        FinishOnce(rpc::ToGrpcStatus(page.status()));
        return;
      }
      for (auto& m : *page) pending_.push_back(std::move(m));
      if (!pending_.empty()) break;
      WatchHandle handle = handle_;
      ticket_ = watch->Wait(codes_, seen, [handle] {
        std::lock_guard lock(handle->mu);
        if (handle->stream != nullptr) handle->stream->Wake();
      });
      if (ticket_ != 0) return;  // caught up: the watch wakes us
    }
    current_ = std::move(pending_.front());
    pending_.pop_front();
    cursor_ = current_.event_sequence();
    writing_ = true;
    StartWrite(&current_);
  }

  void FinishOnce(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  NotifyService* const owner_;
  grpc::CallbackServerContext* const context_;
  const NotifyLogic* const logic_;
  std::vector<std::string> codes_;  // normalised
  uint64_t cursor_;                 // event sequence of the last message written
  const std::optional<Owner> caller_;
  WatchHandle handle_;
  std::deque<v1::Message> pending_;
  v1::Message current_;
  std::unique_ptr<grpc::Alarm> alarm_;  // the next refresh of the codes
  uint64_t ticket_ = 0;                 // the watch's, while waiting
  bool writing_ = false;
  bool fetching_ = false;  // asking intake for the codes
  bool started_ = false;   // initial metadata sent (WatchMyMessages: codes known once)
  bool finished_ = false;
};

namespace {
// A stream refused before it starts (a malformed request).
class RefusedWatch final : public grpc::ServerWriteReactor<v1::Message> {
 public:
  explicit RefusedWatch(const absl::Status& status) { Finish(rpc::ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

absl::Status NoInbox() {
  return absl::UnavailableError("the inbox across reports is not set up");
}
}  // namespace

NotifyService::~NotifyService() { CloseStreams(); }

grpc::ServerWriteReactor<v1::Message>* NotifyService::WatchMessages(
    grpc::CallbackServerContext* context, const v1::WatchMessagesRequest* request) {
  // Codes are normalised as ListMessages does ("pa-2611-k7q3m-9x" is PA-2611-K7Q3M-9X).
  const std::string code = NormalizeTrackingCode(request->tracking_code());
  const std::optional<uint64_t> after = MessageCursor(request->after_message_id());
  FieldErrors errors;
  if (code.empty()) errors.Add("tracking_code", "not a tracking code");
  if (!after) errors.Add("after_message_id", "not a message id (as in message_id: \"msg-42\")");
  if (!errors.empty()) return new RefusedWatch(errors.ToStatus("notify.civicdesk"));
  if (logic_->watch() == nullptr) {
    return new RefusedWatch(absl::FailedPreconditionError("live updates are not set up"));
  }
  auto* stream = new WatchStream(this, context, logic_, {code}, *after);
  streams_.Start(stream->handle(), [stream] { stream->Begin(); });
  return stream;
}

grpc::ServerWriteReactor<v1::Message>* NotifyService::WatchMyMessages(
    grpc::CallbackServerContext* context, const v1::WatchMyMessagesRequest* request) {
  const std::optional<uint64_t> after = MessageCursor(request->after_message_id());
  if (!after) {
    FieldErrors errors;
    errors.Add("after_message_id", "not a message id (as in message_id: \"msg-42\")");
    return new RefusedWatch(errors.ToStatus("notify.civicdesk"));
  }
  if (logic_->watch() == nullptr) {
    return new RefusedWatch(absl::FailedPreconditionError("live updates are not set up"));
  }
  if (inbox_.owned_codes == nullptr) return new RefusedWatch(NoInbox());
  auto* stream = new WatchStream(
      this, context, logic_, {}, *after,
      WatchStream::Owner{.owned = inbox_.owned_codes,
                         .credentials = CredentialsOf(*context),
                         .refresh = inbox_.refresh});
  streams_.Start(stream->handle(), [stream] { stream->Begin(); });
  return stream;
}

grpc::ServerUnaryReactor* NotifyService::ListMyMessages(grpc::CallbackServerContext* context,
                                                        const v1::ListMyMessagesRequest* request,
                                                        v1::ListMyMessagesResponse* response) {
  return rpc::RunUnary(context, pool_, [this, request, response,
                                        who = CredentialsOf(*context)]() -> absl::Status {
    if (inbox_.owned_codes == nullptr) return NoInbox();
    CIVIC_ASSIGN_OR_RETURN(std::vector<std::string> codes, inbox_.owned_codes->Of(who));
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->ListInbox(codes, *request));
    return absl::OkStatus();
  });
}

void NotifyService::CloseStreams() { streams_.CloseAll(); }

}  // namespace civic::notify
