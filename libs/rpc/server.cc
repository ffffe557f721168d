#include "libs/rpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "libs/rpc/metrics_interceptor.h"

namespace civic::rpc {

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<Server> out(new Server());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &port);
  // One server, two doors: the services behind both are the same objects; they tell
  // the doors apart by the call's auth context (PeerUsesTls).
  int tls_port = 0;
  if (options.tls) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        MakeMutualTlsCredentials(*options.tls);
    if (!credentials.ok()) return credentials.status();
    builder.AddListeningPort(options.tls->listen, *credentials, &tls_port);
  }
  for (grpc::Service* service : options.services) builder.RegisterService(service);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_time)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_age)));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, 30000);
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  // gRPC sets SO_REUSEPORT by default: a second civicd on the same port would silently
  // share its traffic. Fail to bind instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);

  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> icpt;
  icpt.push_back(MakeMetricsInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(icpt));

  out->server_ = builder.BuildAndStart();
  if (!out->server_ || port == 0 || (options.tls && tls_port == 0)) {
    return absl::UnavailableError(
        absl::StrCat("gRPC: cannot listen on ", options.listen,
                     options.tls ? absl::StrCat(" and (TLS) ", options.tls->listen) : ""));
  }
  out->port_ = port;
  out->address_ = absl::StrCat(options.listen.substr(0, options.listen.rfind(':')), ":", port);
  if (options.tls) {
    const std::string& tls_listen = options.tls->listen;
    out->tls_address_ = absl::StrCat(tls_listen.substr(0, tls_listen.rfind(':')), ":", tls_port);
  }
  // Register each name; SetServingStatus(bool) then flips them all with "".
  auto* health = out->server_->GetHealthCheckService();
  for (const auto& name : options.health_names) health->SetServingStatus(name, false);
  out->SetServing(false);
  return out;
}

Server::~Server() { Shutdown(absl::Seconds(5)); }

std::shared_ptr<grpc::Channel> Server::InProcessChannel(const ChannelOptions& options) {
  grpc::ChannelArguments args = ChannelArgs(options);
  return server_->InProcessChannel(args);
}

void Server::SetServing(bool serving) {
  if (!server_ || shut_down_) return;
  server_->GetHealthCheckService()->SetServingStatus(serving);
}

void Server::Shutdown(absl::Duration grace) {
  if (!server_ || shut_down_) return;
  SetServing(false);
  shut_down_ = true;
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(grace));
  server_->Wait();
}

grpc::Status CheckDeadline(const grpc::ServerContextBase& context) {
  if (context.deadline() < std::chrono::system_clock::now()) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "deadline passed before the call started");
  }
  return grpc::Status::OK;
}

}  // namespace civic::rpc
