// The OpenAPI document against the live gateway: civicd serves it at /openapi.json, every
// operation it lists is routed (none gets the gateway's "unknown route" answer), every
// answer has a status and media type the operation declares, and real answers carry
// only the properties their schemas declare, with the declared types.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "tests/support/civic_api.h"
#include "tests/support/civicd_process.h"
#include "tests/support/http_client.h"

namespace civic::testing {
namespace {

using nlohmann::json;

// The problem type the gateway gives a path that no route matches (gateway.cc), as
// opposed to a backend's NOT_FOUND (".../not-found") for a routed request.
constexpr char kUnknownRouteType[] = "https://civicdesk.example/problems/unknown-route";

// Checks JSON values against the schemas of one OpenAPI 3.1 document, for the subset of
// JSON Schema the gateway's document uses ($ref, type, enum, format, pattern, minimum,
// maximum, properties, required, additionalProperties, propertyNames, items). Stricter
// than JSON Schema on one point: an object schema with properties and no
// additionalProperties admits no other members, so an undeclared field in an answer
// is caught. Anything else in a schema is reported, so that nothing passes unchecked.
class SchemaChecker {
 public:
  explicit SchemaChecker(const json& doc) : doc_(doc) {}

  // The problems of `value` against `schema`, each prefixed with the JSON path ("$.a[0]").
  std::vector<std::string> Check(const json& schema, const json& value) const {
    std::vector<std::string> errors;
    CheckAt(schema, value, "$", &errors, 0);
    return errors;
  }

  // Follows a local "$ref" (e.g. "#/components/schemas/civic.common.v1.GeoPoint").
  const json& Resolve(const json& node) const {
    const json* current = &node;
    for (int hops = 0; current->is_object() && current->contains("$ref") && hops < 8; ++hops) {
      const std::string ref = (*current)["$ref"].get<std::string>();
      if (ref.rfind("#/", 0) != 0) break;
      const json::json_pointer pointer(ref.substr(1));
      if (!doc_.contains(pointer)) break;
      current = &doc_.at(pointer);
    }
    return *current;
  }

 private:
  // Standard base64 with padding, as protobuf writes bytes (no regex: values can be
  // megabytes, which std::regex would recurse over).
  static bool IsBase64(const std::string& text) {
    if (text.size() % 4 != 0) return false;
    const std::size_t pad = text.find('=');
    if (pad != std::string::npos &&
        (pad + 2 < text.size() || text.find_first_not_of('=', pad) != std::string::npos)) {
      return false;
    }
    return std::all_of(text.begin(), text.begin() + std::min(pad, text.size()), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
    });
  }

  static bool HasType(const json& value, const std::string& type) {
    if (type == "object") return value.is_object();
    if (type == "array") return value.is_array();
    if (type == "string") return value.is_string();
    if (type == "integer") return value.is_number_integer();
    if (type == "number") return value.is_number();
    if (type == "boolean") return value.is_boolean();
    if (type == "null") return value.is_null();
    return false;
  }

  void CheckAt(const json& schema_node, const json& value, const std::string& at,
               std::vector<std::string>* errors, int depth) const {
    auto fail = [&](const std::string& what) { errors->push_back(at + ": " + what); };
    if (depth > 32) return fail("schema nests too deep");
    if (schema_node.is_object() && schema_node.contains("$ref") &&
        Resolve(schema_node).contains("$ref")) {
      return fail("unresolvable " + schema_node["$ref"].dump());
    }
    const json& schema = Resolve(schema_node);
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) fail("no value is allowed here");
      return;
    }
    if (!schema.is_object()) return fail("schema is not an object: " + schema.dump());
    static const std::set<std::string> kKnown = {
        "$ref",    "type",          "enum",        "format",     "pattern",
        "minimum", "maximum",       "properties",  "required",   "additionalProperties",
        "items",   "propertyNames", "description", "deprecated", "contentEncoding",
        "title"};
    for (const auto& [keyword, unused] : schema.items()) {
      if (kKnown.count(keyword) == 0) fail("the checker does not know keyword " + keyword);
    }
    if (schema.contains("type")) {
      const json& type = schema["type"];
      bool ok = false;
      if (type.is_string()) ok = HasType(value, type.get<std::string>());
      for (const json& t : type.is_array() ? type : json::array()) {
        ok = ok || HasType(value, t.get<std::string>());
      }
      if (!ok) return fail("expected type " + type.dump() + ", got " + value.dump());
    }
    if (schema.contains("enum")) {
      const json& allowed = schema["enum"];
      if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
        fail(value.dump() + " is not one of " + allowed.dump());
      }
    }
    if (value.is_string()) {
      const std::string text = value.get<std::string>();
      const std::string format = schema.value("format", "");
      static const std::regex kDateTime(
          R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$)");
      if (format == "date-time" && !std::regex_match(text, kDateTime)) {
        fail("\"" + text + "\" is not an RFC 3339 date-time");
      }
      if (format == "byte" && !IsBase64(text)) fail("not base64");
      if (schema.contains("pattern") &&
          !std::regex_search(text, std::regex(schema["pattern"].get<std::string>()))) {
        fail("\"" + text + "\" does not match " + schema["pattern"].dump());
      }
    }
    if (value.is_number()) {
      if (schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>()) {
        fail(value.dump() + " is below the minimum");
      }
      if (schema.contains("maximum") && value.get<double>() > schema["maximum"].get<double>()) {
        fail(value.dump() + " is above the maximum");
      }
    }
    if (value.is_object()) {
      for (const json& name : schema.value("required", json::array())) {
        if (!value.contains(name.get<std::string>())) fail("missing " + name.dump());
      }
      const json properties = schema.value("properties", json::object());
      const bool closed = schema.contains("properties") && !schema.contains("additionalProperties");
      for (const auto& [name, member] : value.items()) {
        const std::string member_at = at + "." + name;
        if (properties.contains(name)) {
          CheckAt(properties[name], member, member_at, errors, depth + 1);
        } else if (schema.contains("additionalProperties")) {
          CheckAt(schema["additionalProperties"], member, member_at, errors, depth + 1);
        } else if (closed) {
          errors->push_back(member_at + ": not declared by the schema");
        }
        if (schema.contains("propertyNames")) {
          CheckAt(schema["propertyNames"], json(name), member_at + " (name)", errors, depth + 1);
        }
      }
    }
    if (value.is_array() && schema.contains("items")) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        CheckAt(schema["items"], value[i], absl::StrCat(at, "[", i, "]"), errors, depth + 1);
      }
    }
  }

  const json& doc_;
};

