// The gateway's HTTP server: Boost.Beast sessions, each on its own asio strand. Backend
// calls go through grpc::GenericStub's callback API and their completions are posted
// back to the session's strand, so an I/O thread never waits on a backend.
#include "services/gateway/gateway.h"
#include "services/gateway/metrics.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "libs/auth/caller.h"
#include "libs/config/config.h"
#include "libs/core/ids.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "proto/civic_descriptors.h"
#include "services/gateway/auth.h"
#include "services/gateway/edge.h"
#include "services/gateway/http_rules.h"
#include "services/gateway/openapi.h"
#include "services/gateway/problem.h"
#include "services/gateway/sse.h"

namespace civic::gateway {
namespace {

// Upper bound of X-Timeout-Ms and of default_timeout_ms: a citizen's app has no use
// for a longer wait, and it bounds how long Stop() can take.
constexpr int64_t kMaxTimeoutMs = 60000;

}  // namespace

absl::Status GatewayConfig::Validate() const {
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(http_listen, "gateway.http_listen"));
  if (threads < 1 || threads > 64) {
    return absl::InvalidArgumentError("config gateway.threads: must be 1..64");
  }
  if (max_body_bytes <= 0) {
    return absl::InvalidArgumentError("config gateway.max_body_bytes: must be positive");
  }
  if (default_timeout_ms < 1 || default_timeout_ms > kMaxTimeoutMs) {
    return absl::InvalidArgumentError(
        absl::StrCat("config gateway.default_timeout_ms: must be 1..", kMaxTimeoutMs));
  }
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(intake_address, "gateway.intake_address"));
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(routing_address, "gateway.routing_address"));
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(notify_address, "gateway.notify_address"));
  CIVIC_RETURN_IF_ERROR(
      config::ValidateHostPort(analytics_address, "gateway.analytics_address"));
  CIVIC_RETURN_IF_ERROR(ValidateAuthConfig(*this));  // auth.h
  CIVIC_RETURN_IF_ERROR(ValidateEdgeConfig(*this));  // edge.h
  // ---- Open311.
  if (open311_jurisdiction_ids.empty() ||
      std::any_of(open311_jurisdiction_ids.begin(), open311_jurisdiction_ids.end(),
                  [](const std::string& id) { return id.empty(); })) {
    return absl::InvalidArgumentError(
        "config gateway.open311_jurisdiction_ids: must list at least one non-empty id");
  }
  if (!open311_public_url.empty()) {
    absl::string_view rest = open311_public_url;
    const bool scheme =
        absl::ConsumePrefix(&rest, "https://") || absl::ConsumePrefix(&rest, "http://");
    absl::ConsumeSuffix(&rest, "/");
    if (!scheme || rest.empty() || rest.find_first_of("/?#") != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          "config gateway.open311_public_url: must be http(s)://host[:port], without a path");
    }
  }
  return absl::OkStatus();
}

namespace internal {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// A connection may sit idle (or trickle a request) this long before it is closed.
constexpr auto kReadTimeout = std::chrono::seconds(60);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
// A report's photos may take a slow phone connection minutes to upload (edge.h).
constexpr auto kUploadReadTimeout = std::chrono::minutes(5);
// How long Stop() lets requests in flight finish before cancelling their calls.
constexpr auto kDrainTimeout = std::chrono::seconds(5);
constexpr auto kCancelGrace = std::chrono::milliseconds(500);
constexpr char kJsonContentType[] = "application/json; charset=utf-8";

absl::string_view Sv(beast::string_view s) { return absl::string_view(s.data(), s.size()); }
beast::string_view Bv(absl::string_view s) { return beast::string_view(s.data(), s.size()); }

// A client's X-Request-Id is echoed and forwarded only when it cannot smuggle anything
// into logs or gRPC metadata.
bool IsSaneRequestId(absl::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
           c == '.';
  });
}

// "application/json", with or without parameters such as charset.
bool IsJsonContentType(absl::string_view value) {
  const absl::string_view media = absl::StripAsciiWhitespace(value.substr(0, value.find(';')));
  return absl::EqualsIgnoreCase(media, "application/json");
}

// What gRPC needs alive until a call's callback has run.
struct BackendCall {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
};

