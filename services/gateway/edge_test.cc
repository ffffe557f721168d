// The gateway's edge without a network: token buckets on an injected clock (refill,
// burst, isolation, bounded memory, threads), client addresses behind proxies, CORS
// decisions, body limits, the multipart parser on well-formed and broken bodies, upload
// requests, and photos answered as images.
#include "services/gateway/edge.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "civic/cases/v1/cases.pb.h"
#include "civic/common/v1/common.pb.h"
#include "civic/intake/v1/intake.pb.h"
#include "libs/auth/caller.h"
#include "libs/core/clock.h"
#include "libs/core/status.h"
#include "nlohmann/json.hpp"
#include "services/gateway/multipart.h"

namespace civic::gateway {
namespace {

namespace ip = boost::asio::ip;

ip::address Ip(const std::string& text) { return ip::make_address(text); }

// The value of header `name` in `headers`, "" when absent.
std::string HeaderOf(const HttpHeaders& headers, absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

std::string ProblemType(const Problem& problem) {
  return nlohmann::json::parse(problem.body).value("type", "");
}

// Intake's routes (linking its generated code registers the descriptors).
const RouteTable& IntakeRoutes() {
  static const RouteTable table = [] {
    auto built = RouteTable::Build(
        {intake::v1::SubmitReportRequest::descriptor()->file()->service(0)->full_name(),
         cases::v1::GetCasePhotoRequest::descriptor()->file()->service(0)->full_name()});
    REQUIRE(built.ok());
    return *std::move(built);
  }();
  return table;
}

// ----------------------------------------------------------------------- RateLimiter

TEST_CASE("A bucket allows a minute's worth at once, then refills at the rate") {
  FakeClock clock;
  RateLimiter limiter({.per_minute = 3}, [&] { return clock.Now(); });
  for (int i = 0; i < 3; ++i) CHECK_FALSE(limiter.Take("device-a").has_value());
  std::optional<absl::Duration> wait = limiter.Take("device-a");
  REQUIRE(wait.has_value());
  CHECK(*wait == absl::Seconds(20));  // one token every 20 s

  clock.Advance(absl::Seconds(19));
  wait = limiter.Take("device-a");
  REQUIRE(wait.has_value());
  CHECK(*wait > absl::Seconds(0));
  CHECK(*wait <= absl::Seconds(1));
  clock.Advance(absl::Seconds(1));
  CHECK_FALSE(limiter.Take("device-a").has_value());
  CHECK(limiter.Take("device-a").has_value());

  // A long pause refills up to the burst, no more.
  clock.Advance(absl::Hours(5));
  for (int i = 0; i < 3; ++i) CHECK_FALSE(limiter.Take("device-a").has_value());
  CHECK(limiter.Take("device-a").has_value());
}

TEST_CASE("Buckets are per key: one client's exhaustion leaves the others alone") {
  FakeClock clock;
  RateLimiter limiter({.per_minute = 2}, [&] { return clock.Now(); });
  CHECK_FALSE(limiter.Take("a").has_value());
  CHECK_FALSE(limiter.Take("a").has_value());
  CHECK(limiter.Take("a").has_value());
  CHECK_FALSE(limiter.Take("b").has_value());
  CHECK_FALSE(limiter.Take("b").has_value());
  CHECK(limiter.Take("b").has_value());
  CHECK(limiter.Take("a").has_value());
}

TEST_CASE("A zero rate means no limit and no memory") {
  RateLimiter limiter({.per_minute = 0});
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(limiter.Take("x").has_value());
  CHECK(limiter.size() == 0);
}

TEST_CASE("Memory is bounded: the least recently used buckets go, idle ones go first") {
  FakeClock clock;
  RateLimiter limiter({.per_minute = 10, .max_buckets = 160}, [&] { return clock.Now(); });
  for (int i = 0; i < 10000; ++i) limiter.Take(absl::StrCat("ip-", i));
  CHECK(limiter.size() <= 160);
  CHECK(limiter.size() >= 16);

  // Buckets that are full again are dropped as new keys arrive.
  RateLimiter idle({.per_minute = 60, .max_buckets = 100000}, [&] { return clock.Now(); });
  for (int i = 0; i < 1000; ++i) idle.Take(absl::StrCat("old-", i));
  CHECK(idle.size() == 1000);
  clock.Advance(absl::Minutes(2));
  for (int i = 0; i < 1000; ++i) idle.Take(absl::StrCat("new-", i));
  CHECK(idle.size() < 1100);

  // A key whose bucket was dropped while full loses nothing: it starts full.
  RateLimiter tiny({.per_minute = 2, .max_buckets = 16}, [&] { return clock.Now(); });
  CHECK_FALSE(tiny.Take("busy").has_value());
  CHECK_FALSE(tiny.Take("busy").has_value());
  CHECK(tiny.Take("busy").has_value());
  CHECK(tiny.size() <= 16);
}

TEST_CASE("Threads sharing a bucket get exactly its tokens between them") {
  FakeClock clock;  // frozen: no refill during the test
  RateLimiter limiter({.per_minute = 100}, [&] { return clock.Now(); });
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        if (!limiter.Take("shared").has_value()) ++allowed;
        limiter.Take(absl::StrCat("own-", t, "-", i % 50));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(allowed == 100);
}

TEST_CASE("A rate-limited problem says which budget, and Retry-After in whole seconds") {
  const Problem device =
      RateLimitedProblem(RateLimitKind::kDevice, 3, absl::Seconds(20), "/v1/categories", "req-1");
  CHECK(device.status == 429);
  CHECK(HeaderOf(device.headers, "Retry-After") == "20");
  CHECK(absl::EndsWith(ProblemType(device), "/device-rate-limited"));
  CHECK(absl::StrContains(nlohmann::json::parse(device.body).value("detail", ""), "device"));

  CHECK(HeaderOf(
            RateLimitedProblem(RateLimitKind::kIp, 600, absl::Milliseconds(100), "/", "r").headers,
            "Retry-After") == "1");
  CHECK(HeaderOf(RateLimitedProblem(RateLimitKind::kKey, 6000, absl::Milliseconds(20100), "/", "r")
                     .headers,
                 "Retry-After") == "21");
  CHECK(absl::EndsWith(
      ProblemType(RateLimitedProblem(RateLimitKind::kKey, 1, absl::Seconds(1), "/", "r")),
      "/api-key-rate-limited"));
  CHECK(RateLimitName(RateLimitKind::kIp) == "ip");
  CHECK(RateLimitName(RateLimitKind::kDevice) == "device");
  CHECK(RateLimitName(RateLimitKind::kKey) == "key");
}

// ----------------------------------------------------------------------- EdgePolicy

TEST_CASE("X-Forwarded-For is believed only from trusted proxies, read from the right") {
  GatewayConfig config;
  SECTION("without trusted proxies the socket peer is the client") {
    const EdgePolicy edge(config);
    CHECK(edge.ClientAddress(Ip("198.51.100.4"), "203.0.113.7") == Ip("198.51.100.4"));
  }
  SECTION("behind trusted proxies") {
    config.trusted_proxies = {"10.0.0.0/8", "2001:db8:ffff::/48"};
    REQUIRE(config.Validate().ok());
    const EdgePolicy edge(config);
    const ip::address proxy = Ip("10.1.2.3");
    CHECK(edge.ClientAddress(proxy, "") == proxy);
    CHECK(edge.ClientAddress(proxy, "203.0.113.7") == Ip("203.0.113.7"));
    CHECK(edge.ClientAddress(proxy, "203.0.113.7, 10.0.0.5") == Ip("203.0.113.7"));
    // What the client wrote itself, left of the first untrusted hop, is ignored.
    CHECK(edge.ClientAddress(proxy, "198.51.100.1, 203.0.113.7") == Ip("203.0.113.7"));
    CHECK(edge.ClientAddress(proxy, "203.0.113.7:5555") == Ip("203.0.113.7"));
    CHECK(edge.ClientAddress(proxy, "[2001:db8::1]:443") == Ip("2001:db8::1"));
    CHECK(edge.ClientAddress(proxy, "garbage") == proxy);
    CHECK(edge.ClientAddress(proxy, "203.0.113.7, garbage, 10.0.0.9") == Ip("10.0.0.9"));
    CHECK(edge.ClientAddress(Ip("::ffff:10.1.2.3"), "203.0.113.7") == Ip("203.0.113.7"));
    CHECK(edge.ClientAddress(Ip("2001:db8:ffff:1::2"), "203.0.113.8") == Ip("203.0.113.8"));
    // Not a proxy of ours: its header is the client's word and is ignored.
    CHECK(edge.ClientAddress(Ip("11.0.0.1"), "203.0.113.7") == Ip("11.0.0.1"));
  }
}

TEST_CASE("Clients are limited by address (IPv6 by /64), loopback never, devices apart") {
  FakeClock clock;
  GatewayConfig config;
  config.rate_per_ip_per_min = 2;
  config.rate_per_device_per_min = 1;
  EdgePolicy edge(config, [&] { return clock.Now(); });
  auto limited = [&](const std::string& address, const std::string& device = "") {
    std::optional<Problem> problem = edge.LimitClient(Ip(address), device, "/v1/x", "r");
    return problem ? ProblemType(*problem) : std::string();
  };
  CHECK(limited("203.0.113.7").empty());
  CHECK(limited("203.0.113.7").empty());
  CHECK(absl::EndsWith(limited("203.0.113.7"), "/ip-rate-limited"));
  CHECK(limited("203.0.113.8").empty());
  CHECK(limited("::ffff:203.0.113.9").empty());
  CHECK(limited("203.0.113.9").empty());
  CHECK(absl::EndsWith(limited("203.0.113.9"), "/ip-rate-limited"));

  CHECK(limited("2001:db8:1:2::1").empty());
  CHECK(limited("2001:db8:1:2::ffff").empty());
  CHECK(absl::EndsWith(limited("2001:db8:1:2:abcd::5"), "/ip-rate-limited"));
  CHECK(limited("2001:db8:1:3::1").empty());

  for (int i = 0; i < 50; ++i) CHECK(limited("127.0.0.1").empty());
  CHECK(limited("::1").empty());

  CHECK(limited("127.0.0.1", "device-a").empty());
  CHECK(absl::EndsWith(limited("127.0.0.1", "device-a"), "/device-rate-limited"));
  CHECK(limited("127.0.0.1", "device-b").empty());
  clock.Advance(absl::Minutes(1));
  CHECK(limited("127.0.0.1", "device-a").empty());
}

TEST_CASE("Apps are limited by their verified key id, and only when there is one") {
  FakeClock clock;
  GatewayConfig config;
  config.rate_per_key_per_min = 2;
  EdgePolicy edge(config, [&] { return clock.Now(); });
  const HttpHeaders app = {{auth::kSubjectMetadata, "someone"}, {auth::kAppIdMetadata, "k1"}};
  CHECK_FALSE(edge.LimitApp(app, "/v1/x", "r").has_value());
  CHECK_FALSE(edge.LimitApp(app, "/v1/x", "r").has_value());
  std::optional<Problem> refused = edge.LimitApp(app, "/v1/x", "r");
  REQUIRE(refused.has_value());
  CHECK(absl::EndsWith(ProblemType(*refused), "/api-key-rate-limited"));
  CHECK(HeaderOf(refused->headers, "Retry-After") == "30");
  CHECK_FALSE(edge.LimitApp({{auth::kAppIdMetadata, "k2"}}, "/v1/x", "r").has_value());
  for (int i = 0; i < 10; ++i) CHECK_FALSE(edge.LimitApp({}, "/v1/x", "r").has_value());
}

TEST_CASE("The edge's config keys are checked") {
  auto valid = [](const std::function<void(GatewayConfig&)>& change) {
    GatewayConfig config;
    change(config);
    return ValidateEdgeConfig(config).ok() && config.Validate().ok();
  };
  CHECK(valid([](GatewayConfig&) {}));
  CHECK_FALSE(valid([](GatewayConfig& c) { c.rate_per_ip_per_min = -1; }));
  CHECK(valid([](GatewayConfig& c) { c.rate_per_device_per_min = 0; }));
  CHECK_FALSE(valid([](GatewayConfig& c) { c.max_upload_bytes = 0; }));
  CHECK(valid([](GatewayConfig& c) {
    c.trusted_proxies = {"127.0.0.1", "fd00::/8", "10.0.0.0/8"};
  }));
  CHECK_FALSE(valid([](GatewayConfig& c) { c.trusted_proxies = {"10.0.0.0/33"}; }));
  CHECK_FALSE(valid([](GatewayConfig& c) { c.trusted_proxies = {"proxy.local"}; }));
  CHECK(valid([](GatewayConfig& c) {
    c.cors_allowed_origins = {"https://portal.city.vn", "http://localhost:3000"};
  }));
  CHECK(valid([](GatewayConfig& c) { c.cors_allowed_origins = {"*"}; }));
  CHECK_FALSE(valid([](GatewayConfig& c) { c.cors_allowed_origins = {"*", "https://a.vn"}; }));
  CHECK_FALSE(valid([](GatewayConfig& c) { c.cors_allowed_origins = {"https://a.vn/"}; }));
  CHECK_FALSE(valid([](GatewayConfig& c) { c.cors_allowed_origins = {"https://a.vn/app"}; }));
  CHECK_FALSE(valid([](GatewayConfig& c) { c.cors_allowed_origins = {"portal.city.vn"}; }));
  CHECK_FALSE(valid([](GatewayConfig& c) { c.cors_allowed_origins = {"null"}; }));
}

TEST_CASE("CORS answers only listed origins, and never reflects others") {
  GatewayConfig config;
  SECTION("off by default: no CORS headers at all") {
    const EdgePolicy edge(config);
    CHECK(edge.CorsHeaders("https://portal.city.vn").empty());
    const HttpHeaders preflight = edge.PreflightHeaders("https://portal.city.vn", {"GET"});
    CHECK(HeaderOf(preflight, "Allow") == "GET, OPTIONS");
    CHECK(HeaderOf(preflight, "Access-Control-Allow-Origin").empty());
    CHECK(HeaderOf(preflight, "Access-Control-Allow-Methods").empty());
  }
  SECTION("a listed origin") {
    config.cors_allowed_origins = {"https://portal.city.vn"};
    const EdgePolicy edge(config);
    const HttpHeaders ok = edge.CorsHeaders("https://portal.city.vn");
    CHECK(HeaderOf(ok, "Access-Control-Allow-Origin") == "https://portal.city.vn");
    CHECK(absl::StrContains(HeaderOf(ok, "Access-Control-Expose-Headers"), "X-Request-Id"));
    CHECK(absl::StrContains(HeaderOf(ok, "Access-Control-Expose-Headers"), "Retry-After"));
    CHECK(HeaderOf(ok, "Vary") == "Origin");
    CHECK(HeaderOf(ok, "Access-Control-Allow-Credentials").empty());
    CHECK(edge.OriginAllowed("HTTPS://Portal.City.VN"));

    for (const char* other : {"https://evil.example", "https://portal.city.vn.evil.example",
                              "http://portal.city.vn", "null", ""}) {
      INFO(other);
      const HttpHeaders refused = edge.CorsHeaders(other);
      CHECK(HeaderOf(refused, "Access-Control-Allow-Origin").empty());
      CHECK(HeaderOf(refused, "Vary") == "Origin");
      CHECK(
          HeaderOf(edge.PreflightHeaders(other, {"POST"}), "Access-Control-Allow-Methods").empty());
    }

    const HttpHeaders preflight = edge.PreflightHeaders("https://portal.city.vn", {"GET", "POST"});
    CHECK(HeaderOf(preflight, "Allow") == "GET, POST, OPTIONS");
    CHECK(HeaderOf(preflight, "Access-Control-Allow-Methods") == "GET, POST");
    for (const char* header : {"Content-Type", "Authorization", "X-Api-Key", "X-Device-Id",
                               "X-Request-Id", "X-Timeout-Ms"}) {
      CHECK(absl::StrContains(HeaderOf(preflight, "Access-Control-Allow-Headers"), header));
    }
    CHECK(HeaderOf(preflight, "Access-Control-Max-Age") == "600");
  }
  SECTION("any origin, never with credentials") {
    config.cors_allowed_origins = {"*"};
    const EdgePolicy edge(config);
    CHECK(HeaderOf(edge.CorsHeaders("https://anyone.example"), "Access-Control-Allow-Origin") ==
          "*");
    CHECK(HeaderOf(edge.CorsHeaders("null"), "Access-Control-Allow-Origin").empty());
    CHECK(HeaderOf(edge.CorsHeaders(""), "Access-Control-Allow-Origin").empty());
  }
}

TEST_CASE("Uploads to routes that take photos get the larger body limit") {
  GatewayConfig config;
  config.max_body_bytes = 1000;
  config.max_upload_bytes = 5000;
  const EdgePolicy edge(config);
  const RouteTable& routes = IntakeRoutes();
  const std::string form = "multipart/form-data; boundary=x";
  CHECK(edge.header_body_limit() == 5000);
  CHECK(edge.BodyLimit(routes, "POST", "/v1/reports", form) == 5000);
  CHECK(edge.BodyLimit(routes, "POST", "/v1/reports", "application/json") == 1000);
  CHECK(edge.BodyLimit(routes, "POST", "/v1/reports/HCM-1/rating", form) == 1000);
  CHECK(edge.BodyLimit(routes, "POST", "/v1/unknown", form) == 1000);

  const RouteMatch submit = routes.Match("POST", "/v1/reports");
  REQUIRE(submit.route != nullptr);
  CHECK(AcceptsUploads(*submit.route));
  CHECK(IsUpload(*submit.route, "Multipart/Form-Data; boundary=\"x\""));
  CHECK_FALSE(IsUpload(*submit.route, "application/json"));
  const RouteMatch rate = routes.Match("POST", "/v1/reports/HCM-1/rating");
  REQUIRE(rate.route != nullptr);
  CHECK_FALSE(AcceptsUploads(*rate.route));
}

// ----------------------------------------------------------------------- multipart

constexpr char kForm[] = "multipart/form-data; boundary=XyZ-boundary";

// A part with a Content-Disposition of `disposition` and `data`.
std::string Part(const std::string& disposition, const std::string& data,
                 const std::string& content_type = "") {
  std::string part = absl::StrCat("--XyZ-boundary\r\nContent-Disposition: ", disposition, "\r\n");
  if (!content_type.empty()) absl::StrAppend(&part, "Content-Type: ", content_type, "\r\n");
  absl::StrAppend(&part, "\r\n", data, "\r\n");
  return part;
}
const std::string kClose = "--XyZ-boundary--\r\n";

std::string ErrorOf(absl::string_view content_type, absl::string_view body) {
  absl::StatusOr<std::vector<FormPart>> parts = ParseMultipart(content_type, body);
  if (parts.ok()) return "";
  CHECK(parts.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(parts.status()) == "MALFORMED_MULTIPART");
  return std::string(parts.status().message());
}

TEST_CASE("A well-formed form parses into its parts, in order") {
  const std::string body =
      absl::StrCat(Part("form-data; name=\"report\"", "{\"category\":\"x\"}", "application/json"),
                   Part("form-data; name=\"photos\"; filename=\"a.jpg\"", "JPEGDATA", "image/jpeg"),
                   Part("form-data; name=plain", ""), kClose);
  absl::StatusOr<std::vector<FormPart>> parts = ParseMultipart(kForm, body);
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 3);
  CHECK((*parts)[0].name == "report");
  CHECK_FALSE((*parts)[0].filename.has_value());
  CHECK((*parts)[0].content_type == "application/json");
  CHECK((*parts)[0].data == "{\"category\":\"x\"}");
  CHECK((*parts)[1].name == "photos");
  CHECK((*parts)[1].filename == std::optional<std::string>("a.jpg"));
  CHECK((*parts)[1].data == "JPEGDATA");
  CHECK((*parts)[2].name == "plain");
  CHECK((*parts)[2].data.empty());

  // A quoted boundary, transport padding after it, header names in any case.
  const std::string quoted =
      absl::StrCat("--a b\t \r\ncontent-disposition: FORM-DATA; NAME=\"x\"\r\n\r\n1\r\n--a b--");
  parts = ParseMultipart("multipart/form-data; charset=utf-8; boundary=\"a b\"", quoted);
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 1);
  CHECK((*parts)[0].name == "x");
  CHECK((*parts)[0].data == "1");

