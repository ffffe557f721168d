// The OpenAPI document against the gateway's real route table and protos: every route is
// described, parameters are those the gateway accepts, and schemas follow the proto3
// JSON mapping the gateway prints.
#include "services/gateway/openapi.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "civic/analytics/v1/analytics.pb.h"
#include "civic/cases/v1/cases.pb.h"
#include "civic/intake/v1/intake.pb.h"
#include "civic/notify/v1/notify.pb.h"
#include "civic/routing/v1/routing.pb.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "proto/civic_descriptors.h"
#include "services/gateway/http_rules.h"

namespace civic::gateway {
namespace {

using json = nlohmann::ordered_json;

// The gateway's backends (services/gateway/module.cc). Naming a message of each file
// links its generated code, which registers the descriptors RouteTable::Build looks up.
const std::vector<std::string>& Services() {
  static const std::vector<std::string> services = {
      civic::intake::v1::SubmitReportRequest::descriptor()->file()->service(0)->full_name(),
      civic::routing::v1::ResolveLocationRequest::descriptor()->file()->service(0)->full_name(),
      civic::notify::v1::ListMessagesRequest::descriptor()->file()->service(0)->full_name(),
      civic::analytics::v1::GetCaseCountsRequest::descriptor()->file()->service(0)->full_name(),
      civic::cases::v1::GetPublicCaseRequest::descriptor()->file()->service(0)->full_name(),
  };
  return services;
}

const RouteTable& Table() {
  static const RouteTable table = [] {
    auto built = RouteTable::Build(Services());
    INFO(built.status().ToString());
    REQUIRE(built.ok());
    return *std::move(built);
  }();
  return table;
}

const json& Doc() {
  static const json doc = BuildOpenApi(Table());
  return doc;
}

// The OpenAPI path of a route: the template with its variables as written.
std::string PathOf(const Route& route) {
  std::string out;
  for (const auto& seg : route.path.segments) {
    absl::StrAppend(&out, "/", seg.variable ? absl::StrCat("{", seg.field, "}") : seg.literal);
  }
  if (!route.path.verb.empty()) absl::StrAppend(&out, ":", route.path.verb);
  return out;
}

// Follows a local "$ref" of the document (one level).
const json& Deref(const json& doc, const json& node) {
  if (!node.is_object() || !node.contains("$ref")) return node;
  const std::string ref = node["$ref"].get<std::string>();
  REQUIRE(ref.rfind("#/", 0) == 0);
  return doc.at(json::json_pointer(ref.substr(1)));
}

const json& Schema(const std::string& name) { return Doc()["components"]["schemas"].at(name); }

const json& Operation(const std::string& path, const std::string& method) {
  return Doc()["paths"].at(path).at(method);
}

// The query parameters of an operation, by name.
std::map<std::string, json> QueryParameters(const json& op) {
  std::map<std::string, json> out;
  for (const json& p : op["parameters"]) {
    const json& param = Deref(Doc(), p);
    if (param["in"] == "query") out[param["name"].get<std::string>()] = param;
  }
  return out;
}

// A text value of the type `schema` describes, as a client would put it in a query.
std::string SampleValue(const json& schema) {
  const json& s = Deref(Doc(), schema);
  if (s.contains("enum")) return s["enum"].back().get<std::string>();
  const std::string type = s.value("type", "");
  const std::string format = s.value("format", "");
  if (type == "array") return SampleValue(s["items"]);
  if (type == "number") return "1.5";
  if (type == "integer") return "3";
  if (type == "boolean") return "true";
  if (format == "date-time") return "2026-01-02T03:04:05Z";
  if (format == "int64" || format == "uint64") return "7";
  if (format == "byte") return "AAEC";
  return "sample";
}

TEST_CASE("The OpenAPI document describes every route of the gateway and its own endpoints") {
  const json& doc = Doc();
  CHECK(doc["openapi"] == "3.1.0");
  CHECK(doc["info"]["title"] == "CivicDesk API");
  CHECK_FALSE(doc["info"]["version"].get<std::string>().empty());
  REQUIRE(doc["servers"].size() == 1);
  CHECK(doc["servers"][0]["url"] == "/");

  std::set<std::string> tags;
  for (const json& tag : doc["tags"]) tags.insert(tag["name"].get<std::string>());
  std::set<std::string> operation_ids;
  size_t operations = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      ++operations;
      INFO(method << " " << path);
      CHECK(operation_ids.insert(op["operationId"].get<std::string>()).second);
      REQUIRE(op["tags"].size() == 1);
      CHECK(tags.count(op["tags"][0].get<std::string>()) == 1);
      CHECK_FALSE(op["summary"].get<std::string>().empty());
      CHECK(op["responses"].contains("200"));
    }
  }

