// The HTTP/JSON front door of CivicDesk: serves the routes the backends declare with
// google.api.http and forwards each request as a gRPC call (unary, or server-streaming
// as server-sent events), so citizens' apps need nothing but HTTP and JSON. Around the
// routes: authentication (auth.h, api_keys.h), the edge's limits and CORS (edge.h),
// multipart uploads (multipart.h) and Open311 (open311.h).
#pragma once

#include <map>
#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "absl/status/status.h"
#include "services/gateway/gateway_config.h"
#include "services/gateway/open311.h"

namespace civic::gateway {

// Full gRPC service name (e.g. "civic.intake.v1.IntakeService") -> channel to it.
using Backends = std::map<std::string, std::shared_ptr<grpc::Channel>>;

namespace internal {
class GatewayImpl;
}  // namespace internal

// Serves HTTP/1.1 (keep-alive) on config.http_listen with config.threads I/O threads:
//   GET /healthz      -> 200 "ok" while running (503 while stopping);
//   GET /openapi.json -> the OpenAPI 3.1 document of the routes (openapi.h), built at Start;
//   routed requests   -> the backend's answer as proto3 JSON (snake_case names), or an
//                        application/problem+json document (see problem.h);
//   server-streaming routes -> a text/event-stream of the backend's messages (sse.h);
//   /open311/v2/...   -> Open311 GeoReport v2 in XML or JSON (open311.h);
//   anything else     -> 404 problem, or 405 with Allow when only the method is wrong.
// Every response carries X-Request-Id (the client's when it is 1..128 characters of
// [A-Za-z0-9._-], else a fresh sortable id), which is also sent to the backend as
// "x-request-id" metadata. A client may shorten or lengthen the backend deadline with
// X-Timeout-Ms (1..60000); otherwise config.default_timeout_ms applies.
// Start and Stop are not thread-safe with each other; everything else is internal.
class Gateway {
 public:
  // `open311_api_keys` checks the api_key of Open311 POSTs (open311.h); when null, the
  // keys are those hashed in config.open311_api_keys_file, or none when it is empty.
  Gateway(GatewayConfig config, Backends backends, ApiKeyChecker open311_api_keys = nullptr);
  ~Gateway();  // stops if running
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Builds the routes from the backends' generated descriptors (see RouteTable::Build
  // for its errors), loads the Open311 api key file (see LoadApiKeyFile for its errors),
  // binds the listener and starts the I/O threads. INVALID_ARGUMENT for a bad config,
  // UNAVAILABLE when the address cannot be bound, FAILED_PRECONDITION when called twice.
  absl::Status Start();

  // The bound HTTP port, after a successful Start; 0 before.
  int port() const;

  // Stops accepting, closes idle connections, lets requests in flight finish (up to 5 s,
  // then cancels their backend calls), and joins the threads. Idempotent.
  void Stop();

  // /healthz answers 503 from now on while requests are still served: the first phase
  // of a graceful shutdown.
  void BeginDrain();

 private:
  std::unique_ptr<internal::GatewayImpl> impl_;
};

}  // namespace civic::gateway