  // No parts at all.
  parts = ParseMultipart(kForm, "--XyZ-boundary--");
  REQUIRE(parts.ok());
  CHECK(parts->empty());
}

TEST_CASE("Vietnamese file names arrive in UTF-8, raw or as filename*") {
  auto filename_of = [](const std::string& disposition) -> std::optional<std::string> {
    absl::StatusOr<std::vector<FormPart>> parts =
        ParseMultipart(kForm, absl::StrCat(Part(disposition, "data"), kClose));
    REQUIRE(parts.ok());
    REQUIRE(parts->size() == 1);
    return (*parts)[0].filename;
  };
  CHECK(filename_of("form-data; name=\"photos\"; filename=\"ảnh ổ gà đường Lê Lợi.jpg\"") ==
        "ảnh ổ gà đường Lê Lợi.jpg");
  CHECK(filename_of("form-data; name=\"photos\"; filename=\"anh.jpg\"; "
                    "filename*=UTF-8''%E1%BA%A3nh%20%E1%BB%95%20g%C3%A0.jpg") == "ảnh ổ gà.jpg");
  CHECK(filename_of("form-data; name=\"photos\"; filename*=utf-8'vi'%C4%90%C6%B0%E1%BB%9Dng.png") ==
        "Đường.png");
  CHECK(filename_of("form-data; name=\"photos\"; filename*=ISO-8859-1''caf%E9.jpg") == "café.jpg");
  // An unreadable filename* falls back to filename.
  CHECK(filename_of("form-data; name=\"photos\"; filename=\"x.jpg\"; filename*=UTF-8''%ZZ") ==
        "x.jpg");
  // Paths are cut to their last component; escapes only for \" and \\.
  CHECK(filename_of("form-data; name=\"photos\"; filename=\"C:\\Users\\An\\ảnh.jpg\"") ==
        "ảnh.jpg");
  CHECK(filename_of("form-data; name=\"photos\"; filename=\"../../etc/passwd\"") == "passwd");
  CHECK(filename_of("form-data; name=\"photos\"; filename=\"say \\\"hi\\\".jpg\"") ==
        "say \"hi\".jpg");
  CHECK(filename_of("form-data; name=\"photos\"; filename=\"semi;colon.jpg\"") == "semi;colon.jpg");
  // Bytes that are not UTF-8 (a legacy code page) leave no name rather than a broken one.
  CHECK(filename_of("form-data; name=\"photos\"; filename=\"\xE1nh.jpg\"") == "");
  CHECK(filename_of("form-data; name=\"photos\"; filename=\"\"") == "");
  CHECK(filename_of(
            absl::StrCat("form-data; name=\"photos\"; filename=\"", std::string(300, 'a'), "\""))
            ->size() == 255);
}

TEST_CASE("Binary data may hold CRLF, dashes and near-boundaries") {
  const std::string binary =
      absl::StrCat(std::string("\xFF\xD8\xFF\x00\r\n--\r\n\r\n-", 13), "--XyZ-boundar",
                   "\r\n--XyZ-bound", "--XyZ-boundary", std::string("\x00\r", 2), "\r\n\r\n--");
  const std::string body = absl::StrCat(
      "This preamble is ignored, --XyZ-boundary too\r\n",
      Part("form-data; name=\"photos\"; filename=\"b.bin\"", binary, "application/octet-stream"),
      Part("form-data; name=\"report\"", "{}"), kClose,
      "and so is this epilogue\r\n--XyZ-boundary");
  absl::StatusOr<std::vector<FormPart>> parts = ParseMultipart(kForm, body);
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 2);
  CHECK((*parts)[0].data == binary);
  CHECK((*parts)[1].data == "{}");
}

