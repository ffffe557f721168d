// Server-side gRPC metrics with the names and labels of go-grpc-prometheus, so stock
// Grafana gRPC dashboards work unchanged: grpc_server_started_total,
// grpc_server_handled_total{grpc_code}, grpc_server_handling_seconds, each labelled
// grpc_type, grpc_service, grpc_method.
#pragma once

#include <memory>
#include <string_view>

#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status_code_enum.h>

namespace civic::rpc {

// Interceptor factory recording into civic::metrics::Registry().
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeMetricsInterceptorFactory();

// The Go spelling of a status code ("OK", "InvalidArgument", "DeadlineExceeded"...).
absl::string_view CodeName(grpc::StatusCode code);

}  // namespace civic::rpc
