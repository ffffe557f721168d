#include "services/cases/cases_service.h"

#include <deque>

#include "libs/core/log.h"
#include "libs/core/status.h"
#include "libs/rpc/unary.h"

namespace civic::cases {

using common::v1::CaseEvent;

// Outlives its stream for as long as anyone (a pending feed wake-up, CloseStreams)
// holds it; `stream` is null once the stream is gone.
struct FeedStreamHandle {
  std::recursive_mutex mu;
  FeedStream* stream = nullptr;
};

// One Subscribe call. Reads the feed in pages, writes one event at a time, and when
// caught up asks the feed to wake it on the next append. All state is guarded by mu_
// (recursive: gRPC may run a reaction inline from StartWrite).
class FeedStream final : public grpc::ServerWriteReactor<CaseEvent> {
 public:
  FeedStream(CasesService* owner, storage::ChangeFeed* feed, uint64_t after)
      : owner_(owner), feed_(feed), state_(std::make_shared<FeedStreamHandle>()) {
    state_->stream = this;
    cursor_ = after;
  }

  // Requires handle()->mu.
  void Begin() { Pump(); }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(state_->mu);
    writing_ = false;
    if (!ok) {
      FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    Pump();
  }

  void OnCancel() override {
    std::lock_guard lock(state_->mu);
    FinishOnce(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      std::lock_guard lock(state_->mu);
      state_->stream = nullptr;  // pending wake-ups and closes become no-ops
    }
    owner_->Forget(state_);
    delete this;
  }

  // Requires handle()->mu.
  void CloseLocked() {
    FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "cases service is shutting down"));
  }

  const std::shared_ptr<FeedStreamHandle>& handle() const { return state_; }

 private:
  // Requires state_->mu.
  void Pump() {
    if (finished_ || writing_) return;
    if (pending_.empty()) {
      absl::StatusOr<std::vector<storage::ChangeFeed::Entry>> page =
          feed_->ReadAfter(cursor_, 256);
      if (!page.ok()) {
        FinishOnce(rpc::ToGrpcStatus(page.status()));
        return;
      }
      for (auto& e : *page) pending_.push_back(std::move(e));
    }
    if (pending_.empty()) {
      std::shared_ptr<FeedStreamHandle> state = state_;
      waiting_ = true;
      feed_->NotifyAfter(cursor_, [state] {
        std::lock_guard lock(state->mu);
        if (state->stream != nullptr) state->stream->Wake();
      });
      return;
    }
    storage::ChangeFeed::Entry entry = std::move(pending_.front());
    pending_.pop_front();
    if (!current_.ParseFromString(entry.payload)) {
      FinishOnce(grpc::Status(grpc::StatusCode::DATA_LOSS, "unreadable feed entry"));
      return;
    }
    current_.set_sequence(entry.sequence);
    cursor_ = entry.sequence;
    writing_ = true;
    StartWrite(&current_);
  }

  void Wake() {
    waiting_ = false;
    Pump();
  }

  void FinishOnce(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  CasesService* owner_;
  storage::ChangeFeed* feed_;
  std::shared_ptr<FeedStreamHandle> state_;
  uint64_t cursor_ = 0;
  std::deque<storage::ChangeFeed::Entry> pending_;
  CaseEvent current_;
  bool writing_ = false;
  bool waiting_ = false;
  bool finished_ = false;
};

CasesService::CasesService(CasesLogic* logic, int workers) : logic_(logic), pool_(workers) {}

CasesService::~CasesService() { CloseStreams(); }

grpc::ServerUnaryReactor* CasesService::OpenCase(grpc::CallbackServerContext* context,
                                                 const v1::OpenCaseRequest* request,
                                                 v1::Case* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->OpenCase(*request));
    return absl::OkStatus();
  });
}

Actor ActorOf(const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("x-civic-unit-id");
  if (it == metadata.end()) return {};
  return Actor{std::string(it->second.data(), std::min<size_t>(it->second.size(), 128))};
}

grpc::ServerUnaryReactor* CasesService::GetCase(grpc::CallbackServerContext* context,
                                                const v1::GetCaseRequest* request,
                                                v1::Case* response) {
  return rpc::RunUnary(context, pool_,
                       [this, request, response, actor = ActorOf(*context)]() -> absl::Status {
                         CIVIC_ASSIGN_OR_RETURN(*response,
                                                logic_->GetCaseFor(actor, request->case_id()));
                         return absl::OkStatus();
                       });
}

grpc::ServerUnaryReactor* CasesService::RunAction(grpc::CallbackServerContext* context,
                                                  Action action, ActionArgs args,
                                                  v1::Case* response) {
  return rpc::RunUnary(context, pool_,
                       [this, action, args = std::move(args), response,
                        actor = ActorOf(*context)]() -> absl::Status {
                         CIVIC_ASSIGN_OR_RETURN(*response, logic_->Act(actor, action, args));
                         return absl::OkStatus();
                       });
}