  REQUIRE_FALSE(Table().routes().empty());
  for (const Route& route : Table().routes()) {
    const std::string path = PathOf(route);
    const std::string method = absl::AsciiStrToLower(route.http_method);
    INFO(route.http_method << " " << path << " -> " << route.rpc_path);
    REQUIRE(doc["paths"].contains(path));
    REQUIRE(doc["paths"][path].contains(method));
    const json& op = doc["paths"][path][method];
    CHECK(op["operationId"] ==
          absl::StrCat(route.method->service()->name(), "_", route.method->name()));
    CHECK(op["tags"][0] == route.method->service()->name());
    // The answer is the method's output message; photos are images (edge.h).
    if (route.method->server_streaming()) {  // an event stream (sse.h)
      CHECK(op["responses"]["200"]["content"]["text/event-stream"]["schema"]["type"] == "string");
      CHECK_FALSE(op["responses"]["200"]["content"].contains("application/json"));
    } else if (route.method->output_type()->full_name() == "civic.common.v1.PhotoContent") {
      CHECK(op["responses"]["200"]["content"].contains("image/jpeg"));
      CHECK_FALSE(op["responses"]["200"]["content"].contains("application/json"));
    } else {
      CHECK(op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] ==
            absl::StrCat("#/components/schemas/", route.method->output_type()->full_name()));
    }
    // Errors are problem documents.
    for (const char* status : {"400", "404", "409", "412", "429", "500", "503", "504"}) {
      INFO(status);
      REQUIRE(op["responses"].contains(status));
      const json& response = Deref(doc, op["responses"][status]);
      CHECK(response["content"]["application/problem+json"]["schema"]["$ref"] ==
            "#/components/schemas/ProblemDetails");
    }
  }
  CHECK(doc["paths"]["/healthz"].contains("get"));
  CHECK(doc["paths"]["/openapi.json"].contains("get"));
  CHECK(operations == Table().routes().size() + 2);

  // The problem schema names what problem.cc writes.
  const json& problem = Schema("ProblemDetails");
  for (const char* member :
       {"type", "title", "status", "detail", "instance", "request_id", "errors"}) {
    INFO(member);
    CHECK(problem["properties"].contains(member));
  }
  CHECK(Deref(doc, problem["properties"]["errors"]["items"])["properties"].contains("field"));
}

TEST_CASE("OpenAPI path parameters come from the template's variables") {
  const json& op = Operation("/v1/reports/{tracking_code}", "get");
  std::vector<json> path_params;
  for (const json& p : op["parameters"]) {
    const json& param = Deref(Doc(), p);
    if (param["in"] == "path") path_params.push_back(param);
  }
  REQUIRE(path_params.size() == 1);
  CHECK(path_params[0]["name"] == "tracking_code");
  CHECK(path_params[0]["required"] == true);
  CHECK(path_params[0]["schema"] == json{{"type", "string"}});
  // What the path binds is not offered again in the query.
  CHECK(QueryParameters(op).empty());

  const json& photo = Operation("/v1/public/cases/{case_id}/photos/{photo_id}", "get");
  std::set<std::string> names;
  for (const json& p : photo["parameters"]) {
    const json& param = Deref(Doc(), p);
    if (param["in"] == "path") names.insert(param["name"].get<std::string>());
  }
  CHECK(names == std::set<std::string>{"case_id", "photo_id"});

  // A verb stays part of the literal path.
  CHECK(Doc()["paths"].contains("/v1/areas:resolve"));
}

