// The gateway's edge: what is decided about a request before a backend sees it, and how
// some answers leave. Rate limits per client address, device and app key (token
// buckets, 429 with Retry-After); CORS for the web portal; body limits, larger for
// photo uploads; reports sent as multipart/form-data with their photos; and photos
// (civic.common.v1.PhotoContent answers) served as images rather than JSON.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "services/gateway/gateway_config.h"
#include "services/gateway/http_rules.h"
#include "services/gateway/problem.h"

namespace civic::gateway {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// INVALID_ARGUMENT naming the key when a rate is negative, max_upload_bytes is not
// positive, a trusted_proxies entry is not an IP address or CIDR (10.0.0.0/8,
// fd00::/8), or a cors_allowed_origins entry is not "*" (alone) or an http(s) origin
// without path, query or trailing slash.
absl::Status ValidateEdgeConfig(const GatewayConfig& config);

// ---------------------------------------------------------------------- rate limits

// Token buckets by key (an address, a device id, an app's key id): each holds up to a
// minute's worth of tokens (the burst), refills at `per_minute` a minute, and a request
// takes one. Memory is bounded: at most `max_buckets` buckets, the least recently used
// dropped first; buckets idle long enough to be full again are dropped as they are met
// (a new bucket starts full, so nothing is lost). Thread-safe; keys spread over
// independently locked shards so that I/O threads rarely wait on each other.
class RateLimiter {
 public:
  struct Options {
    int64_t per_minute = 0;  // 0: no limit, every Take succeeds
    size_t max_buckets = 100000;
  };
  using NowFn = std::function<absl::Time()>;

  explicit RateLimiter(
      Options options, NowFn now = [] { return absl::Now(); });

  // Takes a token for `key`. nullopt when there was one; otherwise how long until the
  // next one (positive) and nothing is taken.
  std::optional<absl::Duration> Take(absl::string_view key);

  // Buckets held now (for tests).
  size_t size() const;

 private:
  static constexpr size_t kShards = 16;
  struct Bucket {
    std::string key;
    double tokens;
    absl::Time updated;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Bucket> lru;  // most recently used first
    std::unordered_map<std::string_view, std::list<Bucket>::iterator> index;  // keys in lru
  };
  // True when `b` would be full again at `now`: it can go without changing anything.
  bool Refilled(const Bucket& b, absl::Time now) const;

  const double per_second_;
  const double burst_;
  const size_t max_per_shard_;
  const NowFn now_;
  Shard shards_[kShards];
};

// Which limit a request hit: the metric label, "ip", "device" or "key".
enum class RateLimitKind { kIp, kDevice, kKey };
absl::string_view RateLimitName(RateLimitKind kind);

// The 429 problem for a refusal by `kind` after `wait`: type ".../ip-rate-limited",
// ".../device-rate-limited" or ".../api-key-rate-limited", a detail naming the budget,
// and Retry-After in whole seconds, rounded up, at least 1.
Problem RateLimitedProblem(RateLimitKind kind, int64_t per_minute, absl::Duration wait,
                           absl::string_view instance, absl::string_view request_id);

// ---------------------------------------------------------------------------- CORS

// The request headers a browser page may send (Access-Control-Allow-Headers).
inline constexpr absl::string_view kCorsAllowedHeaders =
    "Content-Type, Authorization, X-Api-Key, X-Device-Id, X-Request-Id, X-Timeout-Ms";
// The response headers its script may read besides the safelisted ones.
inline constexpr absl::string_view kCorsExposedHeaders = "X-Request-Id, Retry-After";
inline constexpr int kCorsMaxAgeSeconds = 600;

// ------------------------------------------------------------------------- the edge

// The edge's decisions for one gateway, from its config. Thread-safe.
class EdgePolicy {
 public:
  // `config` must have passed Validate(); `now` is the rate limiters' clock.
  explicit EdgePolicy(
      const GatewayConfig& config, RateLimiter::NowFn now = [] { return absl::Now(); });

  // ---- Client address and rate limits.

  // The client's address: the socket peer, unless the peer is a trusted proxy; then
  // X-Forwarded-For (`forwarded_for`, every such header joined with ',') is read from
  // the right, and the first address that is not a trusted proxy is the client (an
  // unreadable entry stops the walk at the last trusted hop). A client cannot pose as
  // another through X-Forwarded-For unless every hop after its claim is trusted.
  boost::asio::ip::address ClientAddress(const boost::asio::ip::address& peer,
                                         absl::string_view forwarded_for) const;

