// The gRPC server every service runs: standard health (grpc.health.v1, per service
// name, following the lifecycle), reflection, keepalive and connection-age limits, and
// the Prometheus interceptor. Services register callback-API implementations.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/rpc/channel.h"
#include "libs/rpc/tls.h"

namespace civic::rpc {

struct ServerOptions {
  // "host:port"; port 0 picks a free one.
  std::string listen;
  // Implementations to serve (not owned; must outlive the server).
  std::vector<grpc::Service*> services;
  // Full names of those services ("civic.intake.v1.IntakeService"), reported by the
  // health service beside the whole-server name "".
  std::vector<std::string> health_names;
  // Server-side keepalive pings, so dead agency connections are noticed.
  absl::Duration keepalive_time = absl::Seconds(30);
  // Connections are recycled after this, so clients rebalance across replicas.
  absl::Duration max_connection_age = absl::Minutes(30);
  // Largest request accepted (photos come later, through their own path).
  int max_receive_bytes = 16 << 20;
  // A second port serving the same services over mutual TLS (for outside systems);
  // none when unset. The plaintext `listen` port is unaffected.
  std::optional<TlsPortOptions> tls;
};

class Server {
 public:
  // Binds and starts serving; every health name starts NOT_SERVING until SetServing.
  // UNAVAILABLE when an address cannot be bound; INVALID_ARGUMENT when a TLS file
  // cannot be read.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  ~Server();

  // The bound port and "host:port" address.
  int port() const { return port_; }
  const std::string& address() const { return address_; }
  // The TLS port's bound "host:port"; "" without one.
  const std::string& tls_address() const { return tls_address_; }

  // A channel to this server within the process (gRPC's in-process transport: no
  // socket, no HTTP/2 framing), with `options` as MakeChannel takes them. The server's
  // interceptors and metadata work as over the network; there is no TLS, so nothing
  // that needs a client certificate can be reached through it. Never call it after
  // Shutdown: gRPC 1.51's in-process transport crashes then (the caller must stop
  // first).
  std::shared_ptr<grpc::Channel> InProcessChannel(const ChannelOptions& options = {});

  // Reports every served service (and the whole server, name "") as SERVING or not.
  void SetServing(bool serving);

  // NOT_SERVING, then stops accepting and waits up to `grace` for calls in flight
  // before cancelling the rest.
  void Shutdown(absl::Duration grace);

 private:
  Server() = default;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  int port_ = 0;
  std::string tls_address_;
  bool shut_down_ = false;
};

// Fails the call with DEADLINE_EXCEEDED (before any work) when the client's deadline
// has already passed; OK otherwise.
grpc::Status CheckDeadline(const grpc::ServerContextBase& context);

}  // namespace civic::rpc