TEST_CASE("OpenAPI query parameters are exactly those the gateway accepts") {
  const auto list = QueryParameters(Operation("/v1/public/cases", "get"));
  // Nested fields by dotted proto names; repeated fields as repeated parameters.
  REQUIRE(list.count("near.lat") == 1);
  CHECK(list.at("near.lat")["schema"]["type"] == "number");
  REQUIRE(list.count("statuses") == 1);
  CHECK(list.at("statuses")["schema"]["type"] == "array");
  CHECK(list.at("statuses")["schema"]["items"]["$ref"] ==
        "#/components/schemas/civic.common.v1.CaseStatus");
  CHECK(list.at("statuses")["explode"] == true);
  REQUIRE(list.count("opened_after") == 1);
  CHECK(list.at("opened_after")["schema"]["format"] == "date-time");
  CHECK(list.count("near") == 0);

  // A body "*" rule takes nothing from the query.
  CHECK(QueryParameters(Operation("/v1/reports", "post")).empty());

  // Every documented query parameter, with a value of its documented type, builds the
  // request (the gateway would answer 400 for anything it does not accept).
  size_t checked = 0;
  for (const Route& route : Table().routes()) {
    std::string path;
    for (const auto& seg : route.path.segments) {
      absl::StrAppend(&path, "/", seg.variable ? "abc" : seg.literal);
    }
    if (!route.path.verb.empty()) absl::StrAppend(&path, ":", route.path.verb);
    const RouteMatch match = Table().Match(route.http_method, path);
    REQUIRE(match.route == &route);
    const std::string body = route.body.empty() ? "" : "{}";
    const json& op = Operation(PathOf(route), absl::AsciiStrToLower(route.http_method));
    for (const auto& [name, param] : QueryParameters(op)) {
      const std::string query = absl::StrCat(name, "=", SampleValue(param["schema"]));
      INFO(route.http_method << " " << path << "?" << query);
      auto request = BuildRequest(match, query, body);
      INFO(request.status().ToString());
      CHECK(request.ok());
      ++checked;
    }
  }
  CHECK(checked > 10);
}

TEST_CASE("OpenAPI request bodies leave out what the path binds") {
  const json& submit = Operation("/v1/reports", "post");
  CHECK(submit["requestBody"]["required"] == true);
  CHECK(submit["requestBody"]["content"]["application/json"]["schema"]["$ref"] ==
        "#/components/schemas/civic.intake.v1.SubmitReportRequest");
  CHECK(submit["responses"].contains("413"));
  CHECK(submit["responses"].contains("415"));
  // A report may also come with its photos as files (edge.h).
  const json& upload = submit["requestBody"]["content"]["multipart/form-data"];
  CHECK(upload["schema"]["properties"]["report"]["$ref"] ==
        "#/components/schemas/civic.intake.v1.SubmitReportRequest");
  CHECK(upload["encoding"]["report"]["contentType"] == "application/json");

  const json& rate = Operation("/v1/reports/{tracking_code}/rating", "post");
  const json& schema = rate["requestBody"]["content"]["application/json"]["schema"];
  CHECK(schema["properties"].contains("rating"));
  CHECK(schema["properties"].contains("comment"));
  CHECK_FALSE(schema["properties"].contains("tracking_code"));
  CHECK_FALSE(rate["requestBody"]["content"].contains("multipart/form-data"));

  CHECK_FALSE(Operation("/v1/reports/{tracking_code}", "get").contains("requestBody"));
  CHECK_FALSE(Operation("/v1/reports/{tracking_code}", "get")["responses"].contains("415"));
}

