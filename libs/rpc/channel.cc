#include "libs/rpc/channel.h"

#include <chrono>

#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace civic::rpc {

grpc::ChannelArguments ChannelArgs(const ChannelOptions& options) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_time)));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  // gRPC's default reconnect back-off grows to 120 s: after a peer's outage, calls would
  // wait minutes for a channel that could already reconnect. Peers restart in seconds.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  if (options.max_receive_bytes > 0) args.SetMaxReceiveMessageSize(options.max_receive_bytes);
  if (!options.idempotent_methods.empty()) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& m : options.idempotent_methods) {
      std::vector<std::string> parts = absl::StrSplit(m, '/');
      names.push_back({{"service", parts[0]}, {"method", parts.size() > 1 ? parts[1] : ""}});
    }
    nlohmann::json config = {
        {"methodConfig",
         {{{"name", names},
           {"retryPolicy",
            {{"maxAttempts", 4},
             {"initialBackoff", "0.1s"},
             {"maxBackoff", "1s"},
             {"backoffMultiplier", 2},
             {"retryableStatusCodes", {"UNAVAILABLE"}}}}}}}};
    args.SetServiceConfigJSON(config.dump());
  }
  return args;
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const ChannelOptions& options) {
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   ChannelArgs(options));
}

void SetTimeout(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout));
}

}  // namespace civic::rpc