// Backend calls in flight, so that Stop() can cancel them and wait for their callbacks
// (after which nothing of the gateway is touched from gRPC's threads).
class CallTracker {
 public:
  // False once closed (the gateway is stopping): the call must not start.
  bool Begin(const std::shared_ptr<BackendCall>& call) {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    active_[call.get()] = call;
    ++in_flight_;
    return true;
  }
  // The call's callback has started: it is no longer cancellable.
  void Forget(BackendCall* call) {
    std::lock_guard lock(mu_);
    active_.erase(call);
  }
  // The callback has handed everything to the session; last touch of the gateway.
  void Done() {
    std::lock_guard lock(mu_);
    --in_flight_;
    cv_.notify_all();
  }
  // Refuses new calls, cancels those in flight and waits for all their callbacks.
  void CancelAllAndWait() {
    std::vector<std::shared_ptr<BackendCall>> calls;
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      for (const auto& [ptr, weak] : active_) {
        if (auto call = weak.lock()) calls.push_back(std::move(call));
      }
    }
    // Outside the lock: gRPC may run a callback inline from TryCancel.
    for (const auto& call : calls) call->context.TryCancel();
    calls.clear();
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return in_flight_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int in_flight_ = 0;
  std::map<BackendCall*, std::weak_ptr<BackendCall>> active_;
};

class Session;

}  // namespace

class GatewayImpl {
 public:
  GatewayImpl(GatewayConfig config, Backends backends, ApiKeyChecker open311_api_keys)
      : config_(std::move(config)),
        backends_(std::move(backends)),
        open311_api_keys_(std::move(open311_api_keys)),
        ioc_(std::max(1, config_.threads)),
        acceptor_(net::make_strand(ioc_)) {}
  ~GatewayImpl() { Stop(); }

  absl::Status Start();
  void Stop();
  int port() const { return port_.load(); }

  // For sessions.
  const GatewayConfig& config() const { return config_; }
  const RouteTable& routes() const { return routes_; }
  // API keys and bearer tokens (auth.h); set up by Start.
  GatewayAuth& auth() const { return *auth_; }
  // Rate limits, CORS and body limits (edge.h); set up by Start.
  EdgePolicy& edge() const { return *edge_; }
  // Open311 GeoReport v2; set up by Start.
  const open311::Open311Handler& open311() const { return *open311_; }
  // The OpenAPI document of routes(), rendered once at Start.
  const std::string& openapi_json() const { return openapi_json_; }
  grpc::GenericStub* StubFor(const std::string& service) const {
    auto it = stubs_.find(service);
    return it == stubs_.end() ? nullptr : it->second.get();
  }
  bool stopping() const { return stopping_.load(); }
  // Health answers 503 from here on, so load balancers move away before Stop().
  void BeginDrain() {
    draining_ = true;
    event_streams_.CloseAll();  // event streams end now, so clients reconnect elsewhere
  }
  bool draining() const { return draining_.load(); }
  CallTracker& calls() { return calls_; }
  // Open text/event-stream responses (sse.h).
  EventStreams& event_streams() { return event_streams_; }
  void Unregister(Session* session) {
    std::lock_guard lock(sessions_mu_);
    sessions_.erase(session);
    if (sessions_.empty()) sessions_cv_.notify_all();
  }

 private:
  void Accept();
  void RunIo();

  // Everything a session touches is declared before ioc_, so that sessions still queued
  // in it when it is destroyed find it alive.
  const GatewayConfig config_;
  const Backends backends_;
  ApiKeyChecker open311_api_keys_;  // from the constructor, or loaded by Start
  std::unique_ptr<open311::Open311Handler> open311_;
  RouteTable routes_;
  std::unique_ptr<GatewayAuth> auth_;
  std::unique_ptr<EdgePolicy> edge_;
  std::string openapi_json_;
  std::map<std::string, std::unique_ptr<grpc::GenericStub>> stubs_;
  CallTracker calls_;
  EventStreams event_streams_;  // sse.h
  std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  std::map<Session*, std::weak_ptr<Session>> sessions_;
  std::atomic<bool> started_{false};
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> draining_{false};
  std::atomic<int> port_{0};

  net::io_context ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
};

namespace {

// One HTTP connection. Serves one request at a time (pipelined requests wait in the
// buffer); keeps itself alive through the handlers it has pending.
class Session : public std::enable_shared_from_this<Session>, public open311::Backend {
 public:
  Session(tcp::socket socket, GatewayImpl* gateway)
      : stream_(std::move(socket)), executor_(stream_.get_executor()), gateway_(gateway) {}
  ~Session() { gateway_->Unregister(this); }

