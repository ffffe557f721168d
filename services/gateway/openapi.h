// The gateway's OpenAPI 3.1 document, derived from the same parsed google.api.http rules
// the gateway routes by (RouteTable), so the published contract cannot drift from what
// is served. Schemas describe the JSON the gateway really reads and writes: protobuf's
// proto3 JSON mapping with proto field names (see BuildOpenApi).
#pragma once

#include <string>

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
//     responses the gateway can send, all sharing components.schemas.ProblemDetails.
// Message schemas are keyed by full proto name in components.schemas.
// Comments (summaries, descriptions of tags, operations, parameters, schemas, fields and
// enum values) are taken from `comments`, a pool holding the same protos with source
// info (built from a descriptor set made with protoc --include_source_info), matched by
// full name; without it the document has no proto comments, as generated C++ code never
// carries them. Never fails: the table only holds routes the gateway can serve.
nlohmann::ordered_json BuildOpenApi(const RouteTable& routes, const OpenApiInfo& info = {},
                                    const google::protobuf::DescriptorPool* comments = nullptr);

// The schema of a value of proto type `type` in proto3 JSON as the gateway writes it:
// a {"$ref": "#/components/schemas/<full name>"} for messages (adding the schema of
// `type` and of every message and enum it reaches to `*schemas`), or an inline schema
// for well-known types with a JSON form of their own (Timestamp, Duration, wrappers,
// Struct, Value, ListValue, FieldMask, Any, Empty). Comments as for BuildOpenApi.
nlohmann::ordered_json MessageSchema(const google::protobuf::Descriptor* type,
                                     nlohmann::ordered_json* schemas,
                                     const google::protobuf::DescriptorPool* comments = nullptr);

}  // namespace civic::gateway
