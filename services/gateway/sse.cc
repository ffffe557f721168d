#include "services/gateway/sse.h"

#include <chrono>
#include <deque>
#include <optional>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <grpcpp/client_context.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/client_callback.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "libs/core/log.h"
#include "libs/rpc/stream_registry.h"
#include "services/gateway/metrics.h"

namespace civic::gateway {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

// A comment line goes out after this long without a write, so that proxies with idle
// timeouts (often 30-60 s) keep the connection and a vanished client is noticed.
constexpr auto kKeepAliveInterval = std::chrono::seconds(15);
// One write may take this long (a client that stops reading is dropped).
constexpr auto kWriteTimeout = std::chrono::seconds(30);
// At shutdown, a write still pending after this is abandoned.
constexpr auto kShutdownGrace = std::chrono::seconds(1);
// Bytes a client may send while its stream is open (a pipelined request), kept for
// after the stream; beyond this the connection is no longer read until then.
constexpr size_t kMaxPendingRequestBytes = 16 * 1024;

std::string SingleLine(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
  }
  return out;
}

}  // namespace

std::string FormatSseEvent(absl::string_view id, absl::string_view type, absl::string_view data) {
  std::string out;
  if (!id.empty()) absl::StrAppend(&out, "id: ", SingleLine(id), "\n");
  absl::StrAppend(&out, "event: ", SingleLine(type), "\n");
  // A line of data ends at CR, LF or CRLF (the SSE grammar): each becomes a data line.
  const std::string lines = absl::StrReplaceAll(data, {{"\r\n", "\n"}, {"\r", "\n"}});
  for (absl::string_view line : absl::StrSplit(lines, '\n')) {
    absl::StrAppend(&out, "data: ", line, "\n");
  }
  out.push_back('\n');
  return out;
}

absl::StatusOr<std::string> SseMessageEvent(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;  // as the gateway's JSON answers
  options.add_whitespace = false;             // one line
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
    return absl::InternalError("cannot render the message as JSON");
  }
  std::string id;
  const google::protobuf::FieldDescriptor* field =
      message.GetDescriptor()->FindFieldByName(kEventIdField);
  if (field != nullptr && !field->is_repeated() &&
      field->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
    id = message.GetReflection()->GetString(message, field);
  }
  return FormatSseEvent(id, "message", json);
}

std::string SseErrorEvent(const Problem& problem) {
  return FormatSseEvent("", "error", problem.body);
}

bool ApplyLastEventId(absl::string_view last_event_id, google::protobuf::Message* request) {
  if (last_event_id.empty()) return false;
  const google::protobuf::FieldDescriptor* field =
      request->GetDescriptor()->FindFieldByName(kResumeField);
  if (field == nullptr || field->is_repeated() ||
      field->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
    return false;
  }
  request->GetReflection()->SetString(request, field, std::string(last_event_id));
  return true;
}

// ---- EventStreams.

EventStreams::EventStreams() { SetEventStreamsOpen(0); }

bool EventStreams::Add(const std::shared_ptr<OpenEventStream>& stream) {
  std::lock_guard lock(mu_);
  if (closed_) return false;
  open_[stream.get()] = stream;
  SetEventStreamsOpen(static_cast<int>(open_.size()));
  return true;
}

void EventStreams::Remove(OpenEventStream* stream) {
  std::lock_guard lock(mu_);
  open_.erase(stream);
  SetEventStreamsOpen(static_cast<int>(open_.size()));
  if (open_.empty()) cv_.notify_all();
}

void EventStreams::CloseAll() {
  std::vector<std::shared_ptr<OpenEventStream>> open;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (const auto& [ptr, weak] : open_) {
      if (auto stream = weak.lock()) open.push_back(std::move(stream));
    }
  }
  // Outside the lock: gRPC may run a callback (which calls Remove) inline from TryCancel.
  for (const auto& stream : open) stream->Shutdown();
}

void EventStreams::WaitAll() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return open_.empty(); });
}

int EventStreams::open() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(open_.size());
}