// A body parsed as a JSON object; an empty object when it is not one.
json ParseObject(const std::string& body) {
  json parsed = json::parse(body, nullptr, false);
  return parsed.is_object() ? parsed : json::object();
}

// GET /openapi.json, parsed; fails the test unless it is a JSON object.
json FetchDocument(const HttpClient& gateway) {
  const HttpResponse response = gateway.Get("/openapi.json");
  INFO(response.Describe().substr(0, 2000));
  REQUIRE(response.status == 200);
  CHECK(response.MediaType() == "application/json");
  CHECK_FALSE(response.Header("X-Request-Id").empty());
  json doc = json::parse(response.body, nullptr, false);
  REQUIRE(doc.is_object());
  REQUIRE(doc.value("openapi", "") == "3.1.0");
  REQUIRE(doc.contains("paths"));
  return doc;
}

// `response` against what operation `op` of `doc` declares for its status (or its
// "default"): the status is declared, the media type is one of its content types, and
// a JSON body matches the schema. Returns the problems found.
std::vector<std::string> CheckResponse(const SchemaChecker& checker, const json& op,
                                       const HttpResponse& response) {
  const json& responses = op["responses"];
  const std::string status = std::to_string(response.status);
  if (!responses.contains(status) && !responses.contains("default")) {
    return {"status " + status + " is not declared"};
  }
  const json& declared =
      checker.Resolve(responses.contains(status) ? responses[status] : responses["default"]);
  const json content = declared.value("content", json::object());
  if (!content.contains(response.MediaType())) {
    return {"media type " + response.MediaType() + " is not declared for " + status};
  }
  std::vector<std::string> errors;
  const json headers = declared.value("headers", json::object());
  for (const auto& [header, unused] : headers.items()) {
    if (header == "X-Request-Id" && response.Header(header).empty()) {
      errors.push_back("no " + header + " header");
    }
  }
  if (absl::EndsWith(response.MediaType(), "json")) {
    const json body = json::parse(response.body, nullptr, false);
    if (body.is_discarded()) {
      errors.push_back("the body is not JSON");
    } else {
      for (std::string& e : checker.Check(content[response.MediaType()]["schema"], body)) {
        errors.push_back(std::move(e));
      }
    }
  }
  return errors;
}

// The path of a templated route with every variable replaced by `value`.
std::string FillPath(const std::string& path, const std::string& value) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      const std::size_t close = path.find('}', i);
      if (close == std::string::npos) break;
      out += value;
      i = close;
    } else {
      out += path[i];
    }
  }
  return out;
}