TEST_CASE("Malformed multipart bodies are refused with the problem named") {
  const std::string good = absl::StrCat(Part("form-data; name=\"report\"", "{}"), kClose);
  CHECK(ErrorOf(kForm, good).empty());
  CHECK(absl::StrContains(ErrorOf("multipart/form-data", good), "no boundary"));
  CHECK(absl::StrContains(ErrorOf("multipart/form-data; boundary=\"\"", good), "no boundary"));
  CHECK(absl::StrContains(ErrorOf("multipart/form-data; boundary=\"unterminated", good),
                          "not multipart/form-data"));
  CHECK(absl::StrContains(
      ErrorOf(absl::StrCat("multipart/form-data; boundary=", std::string(71, 'b')), good),
      "1..70"));
  CHECK(absl::StrContains(ErrorOf("multipart/form-data; boundary=a{b}", good), "1..70"));
  CHECK(
      absl::StrContains(ErrorOf("multipart/form-data; boundary=other", good), "no boundary line"));
  CHECK(absl::StrContains(ErrorOf("application/json", good), "not multipart/form-data"));

  // Truncated anywhere.
  for (size_t cut : {good.size() - kClose.size() - 2, good.size() / 2, size_t{16}, size_t{40}}) {
    INFO("cut at " << cut);
    const std::string error = ErrorOf(kForm, good.substr(0, cut));
    CHECK(absl::StrContains(error, "ends"));
  }
  CHECK(absl::StrContains(ErrorOf(kForm, "--XyZ-boundary"), "ends before the closing boundary"));
  CHECK(absl::StrContains(ErrorOf(kForm, "--XyZ-boundary\r\nContent-Disposition: form-data"),
                          "ends inside"));

  CHECK(
      absl::StrContains(ErrorOf(kForm, absl::StrCat("--XyZ-boundaryJUNK\r\n", good)), "trailing"));
  CHECK(absl::StrContains(
      ErrorOf(kForm, absl::StrCat("--XyZ-boundary\r\nX-Long: ", std::string(9000, 'a'),
                                  "\r\n\r\ndata\r\n", kClose)),
      "longer than 8192"));
  std::string many_headers = "--XyZ-boundary\r\nContent-Disposition: form-data; name=a\r\n";
  for (int i = 0; i < 20; ++i) absl::StrAppend(&many_headers, "X-", i, ": v\r\n");
  CHECK(absl::StrContains(ErrorOf(kForm, absl::StrCat(many_headers, "\r\nd\r\n", kClose)),
                          "header lines"));
  CHECK(absl::StrContains(
      ErrorOf(kForm, absl::StrCat("--XyZ-boundary\r\nno colon\r\n\r\nd\r\n", kClose)), "colon"));
  CHECK(absl::StrContains(
      ErrorOf(kForm,
              absl::StrCat("--XyZ-boundary\r\nContent-Type: text/plain\r\n\r\nd\r\n", kClose)),
      "no Content-Disposition"));
  CHECK(absl::StrContains(ErrorOf(kForm, absl::StrCat(Part("attachment; name=a", "d"), kClose)),
                          "not form-data"));
  CHECK(absl::StrContains(ErrorOf(kForm, absl::StrCat(Part("form-data; filename=a", "d"), kClose)),
                          "no name"));
  CHECK(absl::StrContains(ErrorOf(kForm, absl::StrCat(Part("form-data; name=\"a", "d"), kClose)),
                          "cannot be parsed"));
  CHECK(absl::StrContains(
      ErrorOf(kForm, absl::StrCat("--XyZ-boundary\r\nContent-Disposition: form-data; name=a\r\n"
                                  "Content-Transfer-Encoding: base64\r\n\r\nZA==\r\n",
                                  kClose)),
      "Content-Transfer-Encoding"));
  std::string many_parts;
  for (int i = 0; i < 17; ++i) many_parts += Part(absl::StrCat("form-data; name=p", i), "d");
  CHECK(absl::StrContains(ErrorOf(kForm, many_parts + kClose), "more than 16 parts"));
}

