#include "services/cases/cases_service.h"

#include <deque>

#include "libs/core/log.h"
#include "libs/core/status.h"
#include "libs/rpc/unary.h"

namespace civic::cases {

using common::v1::CaseEvent;

// What CasesService needs of a stream, whatever it writes.
class FeedStreamBase {
 public:
  virtual ~FeedStreamBase() = default;
  // Both require the handle's mutex.
  virtual void Wake() = 0;
  virtual void CloseLocked() = 0;
};

using FeedStreamHandle = std::shared_ptr<rpc::StreamHandle<FeedStreamBase>>;

// One streaming call over the feed (Subscribe, WatchQueue). Writes its preface first
// (a backlog), then reads the feed in pages after its cursor, maps each entry to a
// message or skips it, writes one at a time, and when caught up asks the feed to wake
// it on the next append. All state is guarded by the handle's mutex (recursive: gRPC
// may run a reaction inline from StartWrite).
template <typename Out>
class FeedStream final : public grpc::ServerWriteReactor<Out>, public FeedStreamBase {
 public:
  // Maps an entry to the message to write, nullopt to skip it, or an error ending the
  // stream.
  using Map =
      std::function<absl::StatusOr<std::optional<Out>>(const storage::ChangeFeed::Entry&)>;

  FeedStream(CasesService* owner, storage::ChangeFeed* feed, uint64_t after, Map map,
             std::deque<Out> preface = {})
      : owner_(owner),
        feed_(feed),
        map_(std::move(map)),
        preface_(std::move(preface)),
        state_(std::make_shared<rpc::StreamHandle<FeedStreamBase>>()) {
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
    owner_->streams_.Remove(state_);
    delete this;
  }

  void CloseLocked() override {
    FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "cases service is shutting down"));
  }

  void Wake() override { Pump(); }

  const FeedStreamHandle& handle() const { return state_; }

 private:
  // Requires state_->mu.
  void Pump() {
    if (finished_ || writing_) return;
    if (!preface_.empty()) {
      current_ = std::move(preface_.front());
      preface_.pop_front();
      Write();
      return;
    }
    for (;;) {
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
        FeedStreamHandle state = state_;
        feed_->NotifyAfter(cursor_, [state] {
          std::lock_guard lock(state->mu);
          if (state->stream != nullptr) state->stream->Wake();
        });
        return;
      }
      storage::ChangeFeed::Entry entry = std::move(pending_.front());
      pending_.pop_front();
      cursor_ = entry.sequence;
      absl::StatusOr<std::optional<Out>> mapped = map_(entry);
      if (!mapped.ok()) {
        FinishOnce(rpc::ToGrpcStatus(mapped.status()));
        return;
      }
      if (!mapped->has_value()) continue;  // not for this subscriber
      current_ = std::move(**mapped);
      Write();
      return;
    }
  }

  void Write() {
    writing_ = true;
    this->StartWrite(&current_);
  }

  void FinishOnce(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    this->Finish(status);
  }

  CasesService* owner_;
  storage::ChangeFeed* feed_;
  Map map_;
  std::deque<Out> preface_;
  FeedStreamHandle state_;
  uint64_t cursor_ = 0;
  std::deque<storage::ChangeFeed::Entry> pending_;
  Out current_;
  bool writing_ = false;
  bool finished_ = false;
};

CasesService::CasesService(CasesLogic* logic, int workers, UnitIdentityOptions identity)
    : logic_(logic), identity_(std::move(identity)), pool_(workers) {}

CasesService::~CasesService() { CloseStreams(); }

grpc::ServerUnaryReactor* CasesService::OpenCase(grpc::CallbackServerContext* context,
                                                 const v1::OpenCaseRequest* request,
                                                 v1::Case* response) {
  absl::Status internal = identity_.CheckInternalCaller(*context);
  return rpc::RunUnary(context, pool_, [this, request, response, internal]() -> absl::Status {
    CIVIC_RETURN_IF_ERROR(internal);
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->OpenCase(*request));
    return absl::OkStatus();
  });
}

// ---- Unit identity (see unit_identity.h): who calls, and which RPCs are internal.

Actor CasesService::ActorOf(const grpc::CallbackServerContext& context) const {
  return Actor{identity_.Identify(context).unit_id};
}

