// Builds the OpenAPI document from the route table. Everything here mirrors a decision
// taken elsewhere in the gateway (http_rules for what a request may carry, gateway.cc
// for headers and its own endpoints, problem.cc for error bodies); the comments name
// where, so a change there can be carried over.
#include "services/gateway/openapi.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.pb.h"
#include "services/gateway/edge.h"
#include "services/gateway/problem.h"

namespace civic::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using json = nlohmann::ordered_json;

constexpr absl::string_view kSchemaRef = "#/components/schemas/";
constexpr absl::string_view kProblemSchema = "ProblemDetails";
constexpr absl::string_view kFieldErrorSchema = "ProblemFieldError";
constexpr absl::string_view kGatewayTag = "Gateway";

json Ref(absl::string_view prefix, absl::string_view name) {
  return json{{"$ref", absl::StrCat(prefix, name)}};
}

// What the builder shares: the components.schemas being filled, and where comments
// come from.
struct Context {
  json* schemas;
  const google::protobuf::DescriptorPool* comments;  // may be null
  bool require_api_key = false;                      // OpenApiInfo::require_api_key
};

// The twin of a descriptor in the comments pool (same full name), or null.
const Descriptor* Twin(const google::protobuf::DescriptorPool& pool, const Descriptor* d) {
  return pool.FindMessageTypeByName(d->full_name());
}
const FieldDescriptor* Twin(const google::protobuf::DescriptorPool& pool,
                            const FieldDescriptor* d) {
  return pool.FindFieldByName(d->full_name());
}
const EnumDescriptor* Twin(const google::protobuf::DescriptorPool& pool, const EnumDescriptor* d) {
  return pool.FindEnumTypeByName(d->full_name());
}
const google::protobuf::EnumValueDescriptor* Twin(const google::protobuf::DescriptorPool& pool,
                                                  const google::protobuf::EnumValueDescriptor* d) {
  return pool.FindEnumValueByName(d->full_name());
}
const google::protobuf::ServiceDescriptor* Twin(const google::protobuf::DescriptorPool& pool,
                                                const google::protobuf::ServiceDescriptor* d) {
  return pool.FindServiceByName(d->full_name());
}
const google::protobuf::MethodDescriptor* Twin(const google::protobuf::DescriptorPool& pool,
                                               const google::protobuf::MethodDescriptor* d) {
  return pool.FindMethodByName(d->full_name());
}

// The leading comment of a descriptor, one trimmed line per source line, from its twin
// in ctx.comments; "" without one. (protoc's C++ code never embeds source info, so the
// generated descriptors the routes use have no comments of their own.)
template <typename D>
std::string Comment(const Context& ctx, const D* d) {
  if (ctx.comments == nullptr) return "";
  const D* twin = Twin(*ctx.comments, d);
  google::protobuf::SourceLocation location;
  if (twin == nullptr || !twin->GetSourceLocation(&location)) return "";
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(location.leading_comments, '\n')) {
    lines.emplace_back(absl::StripAsciiWhitespace(line));
  }
  return std::string(absl::StripAsciiWhitespace(absl::StrJoin(lines, "\n")));
}

json MessageRef(const Descriptor* type, const Context& ctx);

