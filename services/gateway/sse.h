// Server-sent events: how the gateway answers a route whose gRPC method is
// server-streaming (e.g. GET /v1/reports/{tracking_code}/events, notify's
// WatchMessages). The backend stream is opened through grpc::GenericStub's callback
// API and each message becomes one text/event-stream event, written to the client as it
// comes, with keep-alive comments while idle. Reads from the backend are paced by the
// client: the next message is asked for only once the previous event is written.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/status.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "services/gateway/problem.h"

namespace civic::gateway {

// ---- The event format.

inline constexpr char kEventStreamContentType[] = "text/event-stream";
// Sent while a stream is idle, so that proxies and clients see it alive.
inline constexpr char kSseKeepAlive[] = ": keep-alive\n\n";
// The request field Last-Event-ID sets, when the request message has it (string).
inline constexpr char kResumeField[] = "after_message_id";
// The response field that gives an event its id, when the message has it (string).
inline constexpr char kEventIdField[] = "message_id";

// One event: "id: <id>\n" (left out when empty), "event: <type>\n", one "data: " line
// per line of `data`, then a blank line. CR and LF in `id` and `type` are dropped, so a
// value cannot start a field of its own.
std::string FormatSseEvent(absl::string_view id, absl::string_view type, absl::string_view data);

// The "message" event of a backend message: its proto3 JSON on one line (proto field
// names, as the gateway's JSON answers), with the id taken from its string field
// "message_id" when it has one. INTERNAL when the message cannot be printed.
absl::StatusOr<std::string> SseMessageEvent(const google::protobuf::Message& message);

// The "error" event that ends a stream which failed: the problem document as data.
std::string SseErrorEvent(const Problem& problem);

// Sets the request's "after_message_id" to `last_event_id` (the Last-Event-ID header)
// when it is not empty and the request has such a singular string field; true if set.
bool ApplyLastEventId(absl::string_view last_event_id, google::protobuf::Message* request);

// ---- Streams in flight.

// What the gateway can ask of an open event stream, from any thread.
class OpenEventStream {
 public:
  virtual ~OpenEventStream() = default;
  // Ends the stream soon (the gateway is draining or stopping): cancels the backend
  // call, and the client receives a "shutting-down" error event and the end.
  virtual void Shutdown() = 0;
};

// The event streams open in a gateway, so that draining and stopping end them rather
// than wait for them, and so that Stop can wait until no gRPC thread will touch the
// gateway again. Keeps the gauge civicdesk_gateway_sse_streams. Thread-safe.
class EventStreams {
 public:
  EventStreams();  // the gauge shows 0 from the start
  // False once closed: the stream must not start.
  bool Add(const std::shared_ptr<OpenEventStream>& stream);
  // The stream's backend call is over and its last callback has handed everything to
  // the session: the gateway is not touched on its behalf any more.
  void Remove(OpenEventStream* stream);
  // Refuses new streams and shuts down the open ones. Idempotent.
  void CloseAll();
  // Waits until every stream added has been removed.
  void WaitAll();
  int open() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  std::map<OpenEventStream*, std::weak_ptr<OpenEventStream>> open_;
};

// ---- One event-stream response.

struct EventStreamOptions {
  grpc::GenericStub* stub = nullptr;
  // "/civic.notify.v1.NotifyService/WatchMessages". Referenced by the call: must outlive
  // it (the route table's string does).
  const std::string* rpc_path = nullptr;
  const google::protobuf::Descriptor* output = nullptr;  // the stream's message type
  // gRPC metadata for the backend (x-request-id, the caller's identity...).
  std::vector<std::pair<std::string, std::string>> metadata;
  // The HTTP side.
  unsigned version = 11;
  bool keep_alive = true;  // the client's wish; the stream still closes on HTTP/1.0
  std::string request_id;  // X-Request-Id, also in problems
  std::string instance;    // the request path, for problems
  // Extra response headers (CORS and the like).
  std::vector<std::pair<std::string, std::string>> headers;
};

// How a stream ended, for the session that hands the connection on.
struct EventStreamResult {
  // The 200 header was written: the response is over (ended or broken). Otherwise
  // nothing was written, and `status` is why the backend refused the stream: the
  // session answers with a problem as for a unary call.
  bool started = false;
  grpc::Status status;
  // The client went away (or the connection broke): close it.
  bool client_gone = false;
  // The response ended cleanly and its framing lets the connection serve another
  // request (HTTP/1.1 chunked, keep-alive). Bytes the client sent meanwhile are in the
  // session's buffer.
  bool reusable = false;
};

// Serves one event stream on a session's connection. `stream` and `buffer` belong to
// the session, which must not touch them until `done` runs; every handler runs on
// `executor` (the session's strand) and holds `owner` (the session) alive. `opened`
// runs when the 200 header is about to be written (for the session's log line),
// `done` once, when nothing of the stream is pending any more. Starts the backend call
// at once; the header goes out when the backend's initial metadata says the stream is
// open (rpc::kStreamOpenMetadata) or its first message comes, so a backend that refuses
// the stream gets an ordinary HTTP error.
// Transport: HTTP/1.1 responses are chunked (each write is one chunk; the final
// zero-length chunk tells the client the stream ended rather than broke), HTTP/1.0
// ones are raw bytes ended by closing the connection. While streaming, the connection
// is also read, so that a client going away is noticed at once and cancels the backend
// call; no deadline applies, the stream ends with the backend, the client, or a
// shutdown (EventStreams::CloseAll).
void ServeEventStream(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
                      const boost::asio::any_io_executor& executor, EventStreams& streams,
                      EventStreamOptions options, const google::protobuf::Message& request,
                      std::shared_ptr<void> owner, std::function<void()> opened,
                      std::function<void(const EventStreamResult&)> done);

}  // namespace civic::gateway