// ---------------------------------------------------------------------- uploads

absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Upload(const std::string& body) {
  const RouteMatch match = IntakeRoutes().Match("POST", "/v1/reports");
  REQUIRE(match.route != nullptr);
  return BuildUploadRequest(match, "", kForm, body);
}

TEST_CASE("An upload becomes SubmitReport with its photos, as the JSON route would") {
  const std::string report =
      R"({"category":"traffic.pothole","description":"Ổ gà","location":{"lat":10.77,"lon":106.69}})";
  const std::string jpeg("\xFF\xD8\xFF\xE0 jpeg bytes \r\n--", 20);
  const std::string body = absl::StrCat(
      Part("form-data; name=\"report\"", report, "application/json; charset=utf-8"),
      Part("form-data; name=\"photos\"; filename=\"ảnh 1.jpg\"", jpeg, "image/jpeg"),
      Part("form-data; name=\"photos\"; filename=\"\"", "", "application/octet-stream"),
      Part("form-data; name=\"photos[]\"; filename=\"b.png\"", "\x89PNG", "image/png"),
      Part("form-data; name=\"_charset_\"", "utf-8"), kClose);
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> built = Upload(body);
  REQUIRE(built.ok());
  const auto& request = dynamic_cast<const intake::v1::SubmitReportRequest&>(**built);
  CHECK(request.category() == "traffic.pothole");
  CHECK(request.description() == "Ổ gà");
  CHECK(request.location().lat() == Approx(10.77));
  REQUIRE(request.photos_size() == 2);
  CHECK(request.photos(0).data() == jpeg);
  CHECK(request.photos(0).file_name() == "ảnh 1.jpg");
  CHECK(request.photos(1).data() == "\x89PNG");
  CHECK(request.photos(1).file_name() == "b.png");
}