// "GetReportStatus" -> "Get report status": the summary when there is no comment.
std::string Humanize(absl::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (i > 0 && absl::ascii_isupper(c)) {
      out.push_back(' ');
      out.push_back(absl::ascii_tolower(c));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// The first sentence of a comment, for a summary: up to the first '.' followed by a
// space or the end, outside parentheses and quotes ("p. Bến Nghé" is not a sentence).
std::string FirstSentence(absl::string_view text) {
  int depth = 0;
  bool quoted = false;
  size_t end = text.size();
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') quoted = !quoted;
    if (c == '(') ++depth;
    if (c == ')' && depth > 0) --depth;
    const bool at_break = i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n';
    if (c == '.' && at_break && depth == 0 && !quoted) {
      end = i;
      break;
    }
    if (c == '\n' && i + 1 < text.size() && text[i + 1] == '\n') {  // a paragraph ends
      end = i;
      break;
    }
  }
  return absl::StrReplaceAll(text.substr(0, end), {{"\n", " "}});
}

// Proto3 JSON of one scalar value. 64-bit integers are strings (the printer always
// writes them so; the parser also takes numbers); floats may also be "NaN",
// "Infinity" or "-Infinity", which no CivicDesk field allows, so they are left out.
json ScalarSchema(FieldDescriptor::Type type) {
  switch (type) {
    case FieldDescriptor::TYPE_DOUBLE:
      return {{"type", "number"}, {"format", "double"}};
    case FieldDescriptor::TYPE_FLOAT:
      return {{"type", "number"}, {"format", "float"}};
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_SINT64:
    case FieldDescriptor::TYPE_SFIXED64:
      return {{"type", "string"}, {"format", "int64"}, {"pattern", "^-?[0-9]+$"}};
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_FIXED64:
      return {{"type", "string"}, {"format", "uint64"}, {"pattern", "^[0-9]+$"}};
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_SINT32:
    case FieldDescriptor::TYPE_SFIXED32:
      return {{"type", "integer"}, {"format", "int32"}};
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32:
      return {{"type", "integer"}, {"format", "uint32"}, {"minimum", 0}, {"maximum", 4294967295u}};
    case FieldDescriptor::TYPE_BOOL:
      return {{"type", "boolean"}};
    case FieldDescriptor::TYPE_STRING:
      return {{"type", "string"}};
    case FieldDescriptor::TYPE_BYTES:
      return {{"type", "string"}, {"format", "byte"}, {"contentEncoding", "base64"}};
    default:
      // Enums and messages have schemas of their own (ValueSchema); reaching here is a
      // bug in this file.
      return json::object();
  }
}

// Inline schemas of the well-known types whose proto3 JSON is not a plain object of
// their fields; nullopt for every other message.
std::optional<json> WellKnownSchema(const Descriptor* type) {
  const std::string& name = type->full_name();
  if (name == "google.protobuf.Timestamp") {
    return json{{"type", "string"},
                {"format", "date-time"},
                {"description", "RFC 3339 instant; written in UTC (\"Z\")."}};
  }
  if (name == "google.protobuf.Duration") {
    return json{{"type", "string"},
                {"pattern", "^-?[0-9]+(\\.[0-9]{1,9})?s$"},
                {"description", "Seconds with a \"s\" suffix, e.g. \"1.5s\"."}};
  }
  if (name == "google.protobuf.FieldMask") {
    return json{{"type", "string"},
                {"description", "Comma-separated field paths in lowerCamelCase."}};
  }
  if (name == "google.protobuf.Struct") return json{{"type", "object"}};
  if (name == "google.protobuf.Value") return json::object();  // any JSON value
  if (name == "google.protobuf.ListValue") {
    return json{{"type", "array"}, {"items", json::object()}};
  }
  if (name == "google.protobuf.Empty") {
    return json{{"type", "object"}, {"properties", json::object()}};
  }
  if (name == "google.protobuf.Any") {
    return json{{"type", "object"},
                {"properties", {{"@type", {{"type", "string"}}}}},
                {"required", json::array({"@type"})},
                {"additionalProperties", true}};
  }
  // Wrappers (google.protobuf.Int64Value...) are their value's JSON.
  if (type->file()->name() == "google/protobuf/wrappers.proto") {
    const FieldDescriptor* value = type->FindFieldByName("value");
    if (value != nullptr) return ScalarSchema(value->type());
  }
  return std::nullopt;
}

json EnumSchema(const EnumDescriptor* type, const Context& ctx) {
  if (type->full_name() == "google.protobuf.NullValue") return json{{"type", "null"}};
  const std::string& name = type->full_name();
  if (!ctx.schemas->contains(name)) {
    json schema = {{"type", "string"}};
    std::string description = Comment(ctx, type);
    std::vector<std::string> described;  // values with comments, as a list
    json names = json::array();
    for (int i = 0; i < type->value_count(); ++i) {
      names.push_back(type->value(i)->name());
      if (std::string c = Comment(ctx, type->value(i)); !c.empty()) {
        described.push_back(absl::StrCat("- `", type->value(i)->name(),
                                         "`: ", absl::StrReplaceAll(c, {{"\n", " "}})));
      }
    }
    if (!described.empty()) {
      absl::StrAppend(&description, description.empty() ? "" : "\n\n",
                      absl::StrJoin(described, "\n"));
    }
    if (!description.empty()) schema["description"] = description;
    schema["enum"] = std::move(names);
    (*ctx.schemas)[name] = std::move(schema);
  }
  return Ref(kSchemaRef, name);
}

// The schema of one value of `field` (an element, for repeated fields).
json ValueSchema(const FieldDescriptor* field, const Context& ctx) {
  switch (field->type()) {
    case FieldDescriptor::TYPE_ENUM:
      return EnumSchema(field->enum_type(), ctx);
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP:
      return MessageRef(field->message_type(), ctx);
    default:
      return ScalarSchema(field->type());
  }
}

// The schema of `field` as a whole: maps are objects keyed by the key's text, repeated
// fields arrays.
json FieldSchema(const FieldDescriptor* field, const Context& ctx) {
  json schema;
  if (field->is_map()) {
    const FieldDescriptor* key = field->message_type()->map_key();
    schema = {{"type", "object"},
              {"additionalProperties", ValueSchema(field->message_type()->map_value(), ctx)}};
    if (key->cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
      schema["propertyNames"] = {{"enum", json::array({"true", "false"})}};
    } else if (key->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
      schema["propertyNames"] = {{"pattern", "^-?[0-9]+$"}};
    }
  } else if (field->is_repeated()) {
    schema = {{"type", "array"}, {"items", ValueSchema(field, ctx)}};
  } else {
    schema = ValueSchema(field, ctx);
  }
  if (std::string c = Comment(ctx, field); !c.empty()) schema["description"] = c;
  if (field->options().deprecated()) schema["deprecated"] = true;
  return schema;
}

// Resolves a path variable ("location.lat", proto or JSON names as http_rules accepts
// them) to its proto-name spelling and leaf field; {"", nullptr} when it names no field
// (RouteTable::Build has already rejected such templates).
std::pair<std::string, const FieldDescriptor*> ResolveVariable(const Descriptor* type,
                                                               absl::string_view path) {
  std::vector<std::string> names;
  const FieldDescriptor* field = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (type == nullptr) return {"", nullptr};
    field = type->FindFieldByName(std::string(part));
    for (int i = 0; field == nullptr && i < type->field_count(); ++i) {
      if (type->field(i)->json_name() == part) field = type->field(i);
    }
    if (field == nullptr) return {"", nullptr};
    names.push_back(field->name());
    type = field->message_type();
  }
  return {absl::StrJoin(names, "."), field};
}

