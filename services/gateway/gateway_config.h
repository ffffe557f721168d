// Settings of the HTTP gateway, in the config framework's Visit form (libs/config).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace civic::gateway {

struct GatewayConfig {
  std::string http_listen = "127.0.0.1:8080";
  int threads = 2;
  int64_t max_body_bytes = 1 << 20;
  int64_t default_timeout_ms = 10000;
  std::string intake_address = "127.0.0.1:7101";
  std::string routing_address = "127.0.0.1:7102";
  std::string notify_address = "127.0.0.1:7104";
  std::string analytics_address = "127.0.0.1:7105";
  std::string cases_address = "127.0.0.1:7103";

  template <typename V>
  void Visit(V& v) {
    v("http_listen", http_listen, "HTTP address; port 0 picks a free one");
    v("threads", threads, "I/O threads serving HTTP");
    v("max_body_bytes", max_body_bytes, "largest accepted request body; larger gets 413");
    v("default_timeout_ms", default_timeout_ms,
      "deadline for a backend call when the client sets none");
    v("intake_address", intake_address, "intake's gRPC address when it runs elsewhere");
    v("routing_address", routing_address, "routing's gRPC address when it runs elsewhere");
    v("notify_address", notify_address, "notify's gRPC address when it runs elsewhere");
    v("analytics_address", analytics_address, "analytics' gRPC address when it runs elsewhere");
    v("cases_address", cases_address, "cases' gRPC address when it runs elsewhere (public view)");
  }

  // INVALID_ARGUMENT naming the field when http_listen is not host:port, threads is
  // outside 1..64, max_body_bytes is not positive, or default_timeout_ms is outside
  // 1..60000 (the cap on a client's X-Timeout-Ms too).
  absl::Status Validate() const;
};

}  // namespace civic::gateway
