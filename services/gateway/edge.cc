// The gateway's edge (see edge.h).
#include "services/gateway/edge.h"

#include <algorithm>
#include <boost/asio/ip/address_v6.hpp>
#include <cmath>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "civic/common/v1/common.pb.h"
#include "libs/auth/caller.h"
#include "libs/core/status.h"
#include "services/gateway/metrics.h"
#include "services/gateway/multipart.h"

namespace civic::gateway {
namespace {

namespace ip = boost::asio::ip;

constexpr char kDomain[] = "gateway.civicdesk";

// IPv4 addresses as IPv4-mapped IPv6, so one comparison serves both families.
void ToBytes(const ip::address& address, unsigned char out[16]) {
  if (address.is_v4()) {
    const ip::address_v6 mapped = ip::make_address_v6(ip::v4_mapped, address.to_v4());
    const auto bytes = mapped.to_bytes();
    std::copy(bytes.begin(), bytes.end(), out);
  } else {
    const auto bytes = address.to_v6().to_bytes();
    std::copy(bytes.begin(), bytes.end(), out);
  }
}

// ::ffff:a.b.c.d (a dual-stack listener's view of an IPv4 client) as a.b.c.d.
ip::address Unmapped(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

// One X-Forwarded-For entry: "192.0.2.1", "192.0.2.1:5555", "2001:db8::1" or
// "[2001:db8::1]:443".
std::optional<ip::address> ParseForwardedEntry(absl::string_view entry) {
  entry = absl::StripAsciiWhitespace(entry);
  if (absl::ConsumePrefix(&entry, "[")) {
    const size_t close = entry.find(']');
    if (close == absl::string_view::npos) return std::nullopt;
    entry = entry.substr(0, close);
  } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
    entry = entry.substr(0, entry.find(':'));
  }
  boost::system::error_code ec;
  const ip::address address = ip::make_address(std::string(entry), ec);
  if (ec) return std::nullopt;
  return Unmapped(address);
}

// The key of an address's bucket: IPv4 as is, IPv6 by its /64.
std::string AddressKey(const ip::address& address) {
  if (address.is_v4()) return address.to_string();
  ip::address_v6::bytes_type bytes = address.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return absl::StrCat(ip::address_v6(bytes).to_string(), "/64");
}

// "https://portal.city.vn" or "http://localhost:3000": what a browser sends as Origin.
bool IsOrigin(absl::string_view text) {
  absl::string_view rest = text;
  if (!absl::ConsumePrefix(&rest, "https://") && !absl::ConsumePrefix(&rest, "http://")) {
    return false;
  }
  if (rest.empty() || rest.front() == ':') return false;
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']';
  });
}

// Untrusted text in a problem's detail: printable ASCII, short.
std::string Printable(absl::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  return out;
}

absl::Status InvalidUpload(absl::string_view message) {
  return WithReason(absl::InvalidArgumentError(message), "INVALID_UPLOAD", kDomain);
}

}  // namespace

// ---------------------------------------------------------------------- config

bool ParseNetwork(absl::string_view text, unsigned char bytes[16], int* prefix) {
  const size_t slash = text.find('/');
  boost::system::error_code ec;
  const ip::address address = ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return false;
  const int max = address.is_v4() ? 32 : 128;
  int bits = max;
  if (slash != absl::string_view::npos &&
      (!absl::SimpleAtoi(text.substr(slash + 1), &bits) || bits < 0 || bits > max)) {
    return false;
  }
  ToBytes(address, bytes);
  *prefix = address.is_v4() ? bits + 96 : bits;
  return true;
}

absl::Status ValidateEdgeConfig(const GatewayConfig& config) {
  for (const auto& [key, value] :
       {std::pair{"rate_per_ip_per_min", config.rate_per_ip_per_min},
        std::pair{"rate_per_device_per_min", config.rate_per_device_per_min},
        std::pair{"rate_per_key_per_min", config.rate_per_key_per_min}}) {
    if (value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("config gateway.", key, ": must be 0 (no limit) or more"));
    }
  }
  if (config.max_upload_bytes <= 0) {
    return absl::InvalidArgumentError("config gateway.max_upload_bytes: must be positive");
  }
  for (const std::string& entry : config.trusted_proxies) {
    unsigned char bytes[16];
    int prefix = 0;
    if (!ParseNetwork(entry, bytes, &prefix)) {
      return absl::InvalidArgumentError(absl::StrCat("config gateway.trusted_proxies: \"", entry,
                                                     "\" is not an IP address or CIDR"));
    }
  }
  for (const std::string& origin : config.cors_allowed_origins) {
    if (origin == "*" ? config.cors_allowed_origins.size() != 1 : !IsOrigin(origin)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config gateway.cors_allowed_origins: \"", origin,
          "\" is not an origin such as https://portal.city.vn (no path or trailing slash), "
          "or \"*\" alone"));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------- rate limits

