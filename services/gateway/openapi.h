// The gateway's OpenAPI 3.1 document, derived from the same parsed google.api.http rules
// the gateway routes by (RouteTable), so the published contract cannot drift from what
// is served. Schemas describe the JSON the gateway really reads and writes: protobuf's
// proto3 JSON mapping with proto field names (see BuildOpenApi).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "nlohmann/json.hpp"
#include "services/gateway/http_rules.h"

namespace civic::gateway {

// The document's info object. Empty strings are left out.
struct OpenApiInfo {
  std::string title = "CivicDesk API";
  // The version of the HTTP API the document describes (its routes are under /v1/).
  std::string version = "v1";
  // Prepended to the description of the JSON and error conventions the builder adds.
  std::string description;
  std::string license_name;
  std::string license_url;
  // Whether every /v1 route needs an app's X-Api-Key (GatewayConfig::require_api_key):
  // decides whether the security requirements offer an alternative without the key.
  bool require_api_key = false;
};

// The OpenAPI 3.1.0 document for `routes` plus the gateway's own endpoints
// (GET /healthz, GET /openapi.json). For every route:
//   - the path as written in the rule ({field.path} variables are OpenAPI path
//     parameters; a ":verb" stays part of the literal path);
//   - operationId "<Service>_<Method>" ("_2", "_3"... for additional bindings), one tag
//     per service, summary and description from the proto comments when the
//     descriptors carry source info, else from the method name;
//   - query parameters, unless the body is "*": every field the gateway accepts from
//     the query (singular or repeated scalars, enums and scalar-like well-known types,
//     reached through singular message fields with dotted proto names), except those
//     bound by the path or the body;
//   - a JSON request body for body "*" (the request message without its path-bound
//     fields, required) or body "field" (that field's message, optional);
//   - the 200 response (the method's output message) and the problem+json error
//     responses the gateway can send, all sharing components.schemas.ProblemDetails;
//   - its security requirements, from the schemes in components.securitySchemes (auth.h):
//     "ApiKey" (X-Api-Key), "StaffToken" and "CitizenToken" (Authorization: Bearer, JWT)
//     and "DeviceId" (X-Device-Id). Routes under /v1/admin need a staff token; routes
//     under /v1/me a citizen token or a device id (the services enforce both); the others
//     are open. Each requirement includes the API key, and when info.require_api_key is
//     off the same requirements without it are alternatives too (for an open route, {}).
//     The gateway's own endpoints need nothing (security: []).
// Message schemas are keyed by full proto name in components.schemas.
// Comments (summaries, descriptions of tags, operations, parameters, schemas, fields and
// enum values) are taken from `comments`, a pool holding the same protos with source
// info (built from a descriptor set made with protoc --include_source_info), matched by
// full name; without it the document has no proto comments, as generated C++ code never
// carries them. Never fails: the table only holds routes the gateway can serve.
nlohmann::ordered_json BuildOpenApi(const RouteTable& routes, const OpenApiInfo& info = {},
                                    const google::protobuf::DescriptorPool* comments = nullptr);

// A pool for BuildOpenApi's `comments` from a serialized FileDescriptorSet made with
// protoc --include_source_info --include_imports (e.g. proto/civic_descriptors.h's
// CommentedDescriptorSet()). The set must be self-contained: every import of every file
// in it. INVALID_ARGUMENT when the bytes are not a FileDescriptorSet, or naming the file
// that cannot be built (an import missing, a cycle, a conflicting definition).
absl::StatusOr<std::unique_ptr<google::protobuf::DescriptorPool>> CommentsPool(
    std::string_view descriptor_set);

// The schema of a value of proto type `type` in proto3 JSON as the gateway writes it:
// a {"$ref": "#/components/schemas/<full name>"} for messages (adding the schema of
// `type` and of every message and enum it reaches to `*schemas`), or an inline schema
// for well-known types with a JSON form of their own (Timestamp, Duration, wrappers,
// Struct, Value, ListValue, FieldMask, Any, Empty). Comments as for BuildOpenApi.
nlohmann::ordered_json MessageSchema(const google::protobuf::Descriptor* type,
                                     nlohmann::ordered_json* schemas,
                                     const google::protobuf::DescriptorPool* comments = nullptr);

}  // namespace civic::gateway