namespace {

// A server-streaming call through the generic stub. gRPC's generic callback API only
// has bidirectional calls: the request is written as the last (and only) message, which
// is what a server-streaming method reads. Messages are read one at a time, each after
// the previous one has been dealt with: after `message`, the owner calls exactly one of
// Next() (the next message, please) or Release() (no more: cancel). A hold keeps the
// call open while the owner decides, since both come from outside gRPC's reactions.
class BackendStream final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  struct Handlers {
    std::function<void(bool ok)> headers;  // initial metadata arrived (or never will)
    std::function<void(grpc::ByteBuffer)> message;
    std::function<void(const grpc::Status&)> done;  // last call; nothing follows
  };

  grpc::ClientContext& context() { return context_; }

  // Starts the call; `self` keeps this alive until OnDone. `method` must outlive the
  // call (gRPC keeps a pointer to it).
  void Start(std::shared_ptr<BackendStream> self, grpc::GenericStub* stub,
             const std::string& method, grpc::ByteBuffer request, Handlers handlers) {
    self_ = std::move(self);
    handlers_ = std::move(handlers);
    request_ = std::move(request);
    stub->PrepareBidiStreamingCall(&context_, method, grpc::StubOptions(), this);
    AddHold();
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&response_);
    StartCall();
  }

  void Next() { StartRead(&response_); }

  void Release() {
    context_.TryCancel();
    RemoveHold();
  }

  // Any thread, any time (even before Start): ends the call soon.
  void Cancel(bool shutdown) {
    if (shutdown) shutdown_ = true;
    context_.TryCancel();
  }
  // Whether Cancel(true) was called: the gateway is shutting down.
  bool shut_down() const { return shutdown_.load(); }

  // Only a stream that says it is open counts (rpc::kStreamOpenMetadata): the
  // in-process transport makes up initial metadata for a refused call too.
  void OnReadInitialMetadataDone(bool ok) override {
    const auto& metadata = context_.GetServerInitialMetadata();
    handlers_.headers(ok && metadata.find(rpc::kStreamOpenMetadata) != metadata.end());
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      RemoveHold();  // the stream is over: OnDone follows
      return;
    }
    grpc::ByteBuffer message;
    message.Swap(&response_);
    handlers_.message(std::move(message));
  }

  void OnDone(const grpc::Status& status) override {
    std::shared_ptr<BackendStream> keep = std::move(self_);  // until this returns
    Handlers handlers = std::move(handlers_);  // breaks the cycles through the owner
    handlers_ = Handlers();
    handlers.done(status);
  }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  Handlers handlers_;
  std::shared_ptr<BackendStream> self_;
  std::atomic<bool> shutdown_{false};
};