// Query parameters for the fields of `type` under `prefix`, as BuildRequest accepts
// them (see ResolveFieldPath in http_rules.cc): scalar, enum or scalar-like leaves,
// singular or repeated, reached through singular message fields. `excluded` holds the
// proto-name paths taken by the path or the body; `stack` the message types on the
// way down, so that recursive types stop.
void AddQueryParameters(const Descriptor* type, const std::string& prefix,
                        const std::set<std::string>& excluded,
                        std::vector<const Descriptor*>* stack, const Context& ctx, json* out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    const std::string name = absl::StrCat(prefix, field->name());
    if (excluded.count(name) > 0 || field->is_map()) continue;
    const bool is_message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (is_message && !IsScalarLikeMessage(field->message_type())) {
      const Descriptor* nested = field->message_type();
      if (field->is_repeated() || std::find(stack->begin(), stack->end(), nested) != stack->end()) {
        continue;
      }
      stack->push_back(nested);
      AddQueryParameters(nested, absl::StrCat(name, "."), excluded, stack, ctx, out);
      stack->pop_back();
      continue;
    }
    json param = {{"name", name}, {"in", "query"}, {"required", false}};
    json schema = FieldSchema(field, ctx);
    if (schema.contains("description")) {
      param["description"] = schema["description"];
      schema.erase("description");
    }
    if (field->is_repeated()) {
      param["description"] = absl::StrCat(param.value("description", std::string()),
                                          param.contains("description") ? "\n\n" : "",
                                          "Repeat the parameter for each value.");
      param["style"] = "form";
      param["explode"] = true;
    }
    param["schema"] = std::move(schema);
    out->push_back(std::move(param));
  }
}

// The request body for body "*" when path variables also bind top-level fields: the
// request message without them (http_rules lets the path win anyway; this documents
// where each field comes from).
json BodySchemaWithout(const Descriptor* type, const std::set<std::string>& path_bound,
                       const Context& ctx) {
  json properties = json::object();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (path_bound.count(field->name()) > 0) continue;
    properties[field->name()] = FieldSchema(field, ctx);
  }
  json schema = {{"type", "object"}, {"properties", std::move(properties)}};
  schema["description"] =
      absl::StrCat("`", type->full_name(), "` without the fields taken from the path (",
                   absl::StrJoin(path_bound, ", "), ").");
  return schema;
}

struct ErrorResponse {
  int status;
  absl::string_view name;  // in components.responses
  absl::string_view when;
  bool retry_after;  // may carry Retry-After (from google.rpc.RetryInfo)
  bool body_only;    // only for operations that read a body
};

// The statuses of problem.h's HttpStatusForCode plus the gateway's own (gateway.cc).
constexpr ErrorResponse kErrorResponses[] = {
    {400, "BadRequest",
     "The request is invalid: malformed HTTP, JSON, query or X-Timeout-Ms, or bad field "
     "values (INVALID_ARGUMENT, OUT_OF_RANGE); `errors` names every bad field.",
     false, false},
    {401, "Unauthorized", "UNAUTHENTICATED: the caller's identity is missing or invalid.", false,
     false},
    {403, "Forbidden", "PERMISSION_DENIED: the caller may not do this.", false, false},
    {404, "NotFound", "NOT_FOUND: no such resource.", false, false},
    {409, "Conflict", "ALREADY_EXISTS, or ABORTED by a concurrent change: read again and retry.",
     false, false},
    {412, "PreconditionFailed",
     "FAILED_PRECONDITION: the resource's state does not allow this now.", false, false},
    {413, "ContentTooLarge",
     "The body exceeds the gateway's limit (gateway.max_body_bytes; "
     "gateway.max_upload_bytes for a multipart upload).",
     false, true},
    {415, "UnsupportedMediaType",
     "The body is not `application/json` (nor `multipart/form-data` where uploads are taken).",
     false, true},
    {429, "TooManyRequests",
     "RESOURCE_EXHAUSTED, or over the gateway's budget per client address, device "
     "(X-Device-Id) or API key (types ip-rate-limited, device-rate-limited, "
     "api-key-rate-limited); Retry-After says when to try again.",
     true, false},
    {500, "InternalServerError",
     "An internal error; the detail is generic, quote `request_id` when reporting it.", false,
     false},
    {502, "BadGateway", "The backend's answer could not be read.", false, false},
    {503, "ServiceUnavailable",
     "UNAVAILABLE: a backend cannot be reached or the gateway is shutting down; retry, "
     "after Retry-After when given.",
     true, false},
    {504, "GatewayTimeout",
     "DEADLINE_EXCEEDED: no answer within the deadline (X-Timeout-Ms or the default).", false,
     false},
};

constexpr absl::string_view kDefaultResponse = "Problem";

json ProblemContent() {
  return {{std::string(kProblemContentType), {{"schema", Ref(kSchemaRef, kProblemSchema)}}}};
}

json RequestIdHeader() { return {{"X-Request-Id", Ref("#/components/headers/", "X-Request-Id")}}; }

