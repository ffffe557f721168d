// Runs a unary callback-API handler's work on a worker pool, so blocking work (synced
// writes, calls to peers) never holds one of gRPC's callback threads.
#pragma once

#include <grpcpp/grpcpp.h>

#include <utility>

#include "absl/status/status.h"
#include "libs/core/worker_pool.h"
#include "libs/rpc/server.h"
#include "libs/rpc/status.h"

namespace civic::rpc {

// `work` returns absl::Status; the reactor finishes with its gRPC form. A call whose
// deadline has already passed fails at once without running `work`.
template <typename Work>
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context, WorkerPool& pool,
                                   Work&& work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (grpc::Status late = CheckDeadline(*context); !late.ok()) {
    reactor->Finish(late);
    return reactor;
  }
  pool.Submit([reactor, context, work = std::forward<Work>(work)]() mutable {
    if (context->IsCancelled()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
      return;
    }
    reactor->Finish(ToGrpcStatus(work()));
  });
  return reactor;
}

}  // namespace civic::rpc