RateLimiter::RateLimiter(Options options, NowFn now)
    : per_second_(static_cast<double>(options.per_minute) / 60),
      burst_(static_cast<double>(options.per_minute)),
      max_per_shard_(std::max<size_t>(1, options.max_buckets / kShards)),
      now_(std::move(now)) {}

bool RateLimiter::Refilled(const Bucket& b, absl::Time now) const {
  return b.tokens + absl::ToDoubleSeconds(now - b.updated) * per_second_ >= burst_;
}

std::optional<absl::Duration> RateLimiter::Take(absl::string_view key) {
  if (per_second_ <= 0) return std::nullopt;
  const absl::Time now = now_();
  const std::string_view k(key.data(), key.size());
  Shard& shard = shards_[std::hash<std::string_view>()(k) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.index.find(k);
  if (it == shard.index.end()) {
    // Room first: buckets that are full again go (each once, so this stays O(1) on
    // average), then the least recently used while the shard is at its cap.
    while (!shard.lru.empty() &&
           (shard.lru.size() >= max_per_shard_ || Refilled(shard.lru.back(), now))) {
      shard.index.erase(std::string_view(shard.lru.back().key));
      shard.lru.pop_back();
    }
    shard.lru.push_front(Bucket{std::string(k), burst_, now});
    it = shard.index.emplace(std::string_view(shard.lru.front().key), shard.lru.begin()).first;
  } else {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  }
  Bucket& b = *it->second;
  if (now > b.updated) {
    b.tokens = std::min(burst_, b.tokens + absl::ToDoubleSeconds(now - b.updated) * per_second_);
    b.updated = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  return absl::Seconds((1 - b.tokens) / per_second_);
}

size_t RateLimiter::size() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.lru.size();
  }
  return n;
}

absl::string_view RateLimitName(RateLimitKind kind) {
  switch (kind) {
    case RateLimitKind::kIp:
      return "ip";
    case RateLimitKind::kDevice:
      return "device";
    case RateLimitKind::kKey:
      return "key";
  }
  return "ip";  // unreachable: every kind is handled above
}

Problem RateLimitedProblem(RateLimitKind kind, int64_t per_minute, absl::Duration wait,
                           absl::string_view instance, absl::string_view request_id) {
  const int64_t seconds =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(wait))));
  absl::string_view slug = "ip-rate-limited";
  absl::string_view who = "this address";
  if (kind == RateLimitKind::kDevice) {
    slug = "device-rate-limited";
    who = "this device";
  } else if (kind == RateLimitKind::kKey) {
    slug = "api-key-rate-limited";
    who = "this app's API key";
  }
  Problem problem = MakeProblem(429, slug,
                                absl::StrCat("too many requests from ", who, ": at most ",
                                             per_minute, " a minute; retry in ", seconds, " s"),
                                instance, request_id);
  problem.headers.emplace_back("Retry-After", absl::StrCat(seconds));
  return problem;
}

// ------------------------------------------------------------------------- the edge

EdgePolicy::EdgePolicy(const GatewayConfig& config, RateLimiter::NowFn now)
    : config_(config),
      by_ip_({.per_minute = config.rate_per_ip_per_min}, now),
      by_device_({.per_minute = config.rate_per_device_per_min}, now),
      by_key_({.per_minute = config.rate_per_key_per_min}, now) {
  for (const std::string& entry : config.trusted_proxies) {
    Network network;
    if (ParseNetwork(entry, network.bytes, &network.prefix)) trusted_.push_back(network);
  }
  for (const std::string& origin : config.cors_allowed_origins) {
    origins_.push_back(absl::AsciiStrToLower(origin));
  }
}