namespace {
ActionArgs ArgsOf(const v1::CaseActionRequest& r) {
  return {.case_id = r.case_id(), .expected_version = r.expected_version(), .comment = r.comment()};
}
}  // namespace

grpc::ServerUnaryReactor* CasesService::Accept(grpc::CallbackServerContext* context,
                                               const v1::CaseActionRequest* request,
                                               v1::Case* response) {
  return RunAction(context, Action::kAccept, ArgsOf(*request), response);
}

grpc::ServerUnaryReactor* CasesService::StartWork(grpc::CallbackServerContext* context,
                                                  const v1::CaseActionRequest* request,
                                                  v1::Case* response) {
  return RunAction(context, Action::kStartWork, ArgsOf(*request), response);
}

grpc::ServerUnaryReactor* CasesService::Resolve(grpc::CallbackServerContext* context,
                                                const v1::CaseActionRequest* request,
                                                v1::Case* response) {
  return RunAction(context, Action::kResolve, ArgsOf(*request), response);
}

grpc::ServerUnaryReactor* CasesService::Reply(grpc::CallbackServerContext* context,
                                              const v1::CaseActionRequest* request,
                                              v1::Case* response) {
  return RunAction(context, Action::kReply, ArgsOf(*request), response);
}

grpc::ServerUnaryReactor* CasesService::AddNote(grpc::CallbackServerContext* context,
                                                const v1::CaseActionRequest* request,
                                                v1::Case* response) {
  return RunAction(context, Action::kNote, ArgsOf(*request), response);
}

grpc::ServerUnaryReactor* CasesService::Reject(grpc::CallbackServerContext* context,
                                               const v1::RejectRequest* request,
                                               v1::Case* response) {
  return RunAction(context, Action::kReject,
                   {.case_id = request->case_id(),
                    .expected_version = request->expected_version(),
                    .comment = request->comment(),
                    .reject_reason = request->reason()},
                   response);
}

grpc::ServerUnaryReactor* CasesService::Transfer(grpc::CallbackServerContext* context,
                                                 const v1::TransferRequest* request,
                                                 v1::Case* response) {
  return RunAction(context, Action::kTransfer,
                   {.case_id = request->case_id(),
                    .expected_version = request->expected_version(),
                    .to_unit_id = request->to_unit_id(),
                    .reason = request->reason()},
                   response);
}

grpc::ServerUnaryReactor* CasesService::SearchCases(grpc::CallbackServerContext* context,
                                                    const v1::SearchCasesRequest* request,
                                                    v1::ListCasesResponse* response) {
  return rpc::RunUnary(context, pool_,
                       [this, request, response, actor = ActorOf(*context)]() -> absl::Status {
                         CIVIC_ASSIGN_OR_RETURN(*response,
                                                logic_->SearchFor(actor, request->query(),
                                                                  request->page_size()));
                         return absl::OkStatus();
                       });
}

grpc::ServerUnaryReactor* CasesService::ListCases(grpc::CallbackServerContext* context,
                                                  const v1::ListCasesRequest* request,
                                                  v1::ListCasesResponse* response) {
  return rpc::RunUnary(context, pool_,
                       [this, request, response, actor = ActorOf(*context)]() -> absl::Status {
                         CIVIC_ASSIGN_OR_RETURN(*response, logic_->ListFor(actor, *request));
                         return absl::OkStatus();
                       });
}

grpc::ServerUnaryReactor* CasesService::GetCaseByReport(
    grpc::CallbackServerContext* context, const v1::GetCaseByReportRequest* request,
    v1::Case* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->GetCaseByReport(request->report_id()));
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<CaseEvent>* CasesService::Subscribe(
    grpc::CallbackServerContext* context, const common::v1::SubscribeRequest* request) {
  auto* stream = new FeedStream(this, logic_->feed(), request->after_sequence());
  std::shared_ptr<FeedStreamHandle> handle = stream->handle();
  bool closing;
  {
    std::lock_guard lock(streams_mu_);
    closing = closing_;
    if (!closing) streams_.insert(handle);
  }
  std::lock_guard lock(handle->mu);
  if (closing) {
    stream->CloseLocked();
  } else {
    // The name is the caller's text: keep it short and printable in the log.
    std::string consumer = request->consumer().substr(0, 64);
    for (char& c : consumer) {
      if (c < 0x20 || c > 0x7e) c = '?';
    }
    CIVIC_LOG_INFO("feed subscriber '{}' from sequence {}", consumer, request->after_sequence());
    stream->Begin();
  }
  return stream;
}

void CasesService::CloseStreams() {
  std::vector<std::shared_ptr<FeedStreamHandle>> open;
  {
    std::lock_guard lock(streams_mu_);
    closing_ = true;
    open.assign(streams_.begin(), streams_.end());
  }
  for (const auto& handle : open) {
    std::lock_guard lock(handle->mu);
    if (handle->stream != nullptr) handle->stream->CloseLocked();
  }
}

void CasesService::Forget(const std::shared_ptr<FeedStreamHandle>& handle) {
  std::lock_guard lock(streams_mu_);
  streams_.erase(handle);
}

}  // namespace civic::cases