TEST_CASE("OpenAPI schemas of the real protos follow the proto3 JSON mapping") {
  // uint64 as a decimal string.
  const json& counts = Schema("civic.analytics.v1.GetCaseCountsResponse")["properties"];
  CHECK(counts["total_opened"]["type"] == "string");
  CHECK(counts["total_opened"]["format"] == "uint64");
  // Repeated message fields: arrays of references.
  CHECK(counts["counts"]["type"] == "array");
  CHECK(counts["counts"]["items"]["$ref"] == "#/components/schemas/civic.analytics.v1.CaseCount");

  const json& public_case = Schema("civic.cases.v1.PublicCase")["properties"];
  // Enums by value name.
  CHECK(public_case["status"]["$ref"] == "#/components/schemas/civic.common.v1.CaseStatus");
  const json& status = Schema("civic.common.v1.CaseStatus");
  CHECK(status["type"] == "string");
  CHECK(status["enum"].front() == "CASE_STATUS_UNSPECIFIED");
  CHECK(std::find(status["enum"].begin(), status["enum"].end(), "CASE_STATUS_RESOLVED") !=
        status["enum"].end());
  // Timestamps as RFC 3339 strings.
  CHECK(public_case["opened_at"]["type"] == "string");
  CHECK(public_case["opened_at"]["format"] == "date-time");
  // Nested messages by reference; doubles as numbers; uint32 as integers.
  CHECK(public_case["location"]["$ref"] == "#/components/schemas/civic.common.v1.GeoPoint");
  CHECK(Schema("civic.common.v1.GeoPoint")["properties"]["lat"]["type"] == "number");
  CHECK(public_case["supporter_count"]["type"] == "integer");
  CHECK(public_case["photo_ids"] == json{{"type", "array"}, {"items", {{"type", "string"}}}});

  const json& submit = Schema("civic.intake.v1.SubmitReportRequest")["properties"];
  // Maps as objects; bytes as base64.
  CHECK(submit["attributes"]["type"] == "object");
  CHECK(submit["attributes"]["additionalProperties"] == json{{"type", "string"}});
  CHECK(Schema("civic.common.v1.PhotoUpload")["properties"]["data"]["format"] == "byte");
  // Proto field names, as the gateway prints them.
  CHECK(submit.contains("client_request_id"));
  CHECK_FALSE(submit.contains("clientRequestId"));
}

// Builds `file` and its imports into `pool` from the generated descriptors, with
// `source_info` (when given) attached to `file` itself.
void AddFile(const google::protobuf::FileDescriptor* file, google::protobuf::DescriptorPool* pool,
             const google::protobuf::SourceCodeInfo* source_info = nullptr) {
  if (pool->FindFileByName(file->name()) != nullptr) return;
  for (int i = 0; i < file->dependency_count(); ++i) AddFile(file->dependency(i), pool);
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  if (source_info != nullptr) *proto.mutable_source_code_info() = *source_info;
  INFO(file->name());
  REQUIRE(pool->BuildFile(proto) != nullptr);
}

