// HTTP routing for the gateway: parses the `google.api.http` path templates declared on
// the backends' proto methods, matches requests against them and turns the path
// variables, query parameters and JSON body into the method's request message.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace civic::gateway {

// One parsed path template, e.g. "/v1/reports/{tracking_code}" or "/v1/areas:resolve".
// Supported grammar (the subset CivicDesk's protos use):
//   Template = "/" Segment { "/" Segment } [ ":" Verb ]
//   Segment  = LITERAL | "{" FieldPath "}"      FieldPath = IDENT { "." IDENT }
struct PathTemplate {
  struct Segment {
    bool variable = false;
    std::string literal;  // when !variable
    std::string field;    // when variable: a field path such as "location.lat"
  };
  std::string text;  // the template as written in the proto
  std::vector<Segment> segments;
  std::string verb;  // "" or the custom verb after the final ':'
};

// Well-known message types whose proto3 JSON form is a single scalar, so they can be
// set from one path or query value (e.g. ?since=2026-01-01T00:00:00Z).
bool IsScalarLikeMessage(const google::protobuf::Descriptor* type);

// Parses `text`. INVALID_ARGUMENT when malformed (no leading '/', empty segment, bad
// variable, variable bound twice); UNIMPLEMENTED for wildcards ("*", "**") and
// "{field=pattern}" variables, which no CivicDesk proto needs.
absl::StatusOr<PathTemplate> ParsePathTemplate(absl::string_view text);

// A (field path, value) pair taken from a request path or query.
using Binding = std::pair<std::string, std::string>;

// Matches a request path (without its query string) against `tmpl`. Segments are
// percent-decoded before comparison; a variable matches one non-empty segment. No
// trailing-slash normalisation: "/v1/reports/" is not "/v1/reports". On a match,
// appends one binding per variable to `*bindings` and returns true.
bool MatchPath(const PathTemplate& tmpl, absl::string_view path,
               std::vector<Binding>* bindings);

// One HTTP route to a unary or server-streaming gRPC method (the latter answered as
// text/event-stream: route.method->server_streaming(), see sse.h).
struct Route {
  std::string http_method;  // "GET", "POST", "PUT", "DELETE" or "PATCH"
  PathTemplate path;
  std::string body;         // HttpRule.body: "", "*" or a top-level message field name
  std::string service;      // full service name, e.g. "civic.intake.v1.IntakeService"
  std::string rpc_path;     // "/civic.intake.v1.IntakeService/SubmitReport"
  const google::protobuf::MethodDescriptor* method = nullptr;
};

// The outcome of RouteTable::Match.
struct RouteMatch {
  const Route* route = nullptr;    // null when nothing matched method and path
  std::vector<Binding> bindings;   // path variables, when route is set
  // When route is null: the methods under which the path does exist (answer 405 with
  // them in Allow); empty means the path is unknown (answer 404).
  std::vector<std::string> allowed_methods;
};

// The routes of a set of services. Immutable after Build, so safe to share across
// threads; Route pointers stay valid for the table's life (and across moves).
class RouteTable {
 public:
  RouteTable() = default;

  // Builds routes from every unary or server-streaming method with a google.api.http
  // rule (including its additional_bindings) in the named services, looked up in
  // protobuf's generated descriptor pool. Methods without a rule, and client- or
  // bidirectional-streaming methods, are skipped.
  // Fails with NOT_FOUND when a service is not in the pool (its generated code is not
  // linked into the binary); INVALID_ARGUMENT/UNIMPLEMENTED for a template or body the
  // gateway cannot serve (see ParsePathTemplate; variables must name singular scalar
  // fields, body must be "", "*" or a singular message field); ALREADY_EXISTS when two
  // rules claim the same method and path shape.
  static absl::StatusOr<RouteTable> Build(const std::vector<std::string>& services);

  // The most specific route for (http_method, path): a literal segment beats a variable
  // at the first position where matching templates differ, then a verb beats none.
  RouteMatch Match(absl::string_view http_method, absl::string_view path) const;

  const std::vector<Route>& routes() const { return *routes_; }

 private:
  // Behind a pointer so that Route addresses survive moving the table.
  std::shared_ptr<std::vector<Route>> routes_ = std::make_shared<std::vector<Route>>();
};

// Builds the request message of a matched route. In order: the JSON body (proto3 JSON
// mapping, unknown fields rejected) when the rule has one, then query parameters, then
// path variables, so that the path wins over anything else naming the same field.
// Query parameters are allowed unless the rule's body is "*"; each names a singular or
// repeated scalar field by proto or JSON name (dotted for nested fields), repeats only
// for repeated fields, and its text is converted as proto3 JSON would (numbers, bools,
// enum names or numbers, Timestamp...). `query` is the raw query string without '?'.
// Fails with INVALID_ARGUMENT: malformed JSON body (reason MALFORMED_JSON, with the
// parser's message), missing body for a body "*" rule (reason MISSING_BODY), malformed
// query string (reason MALFORMED_QUERY), or a google.rpc.BadRequest payload with one
// violation per unknown or invalid parameter/variable (reason INVALID_FIELDS).
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> BuildRequest(
    const RouteMatch& match, absl::string_view query, absl::string_view body);

// Decodes %XX escapes (and '+' as space when `plus_is_space`, as in query strings);
// false when an escape is malformed.
bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out);

}  // namespace civic::gateway