TEST_CASE("Every operation of the served OpenAPI document is routed and answers as declared",
          "[e2e][openapi]") {
  TempDir dir;
  CivicdProcess civicd(dir.path());
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);
  const json doc = FetchDocument(gateway);
  const SchemaChecker checker(doc);

  // The checks below can fail: an unknown path gets the unknown-route problem, and the
  // checker rejects an undeclared member and a wrong type.
  {
    const HttpResponse unknown = gateway.Get("/v1/no-such-route");
    INFO(unknown.Describe());
    REQUIRE(unknown.status == 404);
    REQUIRE(ParseObject(unknown.body).value("type", json()) == json(kUnknownRouteType));
    const json& status = doc["components"]["schemas"]["civic.intake.v1.ReportStatus"];
    CHECK_FALSE(checker.Check(status, {{"no_such_field", 1}}).empty());
    CHECK_FALSE(checker.Check(status, {{"supporter_count", "3"}}).empty());
    CHECK(checker.Check(status, {{"supporter_count", 3}, {"tracking_code", "X"}}).empty());
  }

  std::size_t operations = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      ++operations;
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const std::string target = FillPath(path, "openapi-probe");
      const bool has_body = op.contains("requestBody");
      const HttpResponse response =
          gateway.Request(upper, target, has_body ? "{}" : "", has_body ? "application/json" : "");
      INFO(upper << " " << target << " (" << op.value("operationId", "") << ") → "
                 << response.Describe().substr(0, 2000));
      REQUIRE(response.status != 0);
      CHECK(response.status != 405);
      if (response.status == 404) {
        CHECK(ParseObject(response.body).value("type", json()) != json(kUnknownRouteType));
      }
      const std::vector<std::string> errors = CheckResponse(checker, op, response);
      INFO(absl::StrJoin(errors, "\n"));
      CHECK(errors.empty());
    }
  }
  // At least the public routes of intake, routing, notify, analytics and cases, plus the
  // gateway's /healthz and /openapi.json.
  CHECK(operations >= 12);

  REQUIRE(civicd.Terminate() == 0);
}

TEST_CASE("Real answers carry only the properties their OpenAPI schemas declare, typed as declared",
          "[e2e][openapi]") {
  TempDir dir;
  CivicdProcess civicd(dir.path());
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);
  const json doc = FetchDocument(gateway);
  const SchemaChecker checker(doc);
  // Checks `response` against operation (method, path template) of the document.
  auto expect_declared = [&](const std::string& method, const std::string& path,
                             const HttpResponse& response) {
    INFO(method << " " << path << " → " << response.Describe().substr(0, 4000));
    CHECK(response.status == 200);
    REQUIRE(doc["paths"].contains(path));
    REQUIRE(doc["paths"][path].contains(method));
    const std::vector<std::string> errors =
        CheckResponse(checker, doc["paths"][path][method], response);
    INFO(absl::StrJoin(errors, "\n"));
    CHECK(errors.empty());
  };

  const std::vector<SampleReport> samples = LoadSampleReports(1);
  REQUIRE(samples.size() == 1);
  const SubmitResult submitted = SubmitReport(gateway, samples[0].request);
  expect_declared("post", "/v1/reports", submitted.response);
  REQUIRE_FALSE(submitted.tracking_code.empty());
  const std::string& code = submitted.tracking_code;

  const PipelineWait cases = WaitForCases(gateway, {code}, absl::Seconds(30));
  {
    INFO(cases.DescribePending());
    REQUIRE(cases.ok());
  }
  const PipelineWait messages = WaitForMessages(gateway, {code}, absl::Seconds(30));
  {
    INFO(messages.DescribePending());
    REQUIRE(messages.ok());
  }
  REQUIRE(WaitForReportsCounted(gateway, 1, absl::Seconds(30)).has_value());

  // The report's status: timestamps, a unit and an area (nested messages).
  const HttpResponse status = gateway.Get("/v1/reports/" + code);
  expect_declared("get", "/v1/reports/{tracking_code}", status);
  const json status_body = ParseObject(status.body);
  CHECK(status_body.contains("received_at"));
  CHECK(status_body.contains("unit"));
  const std::string case_id = JsonString(status_body, "case_id");
  REQUIRE_FALSE(case_id.empty());

  // The citizen's messages: a uint64 (event_sequence) travels as a string.
  const HttpResponse inbox = gateway.Get("/v1/reports/" + code + "/messages");
  expect_declared("get", "/v1/reports/{tracking_code}/messages", inbox);
  const json inbox_body = ParseObject(inbox.body);
  REQUIRE(inbox_body.value("messages", json::array()).size() >= 1);
  CHECK(inbox_body["messages"][0].value("event_sequence", json()).is_string());

  expect_declared("get", "/v1/analytics/case-counts", gateway.Get("/v1/analytics/case-counts"));

  // The public view: enums by name, a location of doubles, repeated updates.
  const HttpResponse public_case = gateway.Get("/v1/public/cases/" + case_id);
  expect_declared("get", "/v1/public/cases/{case_id}", public_case);
  CHECK(ParseObject(public_case.body).value("status", json()) == json("CASE_STATUS_NEW"));
  expect_declared("get", "/v1/public/cases", gateway.Get("/v1/public/cases"));

  const json& location = samples[0].request["location"];
  expect_declared("get", "/v1/areas:resolve",
                  gateway.Get(absl::StrCat("/v1/areas:resolve?lat=", location["lat"].dump(),
                                           "&lon=", location["lon"].dump())));

  REQUIRE(civicd.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