constexpr char kTreeProto[] = R"pb(
  name: "civic/openapi_test/tree.proto"
  package: "civic.openapi_test"
  dependency: "google/protobuf/timestamp.proto"
  dependency: "google/protobuf/duration.proto"
  dependency: "google/protobuf/struct.proto"
  dependency: "google/protobuf/wrappers.proto"
  dependency: "google/protobuf/any.proto"
  dependency: "google/protobuf/empty.proto"
  dependency: "google/protobuf/field_mask.proto"
  syntax: "proto3"
  message_type {
    name: "Node"
    field { name: "id" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 }
    field { name: "balance" number: 2 label: LABEL_OPTIONAL type: TYPE_SINT64 }
    field { name: "hash" number: 3 label: LABEL_OPTIONAL type: TYPE_FIXED64 }
    field { name: "blob" number: 4 label: LABEL_OPTIONAL type: TYPE_BYTES }
    field { name: "ratio" number: 5 label: LABEL_OPTIONAL type: TYPE_FLOAT }
    field {
      name: "color"
      number: 6
      label: LABEL_OPTIONAL
      type: TYPE_ENUM
      type_name: ".civic.openapi_test.Color"
    }
    field {
      name: "parent"
      number: 7
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".civic.openapi_test.Node"
    }
    field {
      name: "children"
      number: 8
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".civic.openapi_test.Node"
    }
    field {
      name: "by_rank"
      number: 9
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".civic.openapi_test.Node.ByRankEntry"
    }
    field {
      name: "created_at"
      number: 10
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Timestamp"
    }
    field {
      name: "ttl"
      number: 11
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Duration"
    }
    field {
      name: "extra"
      number: 12
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Struct"
    }
    field {
      name: "anything"
      number: 13
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Value"
    }
    field {
      name: "maybe_count"
      number: 14
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Int64Value"
    }
    field {
      name: "maybe_flag"
      number: 15
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.BoolValue"
    }
    field {
      name: "detail"
      number: 16
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Any"
    }
    field {
      name: "nothing"
      number: 17
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Empty"
    }
    field {
      name: "mask"
      number: 18
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.FieldMask"
    }
    field { name: "labels" number: 19 label: LABEL_REPEATED type: TYPE_STRING }
    field { name: "kind" number: 20 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 0 }
    field { name: "code" number: 21 label: LABEL_OPTIONAL type: TYPE_INT32 oneof_index: 0 }
    nested_type {
      name: "ByRankEntry"
      field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 }
      field {
        name: "value"
        number: 2
        label: LABEL_OPTIONAL
        type: TYPE_MESSAGE
        type_name: ".civic.openapi_test.Node"
      }
      options { map_entry: true }
    }
    oneof_decl { name: "choice" }
  }
  enum_type {
    name: "Color"
    value { name: "COLOR_UNSPECIFIED" number: 0 }
    value { name: "COLOR_RED" number: 1 }
  }
  source_code_info {
    location {
      path: [ 4, 0 ]
      span: [ 1, 0, 2 ]
      leading_comments: " A node of a tree.\n"
    }
    location {
      path: [ 4, 0, 2, 0 ]
      span: [ 3, 2, 4 ]
      leading_comments: " Its id.\n Unique in the tree.\n"
    }
  }
)pb";