// components.responses, components.headers, components.parameters and the problem
// schemas, all shared by the operations.
void AddSharedComponents(json* components) {
  json& responses = (*components)["responses"];
  for (const ErrorResponse& e : kErrorResponses) {
    json headers = RequestIdHeader();
    if (e.retry_after) headers["Retry-After"] = Ref("#/components/headers/", "Retry-After");
    responses[std::string(e.name)] = {
        {"description", absl::StrCat(HttpReasonPhrase(e.status), ". ", e.when)},
        {"headers", std::move(headers)},
        {"content", ProblemContent()}};
  }
  responses[std::string(kDefaultResponse)] = {
      {"description",
       "Any other problem: 405 when the path exists under other methods (with Allow), "
       "501 for UNIMPLEMENTED."},
      {"headers", RequestIdHeader()},
      {"content", ProblemContent()}};

  json& headers = (*components)["headers"];
  headers["X-Request-Id"] = {
      {"description",
       "The request's id: the client's X-Request-Id when well-formed, else a fresh one. "
       "Logged and passed to the backends."},
      {"schema", {{"type", "string"}}}};
  headers["Retry-After"] = {{"description", "Seconds to wait before retrying."},
                            {"schema", {{"type", "integer"}, {"minimum", 0}}}};

  const json token = {{"type", "string"}, {"pattern", "^[A-Za-z0-9._-]{1,128}$"}};
  json& parameters = (*components)["parameters"];
  parameters["X-Request-Id"] = {
      {"name", "X-Request-Id"},
      {"in", "header"},
      {"required", false},
      {"description",
       "An id for this request, echoed in the response; ignored unless it "
       "is 1..128 characters of [A-Za-z0-9._-]."},
      {"schema", token}};
  parameters["X-Timeout-Ms"] = {{"name", "X-Timeout-Ms"},
                                {"in", "header"},
                                {"required", false},
                                {"description",
                                 "Deadline of the backend call in milliseconds; values above 60000 "
                                 "count as 60000."},
                                {"schema", {{"type", "integer"}, {"minimum", 1}}}};
  parameters["X-Device-Id"] = {
      {"name", "X-Device-Id"},
      {"in", "header"},
      {"required", false},
      {"description",
       "The app installation's id: the scope of retries and per-device "
       "limits; ignored unless it is 1..128 characters of [A-Za-z0-9._-]."},
      {"schema", token}};

  json& schemas = (*components)["schemas"];
  // As problem.cc's Render writes them.
  schemas[std::string(kProblemSchema)] = {
      {"type", "object"},
      {"description", "An RFC 9457 problem document."},
      {"required", json::array({"type", "title", "status", "instance", "request_id"})},
      {"properties",
       {{"type",
         {{"type", "string"},
          {"format", "uri"},
          {"description", absl::StrCat(kProblemTypeBase,
                                       "<slug>: the backend's ErrorReason in kebab case "
                                       "(\"unknown-category\"), else the gRPC code "
                                       "(\"not-found\"), or the gateway's own "
                                       "(\"unknown-route\", \"body-too-large\"...).")}}},
        {"title", {{"type", "string"}, {"description", "The HTTP reason phrase."}}},
        {"status", {{"type", "integer"}, {"description", "The HTTP status."}}},
        {"detail", {{"type", "string"}, {"description", "What went wrong, for a human."}}},
        {"instance", {{"type", "string"}, {"description", "The request path, without the query."}}},
        {"request_id", {{"type", "string"}, {"description", "As the X-Request-Id header."}}},
        {"errors",
         {{"type", "array"},
          {"description", "One entry per bad field (400 only)."},
          {"items", Ref(kSchemaRef, kFieldErrorSchema)}}}}}};
  schemas[std::string(kFieldErrorSchema)] = {
      {"type", "object"},
      {"required", json::array({"field", "description"})},
      {"properties",
       {{"field",
         {{"type", "string"},
          {"description",
           "The field's proto path, e.g. \"location.lat\" or a query "
           "parameter's name."}}},
        {"description", {{"type", "string"}, {"description", "What is wrong with it."}}}}}};
}

// The OpenAPI spelling of a route's path: our templates ({field.path} variables and an
// optional ":verb") already are OpenAPI path templates.
std::string OpenApiPath(const PathTemplate& path) {
  std::string out;
  for (const auto& seg : path.segments) {
    absl::StrAppend(&out, "/", seg.variable ? absl::StrCat("{", seg.field, "}") : seg.literal);
  }
  if (!path.verb.empty()) absl::StrAppend(&out, ":", path.verb);
  return out;
}

// ---- Uploads and photos (edge.h): not JSON.

constexpr absl::string_view kPhotoContent = "civic.common.v1.PhotoContent";
constexpr absl::string_view kImageTypes[] = {"image/jpeg", "image/png", "image/webp",
                                             "image/heic"};

// A request body as multipart/form-data: the JSON request as the part "report", photos
// as file parts "photos" (BuildUploadRequest).
json UploadContent(const json& request_schema) {
  json report = request_schema;
  json schema = {
      {"type", "object"},
      {"description",
       "The same request with its photos as files: the JSON (without `photos`) in the part "
       "`report`, each photo in a part `photos` (at most 5 by default; the type is read "
       "from the bytes, the file name is kept)."},
      {"required", json::array({"report"})},
      {"properties",
       {{"report", std::move(report)},
        {"photos",
         {{"type", "array"},
          {"items", {{"type", "string"}, {"format", "binary"}}}}}}}};
  return {{"schema", std::move(schema)},
          {"encoding",
           {{"report", {{"contentType", "application/json"}}},
            {"photos", {{"contentType", absl::StrJoin(kImageTypes, ", ")}}}}}};
}

