// Path templates, route matching and request building against CivicDesk's real protos.
#include "services/gateway/http_rules.h"

#include <catch2/catch.hpp>

#include "civic/analytics/v1/analytics.pb.h"
#include "civic/intake/v1/intake.pb.h"
#include "civic/notify/v1/notify.pb.h"
#include "civic/routing/v1/routing.pb.h"
#include "libs/core/status.h"

namespace civic::gateway {
namespace {

// Using each proto's types here also links its generated code, which registers the
// descriptors that RouteTable::Build looks up.
const std::vector<std::string>& Services() {
  static const std::vector<std::string> services = {
      civic::intake::v1::SubmitReportRequest::descriptor()->file()->service(0)->full_name(),
      civic::routing::v1::ResolveLocationRequest::descriptor()->file()->service(0)->full_name(),
      civic::notify::v1::ListMessagesRequest::descriptor()->file()->service(0)->full_name(),
      civic::analytics::v1::GetCaseCountsRequest::descriptor()->file()->service(0)->full_name(),
  };
  return services;
}

const RouteTable& Table() {
  static const RouteTable table = [] {
    auto built = RouteTable::Build(Services());
    REQUIRE(built.ok());
    return *std::move(built);
  }();
  return table;
}

template <typename T>
T BuildAs(absl::string_view method, absl::string_view path, absl::string_view query,
          absl::string_view body) {
  RouteMatch match = Table().Match(method, path);
  REQUIRE(match.route != nullptr);
  auto message = BuildRequest(match, query, body);
  INFO(message.status().ToString());
  REQUIRE(message.ok());
  REQUIRE((*message)->GetDescriptor() == T::descriptor());
  T out;
  out.CopyFrom(**message);
  return out;
}

TEST_CASE("ParsePathTemplate reads literals, variables and verbs") {
  auto t = ParsePathTemplate("/v1/reports/{tracking_code}");
  REQUIRE(t.ok());
  REQUIRE(t->segments.size() == 3);
  CHECK(t->segments[0].literal == "v1");
  CHECK(t->segments[1].literal == "reports");
  CHECK(t->segments[2].variable);
  CHECK(t->segments[2].field == "tracking_code");
  CHECK(t->verb.empty());

  auto verb = ParsePathTemplate("/v1/areas:resolve");
  REQUIRE(verb.ok());
  REQUIRE(verb->segments.size() == 2);
  CHECK(verb->segments[1].literal == "areas");
  CHECK(verb->verb == "resolve");

  auto nested = ParsePathTemplate("/v1/points/{location.lat}:near");
  REQUIRE(nested.ok());
  CHECK(nested->segments[2].field == "location.lat");
  CHECK(nested->verb == "near");
}

TEST_CASE("ParsePathTemplate rejects what it cannot serve") {
  for (const char* bad : {"", "/", "v1/reports", "/v1//reports", "/v1/reports/", "/v1/{",
                          "/v1/{a-b}", "/v1/{1a}", "/v1/x:", "/v1/{a}/{a}", "/v1/re ports"}) {
    INFO(bad);
    CHECK(ParsePathTemplate(bad).status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(ParsePathTemplate("/v1/*").status().code() == absl::StatusCode::kUnimplemented);
  CHECK(ParsePathTemplate("/v1/**").status().code() == absl::StatusCode::kUnimplemented);
  CHECK(ParsePathTemplate("/v1/{name=shelves/*}").status().code() ==
        absl::StatusCode::kUnimplemented);
}

TEST_CASE("MatchPath binds variables and is strict about shape") {
  auto t = ParsePathTemplate("/v1/reports/{tracking_code}");
  REQUIRE(t.ok());
  std::vector<Binding> b;
  REQUIRE(MatchPath(*t, "/v1/reports/HCM-2611-ABCDE-12", &b));
  REQUIRE(b.size() == 1);
  CHECK(b[0] == Binding("tracking_code", "HCM-2611-ABCDE-12"));

  b.clear();
  REQUIRE(MatchPath(*t, "/v1/reports/a%20b", &b));  // percent-decoded
  CHECK(b[0].second == "a b");

  b.clear();
  CHECK_FALSE(MatchPath(*t, "/v1/reports/", &b));       // empty variable
  CHECK_FALSE(MatchPath(*t, "/v1/reports", &b));        // too short
  CHECK_FALSE(MatchPath(*t, "/v1/reports/X/", &b));     // trailing slash is another path
  CHECK_FALSE(MatchPath(*t, "/v1/reports/X/y", &b));    // too long
  CHECK_FALSE(MatchPath(*t, "/v2/reports/X", &b));      // literal differs
  CHECK_FALSE(MatchPath(*t, "/v1/reports/%zz", &b));    // bad escape
  CHECK_FALSE(MatchPath(*t, "v1/reports/X", &b));       // not absolute
  CHECK(b.empty());

  auto verb = ParsePathTemplate("/v1/areas:resolve");
  REQUIRE(verb.ok());
  CHECK(MatchPath(*verb, "/v1/areas:resolve", &b));
  CHECK_FALSE(MatchPath(*verb, "/v1/areas", &b));
  CHECK_FALSE(MatchPath(*verb, "/v1/areas:resolv", &b));
  CHECK_FALSE(MatchPath(*verb, "/v1/areas:resolve/", &b));
}

TEST_CASE("RouteTable routes the annotated unary methods") {
  const RouteTable& table = Table();
  // Only methods with an http rule are routed: never the internal or admin ones.
  for (const auto& route : table.routes()) {
    INFO(route.rpc_path);
    CHECK(route.rpc_path != "/civic.routing.v1.RoutingService/Route");
    CHECK(route.rpc_path != "/civic.intake.v1.IntakeService/PutBlock");
  }

  RouteMatch m = table.Match("GET", "/v1/reports/HCM-2611-ABCDE-12");
  REQUIRE(m.route != nullptr);
  CHECK(m.route->rpc_path == "/civic.intake.v1.IntakeService/GetReportStatus");
  CHECK(m.route->path.text == "/v1/reports/{tracking_code}");
  CHECK(m.bindings == std::vector<Binding>{{"tracking_code", "HCM-2611-ABCDE-12"}});

  m = table.Match("GET", "/v1/reports/HCM-2611-ABCDE-12/messages");
  REQUIRE(m.route != nullptr);
  CHECK(m.route->rpc_path == "/civic.notify.v1.NotifyService/ListMessages");

  m = table.Match("POST", "/v1/reports");
  REQUIRE(m.route != nullptr);
  CHECK(m.route->body == "*");
  CHECK(m.route->service == "civic.intake.v1.IntakeService");

  m = table.Match("GET", "/v1/areas:resolve");
  REQUIRE(m.route != nullptr);
  CHECK(m.route->rpc_path == "/civic.routing.v1.RoutingService/ResolveLocation");
}

TEST_CASE("RouteTable tells unknown paths from wrong methods") {
  const RouteTable& table = Table();
  RouteMatch m = table.Match("GET", "/v1/reports");
  CHECK(m.route == nullptr);
  CHECK(m.allowed_methods == std::vector<std::string>{"POST"});

  m = table.Match("DELETE", "/v1/reports/X");
  CHECK(m.route == nullptr);
  CHECK(m.allowed_methods == std::vector<std::string>{"GET"});

  for (const char* path : {"/v1/reports/", "/v1/nothing", "/", "/v1/areas:locate", ""}) {
    INFO(path);
    m = table.Match("GET", path);
    CHECK(m.route == nullptr);
    CHECK(m.allowed_methods.empty());
  }
}

TEST_CASE("RouteTable::Build fails for services it cannot find") {
  CHECK(RouteTable::Build({"civic.nothing.v1.NoService"}).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("BuildRequest sets path variables") {
  auto req = BuildAs<civic::intake::v1::GetReportStatusRequest>(
      "GET", "/v1/reports/HCM-2611-ABCDE-12", "", "");
  CHECK(req.tracking_code() == "HCM-2611-ABCDE-12");
}

TEST_CASE("BuildRequest reads a Vietnamese JSON body") {
  const std::string body = R"({
    "category": "traffic.pothole",
    "description": "Ổ gà lớn trước số 12 đường Lê Lợi, Quận 1",
    "location": {"lat": 10.7731, "lon": 106.7004},
    "address": "12 Lê Lợi, Bến Nghé",
    "channel": "CHANNEL_APP",
    "contact": {"name": "Nguyễn Văn An", "phone": "+84901234567"},
    "client_request_id": "5f0c",
    "attributes": {"kích_thước": "lớn"}
  })";
  auto req = BuildAs<civic::intake::v1::SubmitReportRequest>("POST", "/v1/reports", "", body);
  CHECK(req.category() == "traffic.pothole");
  CHECK(req.description() == "Ổ gà lớn trước số 12 đường Lê Lợi, Quận 1");
  CHECK(req.location().lat() == Approx(10.7731));
  CHECK(req.location().lon() == Approx(106.7004));
  CHECK(req.channel() == civic::common::v1::CHANNEL_APP);
  CHECK(req.contact().name() == "Nguyễn Văn An");
  CHECK(req.attributes().at("kích_thước") == "lớn");

  // JSON (lowerCamel) names work as well as proto names.
  auto camel = BuildAs<civic::intake::v1::SubmitReportRequest>(
      "POST", "/v1/reports", "", R"({"clientRequestId": "x1"})");
  CHECK(camel.client_request_id() == "x1");
}

TEST_CASE("BuildRequest rejects bad bodies") {
  RouteMatch m = Table().Match("POST", "/v1/reports");
  REQUIRE(m.route != nullptr);

  auto empty = BuildRequest(m, "", "");
  CHECK(empty.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(empty.status()) == "MISSING_BODY");

  for (const char* bad : {"{", "[]", R"({"category": 5})", R"({"no_such_field": 1})",
                          R"({"channel": "CHANNEL_NOPE"})"}) {
    INFO(bad);
    auto r = BuildRequest(m, "", bad);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(ReasonOf(r.status()) == "MALFORMED_JSON");
  }

  // With body "*", every field comes from the body: query parameters are unknown.
  auto query = BuildRequest(m, "category=x", R"({"category": "traffic.pothole"})");
  REQUIRE(query.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(FieldViolationsOf(query.status()).size() == 1);
  CHECK(FieldViolationsOf(query.status())[0].field == "category");
}

TEST_CASE("BuildRequest converts query parameters as proto3 JSON does") {
  auto req = BuildAs<civic::routing::v1::ResolveLocationRequest>(
      "GET", "/v1/areas:resolve", "lat=10.77&lon=106.69", "");
  CHECK(req.lat() == Approx(10.77));
  CHECK(req.lon() == Approx(106.69));

  // Percent-encoding and '+' as space; JSON names accepted.
  auto counts = BuildAs<civic::analytics::v1::GetCaseCountsRequest>(
      "GET", "/v1/analytics/case-counts", "category=traffic%2Epothole&districtCode=760+A", "");
  CHECK(counts.category() == "traffic.pothole");
  CHECK(counts.district_code() == "760 A");

  // Vietnamese text in the query, percent-encoded UTF-8.
  auto vi = BuildAs<civic::analytics::v1::GetCaseCountsRequest>(
      "GET", "/v1/analytics/case-counts", "category=%C4%91%C3%A8n", "");
  CHECK(vi.category() == "đèn");

  // A default value ("0") is still applied.
  auto zero = BuildAs<civic::routing::v1::ResolveLocationRequest>(
      "GET", "/v1/areas:resolve", "lat=0&lon=-0.5", "");
  CHECK(zero.lat() == 0);
  CHECK(zero.lon() == Approx(-0.5));
}

TEST_CASE("BuildRequest rejects unknown and invalid query parameters") {
  RouteMatch m = Table().Match("GET", "/v1/areas:resolve");
  REQUIRE(m.route != nullptr);

  auto unknown = BuildRequest(m, "lat=10.77&lon=106.69&zoom=3", "");
  REQUIRE(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  auto violations = FieldViolationsOf(unknown.status());
  REQUIRE(violations.size() == 1);
  CHECK(violations[0].field == "zoom");
  CHECK(violations[0].description == "unknown query parameter");
  CHECK(ReasonOf(unknown.status()) == "INVALID_FIELDS");

  auto invalid = BuildRequest(m, "lat=north&lon=106.69", "");
  REQUIRE(invalid.status().code() == absl::StatusCode::kInvalidArgument);
  violations = FieldViolationsOf(invalid.status());
  REQUIRE(violations.size() == 1);
  CHECK(violations[0].field == "lat");

  auto twice = BuildRequest(m, "lat=1&lat=2", "");
  REQUIRE(twice.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldViolationsOf(twice.status())[0].field == "lat");

  auto malformed = BuildRequest(m, "lat=%G1", "");
  CHECK(malformed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(malformed.status()) == "MALFORMED_QUERY");

  auto not_utf8 = BuildRequest(Table().Match("GET", "/v1/analytics/case-counts"),
                               "category=%FF", "");
  CHECK(not_utf8.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Path variables win over query parameters naming the same field") {
  auto req = BuildAs<civic::intake::v1::GetReportStatusRequest>(
      "GET", "/v1/reports/HCM-2611-ABCDE-12", "tracking_code=OTHER", "");
  CHECK(req.tracking_code() == "HCM-2611-ABCDE-12");
}

TEST_CASE("PercentDecode") {
  std::string out;
  CHECK(PercentDecode("a%2Fb+c", false, &out));
  CHECK(out == "a/b+c");
  CHECK(PercentDecode("a%2fb+c", true, &out));
  CHECK(out == "a/b c");
  CHECK_FALSE(PercentDecode("%", false, &out));
  CHECK_FALSE(PercentDecode("%4", false, &out));
  CHECK_FALSE(PercentDecode("%4g", false, &out));
}

}  // namespace
}  // namespace civic::gateway
