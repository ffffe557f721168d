// Client channels to peer services: keepalive, retries through service config for the
// methods the caller declares idempotent, and a deadline on every call.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"

namespace civic::rpc {

struct ChannelOptions {
  // Methods safe to retry on UNAVAILABLE, as "package.Service/Method".
  std::vector<std::string> idempotent_methods;
  absl::Duration keepalive_time = absl::Seconds(30);
  // Largest answer accepted; 0 keeps gRPC's 4 MiB. Photos need more.
  int max_receive_bytes = 0;
};

// The channel arguments for `options` (keepalive, retries, reconnect back-off, sizes).
grpc::ChannelArguments ChannelArgs(const ChannelOptions& options);

// A channel to `address`. Connection is lazy: creating one never fails.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const ChannelOptions& options = {});

// Sets the deadline of a call `timeout` from now. Every outgoing call gets one.
void SetTimeout(grpc::ClientContext& context, absl::Duration timeout);

}  // namespace civic::rpc
