// Settings of the HTTP gateway, in the config framework's Visit form (libs/config).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "libs/auth/caller.h"

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
  // Authentication (auth.h).
  bool require_api_key = false;
  int64_t api_key_cache_ms = 10000;
  auth::AuthKeyFiles auth;
  // ---- Open311 GeoReport v2 (/open311/v2, open311.h).
  std::vector<std::string> open311_jurisdiction_ids = {"civicdesk.vn"};
  std::string open311_api_keys_file;
  std::string open311_public_url;
  std::string open311_contact = "CivicDesk operations centre";
  std::string open311_key_service = "Ask the city's operations centre for an Open311 API key.";
  // ---- The edge (edge.h): rate limits, CORS, uploads.
  int64_t rate_per_ip_per_min = 600;
  int64_t rate_per_device_per_min = 120;
  int64_t rate_per_key_per_min = 6000;
  std::vector<std::string> trusted_proxies;
  std::vector<std::string> cors_allowed_origins;
  int64_t max_upload_bytes = 5 * (10 << 20) + (1 << 20);

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
    v("require_api_key", require_api_key,
      "every /v1 route needs an app's X-Api-Key (keys are issued by intake's admin API)");
    v("api_key_cache_ms", api_key_cache_ms,
      "how long a key check is reused, 0..10000: a revoked key stops working within it");
    auth.Visit(v);
    v("open311_jurisdiction_ids", open311_jurisdiction_ids,
      "jurisdiction_id values Open311 accepts (optional in requests; others get 404)");
    v("open311_api_keys_file", open311_api_keys_file,
      "file of SHA-256 hex hashes of accepted Open311 api_keys, one per line; empty: none");
    v("open311_public_url", open311_public_url,
      "origin for Open311's absolute URLs, e.g. https://api.city.vn; empty: from Host");
    v("open311_contact", open311_contact, "Open311 discovery's contact text");
    v("open311_key_service", open311_key_service, "Open311 discovery's key_service text");
    v("rate_per_ip_per_min", rate_per_ip_per_min,
      "requests a minute per client address (bursts of a minute's worth); 0: no limit");
    v("rate_per_device_per_min", rate_per_device_per_min,
      "requests a minute per X-Device-Id (bursts of a minute's worth); 0: no limit");
    v("rate_per_key_per_min", rate_per_key_per_min,
      "requests a minute per verified app API key (bursts of a minute's worth); 0: no limit");
    v("trusted_proxies", trusted_proxies,
      "addresses or CIDRs of proxies whose X-Forwarded-For names the client; empty: none");
    v("cors_allowed_origins", cors_allowed_origins,
      "origins (https://portal.city.vn) whose browser pages may call the API, or \"*\"; "
      "empty: no CORS");
    v("max_upload_bytes", max_upload_bytes,
      "largest multipart/form-data body (a report with its photos); larger gets 413");
  }

  // INVALID_ARGUMENT naming the field when http_listen is not host:port, threads is
  // outside 1..64, max_body_bytes is not positive, or default_timeout_ms is outside
  // 1..60000 (the cap on a client's X-Timeout-Ms too), or open311_jurisdiction_ids is
  // empty or has an empty entry, or open311_public_url is set but not http(s)://host
  // without a path; or an edge key is invalid (ValidateEdgeConfig, edge.h).
  absl::Status Validate() const;
};

}  // namespace civic::gateway