TEST_CASE("Uploads without a report, with two, or with strange parts are refused") {
  auto reason_of = [](const std::string& body) {
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> built = Upload(body);
    REQUIRE_FALSE(built.ok());
    CHECK(built.status().code() == absl::StatusCode::kInvalidArgument);
    return ReasonOf(built.status());
  };
  const std::string report = Part("form-data; name=\"report\"", R"({"category":"x"})");
  CHECK(reason_of(absl::StrCat(Part("form-data; name=\"photos\"; filename=a", "d"), kClose)) ==
        "INVALID_UPLOAD");
  CHECK(reason_of(absl::StrCat(report, report, kClose)) == "INVALID_UPLOAD");
  CHECK(reason_of(absl::StrCat(report, Part("form-data; name=\"video\"", "d"), kClose)) ==
        "INVALID_UPLOAD");
  CHECK(reason_of(absl::StrCat(Part("form-data; name=\"report\"", "<xml/>", "text/xml"), kClose)) ==
        "INVALID_UPLOAD");
  CHECK(reason_of(absl::StrCat(Part("form-data; name=\"report\"", "{not json"), kClose)) ==
        "MALFORMED_JSON");
  CHECK(reason_of(absl::StrCat(Part("form-data; name=\"report\"", ""), kClose)) == "MISSING_BODY");
  CHECK(reason_of("no boundary here") == "MALFORMED_MULTIPART");
}

// ----------------------------------------------------------------------- photos

TEST_CASE("PhotoContent answers are the image with its type and caching headers") {
  common::v1::PhotoContent photo;
  photo.set_photo_id("ph1");
  photo.set_content_type("image/png");
  photo.set_data("\x89PNG\r\n\x1a\n...");
  std::optional<absl::StatusOr<RawAnswer>> raw = RawAnswerOf(photo);
  REQUIRE(raw.has_value());
  REQUIRE(raw->ok());
  CHECK((*raw)->content_type == "image/png");
  CHECK((*raw)->body == "\x89PNG\r\n\x1a\n...");
  CHECK(HeaderOf((*raw)->headers, "Cache-Control") == "public, max-age=86400, immutable");
  CHECK(HeaderOf((*raw)->headers, "X-Content-Type-Options") == "nosniff");

  photo.set_content_type("text/html");
  raw = RawAnswerOf(photo);
  REQUIRE(raw.has_value());
  CHECK_FALSE(raw->ok());

  intake::v1::SubmitReportResponse other;
  CHECK_FALSE(RawAnswerOf(other).has_value());
}

}  // namespace
}  // namespace civic::gateway