// The 200 answer of a method returning PhotoContent: the image itself.
json ImageResponse() {
  json content = json::object();
  for (absl::string_view type : kImageTypes) {
    content[std::string(type)] = {{"schema", {{"type", "string"}, {"format", "binary"}}}};
  }
  json headers = RequestIdHeader();
  headers["Cache-Control"] = {
      {"description", "public, max-age=86400, immutable: a photo id never changes content."},
      {"schema", {{"type", "string"}}}};
  return {{"description",
           "OK: the image's bytes (not JSON), its type in Content-Type; location and camera "
           "metadata removed."},
          {"headers", std::move(headers)},
          {"content", std::move(content)}};
}

// ---- Security (auth.h decides at the gateway; the services enforce roles and owners).

constexpr absl::string_view kApiKeyScheme = "ApiKey";
constexpr absl::string_view kStaffTokenScheme = "StaffToken";
constexpr absl::string_view kCitizenTokenScheme = "CitizenToken";
constexpr absl::string_view kDeviceIdScheme = "DeviceId";

// Who a route is for, by its path: the rule every route under these prefixes follows
// (intake's admin RPCs require role "admin"; ListMyReports takes a citizen token or
// x-civic-device-id, which the gateway fills from X-Device-Id).
enum class Audience { kAnyone, kStaff, kOwner };

bool UnderPrefix(absl::string_view path, absl::string_view prefix) {
  return path == prefix || absl::StartsWith(path, absl::StrCat(prefix, "/")) ||
         absl::StartsWith(path, absl::StrCat(prefix, ":"));
}

Audience AudienceOf(absl::string_view path) {
  if (UnderPrefix(path, "/v1/admin")) return Audience::kStaff;
  if (UnderPrefix(path, "/v1/me")) return Audience::kOwner;
  return Audience::kAnyone;
}

// The security requirements of a route for `audience`: each way in with the app's key,
// then, when the gateway does not require one, the same ways without it ({} alone: open).
json SecurityRequirements(Audience audience, bool require_api_key) {
  std::vector<std::vector<absl::string_view>> ways;  // alternatives, without the key
  switch (audience) {
    case Audience::kAnyone:
      ways = {{}};
      break;
    case Audience::kStaff:
      ways = {{kStaffTokenScheme}};
      break;
    case Audience::kOwner:
      ways = {{kCitizenTokenScheme}, {kDeviceIdScheme}};
      break;
  }
  json out = json::array();
  auto add = [&out](const std::vector<absl::string_view>& schemes, bool with_key) {
    json requirement = json::object();
    if (with_key) requirement[std::string(kApiKeyScheme)] = json::array();
    for (absl::string_view scheme : schemes) requirement[std::string(scheme)] = json::array();
    out.push_back(std::move(requirement));
  };
  for (const auto& way : ways) add(way, true);
  if (!require_api_key) {
    for (const auto& way : ways) add(way, false);
  }
  return out;
}

// components.securitySchemes: what GatewayAuth::Authenticate reads.
json SecuritySchemes(bool require_api_key) {
  json schemes = json::object();
  schemes[std::string(kApiKeyScheme)] = {
      {"type", "apiKey"},
      {"in", "header"},
      {"name", "X-Api-Key"},
      {"description",
       absl::StrCat(
           "The app's API key, issued by an administrator (`POST /v1/admin/api-keys`). ",
           require_api_key
               ? "Every /v1 route needs one on this gateway (without it: 401 "
                 "`api-key-required`). "
               : "Optional on this gateway, but checked whenever it is sent. ",
           "An unknown or revoked key is refused with 401 (`invalid-api-key`, "
           "`api-key-revoked`); a revoked key stops working within 10 s. A verified key has "
           "its own rate budget.")}};
  const std::string bearer_refusal =
      "A bad or expired token is refused with 401 and `WWW-Authenticate: Bearer "
      "error=\"invalid_token\"`; an operation called without the token it needs answers "
      "401 with a Bearer challenge, or 403 for the wrong kind of caller or role.";
  schemes[std::string(kStaffTokenScheme)] = {
      {"type", "http"},
      {"scheme", "bearer"},
      {"bearerFormat", "JWT"},
      {"description",
       absl::StrCat("A staff token (operations centre, units): a JWT signed with HS256 "
                    "(development) or RS256 (production) carrying `roles` and optionally "
                    "`unit`; the service checks the role the operation names. ",
                    bearer_refusal)}};
  schemes[std::string(kCitizenTokenScheme)] = {
      {"type", "http"},
      {"scheme", "bearer"},
      {"bearerFormat", "JWT"},
      {"description",
       absl::StrCat("A citizen token, from signing in with a code sent by SMS (`POST "
                    "/v1/auth/code`, then `POST /v1/auth/token`; valid for 1 hour). Sent in "
                    "the same Authorization header as staff tokens, told apart by its "
                    "issuer. ",
                    bearer_refusal)}};
  schemes[std::string(kDeviceIdScheme)] = {
      {"type", "apiKey"},
      {"in", "header"},
      {"name", "X-Device-Id"},
      {"description",
       "The app installation's id (1..128 characters of [A-Za-z0-9._-]; otherwise "
       "ignored): an anonymous app's reports are those sent with it. On every route it is "
       "also the scope of retries and of the per-device rate limit."}};
  return schemes;
}