  void Run() {
    net::dispatch(executor_, [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Closes the connection unless a request is underway (that one closes after its
  // response, as the gateway is stopping).
  void CloseIfIdle() {
    net::post(executor_, [self = shared_from_this()] {
      if (!self->busy_) self->Close();
    });
  }

 private:
  // Per-request state, for the response headers and the log line.
  struct Exchange {
    std::chrono::steady_clock::time_point start;
    std::string method;
    std::string path;  // without the query, which may hold personal data
    std::string route = "-";
    std::string request_id;
    std::string device_id;  // X-Device-Id, when well-formed
    std::optional<AuthOutcome> auth;  // once decided (auth.h)
    // The edge (edge.h).
    std::string origin;           // the Origin header, for CORS
    bool client_limited = false;  // the address and device budgets have been charged
    bool upload = false;          // a multipart upload: read with more patience
    unsigned version = 11;
    bool keep_alive = false;
  };

  void ReadHeader() {
    busy_ = false;
    if (gateway_->stopping()) return Close();
    parser_.emplace();
    parser_->body_limit(static_cast<std::uint64_t>(gateway_->edge().header_body_limit()));
    stream_.expires_after(kReadTimeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, std::size_t) {
    if (ec) return OnReadError(ec);
    Begin();
    if (RefusedAtHeader()) return;  // body limits (edge.h)
    // Clients that wait for "100 Continue" before sending a body (curl does above 1 KiB).
    if (absl::EqualsIgnoreCase(Sv(parser_->get()[http::field::expect]), "100-continue")) {
      continue_.emplace(http::status::continue_, parser_->get().version());
      stream_.expires_after(kWriteTimeout);
      http::async_write(stream_, *continue_,
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(exchange_.upload ? kUploadReadTimeout : kReadTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) return OnReadError(ec);
    request_ = parser_->release();
    Dispatch();
  }

  void OnReadError(beast::error_code ec) {
    const bool http_error =
        ec.category() == http::make_error_code(http::error::end_of_stream).category();
    if (ec == http::error::body_limit) {
      if (!busy_) Begin();
      exchange_.keep_alive = false;  // the rest of the body is still on the wire
      return SendProblem(BodyTooLarge());
    }
    if (http_error && ec != http::error::end_of_stream && ec != http::error::partial_message) {
      if (!busy_) Begin();
      exchange_.keep_alive = false;
      return SendProblem(MakeProblem(400, "malformed-request", ec.message(), exchange_.path,
                                     exchange_.request_id));
    }
    Close();  // the client went away, or was idle too long
  }

  // Starts an exchange from the request header read so far.
  void Begin() {
    busy_ = true;
    const auto& req = parser_->get();
    exchange_ = Exchange();
    exchange_.start = std::chrono::steady_clock::now();
    exchange_.method = std::string(req.method_string());
    const absl::string_view target = Sv(req.target());
    exchange_.path = std::string(target.substr(0, target.find('?')));
    exchange_.version = req.version();
    exchange_.keep_alive = req.keep_alive();
    const absl::string_view id = Sv(req["X-Request-Id"]);
    exchange_.request_id = IsSaneRequestId(id) ? std::string(id) : NewSortableId(absl::Now());
    // The app's installation id: the scope of retries and of per-device rate limits.
    // Until app authentication lands it is the client's word, checked only for shape.
    if (const absl::string_view device = Sv(req["X-Device-Id"]); IsSaneRequestId(device)) {
      exchange_.device_id = std::string(device);
    }
    exchange_.origin = std::string(Sv(req[http::field::origin]));  // CORS (edge.h)
  }

  void Dispatch() {
    const absl::string_view target = Sv(request_.target());
    const size_t q = target.find('?');
    const absl::string_view path = target.substr(0, q);
    const absl::string_view query =
        q == absl::string_view::npos ? absl::string_view() : target.substr(q + 1);

    if (path == "/healthz") {
      exchange_.route = "/healthz";
      if (request_.method() != http::verb::get) return SendMethodNotAllowed({"GET"});
      if (gateway_->stopping() || gateway_->draining()) {
        return SendText(http::status::service_unavailable, "draining\n");
      }
      return SendText(http::status::ok, "ok\n");
    }
    // Served while draining too: it describes the gateway, not a backend.
    if (path == "/openapi.json") {
      exchange_.route = "/openapi.json";
      if (request_.method() != http::verb::get) return SendMethodNotAllowed({"GET"});
      http::response<http::string_body> res{http::status::ok, exchange_.version};
      res.set(http::field::content_type, kJsonContentType);
      res.body() = gateway_->openapi_json();
      return Send(std::move(res));
    }

    // The edge (edge.h): CORS preflights, then the client address's and device's budgets.
    if (AnsweredAtEdge(path)) return;

    // Open311 GeoReport v2 has its own formats and errors (open311.h).
    if (open311::IsOpen311Path(path)) return ServeOpen311();

    RouteMatch match = gateway_->routes().Match(Sv(request_.method_string()), path);
    if (match.route == nullptr) {
      if (!match.allowed_methods.empty()) return SendMethodNotAllowed(match.allowed_methods);
      return SendProblem(MakeProblem(404, "unknown-route", "no resource at this path",
                                     exchange_.path, exchange_.request_id));
    }
    const Route& route = *match.route;
    exchange_.route = route.path.text;

    // Authentication (auth.h). When intake must check the API key, the decision arrives
    // later on this strand and the request is dispatched again from the top.
    if (!exchange_.auth) {
      std::optional<AuthOutcome> decided = gateway_->auth().Authenticate(
          request_, path, executor_, [self = shared_from_this()](AuthOutcome outcome) {
            self->exchange_.auth = std::move(outcome);
            self->Dispatch();
          });
      if (!decided) return;
      exchange_.auth = std::move(decided);
    }
    if (!exchange_.auth->status.ok()) {
      return SendProblem(exchange_.auth->ToProblem(exchange_.path, exchange_.request_id));
    }
    // The verified app's own budget (edge.h).
    if (std::optional<Problem> limited = gateway_->edge().LimitApp(
            exchange_.auth->metadata, exchange_.path, exchange_.request_id)) {
      return SendProblem(*std::move(limited));
    }

    // A body only means something for rules that take one.
    const absl::string_view body = route.body.empty() ? absl::string_view() : Sv(request_.body());
    // A report may come with its photos as multipart/form-data (edge.h).
    const absl::string_view content_type = Sv(request_[http::field::content_type]);
    const bool upload = !body.empty() && IsUpload(route, content_type);
    if (!upload && !body.empty() && !IsJsonContentType(content_type)) {
      return SendProblem(MakeProblem(415, "unsupported-media-type",
                                     "send the body as application/json", exchange_.path,
                                     exchange_.request_id));
    }
    int64_t timeout_ms = gateway_->config().default_timeout_ms;
    if (auto it = request_.find("X-Timeout-Ms"); it != request_.end()) {
      if (!absl::SimpleAtoi(Sv(it->value()), &timeout_ms) || timeout_ms < 1) {
        return SendProblem(MakeProblem(400, "bad-timeout",
                                       "X-Timeout-Ms must be a positive number of milliseconds",
                                       exchange_.path, exchange_.request_id));
      }
      timeout_ms = std::min(timeout_ms, kMaxTimeoutMs);
    }
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> message =
        upload ? BuildUploadRequest(match, query, content_type, body)
               : BuildRequest(match, query, body);
    if (!message.ok()) {
      return SendProblem(
          ProblemFromStatus(message.status(), exchange_.path, exchange_.request_id));
    }
    if (upload) std::string().swap(request_.body());  // edge.h: the photos are in *message now
    // A server-streaming method answers with an event stream, without deadline (sse.h).
    if (route.method->server_streaming()) return ServeEvents(route, **message);
    CallBackend(route, **message, timeout_ms);
  }

  // ---- Event streams (sse.h). The connection belongs to the stream until its `done`;
  // then the session carries on as after any response.
  void ServeEvents(const Route& route, google::protobuf::Message& message) {
    if (gateway_->stopping() || gateway_->draining()) return SendShuttingDown();
    // The resume cursor an EventSource sends when it reconnects wins over the query.
    ApplyLastEventId(Sv(request_["Last-Event-ID"]), &message);
    EventStreamOptions options;
    options.stub = gateway_->StubFor(route.service);
    options.rpc_path = &route.rpc_path;
    options.output = route.method->output_type();
    options.metadata.emplace_back("x-request-id", exchange_.request_id);
    if (!exchange_.device_id.empty()) {
      options.metadata.emplace_back(auth::kDeviceIdMetadata, exchange_.device_id);
    }
    if (exchange_.auth) {  // the verified identity (auth.h)
      for (const auto& entry : exchange_.auth->metadata) options.metadata.push_back(entry);
    }
    options.version = exchange_.version;
    options.keep_alive = exchange_.keep_alive;
    options.request_id = exchange_.request_id;
    options.instance = exchange_.path;
    options.headers = gateway_->edge().CorsHeaders(exchange_.origin);  // edge.h
    // Both callbacks run on this strand while the stream holds this session alive.
    ServeEventStream(
        stream_, buffer_, executor_, gateway_->event_streams(), std::move(options), message,
        shared_from_this(), [this] { OnEventsOpened(); },
        [this](const EventStreamResult& result) { OnEventsDone(result); });
  }

  void OnEventsOpened() {
    const double ms = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - exchange_.start)
                          .count();
    CIVIC_LOG_INFO("http {} {} 200 {:.1f}ms id={} (event stream)", exchange_.method,
                   exchange_.route, ms, exchange_.request_id);
    RecordRequest(exchange_.method, exchange_.route, 200, ms / 1000);
  }

  void OnEventsDone(const EventStreamResult& result) {
    if (!result.started) {  // refused by the backend: answered as a unary call would be
      if (result.client_gone) return Close();
      const grpc::StatusCode code = result.status.error_code();
      if ((code == grpc::StatusCode::CANCELLED || code == grpc::StatusCode::UNAVAILABLE) &&
          (gateway_->stopping() || gateway_->draining())) {
        return SendShuttingDown();
      }
      return SendProblem(
          ProblemFromGrpcStatus(result.status, exchange_.path, exchange_.request_id));
    }
    if (result.reusable && !gateway_->stopping()) return ReadHeader();
    Close();
  }

  void CallBackend(const Route& route, const google::protobuf::Message& message,
                   int64_t timeout_ms) {
    auto call = std::make_shared<BackendCall>();
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(timeout_ms));
    call->context.AddMetadata("x-request-id", exchange_.request_id);
    if (!exchange_.device_id.empty()) {
      call->context.AddMetadata(auth::kDeviceIdMetadata, exchange_.device_id);
    }
    if (exchange_.auth) {  // the verified identity (auth.h)
      for (const auto& [key, value] : exchange_.auth->metadata) {
        call->context.AddMetadata(key, value);
      }
    }
    bool own_buffer = false;
    grpc::GenericStub* stub = gateway_->StubFor(route.service);
    if (stub == nullptr ||
        !grpc::SerializationTraits<google::protobuf::Message>::Serialize(
             message, &call->request, &own_buffer)
             .ok()) {
      return SendProblem(MakeProblem(500, "internal", "cannot forward the request",
                                     exchange_.path, exchange_.request_id));
    }
    if (!gateway_->calls().Begin(call)) return SendShuttingDown();
    // The callback runs on a gRPC thread: it only hands the result to this session's
    // strand. It moves its references out, so that once Done() returns it holds nothing
    // of the gateway (which Stop() may then tear down).
    stub->UnaryCall(
        &call->context, route.rpc_path, grpc::StubOptions(), &call->request, &call->response,
        [self = shared_from_this(), call, route_ptr = &route](grpc::Status status) mutable {
          CallTracker& calls = self->gateway_->calls();
          calls.Forget(call.get());
          const net::any_io_executor executor = self->executor_;
          net::post(executor, [self = std::move(self), call = std::move(call), route_ptr,
                               status = std::move(status)]() mutable {
            self->OnBackendDone(*route_ptr, *call, status);
          });
          calls.Done();
        });
  }

  void OnBackendDone(const Route& route, BackendCall& call, const grpc::Status& status) {
    if (!status.ok()) {
      if (status.error_code() == grpc::StatusCode::CANCELLED && gateway_->stopping()) {
        return SendShuttingDown();
      }
      return SendProblem(ProblemFromGrpcStatus(status, exchange_.path, exchange_.request_id));
    }
    std::unique_ptr<google::protobuf::Message> response(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(route.method->output_type())
            ->New());
    if (!grpc::SerializationTraits<google::protobuf::Message>::Deserialize(&call.response,
                                                                          response.get())
             .ok()) {
      return SendProblem(MakeProblem(502, "bad-gateway", "the backend's answer is unreadable",
                                     exchange_.path, exchange_.request_id));
    }
    // Photos leave as images, not JSON (edge.h).
    if (std::optional<absl::StatusOr<RawAnswer>> raw = RawAnswerOf(*response)) {
      return SendRaw(std::move(*raw));
    }
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    options.always_print_primitive_fields = false;
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(*response, &json, options).ok()) {
      return SendProblem(MakeProblem(500, "internal", "cannot render the answer as JSON",
                                     exchange_.path, exchange_.request_id));
    }
    http::response<http::string_body> res{http::status::ok, exchange_.version};
    res.set(http::field::content_type, kJsonContentType);
    res.body() = std::move(json);
    Send(std::move(res));
  }

  // ---- Open311 (open311.h). The handler strings its backend calls together through
  // the open311::Backend interface below, whose completions and timers run on this
  // session's strand, like CallBackend's.
  void ServeOpen311() {
    open311::HttpRequest request;
    request.method = exchange_.method;
    request.target = std::string(Sv(request_.target()));
    request.body = std::move(request_.body());
    request.content_type = std::string(Sv(request_[http::field::content_type]));
    request.accept_language = std::string(Sv(request_[http::field::accept_language]));
    request.host = std::string(Sv(request_[http::field::host]));
    exchange_.route = std::string(open311::kBasePath);
    gateway_->open311().Serve(request, *this,
                              [self = shared_from_this()](open311::Response response) {
                                self->SendOpen311(std::move(response));
                              });
  }

  void SendOpen311(open311::Response response) {
    exchange_.route = std::move(response.route);
    http::response<http::string_body> res{static_cast<http::status>(response.http_status),
                                          exchange_.version};
    res.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res.set(name, value);
    res.body() = std::move(response.body);
    Send(std::move(res));
  }

  void Call(const std::string& service, const std::string& rpc_path,
            const google::protobuf::Message& message,
            std::shared_ptr<google::protobuf::Message> response, Metadata metadata,
            std::function<void(const grpc::Status&)> done) override {
    // Failures before the call still answer asynchronously, as the interface promises.
    auto fail = [&](grpc::StatusCode code, const char* why) {
      net::post(executor_, [self = shared_from_this(), done = std::move(done),
                            status = grpc::Status(code, why)] { done(status); });
    };
    auto call = std::make_shared<BackendCall>();
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(gateway_->config().default_timeout_ms));
    call->context.AddMetadata("x-request-id", exchange_.request_id);
    bool device = false;
    for (const auto& [key, value] : metadata) {
      device = device || key == auth::kDeviceIdMetadata;
      call->context.AddMetadata(key, value);
    }
    if (!device && !exchange_.device_id.empty()) {
      call->context.AddMetadata(auth::kDeviceIdMetadata, exchange_.device_id);
    }
    bool own_buffer = false;
    grpc::GenericStub* stub = gateway_->StubFor(service);
    if (stub == nullptr ||
        !grpc::SerializationTraits<google::protobuf::Message>::Serialize(
             message, &call->request, &own_buffer)
             .ok()) {
      return fail(grpc::StatusCode::INTERNAL, "cannot forward the request");
    }
    if (!gateway_->calls().Begin(call)) {
      return fail(grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down");
    }
    stub->UnaryCall(
        &call->context, rpc_path, grpc::StubOptions(), &call->request, &call->response,
        [self = shared_from_this(), call, response = std::move(response),
         done = std::move(done)](grpc::Status status) mutable {
          CallTracker& calls = self->gateway_->calls();
          calls.Forget(call.get());
          const net::any_io_executor executor = self->executor_;
          net::post(executor, [self = std::move(self), call = std::move(call),
                               response = std::move(response), done = std::move(done),
                               status = std::move(status)]() mutable {
            if (status.ok() && !grpc::SerializationTraits<google::protobuf::Message>::Deserialize(
                                    &call->response, response.get())
                                    .ok()) {
              status = grpc::Status(grpc::StatusCode::INTERNAL, "unreadable backend answer");
            }
            done(status);
          });
          calls.Done();
        });
  }

  void After(absl::Duration delay, std::function<void()> fn) override {
    auto timer = std::make_shared<net::steady_timer>(executor_, absl::ToChronoNanoseconds(delay));
    timer->async_wait([self = shared_from_this(), timer, fn = std::move(fn)](beast::error_code) {
      fn();
    });
  }

  // ---- The edge (edge.h).

  // Answers OPTIONS on a served path (a CORS preflight when the Origin is allowed), and
  // charges the client address's and device's budgets once per request (Dispatch runs
  // again after an API key check). True when the request has been answered.
  bool AnsweredAtEdge(absl::string_view path) {
    EdgePolicy& edge = gateway_->edge();
    if (request_.method() == http::verb::options) {
      std::vector<std::string> methods;
      if (open311::IsOpen311Path(path)) {
        exchange_.route = std::string(open311::kBasePath);
        methods = {"GET", "POST"};
      } else {
        methods = gateway_->routes().Match("OPTIONS", path).allowed_methods;
        if (!methods.empty()) {
          const RouteMatch any = gateway_->routes().Match(methods.front(), path);
          if (any.route != nullptr) exchange_.route = any.route->path.text;
        }
      }
      if (!methods.empty()) {
        http::response<http::string_body> res{http::status::no_content, exchange_.version};
        for (const auto& [name, value] : edge.PreflightHeaders(exchange_.origin, methods)) {
          res.set(name, value);
        }
        Send(std::move(res));
        return true;
      }
    }
    if (exchange_.client_limited) return false;
    exchange_.client_limited = true;
    beast::error_code ec;
    const tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    std::vector<absl::string_view> forwarded;
    for (auto [it, end] = request_.equal_range("X-Forwarded-For"); it != end; ++it) {
      forwarded.push_back(Sv(it->value()));
    }
    const auto client = edge.ClientAddress(peer.address(), absl::StrJoin(forwarded, ","));
    if (std::optional<Problem> limited =
            edge.LimitClient(client, exchange_.device_id, exchange_.path, exchange_.request_id)) {
      SendProblem(*std::move(limited));
      return true;
    }
    return false;
  }

  // Right after the header: sets the body limit of this request (larger for an upload)
  // and refuses at once a declared length beyond it, before the client sends the body
  // (or is told "100 Continue"). True when refused.
  bool RefusedAtHeader() {
    const auto& req = parser_->get();
    const int64_t limit = gateway_->edge().BodyLimit(gateway_->routes(), exchange_.method,
                                                     exchange_.path,
                                                     Sv(req[http::field::content_type]));
    exchange_.upload = limit > gateway_->config().max_body_bytes;
    if (parser_->content_length() && *parser_->content_length() > static_cast<uint64_t>(limit)) {
      exchange_.keep_alive = false;  // the body is not read
      SendProblem(BodyTooLarge());
      return true;
    }
    parser_->body_limit(static_cast<std::uint64_t>(limit));  // for a chunked body
    return false;
  }

  Problem BodyTooLarge() {
    const auto& req = parser_->get();
    const int64_t limit = gateway_->edge().BodyLimit(gateway_->routes(), exchange_.method,
                                                     exchange_.path,
                                                     Sv(req[http::field::content_type]));
    return MakeProblem(413, "body-too-large", absl::StrCat("the body exceeds ", limit, " bytes"),
                       exchange_.path, exchange_.request_id);
  }

  void SendRaw(absl::StatusOr<RawAnswer> raw) {
    if (!raw.ok()) {
      return SendProblem(MakeProblem(502, "bad-gateway", raw.status().message(), exchange_.path,
                                     exchange_.request_id));
    }
    http::response<http::string_body> res{http::status::ok, exchange_.version};
    res.set(http::field::content_type, raw->content_type);
    for (const auto& [name, value] : raw->headers) res.set(name, value);
    res.body() = std::move(raw->body);
    Send(std::move(res));
  }

  void SendText(http::status status, std::string text) {
    http::response<http::string_body> res{status, exchange_.version};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = std::move(text);
    Send(std::move(res));
  }

  void SendMethodNotAllowed(const std::vector<std::string>& allowed) {
    Problem problem = MakeProblem(405, "method-not-allowed",
                                  absl::StrCat(exchange_.method, " is not allowed here"),
                                  exchange_.path, exchange_.request_id);
    problem.headers.emplace_back("Allow", absl::StrJoin(allowed, ", "));
    SendProblem(std::move(problem));
  }

  void SendShuttingDown() {
    Problem problem = MakeProblem(503, "shutting-down", "the gateway is shutting down",
                                  exchange_.path, exchange_.request_id);
    problem.headers.emplace_back("Retry-After", "1");
    SendProblem(std::move(problem));
  }

  void SendProblem(Problem problem) {
    AddAuthChallenge(problem);  // a 401 always names its scheme (auth.h)
    http::response<http::string_body> res;
    res.version(exchange_.version);
    res.result(static_cast<unsigned>(problem.status));
    res.reason(Bv(HttpReasonPhrase(problem.status)));  // Beast has no phrase for 499
    res.set(http::field::content_type, Bv(kProblemContentType));
    for (const auto& [name, value] : problem.headers) res.set(name, value);
    res.body() = std::move(problem.body);
    Send(std::move(res));
  }

  void Send(http::response<http::string_body> res) {
    res.set("X-Request-Id", exchange_.request_id);
    for (const auto& [name, value] : gateway_->edge().CorsHeaders(exchange_.origin)) {
      res.set(name, value);  // edge.h
    }
    res.keep_alive(exchange_.keep_alive && !gateway_->stopping());
    res.prepare_payload();
    const double ms = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - exchange_.start)
                          .count();
    // Never the query string or the body: they can hold personal data.
    CIVIC_LOG_INFO("http {} {} {} {:.1f}ms id={}", exchange_.method, exchange_.route,
                   res.result_int(), ms, exchange_.request_id);
    RecordRequest(std::string(exchange_.method), std::string(exchange_.route),
                  res.result_int(), ms / 1000);
    response_ = std::move(res);
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this(),
                                                response_.need_eof()));
  }

  void OnWrite(bool close, beast::error_code ec, std::size_t) {
    if (ec || close) return Close();
    ReadHeader();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();  // also cancels a pending read
  }

  beast::tcp_stream stream_;
  const net::any_io_executor executor_;  // the strand of this connection
  GatewayImpl* const gateway_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  Exchange exchange_;
  bool busy_ = false;  // between reading a request's header and writing its response
};

}  // namespace

absl::Status GatewayImpl::Start() {
  if (started_.exchange(true)) {
    return absl::FailedPreconditionError("gateway: Start() may be called only once");
  }
  CIVIC_RETURN_IF_ERROR(config_.Validate());
  std::vector<std::string> services;
  for (const auto& [name, channel] : backends_) {
    if (channel == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("gateway: no channel for ", name));
    }
    services.push_back(name);
    stubs_[name] = std::make_unique<grpc::GenericStub>(channel);
  }
  CIVIC_ASSIGN_OR_RETURN(routes_, RouteTable::Build(services));
  // ---- Authentication (auth.h): intake checks the API keys.
  {
    auto intake = backends_.find("civic.intake.v1.IntakeService");
    CIVIC_ASSIGN_OR_RETURN(auth_, GatewayAuth::Create(config_, intake == backends_.end()
                                                                   ? nullptr
                                                                   : intake->second));
  }
  // ---- Open311.
  if (!open311_api_keys_ && !config_.open311_api_keys_file.empty()) {
    CIVIC_ASSIGN_OR_RETURN(open311_api_keys_, LoadApiKeyFile(config_.open311_api_keys_file));
  }
  open311_ = std::make_unique<open311::Open311Handler>(
      open311::HandlerOptions{.jurisdiction_ids = config_.open311_jurisdiction_ids,
                              .public_url = config_.open311_public_url,
                              .contact = config_.open311_contact,
                              .key_service = config_.open311_key_service},
      open311_api_keys_);
  // ---- The OpenAPI document, with the protos' comments (proto/civic_descriptors.h); the
  // pool is only read while building, and the document is kept as text.
  {
    absl::StatusOr<std::unique_ptr<google::protobuf::DescriptorPool>> comments =
        CommentsPool(civic::proto::CommentedDescriptorSet());
    if (!comments.ok()) {
      CIVIC_LOG_WARN("gateway: the OpenAPI document goes without proto comments: {}",
                     comments.status().ToString());
    }
    openapi_json_ = BuildOpenApi(routes_, OpenApiInfo{.require_api_key = config_.require_api_key},
                                 comments.ok() ? comments->get() : nullptr)
                        .dump();
  }
  edge_ = std::make_unique<EdgePolicy>(config_);  // rate limits, CORS, body limits (edge.h)