TEST_CASE("OpenAPI schemas map 64-bit integers, well-known types, maps and recursion") {
  google::protobuf::DescriptorPool pool;
  for (const google::protobuf::Descriptor* wkt :
       {google::protobuf::Timestamp::descriptor(), google::protobuf::Duration::descriptor(),
        google::protobuf::Struct::descriptor(), google::protobuf::Int64Value::descriptor(),
        google::protobuf::Any::descriptor(), google::protobuf::Empty::descriptor(),
        google::protobuf::FieldMask::descriptor()}) {
    AddFile(wkt->file(), &pool);
  }
  google::protobuf::FileDescriptorProto tree;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(kTreeProto, &tree));
  REQUIRE(pool.BuildFile(tree) != nullptr);
  const google::protobuf::Descriptor* node = pool.FindMessageTypeByName("civic.openapi_test.Node");
  REQUIRE(node != nullptr);

  json schemas = json::object();
  const json ref = MessageSchema(node, &schemas, &pool);
  CHECK(ref == json{{"$ref", "#/components/schemas/civic.openapi_test.Node"}});
  // Only named messages and enums get schemas: not map entries, not well-known types.
  std::set<std::string> names;
  for (const auto& [name, schema] : schemas.items()) names.insert(name);
  CHECK(names == std::set<std::string>{"civic.openapi_test.Node", "civic.openapi_test.Color"});

  const json& node_schema = schemas["civic.openapi_test.Node"];
  CHECK(node_schema["type"] == "object");
  // Comments, when the pool has source info; oneofs are noted.
  CHECK(node_schema["description"] == "A node of a tree.\n\nAt most one of kind, code.");
  const json& p = node_schema["properties"];
  CHECK(p["id"] == json{{"type", "string"},
                        {"format", "int64"},
                        {"pattern", "^-?[0-9]+$"},
                        {"description", "Its id.\nUnique in the tree."}});
  CHECK(p["balance"]["type"] == "string");
  CHECK(p["balance"]["format"] == "int64");
  CHECK(p["hash"]["type"] == "string");
  CHECK(p["hash"]["format"] == "uint64");
  CHECK(p["blob"]["type"] == "string");
  CHECK(p["blob"]["format"] == "byte");
  CHECK(p["ratio"] == json{{"type", "number"}, {"format", "float"}});
  CHECK(p["color"]["$ref"] == "#/components/schemas/civic.openapi_test.Color");
  CHECK(schemas["civic.openapi_test.Color"]["enum"] ==
        json::array({"COLOR_UNSPECIFIED", "COLOR_RED"}));
  CHECK(p["parent"]["$ref"] == "#/components/schemas/civic.openapi_test.Node");
  CHECK(p["children"]["type"] == "array");
  CHECK(p["children"]["items"]["$ref"] == "#/components/schemas/civic.openapi_test.Node");
  CHECK(p["by_rank"]["type"] == "object");
  CHECK(p["by_rank"]["additionalProperties"]["$ref"] ==
        "#/components/schemas/civic.openapi_test.Node");
  CHECK(p["by_rank"]["propertyNames"]["pattern"] == "^-?[0-9]+$");
  CHECK(p["created_at"]["type"] == "string");
  CHECK(p["created_at"]["format"] == "date-time");
  CHECK(p["ttl"]["type"] == "string");
  CHECK(p["ttl"]["pattern"] == "^-?[0-9]+(\\.[0-9]{1,9})?s$");
  CHECK(p["extra"] == json{{"type", "object"}});
  CHECK(p["anything"] == json::object());
  CHECK(p["maybe_count"]["type"] == "string");
  CHECK(p["maybe_count"]["format"] == "int64");
  CHECK(p["maybe_flag"] == json{{"type", "boolean"}});
  CHECK(p["detail"]["properties"].contains("@type"));
  CHECK(p["nothing"]["properties"] == json::object());
  CHECK(p["mask"]["type"] == "string");
  CHECK(p["labels"] == json{{"type", "array"}, {"items", {{"type", "string"}}}});
}

TEST_CASE("OpenAPI summaries come from method comments when a pool with source info is given") {
  // A twin of intake.proto carrying a comment on GetReportStatus.
  const google::protobuf::MethodDescriptor* method =
      civic::intake::v1::GetReportStatusRequest::descriptor()->file()->service(0)->FindMethodByName(
          "GetReportStatus");
  REQUIRE(method != nullptr);
  google::protobuf::SourceCodeInfo info;
  auto* location = info.add_location();
  for (int step : {6, method->service()->index(), 2, method->index()}) location->add_path(step);
  for (int span : {0, 0, 1}) location->add_span(span);
  location->set_leading_comments(
      " Where a report stands (by its code, e.g. \"PA-2611\"). NOT_FOUND for unknown\n codes.\n");
  google::protobuf::DescriptorPool pool;
  AddFile(method->file(), &pool, &info);

  const json doc = BuildOpenApi(Table(), OpenApiInfo{}, &pool);
  const json& op = doc["paths"]["/v1/reports/{tracking_code}"]["get"];
  CHECK(op["summary"] == "Where a report stands (by its code, e.g. \"PA-2611\")");
  CHECK(op["description"].get<std::string>().rfind(
            "Where a report stands (by its code, e.g. \"PA-2611\"). NOT_FOUND for unknown\ncodes.",
            0) == 0);
  // Without comments, the summary is the method name in words.
  CHECK(Operation("/v1/reports/{tracking_code}", "get")["summary"] == "Get report status");
}