// ---- Event streams: a server-streaming method's route answers text/event-stream
// (gateway.cc with sse.h writes it); the events are described here in words, since
// OpenAPI 3.1 has no schema for the items of a stream.

// Whether `type` has the string field the gateway fills from Last-Event-ID (sse.h).
bool TakesLastEventId(const Descriptor* type) {
  const FieldDescriptor* f = type->FindFieldByName("after_message_id");
  return f != nullptr && f->type() == FieldDescriptor::TYPE_STRING && !f->is_repeated();
}

json EventStreamResponse(const google::protobuf::MethodDescriptor* method, const Context& ctx) {
  const Descriptor* output = method->output_type();
  const json ref = MessageRef(output, ctx);  // the events' data, kept in components.schemas
  const std::string data_schema = ref.contains("$ref") ? ref["$ref"].get<std::string>() : "";
  const bool has_id = output->FindFieldByName("message_id") != nullptr;
  std::string format = absl::StrCat(
      "A stream of server-sent events that stays open: one event per `", output->full_name(),
      "`", data_schema.empty() ? "" : absl::StrCat(" (", data_schema, ")"), ", written as ",
      has_id ? "`id: <message_id>`, " : "", "`event: message` and `data: <the message as "
      "proto3 JSON on one line>`, then a blank line. While idle, a comment line `: keep-alive` "
      "comes every 15 s. When the backend ends the stream with an error, a last `event: error` "
      "carries the problem document (ProblemDetails) as its data; errors found before the "
      "stream starts are ordinary problem+json answers. The stream also ends when the gateway "
      "shuts down.");
  if (TakesLastEventId(method->input_type())) {
    absl::StrAppend(&format, " After a disconnection, reconnect with the Last-Event-ID header "
                             "(the last `id` received) to get only later events.");
  }
  const json schema = {{"type", "string"}, {"description", "Server-sent events (see above)."}};
  return {{"description", absl::StrCat("OK: `text/event-stream`. ", format)},
          {"headers", RequestIdHeader()},
          {"content", {{"text/event-stream", {{"schema", schema}}}}}};
}