  const std::string& listen = config_.http_listen;
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // "[::1]:8080"
  }
  const std::string port = listen.substr(colon + 1);
  auto fail = [&](absl::string_view what, const beast::error_code& ec) {
    return absl::UnavailableError(
        absl::StrCat("gateway: cannot ", what, " ", listen, ": ", ec.message()));
  };
  beast::error_code ec;
  tcp::resolver resolver(ioc_);
  const auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return fail("resolve", ec);
  if (endpoints.empty()) return fail("resolve", net::error::host_not_found);
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  if (acceptor_.open(endpoint.protocol(), ec); ec) return fail("open", ec);
  if (acceptor_.set_option(net::socket_base::reuse_address(true), ec); ec) {
    return fail("configure", ec);
  }
  if (acceptor_.bind(endpoint, ec); ec) return fail("bind", ec);
  if (acceptor_.listen(net::socket_base::max_listen_connections, ec); ec) {
    return fail("listen on", ec);
  }
  port_ = acceptor_.local_endpoint().port();

  work_.emplace(ioc_.get_executor());
  Accept();
  running_ = true;
  for (int i = 0; i < config_.threads; ++i) threads_.emplace_back([this] { RunIo(); });
  CIVIC_LOG_INFO("gateway: {} routes over {} services, HTTP on port {}",
                 routes_.routes().size(), services.size(), port_.load());
  return absl::OkStatus();
}