namespace {
// A stream refused before it starts (an internal stream asked for by an agency system).
template <typename Out>
class RefusedStream final : public grpc::ServerWriteReactor<Out> {
 public:
  explicit RefusedStream(const absl::Status& status) { this->Finish(rpc::ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};
}  // namespace

// ---- End of unit identity.

grpc::ServerUnaryReactor* CasesService::GetCase(grpc::CallbackServerContext* context,
                                                const v1::GetCaseRequest* request,
                                                v1::Case* response) {
  const Actor actor = ActorOf(*context);
  // Without a unit this is an internal read, which an agency system may not make.
  absl::Status internal =
      actor.unit_id.empty() ? identity_.CheckInternalCaller(*context) : absl::OkStatus();
  return rpc::RunUnary(context, pool_,
                       [this, request, response, actor, internal]() -> absl::Status {
                         CIVIC_RETURN_IF_ERROR(internal);
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
  return {.case_id = r.case_id(),
          .expected_version = r.expected_version(),
          .comment = r.comment(),
          .photos = r.photos()};
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

grpc::ServerUnaryReactor* CasesService::Assign(grpc::CallbackServerContext* context,
                                               const v1::AssignRequest* request,
                                               v1::Case* response) {
  return RunAction(context, Action::kAssign,
                   {.case_id = request->case_id(),
                    .expected_version = request->expected_version(),
                    .comment = request->comment(),
                    .assignee = request->assignee()},
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

grpc::ServerUnaryReactor* CasesService::RateResolution(
    grpc::CallbackServerContext* context, const v1::RateResolutionRequest* request,
    v1::Case* response) {
  absl::Status internal = identity_.CheckInternalCaller(*context);
  return rpc::RunUnary(context, pool_, [this, request, response, internal]() -> absl::Status {
    CIVIC_RETURN_IF_ERROR(internal);
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->Rate(*request));
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
  absl::Status internal = identity_.CheckInternalCaller(*context);
  return rpc::RunUnary(context, pool_, [this, request, response, internal]() -> absl::Status {
    CIVIC_RETURN_IF_ERROR(internal);
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->GetCaseByReport(request->report_id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CasesService::GetPublicCase(grpc::CallbackServerContext* context,
                                                      const v1::GetPublicCaseRequest* request,
                                                      v1::PublicCase* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->GetPublic(request->case_id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CasesService::ListPublicCases(
    grpc::CallbackServerContext* context, const v1::ListPublicCasesRequest* request,
    v1::ListPublicCasesResponse* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->ListPublic(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CasesService::Merge(grpc::CallbackServerContext* context,
                                              const v1::MergeRequest* request,
                                              v1::Case* response) {
  return rpc::RunUnary(context, pool_,
                       [this, request, response, actor = ActorOf(*context)]() -> absl::Status {
                         CIVIC_ASSIGN_OR_RETURN(*response, logic_->Merge(actor, *request));
                         return absl::OkStatus();
                       });
}

grpc::ServerUnaryReactor* CasesService::GetCasePhoto(grpc::CallbackServerContext* context,
                                                     const v1::GetCasePhotoRequest* request,
                                                     common::v1::PhotoContent* response) {
  // Public: no identity needed; the logic serves only photos of public entries.
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(*response,
                           logic_->GetCasePhoto(request->case_id(), request->photo_id()));
    return absl::OkStatus();
  });
}

template <typename Out>
grpc::ServerWriteReactor<Out>* CasesService::StartStream(FeedStream<Out>* stream) {
  streams_.Start(stream->handle(), [stream] { stream->Begin(); });
  return stream;
}

grpc::ServerWriteReactor<CaseEvent>* CasesService::Subscribe(
    grpc::CallbackServerContext* context, const common::v1::SubscribeRequest* request) {
  if (absl::Status internal = identity_.CheckInternalCaller(*context); !internal.ok()) {
    return new RefusedStream<CaseEvent>(internal);
  }
  // The name is the caller's text: keep it short and printable in the log.
  std::string consumer = request->consumer().substr(0, 64);
  for (char& c : consumer) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  CIVIC_LOG_INFO("feed subscriber '{}' from sequence {}", consumer, request->after_sequence());
  return StartStream(new FeedStream<CaseEvent>(
      this, logic_->feed(), request->after_sequence(),
      [](const storage::ChangeFeed::Entry& entry) -> absl::StatusOr<std::optional<CaseEvent>> {
        CaseEvent event;
        if (!event.ParseFromString(entry.payload)) {
          return absl::DataLossError("unreadable feed entry");
        }
        event.set_sequence(entry.sequence);
        return event;
      }));
}

grpc::ServerWriteReactor<v1::QueueUpdate>* CasesService::WatchQueue(
    grpc::CallbackServerContext* context, const v1::WatchQueueRequest* request) {
  const Actor actor = ActorOf(*context);
  uint64_t after = request->after_sequence();
  std::deque<v1::QueueUpdate> backlog;
  absl::Status status;
  if (actor.unit_id.empty()) {
    status = absl::UnauthenticatedError("no unit identity");
  } else if (after == 0) {
    // The backlog is read at a feed position: every change after it is streamed, so
    // nothing falls between the two. (Reading the store here, on a gRPC thread, is
    // bounded: one page of the unit's queue.)
    after = logic_->feed()->last_sequence();
    v1::ListCasesRequest page;
    page.set_page_size(500);
    absl::StatusOr<v1::ListCasesResponse> open = logic_->ListFor(actor, page);
    if (open.ok()) {
      for (auto& c : *open->mutable_cases()) {
        if (!CasesLogic::IsOpen(c.status())) continue;
        v1::QueueUpdate update;
        update.set_sequence(after);
        update.set_backlog(true);
        *update.mutable_item() = std::move(c);
        backlog.push_back(std::move(update));
      }
    } else {
      status = open.status();
    }
  }
  if (!status.ok()) {
    auto* failed = new FeedStream<v1::QueueUpdate>(this, logic_->feed(), 0, nullptr);
    std::lock_guard lock(failed->handle()->mu);
    failed->Finish(rpc::ToGrpcStatus(status));
    return failed;
  }
  CasesLogic* logic = logic_;
  return StartStream(new FeedStream<v1::QueueUpdate>(
      this, logic_->feed(), after,
      [logic, actor](const storage::ChangeFeed::Entry& entry)
          -> absl::StatusOr<std::optional<v1::QueueUpdate>> {
        CaseEvent event;
        if (!event.ParseFromString(entry.payload)) {
          return absl::DataLossError("unreadable feed entry");
        }
        absl::StatusOr<v1::Case> c = logic->GetCaseFor(actor, event.case_id());
        if (c.status().code() == absl::StatusCode::kNotFound) return std::nullopt;
        if (!c.ok()) return c.status();
        v1::QueueUpdate update;
        update.set_sequence(entry.sequence);
        update.set_change(event.type());
        *update.mutable_item() = *std::move(c);
        return update;
      },
      std::move(backlog)));
}

void CasesService::CloseStreams() { streams_.CloseAll(); }

}  // namespace civic::cases