// ---- The protos' own comments (proto/civic_descriptors.h) and security (auth.h).

TEST_CASE("OpenAPI descriptions come from the comments embedded with the protos") {
  absl::StatusOr<std::unique_ptr<google::protobuf::DescriptorPool>> pool =
      CommentsPool(civic::proto::CommentedDescriptorSet());
  INFO(pool.status().ToString());
  REQUIRE(pool.ok());
  const json doc = BuildOpenApi(Table(), OpenApiInfo{}, pool->get());

  // intake.proto: "Where a report stands, by its tracking code. NOT_FOUND for unknown codes."
  const json& op = doc["paths"]["/v1/reports/{tracking_code}"]["get"];
  CHECK(op["summary"] == "Where a report stands, by its tracking code");
  const std::string description = op["description"].get<std::string>();
  CHECK(description.rfind("Where a report stands, by its tracking code. NOT_FOUND for unknown "
                          "codes.",
                          0) == 0);
  // Fields too: ListCategoriesResponse.categories "In catalogue order (by group, then code)."
  const json& categories =
      doc["components"]["schemas"]["civic.intake.v1.ListCategoriesResponse"]["properties"]
         ["categories"];
  CHECK(categories.value("description", "").rfind("In catalogue order", 0) == 0);
  // The same paths as without comments.
  CHECK(doc["paths"].size() == Doc()["paths"].size());
}

TEST_CASE("OpenAPI comments pool refuses what is not a self-contained descriptor set") {
  CHECK(absl::IsInvalidArgument(CommentsPool("\xff\xff\xff").status()));

  // intake.proto without its imports.
  google::protobuf::FileDescriptorSet set;
  civic::intake::v1::GetReportStatusRequest::descriptor()->file()->CopyTo(set.add_file());
  const absl::StatusOr<std::unique_ptr<google::protobuf::DescriptorPool>> pool =
      CommentsPool(set.SerializeAsString());
  CHECK(absl::IsInvalidArgument(pool.status()));
  CHECK(pool.status().message().find("google/api/annotations.proto") != std::string::npos);

  // The same file with its imports, in any order, builds.
  std::vector<const google::protobuf::FileDescriptor*> files;
  std::function<void(const google::protobuf::FileDescriptor*)> add =
      [&](const google::protobuf::FileDescriptor* file) {
        if (std::find(files.begin(), files.end(), file) != files.end()) return;
        files.push_back(file);  // before its imports: the reverse of protoc's order
        for (int i = 0; i < file->dependency_count(); ++i) add(file->dependency(i));
      };
  add(civic::intake::v1::GetReportStatusRequest::descriptor()->file());
  set.Clear();
  for (const auto* file : files) file->CopyTo(set.add_file());
  const absl::StatusOr<std::unique_ptr<google::protobuf::DescriptorPool>> built =
      CommentsPool(set.SerializeAsString());
  INFO(built.status().ToString());
  REQUIRE(built.ok());
  CHECK((*built)->FindMethodByName("civic.intake.v1.IntakeService.GetReportStatus") != nullptr);
}