json RoutedOperation(const Route& route, const std::string& operation_id, const Context& ctx) {
  const google::protobuf::MethodDescriptor* method = route.method;
  const Descriptor* input = method->input_type();
  json op;
  op["tags"] = json::array({method->service()->name()});
  op["operationId"] = operation_id;
  const std::string comment = Comment(ctx, method);
  op["summary"] = comment.empty() ? Humanize(method->name()) : FirstSentence(comment);
  op["description"] = absl::StrCat(comment, comment.empty() ? "" : "\n\n",
                                   "Transcoded to the gRPC method `", route.rpc_path, "`.");
  if (method->options().deprecated()) op["deprecated"] = true;

  json parameters = json::array();
  std::set<std::string> excluded;    // proto-name paths bound by the path or the body
  std::set<std::string> path_bound;  // top-level fields the path binds
  for (const auto& seg : route.path.segments) {
    if (!seg.variable) continue;
    const auto [canonical, field] = ResolveVariable(input, seg.field);
    json param = {{"name", seg.field}, {"in", "path"}, {"required", true}};
    if (field != nullptr) {
      excluded.insert(canonical);
      path_bound.insert(canonical.substr(0, canonical.find('.')));
      json schema = FieldSchema(field, ctx);
      if (schema.contains("description")) {
        param["description"] = schema["description"];
        schema.erase("description");
      }
      param["schema"] = std::move(schema);
    } else {
      param["schema"] = {{"type", "string"}};  // unreachable: Build checked the variable
    }
    parameters.push_back(std::move(param));
  }
  if (route.body != "*") {
    if (!route.body.empty()) excluded.insert(route.body);
    std::vector<const Descriptor*> stack = {input};
    AddQueryParameters(input, "", excluded, &stack, ctx, &parameters);
  }
  const Audience audience = AudienceOf(OpenApiPath(route.path));
  for (absl::string_view header : {"X-Request-Id", "X-Timeout-Ms", "X-Device-Id"}) {
    // Where X-Device-Id identifies the caller, the DeviceId scheme documents it.
    if (header == "X-Device-Id" && audience == Audience::kOwner) continue;
    parameters.push_back(Ref("#/components/parameters/", header));
  }
  if (method->server_streaming() && TakesLastEventId(input)) {  // ---- event streams
    parameters.push_back({{"name", "Last-Event-ID"},
                          {"in", "header"},
                          {"required", false},
                          {"description",
                           "The last event id received: only later events are sent (sets "
                           "after_message_id, and wins over the query parameter)."},
                          {"schema", {{"type", "string"}}}});
  }
  op["parameters"] = std::move(parameters);

  if (!route.body.empty()) {
    json schema;
    bool required = true;
    if (route.body == "*") {
      schema =
          path_bound.empty() ? MessageRef(input, ctx) : BodySchemaWithout(input, path_bound, ctx);
    } else {
      schema = MessageRef(input->FindFieldByName(route.body)->message_type(), ctx);
      required = false;  // an empty body leaves the field unset
    }
    op["requestBody"] = {{"required", required},
                         {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
    if (AcceptsUploads(route)) {  // edge.h: the request with its photos as files
      op["requestBody"]["content"]["multipart/form-data"] =
          UploadContent(op["requestBody"]["content"]["application/json"]["schema"]);
    }
  }

  json responses;
  if (method->output_type()->full_name() == kPhotoContent) {
    responses["200"] = ImageResponse();  // the image itself (edge.h)
  } else {
    responses["200"] = {
        {"description", absl::StrCat("OK: the `", method->output_type()->full_name(), "`.")},
        {"headers", RequestIdHeader()},
        {"content",
         {{"application/json", {{"schema", MessageRef(method->output_type(), ctx)}}}}}};
  }
  for (const ErrorResponse& e : kErrorResponses) {
    if (e.body_only && route.body.empty()) continue;
    responses[std::to_string(e.status)] = Ref("#/components/responses/", e.name);
  }
  if (method->server_streaming()) responses["200"] = EventStreamResponse(method, ctx);
  responses["default"] = Ref("#/components/responses/", kDefaultResponse);
  op["responses"] = std::move(responses);
  op["security"] = SecurityRequirements(audience, ctx.require_api_key);
  return op;
}

// The gateway's own endpoints (gateway.cc's Dispatch).
void AddGatewayPaths(json* paths) {
  const json text = {{"text/plain", {{"schema", {{"type", "string"}}}}}};
  (*paths)["/healthz"]["get"] = {
      {"tags", json::array({std::string(kGatewayTag)})},
      {"operationId", "Gateway_Healthz"},
      {"summary", "Health of the gateway"},
      {"description",
       "200 \"ok\" while serving; 503 \"draining\" once shutdown has begun "
       "(requests in flight are still answered), so load balancers move away."},
      {"parameters", json::array({Ref("#/components/parameters/", "X-Request-Id")})},
      {"responses",
       {{"200", {{"description", "Serving."}, {"headers", RequestIdHeader()}, {"content", text}}},
        {"503",
         {{"description", "Draining or stopping."},
          {"headers", RequestIdHeader()},
          {"content", text}}},
        {"400", Ref("#/components/responses/", "BadRequest")},
        {"default", Ref("#/components/responses/", kDefaultResponse)}}},
      {"security", json::array()}};  // never authenticated (not under /v1)
  (*paths)["/openapi.json"]["get"] = {
      {"tags", json::array({std::string(kGatewayTag)})},
      {"operationId", "Gateway_OpenApi"},
      {"summary", "This document"},
      {"description",
       "The OpenAPI document of this gateway, built from the backends' "
       "`google.api.http` rules at start."},
      {"parameters", json::array({Ref("#/components/parameters/", "X-Request-Id")})},
      {"responses",
       {{"200",
         {{"description", "The OpenAPI 3.1 document."},
          {"headers", RequestIdHeader()},
          {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}},
        {"400", Ref("#/components/responses/", "BadRequest")},
        {"default", Ref("#/components/responses/", kDefaultResponse)}}},
      {"security", json::array()}};
}

constexpr absl::string_view kConventions =
    "JSON follows protobuf's proto3 JSON mapping, as the gateway prints it: fields under "
    "their proto names (snake_case; request bodies and query parameters may also use the "
    "lowerCamelCase JSON names), fields with default values (0, \"\", false, empty lists "
    "and maps, the `_UNSPECIFIED` enum value) left out, 64-bit integers as decimal "
    "strings, enums by value name, Timestamps as RFC 3339 strings, bytes as base64. "
    "Request bodies must be `application/json`, and unknown fields are rejected; a report "
    "may instead come as `multipart/form-data` with its photos as files. Photos are "
    "answered as images (their bytes), not JSON.\n\n"
    "Errors are RFC 9457 `application/problem+json` documents (`ProblemDetails`), with "
    "`errors` naming every bad field of a 400. Every response carries `X-Request-Id`; "
    "`X-Timeout-Ms` sets the backend deadline.\n\n"
    "Apps identify themselves with `X-Api-Key`; staff and signed-in citizens send "
    "`Authorization: Bearer <JWT>`. Each operation's `security` says what it takes "
    "(components.securitySchemes).";

}  // namespace

namespace {

json MessageRef(const Descriptor* type, const Context& ctx) {
  if (std::optional<json> known = WellKnownSchema(type)) return *std::move(known);
  const std::string& name = type->full_name();
  if (ctx.schemas->contains(name)) return Ref(kSchemaRef, name);
  (*ctx.schemas)[name] = json::object();  // placeholder: a recursive type refers to it
  json schema = {{"type", "object"}};
  if (std::string c = Comment(ctx, type); !c.empty()) schema["description"] = c;
  json properties = json::object();
  for (int i = 0; i < type->field_count(); ++i) {
    properties[type->field(i)->name()] = FieldSchema(type->field(i), ctx);
  }
  std::vector<std::string> oneofs;
  for (int i = 0; i < type->real_oneof_decl_count(); ++i) {
    const google::protobuf::OneofDescriptor* oneof = type->oneof_decl(i);  // real oneofs come first
    std::vector<std::string> members;
    for (int k = 0; k < oneof->field_count(); ++k) members.push_back(oneof->field(k)->name());
    oneofs.push_back(absl::StrCat("At most one of ", absl::StrJoin(members, ", "), "."));
  }
  if (!oneofs.empty()) {
    const std::string note = absl::StrJoin(oneofs, " ");
    schema["description"] =
        schema.contains("description")
            ? absl::StrCat(schema["description"].get<std::string>(), "\n\n", note)
            : note;
  }
  schema["properties"] = std::move(properties);
  (*ctx.schemas)[name] = std::move(schema);
  return Ref(kSchemaRef, name);
}

}  // namespace

json MessageSchema(const Descriptor* type, json* schemas,
                   const google::protobuf::DescriptorPool* comments) {
  return MessageRef(type, Context{schemas, comments});
}

json BuildOpenApi(const RouteTable& routes, const OpenApiInfo& info,
                  const google::protobuf::DescriptorPool* comments) {
  json doc;
  doc["openapi"] = "3.1.0";
  json& info_json = doc["info"];
  info_json["title"] = info.title;
  info_json["version"] = info.version;
  info_json["description"] =
      absl::StrCat(info.description, info.description.empty() ? "" : "\n\n", kConventions);
  if (!info.license_name.empty()) {
    info_json["license"] = {{"name", info.license_name}};
    if (!info.license_url.empty()) info_json["license"]["url"] = info.license_url;
  }
  doc["servers"] =
      json::array({{{"url", "/"}, {"description", "The gateway serving this document."}}});
  // The default, an open route's; every operation states its own (SecurityRequirements).
  doc["security"] = SecurityRequirements(Audience::kAnyone, info.require_api_key);

  json tags = json::array();
  std::set<std::string> tagged;
  json paths = json::object();
  json components = json::object();
  AddSharedComponents(&components);
  components["securitySchemes"] = SecuritySchemes(info.require_api_key);
  json message_schemas = json::object();
  const Context ctx{&message_schemas, comments, info.require_api_key};
  std::map<std::string, int> bindings;  // method full name -> routes seen
  for (const Route& route : routes.routes()) {
    const google::protobuf::ServiceDescriptor* service = route.method->service();
    if (tagged.insert(service->name()).second) {
      const std::string comment = Comment(ctx, service);
      tags.push_back({{"name", service->name()},
                      {"description", absl::StrCat(comment, comment.empty() ? "" : "\n\n",
                                                   "gRPC service `", service->full_name(), "`.")}});
    }
    const int n = ++bindings[route.method->full_name()];
    std::string operation_id = absl::StrCat(service->name(), "_", route.method->name());
    if (n > 1) absl::StrAppend(&operation_id, "_", n);
    std::string verb = absl::AsciiStrToLower(route.http_method);
    paths[OpenApiPath(route.path)][verb] = RoutedOperation(route, operation_id, ctx);
  }
  AddGatewayPaths(&paths);
  tags.push_back(
      {{"name", std::string(kGatewayTag)}, {"description", "The gateway's own endpoints."}});
  doc["tags"] = std::move(tags);
  doc["paths"] = std::move(paths);

  // Message and enum schemas in name order, after the problem schemas.
  std::map<std::string, json> sorted;
  for (auto& [name, schema] : message_schemas.items()) sorted[name] = std::move(schema);
  for (auto& [name, schema] : sorted) components["schemas"][name] = std::move(schema);
  doc["components"] = std::move(components);
  return doc;
}

namespace {

// The first error of a file that does not build, for the status.
class FirstError : public google::protobuf::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name,
                const google::protobuf::Message* descriptor, ErrorLocation location,
                const std::string& message) override {
    if (error_.empty()) error_ = absl::StrCat(element_name, ": ", message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<google::protobuf::DescriptorPool>> CommentsPool(
    std::string_view descriptor_set) {
  google::protobuf::FileDescriptorSet set;
  if (descriptor_set.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !set.ParseFromArray(descriptor_set.data(), static_cast<int>(descriptor_set.size()))) {
    return absl::InvalidArgumentError("the descriptor set is not a FileDescriptorSet");
  }
  std::map<std::string, const google::protobuf::FileDescriptorProto*> files;
  for (const auto& file : set.file()) files.emplace(file.name(), &file);
  auto pool = std::make_unique<google::protobuf::DescriptorPool>();
  // protoc writes imports first; building each file's imports before it also takes any
  // other order. `building` catches a cycle.
  std::set<std::string> building;
  std::function<absl::Status(const google::protobuf::FileDescriptorProto&)> build =
      [&](const google::protobuf::FileDescriptorProto& file) -> absl::Status {
    if (pool->FindFileByName(file.name()) != nullptr) return absl::OkStatus();
    if (!building.insert(file.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("descriptor set: ", file.name(), " is in an import cycle"));
    }
    for (const std::string& dependency : file.dependency()) {
      auto it = files.find(dependency);
      if (it == files.end()) {
        return absl::InvalidArgumentError(absl::StrCat("descriptor set: ", file.name(),
                                                       " imports ", dependency,
                                                       ", which the set does not hold"));
      }
      if (absl::Status status = build(*it->second); !status.ok()) return status;
    }
    FirstError errors;
    if (pool->BuildFileCollectingErrors(file, &errors) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("descriptor set: cannot build ", file.name(), ": ", errors.error()));
    }
    return absl::OkStatus();
  };
  for (const auto& file : set.file()) {
    if (absl::Status status = build(file); !status.ok()) return status;
  }
  return pool;
}

}  // namespace civic::gateway