  // Takes a token from the client address's bucket and, when `device_id` is not empty,
  // the device's. The address bucket is an IPv4 address or an IPv6 /64 (one host's
  // usual share); loopback is never limited by address (health checks, tools and a
  // local proxy not listed in trusted_proxies: its clients would otherwise share one
  // budget). nullopt when the request may go on, else the 429 problem (counted in
  // civicdesk_gateway_rate_limited_total).
  std::optional<Problem> LimitClient(const boost::asio::ip::address& client,
                                     absl::string_view device_id, absl::string_view instance,
                                     absl::string_view request_id);

  // The same for the verified app, whose key id is the x-civic-app-id entry of
  // `metadata` (AuthOutcome::metadata, auth.h); nothing to limit without one.
  std::optional<Problem> LimitApp(const HttpHeaders& metadata, absl::string_view instance,
                                  absl::string_view request_id);

  // ---- CORS (the list gateway.cors_allowed_origins; empty: CORS is off).

  // True when `origin` (the request's Origin header) may read answers. Never "null".
  bool OriginAllowed(absl::string_view origin) const;

  // Headers for every response to a request with `origin`: Access-Control-Allow-Origin
  // (the origin, or "*" when the list is "*") and -Expose-Headers when it is allowed,
  // and Vary: Origin whenever CORS is on (the answer depends on it). Empty when off.
  HttpHeaders CorsHeaders(absl::string_view origin) const;

  // Headers of the 204 answer to OPTIONS on a path served under `methods`: Allow, and
  // for an allowed origin Access-Control-Allow-Methods (`methods`), -Allow-Headers
  // (kCorsAllowedHeaders) and -Max-Age (600). CorsHeaders() come on top.
  HttpHeaders PreflightHeaders(absl::string_view origin,
                               const std::vector<std::string>& methods) const;

  // ---- Bodies.

  // The body limit in force while the header is read: the larger of the two, so that
  // an upload is not refused before it is known to be one.
  int64_t header_body_limit() const;

  // The body limit of a request: max_upload_bytes for multipart/form-data to a route
  // that takes uploads (AcceptsUploads), else max_body_bytes.
  int64_t BodyLimit(const RouteTable& routes, absl::string_view method, absl::string_view path,
                    absl::string_view content_type) const;

 private:
  struct Network {
    unsigned char bytes[16];  // IPv6, IPv4 as ::ffff:a.b.c.d
    int prefix;
  };
  bool Trusted(const boost::asio::ip::address& address) const;

  const GatewayConfig config_;
  std::vector<Network> trusted_;
  std::vector<std::string> origins_;  // lower-cased; {"*"} for any
  RateLimiter by_ip_;
  RateLimiter by_device_;
  RateLimiter by_key_;
};

// Parses an address or CIDR ("192.0.2.1", "10.0.0.0/8", "2001:db8::/32"); false when
// it is neither.
bool ParseNetwork(absl::string_view text, unsigned char bytes[16], int* prefix);

// ----------------------------------------------------------------- uploads, photos

// True when `route` takes a report with photos as multipart/form-data: its body is "*"
// and its request has `repeated civic.common.v1.PhotoUpload photos`.
bool AcceptsUploads(const Route& route);

// True when a body with `content_type` to `route` is an upload (AcceptsUploads and
// multipart/form-data).
bool IsUpload(const Route& route, absl::string_view content_type);

// Builds the request of an upload: the part named "report" (or "request") is the
// request's JSON, read as BuildRequest reads a JSON body (query and path variables as
// there); every part named "photos" ("photos[]" and "photo" too) becomes one
// PhotoUpload with the part's bytes and file name (an empty part without a file name,
// as a form sends for an unused file input, is skipped); "_charset_" is ignored. Fails
// with INVALID_ARGUMENT: the body is malformed (ParseMultipart, reason
// MALFORMED_MULTIPART), or the request part is missing, repeated, or not JSON, or a part
// has another name (reason INVALID_UPLOAD); or BuildRequest's errors for the JSON.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> BuildUploadRequest(
    const RouteMatch& match, absl::string_view query, absl::string_view content_type,
    absl::string_view body);

// A backend answer that is not sent as JSON.
struct RawAnswer {
  std::string content_type;
  std::string body;
  HttpHeaders headers;
};

// For a civic.common.v1.PhotoContent answer (GetPhoto, GetCasePhoto): the image bytes
// (moved out of `response`) with their Content-Type, Cache-Control "public,
// max-age=86400, immutable" (a photo id never changes content) and
// X-Content-Type-Options: nosniff. nullopt for any other message type (answer JSON).
// INTERNAL when the content type is not image/jpeg, image/png, image/webp or
// image/heic: nothing else is served as an image.
std::optional<absl::StatusOr<RawAnswer>> RawAnswerOf(google::protobuf::Message& response);

}  // namespace civic::gateway