bool EdgePolicy::Trusted(const ip::address& address) const {
  unsigned char bytes[16];
  ToBytes(address, bytes);
  for (const Network& n : trusted_) {
    const int whole = n.prefix / 8;
    const int rest = n.prefix % 8;
    if (!std::equal(bytes, bytes + whole, n.bytes)) continue;
    if (rest == 0) return true;
    const unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
    if ((bytes[whole] & mask) == (n.bytes[whole] & mask)) return true;
  }
  return false;
}

ip::address EdgePolicy::ClientAddress(const ip::address& peer,
                                      absl::string_view forwarded_for) const {
  ip::address client = Unmapped(peer);
  if (forwarded_for.empty() || !Trusted(client)) return client;
  std::vector<absl::string_view> hops = absl::StrSplit(forwarded_for, ',');
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    std::optional<ip::address> address = ParseForwardedEntry(*hop);
    if (!address) break;  // not written by a proxy of ours: keep the last trusted hop
    client = *address;
    if (!Trusted(client)) break;
  }
  return client;
}

std::optional<Problem> EdgePolicy::LimitClient(const ip::address& client,
                                               absl::string_view device_id,
                                               absl::string_view instance,
                                               absl::string_view request_id) {
  const ip::address address = Unmapped(client);
  if (!address.is_loopback()) {
    if (std::optional<absl::Duration> wait = by_ip_.Take(AddressKey(address))) {
      RecordRateLimited(std::string(RateLimitName(RateLimitKind::kIp)));
      return RateLimitedProblem(RateLimitKind::kIp, config_.rate_per_ip_per_min, *wait, instance,
                                request_id);
    }
  }
  if (!device_id.empty()) {
    if (std::optional<absl::Duration> wait = by_device_.Take(device_id)) {
      RecordRateLimited(std::string(RateLimitName(RateLimitKind::kDevice)));
      return RateLimitedProblem(RateLimitKind::kDevice, config_.rate_per_device_per_min, *wait,
                                instance, request_id);
    }
  }
  return std::nullopt;
}

std::optional<Problem> EdgePolicy::LimitApp(const HttpHeaders& metadata, absl::string_view instance,
                                            absl::string_view request_id) {
  for (const auto& [key, value] : metadata) {
    if (key != auth::kAppIdMetadata || value.empty()) continue;
    if (std::optional<absl::Duration> wait = by_key_.Take(value)) {
      RecordRateLimited(std::string(RateLimitName(RateLimitKind::kKey)));
      return RateLimitedProblem(RateLimitKind::kKey, config_.rate_per_key_per_min, *wait, instance,
                                request_id);
    }
    break;
  }
  return std::nullopt;
}

bool EdgePolicy::OriginAllowed(absl::string_view origin) const {
  if (origins_.empty() || origin.empty() || origin == "null") return false;
  if (origins_.front() == "*") return true;
  const std::string lower = absl::AsciiStrToLower(origin);
  return std::find(origins_.begin(), origins_.end(), lower) != origins_.end();
}

HttpHeaders EdgePolicy::CorsHeaders(absl::string_view origin) const {
  HttpHeaders headers;
  if (origins_.empty()) return headers;
  if (OriginAllowed(origin)) {
    headers.emplace_back("Access-Control-Allow-Origin",
                         origins_.front() == "*" ? std::string("*") : std::string(origin));
    headers.emplace_back("Access-Control-Expose-Headers", std::string(kCorsExposedHeaders));
  }
  headers.emplace_back("Vary", "Origin");
  return headers;
}

HttpHeaders EdgePolicy::PreflightHeaders(absl::string_view origin,
                                         const std::vector<std::string>& methods) const {
  HttpHeaders headers;
  headers.emplace_back("Allow", absl::StrCat(absl::StrJoin(methods, ", "), ", OPTIONS"));
  if (OriginAllowed(origin)) {
    headers.emplace_back("Access-Control-Allow-Methods", absl::StrJoin(methods, ", "));
    headers.emplace_back("Access-Control-Allow-Headers", std::string(kCorsAllowedHeaders));
    headers.emplace_back("Access-Control-Max-Age", absl::StrCat(kCorsMaxAgeSeconds));
  }
  return headers;
}

int64_t EdgePolicy::header_body_limit() const {
  return std::max(config_.max_body_bytes, config_.max_upload_bytes);
}