void GatewayImpl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec,
                                                        tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      CIVIC_LOG_WARN("gateway: accept failed: {}", ec.message());
    } else if (!stopping_) {
      auto session = std::make_shared<Session>(std::move(socket), this);
      {
        std::lock_guard lock(sessions_mu_);
        sessions_[session.get()] = session;
      }
      session->Run();
    }
    Accept();
  });
}

void GatewayImpl::RunIo() {
  for (;;) {
    try {
      ioc_.run();
      return;
    } catch (const std::exception& e) {
      // A handler threw; keep serving the other connections.
      CIVIC_LOG_ERROR("gateway: I/O handler failed: {}", e.what());
    }
  }
}

void GatewayImpl::Stop() {
  if (!running_.exchange(false)) return;
  stopping_ = true;
  event_streams_.CloseAll();  // sse.h: they end now rather than after kDrainTimeout
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(sessions_mu_);
    for (const auto& [ptr, weak] : sessions_) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  for (const auto& session : live) session->CloseIfIdle();
  live.clear();
  {
    std::unique_lock lock(sessions_mu_);
    sessions_cv_.wait_for(lock, kDrainTimeout, [this] { return sessions_.empty(); });
  }
  calls_.CancelAllAndWait();
  event_streams_.WaitAll();  // sse.h: their last gRPC callbacks have run
  if (auth_) auth_->CancelAllAndWait();  // API key checks post to sessions: before ioc_ stops
  {
    // Brief grace so that cancelled requests still get their 503 written.
    std::unique_lock lock(sessions_mu_);
    sessions_cv_.wait_for(lock, kCancelGrace, [this] { return sessions_.empty(); });
  }
  work_.reset();
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  CIVIC_LOG_INFO("gateway: stopped");
}

}  // namespace internal

Gateway::Gateway(GatewayConfig config, Backends backends, ApiKeyChecker open311_api_keys)
    : impl_(std::make_unique<internal::GatewayImpl>(std::move(config), std::move(backends),
                                                    std::move(open311_api_keys))) {}

Gateway::~Gateway() = default;  // GatewayImpl's destructor stops

absl::Status Gateway::Start() { return impl_->Start(); }

int Gateway::port() const { return impl_->port(); }

void Gateway::Stop() { impl_->Stop(); }

void Gateway::BeginDrain() { impl_->BeginDrain(); }

}  // namespace civic::gateway