// One event-stream response on a session's connection (see ServeEventStream). Every
// method but Shutdown runs on the session's strand.
class EventStreamResponse final : public OpenEventStream,
                                  public std::enable_shared_from_this<EventStreamResponse> {
 public:
  EventStreamResponse(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                      const net::any_io_executor& executor, EventStreams& streams,
                      EventStreamOptions options, std::shared_ptr<void> owner,
                      std::function<void()> opened,
                      std::function<void(const EventStreamResult&)> done)
      : stream_(stream),
        buffer_(buffer),
        executor_(executor),
        streams_(streams),
        options_(std::move(options)),
        owner_(std::move(owner)),
        opened_(std::move(opened)),
        done_(std::move(done)),
        keep_alive_timer_(executor),
        shutdown_timer_(executor),
        chunked_(options_.version >= 11),
        started_at_(std::chrono::steady_clock::now()) {}

  void Start(const google::protobuf::Message& request) {
    backend_ = std::make_shared<BackendStream>();
    for (const auto& [key, value] : options_.metadata) backend_->context().AddMetadata(key, value);
    grpc::ByteBuffer bytes;
    bool own_buffer = false;
    if (options_.stub == nullptr || options_.rpc_path == nullptr || options_.output == nullptr ||
        !grpc::SerializationTraits<google::protobuf::Message>::Serialize(request, &bytes,
                                                                        &own_buffer)
             .ok()) {
      return Refuse(grpc::Status(grpc::StatusCode::INTERNAL, "cannot forward the request"));
    }
    if (!streams_.Add(shared_from_this())) {
      return Refuse(
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down"));
    }
    Monitor();
    // The handlers run on gRPC's threads: they only hand over to the strand. `done`
    // moves its references out, so that after Remove nothing of the gateway is touched.
    auto self = shared_from_this();
    backend_->Start(
        backend_, options_.stub, *options_.rpc_path, std::move(bytes),
        {.headers =
             [self](bool ok) {
               net::post(self->executor_, [self, ok] { self->OnHeaders(ok); });
             },
         .message =
             [self](grpc::ByteBuffer message) {
               net::post(self->executor_, [self, message = std::move(message)]() mutable {
                 self->OnMessage(std::move(message));
               });
             },
         .done =
             [self](const grpc::Status& status) mutable {
               EventStreams& streams = self->streams_;
               OpenEventStream* key = self.get();
               const net::any_io_executor executor = self->executor_;
               net::post(executor, [self = std::move(self), status] {
                 self->OnBackendDone(status);
               });
               streams.Remove(key);
             }});
  }

  void Shutdown() override {
    backend_->Cancel(/*shutdown=*/true);
    net::post(executor_, [self = shared_from_this()] { self->OnShutdown(); });
  }

 private:
  // What the write in flight is, for what follows it.
  enum class Write { kNone, kHeader, kComment, kEvent, kMessage, kEnd };

  void Refuse(const grpc::Status& status) {
    backend_done_ = true;
    status_ = status;
    net::post(executor_, [self = shared_from_this()] { self->MaybeFinish(); });
  }

  // ---- Reading the connection while streaming: a client that goes away (EOF, reset)
  // cancels the backend call at once. Reads straight from the socket, so that the
  // tcp_stream's timeouts apply to the writes only.
  void Monitor() {
    monitoring_ = true;
    stream_.socket().async_read_some(
        buffer_.prepare(1024), [self = shared_from_this()](beast::error_code ec, size_t n) {
          self->OnMonitorRead(ec, n);
        });
  }

  void OnMonitorRead(beast::error_code ec, size_t n) {
    monitoring_ = false;
    if (finished_) return;
    buffer_.commit(n);  // a pipelined request, kept for the session
    if (client_gone_ || Over()) return MaybeFinish();
    if (ec || n == 0) return ClientGone();
    if (buffer_.size() < kMaxPendingRequestBytes) Monitor();
  }

  // Nothing more will be written: the monitor's read is only waited for.
  bool Over() const {
    return backend_done_ && (!header_queued_ || end_written_);
  }

  // The client went away or the connection broke (also: a write timed out, or was
  // abandoned at shutdown). Idempotent; finishes once the rest has come back.
  void ClientGone() {
    if (!client_gone_ && !finished_) {
      client_gone_ = true;
      keep_alive_timer_.cancel();
      shutdown_timer_.cancel();
      backend_->Cancel(/*shutdown=*/false);
      if (message_outstanding_) {
        message_outstanding_ = false;
        backend_->Release();
      }
      stream_.cancel();  // a write or read still pending fails at once
    }
    MaybeFinish();
  }

  // ---- The backend's side.

  void OnHeaders(bool ok) {
    if (ok && !header_queued_ && !client_gone_ && !backend_done_) QueueHeader();
  }

  void OnMessage(grpc::ByteBuffer bytes) {
    message_outstanding_ = true;
    if (client_gone_ || finished_) {
      message_outstanding_ = false;
      backend_->Release();
      return;
    }
    std::unique_ptr<google::protobuf::Message> message(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(options_.output)
            ->New());
    absl::StatusOr<std::string> event =
        grpc::SerializationTraits<google::protobuf::Message>::Deserialize(&bytes, message.get())
                .ok()
            ? SseMessageEvent(*message)
            : absl::StatusOr<std::string>(absl::InternalError("unreadable"));
    if (!event.ok()) {
      end_problem_ = MakeProblem(502, "bad-gateway", "the backend's answer is unreadable",
                                 options_.instance, options_.request_id);
      message_outstanding_ = false;
      backend_->Release();  // its end comes through OnBackendDone
      return;
    }
    if (!header_queued_) QueueHeader();
    ++events_;
    outbox_.emplace_back(*std::move(event), Write::kMessage);
    Pump();
  }

  void OnBackendDone(const grpc::Status& status) {
    backend_done_ = true;
    status_ = status;
    keep_alive_timer_.cancel();
    // A stream that ended well before it began is an empty stream, not an error.
    if (!header_queued_ && status.ok() && !client_gone_) QueueHeader();
    if (header_queued_ && !client_gone_) {
      std::optional<Problem> problem = end_problem_;
      if (!problem && !status.ok()) {
        problem = backend_->shut_down()
                      ? MakeProblem(503, "shutting-down", "the gateway is shutting down",
                                    options_.instance, options_.request_id)
                      : ProblemFromGrpcStatus(status, options_.instance, options_.request_id);
      }
      if (problem) outbox_.emplace_back(SseErrorEvent(*problem), Write::kEvent);
      end_queued_ = true;
      Pump();
    }
    MaybeFinish();
  }

  void OnShutdown() {
    if (finished_ || client_gone_) return;
    // The backend's end is on its way (cancelled); a write the client does not take
    // in time is abandoned, so that shutdown does not wait for a stalled client.
    shutdown_timer_.expires_after(kShutdownGrace);
    shutdown_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && self->writing_ != Write::kNone) self->ClientGone();
    });
  }

  // ---- The HTTP side.

  void QueueHeader() {
    header_queued_ = true;
    header_.version(options_.version);
    header_.result(http::status::ok);
    header_.set(http::field::content_type, kEventStreamContentType);
    header_.set(http::field::cache_control, "no-cache");
    header_.set("X-Accel-Buffering", "no");  // nginx and the like: pass events on at once
    header_.set("X-Request-Id", options_.request_id);
    for (const auto& [name, value] : options_.headers) header_.set(name, value);
    if (chunked_) {
      header_.chunked(true);
      header_.set(http::field::connection, options_.keep_alive ? "keep-alive" : "close");
    } else {
      header_.set(http::field::connection, "close");  // HTTP/1.0: the close ends the body
    }
    serializer_.emplace(header_);
    if (opened_) opened_();
    Pump();
  }

  // Starts the next write, if any and none is in flight.
  void Pump() {
    if (writing_ != Write::kNone || client_gone_ || finished_ || !header_queued_) return;
    if (!header_written_) {
      writing_ = Write::kHeader;
      stream_.expires_after(kWriteTimeout);
      http::async_write_header(stream_, *serializer_,
                               [self = shared_from_this()](beast::error_code ec, size_t) {
                                 self->OnWritten(ec);
                               });
      return;
    }
    if (!outbox_.empty()) {
      auto [data, what] = std::move(outbox_.front());
      outbox_.pop_front();
      // HTTP/1.1: each write is one chunk, "<size in hex>\r\n<data>\r\n".
      current_ = chunked_ ? absl::StrCat(absl::Hex(data.size()), "\r\n", data, "\r\n")
                          : std::move(data);
      StartWrite(what);
      return;
    }
    if (end_queued_ && !end_written_) {
      if (!chunked_) {
        end_written_ = true;  // closing the connection ends the body
        MaybeFinish();
        return;
      }
      current_ = "0\r\n\r\n";  // the last chunk: the stream ended, it did not break
      StartWrite(Write::kEnd);
    }
  }

  void StartWrite(Write what) {
    writing_ = what;
    stream_.expires_after(kWriteTimeout);
    net::async_write(stream_, net::buffer(current_),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->OnWritten(ec);
                     });
  }

  void OnWritten(beast::error_code ec) {
    const Write what = writing_;
    writing_ = Write::kNone;
    if (finished_) return;
    if (ec) return ClientGone();
    switch (what) {
      case Write::kHeader:
        header_written_ = true;
        break;
      case Write::kMessage:
        message_outstanding_ = false;
        backend_->Next();  // paced by the client: one message in hand at a time
        break;
      case Write::kEnd:
        end_written_ = true;
        break;
      default:
        break;
    }
    ArmKeepAlive();
    Pump();
    MaybeFinish();
  }

  // A comment after kKeepAliveInterval without writes.
  void ArmKeepAlive() {
    if (backend_done_ || client_gone_ || finished_) return;
    keep_alive_timer_.expires_after(kKeepAliveInterval);
    keep_alive_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->finished_ || self->backend_done_ || self->client_gone_ ||
          self->writing_ != Write::kNone) {
        return;
      }
      self->outbox_.emplace_back(kSseKeepAlive, Write::kComment);
      self->Pump();
    });
  }

  // Hands the connection back once nothing of the stream is pending: the backend call
  // is over, no write is in flight, the end is written (unless the client is gone), and
  // the monitor's read has returned (it is cancelled here).
  void MaybeFinish() {
    if (finished_ || writing_ != Write::kNone || !backend_done_) return;
    if (header_queued_ && !client_gone_ && !end_written_) return;  // Pump gets there
    if (monitoring_) {
      beast::error_code ignored;
      stream_.socket().cancel(ignored);  // OnMonitorRead comes back here
      return;
    }
    finished_ = true;
    keep_alive_timer_.cancel();
    shutdown_timer_.cancel();
    EventStreamResult result;
    result.started = header_queued_;
    result.status = status_;
    result.client_gone = client_gone_;
    result.reusable = header_queued_ && end_written_ && chunked_ && options_.keep_alive &&
                      !client_gone_;
    if (header_queued_) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
      CIVIC_LOG_INFO("sse {} ended after {} events, {:.1f}s: {} id={}", *options_.rpc_path,
                     events_, seconds,
                     client_gone_ ? std::string("client gone")
                                  : (status_.ok() ? std::string("OK")
                                                  : absl::StrCat("code ", status_.error_code())),
                     options_.request_id);
    }
    std::function<void(const EventStreamResult&)> done = std::move(done_);
    done_ = nullptr;
    opened_ = nullptr;
    std::shared_ptr<void> owner = std::move(owner_);  // released after `done`
    done(result);
  }

  beast::tcp_stream& stream_;
  beast::flat_buffer& buffer_;
  const net::any_io_executor executor_;
  EventStreams& streams_;
  const EventStreamOptions options_;
  std::shared_ptr<void> owner_;
  std::function<void()> opened_;
  std::function<void(const EventStreamResult&)> done_;
  std::shared_ptr<BackendStream> backend_;  // set by Start, then never changed
  net::steady_timer keep_alive_timer_;
  net::steady_timer shutdown_timer_;
  const bool chunked_;
  const std::chrono::steady_clock::time_point started_at_;

  http::response<http::empty_body> header_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::deque<std::pair<std::string, Write>> outbox_;
  std::string current_;  // the write in flight
  Write writing_ = Write::kNone;
  bool header_queued_ = false;
  bool header_written_ = false;
  bool end_queued_ = false;
  bool end_written_ = false;
  bool message_outstanding_ = false;  // a message awaits Next or Release
  bool backend_done_ = false;
  grpc::Status status_;
  std::optional<Problem> end_problem_;  // the gateway's own reason to end the stream
  bool monitoring_ = false;
  bool client_gone_ = false;
  bool finished_ = false;
  uint64_t events_ = 0;
};

}  // namespace

void ServeEventStream(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                      const net::any_io_executor& executor, EventStreams& streams,
                      EventStreamOptions options, const google::protobuf::Message& request,
                      std::shared_ptr<void> owner, std::function<void()> opened,
                      std::function<void(const EventStreamResult&)> done) {
  auto response = std::make_shared<EventStreamResponse>(
      stream, buffer, executor, streams, std::move(options), std::move(owner),
      std::move(opened), std::move(done));
  response->Start(request);
}

}  // namespace civic::gateway