int64_t EdgePolicy::BodyLimit(const RouteTable& routes, absl::string_view method,
                              absl::string_view path, absl::string_view content_type) const {
  if (!IsMultipartFormData(content_type)) return config_.max_body_bytes;
  const RouteMatch match = routes.Match(method, path);
  return match.route != nullptr && AcceptsUploads(*match.route) ? config_.max_upload_bytes
                                                                : config_.max_body_bytes;
}

// ----------------------------------------------------------------- uploads, photos

bool AcceptsUploads(const Route& route) {
  if (route.body != "*" || route.method == nullptr) return false;
  const google::protobuf::FieldDescriptor* photos =
      route.method->input_type()->FindFieldByName("photos");
  return photos != nullptr && photos->is_repeated() &&
         photos->message_type() == common::v1::PhotoUpload::descriptor();
}

bool IsUpload(const Route& route, absl::string_view content_type) {
  return IsMultipartFormData(content_type) && AcceptsUploads(route);
}

absl::StatusOr<std::unique_ptr<google::protobuf::Message>> BuildUploadRequest(
    const RouteMatch& match, absl::string_view query, absl::string_view content_type,
    absl::string_view body) {
  if (match.route == nullptr || !AcceptsUploads(*match.route)) {
    return absl::InternalError("this route takes no uploads");  // the caller checks IsUpload
  }
  CIVIC_ASSIGN_OR_RETURN(std::vector<FormPart> parts, ParseMultipart(content_type, body));
  const FormPart* json_part = nullptr;
  std::vector<const FormPart*> photos;
  for (const FormPart& part : parts) {
    if (part.name == "report" || part.name == "request") {
      if (json_part != nullptr) {
        return InvalidUpload("the body has two \"report\" parts; send the report's JSON once");
      }
      json_part = &part;
    } else if (part.name == "photos" || part.name == "photos[]" || part.name == "photo") {
      // A form's unused file input arrives as an empty part with filename="".
      if (part.data.empty() && (!part.filename || part.filename->empty())) continue;
      photos.push_back(&part);
    } else if (part.name != "_charset_") {
      return InvalidUpload(absl::StrCat(
          "unknown part \"", Printable(part.name),
          "\": send the report's JSON as the part \"report\" and each photo as \"photos\""));
    }
  }
  if (json_part == nullptr) {
    return InvalidUpload("the body has no \"report\" part with the report's JSON");
  }
  if (!json_part->content_type.empty()) {
    const absl::string_view media = absl::StripAsciiWhitespace(
        absl::string_view(json_part->content_type).substr(0, json_part->content_type.find(';')));
    if (!absl::EqualsIgnoreCase(media, "application/json") &&
        !absl::EqualsIgnoreCase(media, "text/plain")) {
      return InvalidUpload("the \"report\" part must be application/json");
    }
  }
  CIVIC_ASSIGN_OR_RETURN(std::unique_ptr<google::protobuf::Message> request,
                         BuildRequest(match, query, json_part->data));
  const google::protobuf::FieldDescriptor* field =
      request->GetDescriptor()->FindFieldByName("photos");
  const google::protobuf::Reflection* reflection = request->GetReflection();
  for (const FormPart* part : photos) {
    auto upload = std::make_unique<common::v1::PhotoUpload>();
    upload->set_data(std::string(part->data));
    if (part->filename) upload->set_file_name(*part->filename);
    reflection->AddAllocatedMessage(request.get(), field, upload.release());
  }
  return request;
}

std::optional<absl::StatusOr<RawAnswer>> RawAnswerOf(google::protobuf::Message& response) {
  auto* photo = google::protobuf::DynamicCastToGenerated<common::v1::PhotoContent>(&response);
  if (photo == nullptr) return std::nullopt;
  static constexpr absl::string_view kImageTypes[] = {"image/jpeg", "image/png", "image/webp",
                                                      "image/heic"};
  if (std::find(std::begin(kImageTypes), std::end(kImageTypes), photo->content_type()) ==
      std::end(kImageTypes)) {
    return absl::StatusOr<RawAnswer>(
        absl::InternalError("the stored photo's type cannot be served as an image"));
  }
  RawAnswer raw;
  raw.content_type = photo->content_type();
  raw.body = std::move(*photo->mutable_data());
  raw.headers = {{"Cache-Control", "public, max-age=86400, immutable"},
                 {"X-Content-Type-Options", "nosniff"}};
  return absl::StatusOr<RawAnswer>(std::move(raw));
}

}  // namespace civic::gateway