TEST_CASE("OpenAPI security schemes are the credentials the gateway reads") {
  const json& schemes = Doc()["components"]["securitySchemes"];
  CHECK(schemes.at("ApiKey")["type"] == "apiKey");
  CHECK(schemes.at("ApiKey")["in"] == "header");
  CHECK(schemes.at("ApiKey")["name"] == "X-Api-Key");
  for (const char* bearer : {"StaffToken", "CitizenToken"}) {
    INFO(bearer);
    CHECK(schemes.at(bearer)["type"] == "http");
    CHECK(schemes.at(bearer)["scheme"] == "bearer");
    CHECK(schemes.at(bearer)["bearerFormat"] == "JWT");
  }
  CHECK(schemes.at("DeviceId")["type"] == "apiKey");
  CHECK(schemes.at("DeviceId")["in"] == "header");
  CHECK(schemes.at("DeviceId")["name"] == "X-Device-Id");
  for (const auto& [name, scheme] : schemes.items()) {
    INFO(name);
    CHECK_FALSE(scheme.value("description", "").empty());
  }

  // Every operation says what it takes, naming only those schemes, and each is used.
  std::set<std::string> used;
  for (const auto& [path, item] : Doc()["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      INFO(method << " " << path);
      REQUIRE(op.contains("security"));
      REQUIRE(op["security"].is_array());
      for (const json& requirement : op["security"]) {
        for (const auto& [scheme, roles] : requirement.items()) {
          CHECK(schemes.contains(scheme));
          CHECK(roles == json::array());
          used.insert(scheme);
        }
      }
    }
  }
  CHECK(used.size() == schemes.size());
  // The gateway's own endpoints need nothing.
  CHECK(Operation("/healthz", "get")["security"] == json::array());
  CHECK(Operation("/openapi.json", "get")["security"] == json::array());
}

TEST_CASE("OpenAPI security follows the routes' rules, with the API key optional or required") {
  const json key_optional = Doc();
  const json key_required = BuildOpenApi(Table(), OpenApiInfo{.require_api_key = true});
  auto security = [](const json& doc, const std::string& path, const std::string& method) {
    return doc["paths"].at(path).at(method).at("security");
  };

  // An open route: anyone, with or without the app's key.
  CHECK(security(key_optional, "/v1/categories", "get") ==
        json::parse(R"([{"ApiKey": []}, {}])"));
  CHECK(security(key_required, "/v1/categories", "get") == json::parse(R"([{"ApiKey": []}])"));
  CHECK(key_optional["security"] == json::parse(R"([{"ApiKey": []}, {}])"));
  CHECK(key_required["security"] == json::parse(R"([{"ApiKey": []}])"));

  // An admin route: a staff token.
  CHECK(security(key_optional, "/v1/admin/api-keys", "post") ==
        json::parse(R"([{"ApiKey": [], "StaffToken": []}, {"StaffToken": []}])"));
  CHECK(security(key_required, "/v1/admin/api-keys", "post") ==
        json::parse(R"([{"ApiKey": [], "StaffToken": []}])"));

  // The caller's own: a citizen token or the device's id.
  CHECK(security(key_optional, "/v1/me/reports", "get") ==
        json::parse(R"([{"ApiKey": [], "CitizenToken": []}, {"ApiKey": [], "DeviceId": []},
                        {"CitizenToken": []}, {"DeviceId": []}])"));
  CHECK(security(key_required, "/v1/me/reports", "get") ==
        json::parse(R"([{"ApiKey": [], "CitizenToken": []}, {"ApiKey": [], "DeviceId": []}])"));
  // There X-Device-Id is a credential (the DeviceId scheme), not also a parameter.
  auto has_device_parameter = [](const json& op) {
    for (const json& p : op["parameters"]) {
      if (p.value("$ref", "") == "#/components/parameters/X-Device-Id") return true;
    }
    return false;
  };
  CHECK_FALSE(has_device_parameter(Operation("/v1/me/reports", "get")));
  CHECK(has_device_parameter(Operation("/v1/categories", "get")));

  // The key's description says which.
  CHECK(key_required["components"]["securitySchemes"]["ApiKey"]["description"]
            .get<std::string>()
            .find("Every /v1 route needs one") != std::string::npos);
  CHECK(key_optional["components"]["securitySchemes"]["ApiKey"]["description"]
            .get<std::string>()
            .find("Optional") != std::string::npos);
}

}  // namespace
}  // namespace civic::gateway
