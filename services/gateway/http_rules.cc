// Route table and request building for the gateway. Text-to-field conversion goes
// through protobuf's own proto3 JSON parser, so the HTTP surface accepts exactly what
// the JSON mapping defines and nothing is serialized by hand.
#include "services/gateway/http_rules.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/api/annotations.pb.h"
#include "google/api/http.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/core/text.h"
#include "libs/core/status.h"
#include "nlohmann/json.hpp"

namespace civic::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

// The ErrorReason domain of problems the gateway raises itself.
constexpr absl::string_view kDomain = "gateway.civicdesk";

bool IsIdent(absl::string_view s) {
  if (s.empty() || absl::ascii_isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// Literal segments and verbs: RFC 3986 unreserved characters, which is all our protos
// use and keeps templates free of anything that would need escaping.
bool IsLiteral(absl::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ||
           c == '_' || c == '~';
  });
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}


const FieldDescriptor* FindField(const Descriptor* type, absl::string_view name) {
  if (const FieldDescriptor* f = type->FindFieldByName(std::string(name))) return f;
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->json_name() == name) return type->field(i);
  }
  return nullptr;
}

// A field path resolved against a message type, outermost field first.
struct FieldPath {
  std::vector<const FieldDescriptor*> fields;
  std::string canonical;  // proto names joined by '.', to spot one field named twice
};

// Resolves "a.b.c" (each step by proto or JSON name) to a scalar-valued leaf reached
// through singular message fields. NOT_FOUND when a step names no field;
// INVALID_ARGUMENT when the path cannot carry a textual value.
absl::StatusOr<FieldPath> ResolveFieldPath(const Descriptor* type, absl::string_view path,
                                           bool allow_repeated_leaf) {
  FieldPath out;
  const std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  const Descriptor* current = type;
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = FindField(current, parts[i]);
    if (field == nullptr) {
      return absl::NotFoundError(absl::StrCat(current->full_name(), " has no field '",
                                              parts[i], "'"));
    }
    const bool is_message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (i + 1 < parts.size()) {
      if (field->is_repeated() || !is_message || IsScalarLikeMessage(field->message_type())) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", field->name(), "' is not a singular message field"));
      }
      current = field->message_type();
    } else if (field->is_map() || (field->is_repeated() && !allow_repeated_leaf) ||
               (is_message && !IsScalarLikeMessage(field->message_type()))) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "' cannot be set from a single text value"));
    }
    out.fields.push_back(field);
  }
  out.canonical = absl::StrJoin(out.fields, ".", [](std::string* s, const FieldDescriptor* f) {
    s->append(f->name());
  });
  return out;
}

// The proto3 JSON form of one textual value for `field`: bools and enum numbers as JSON
// literals; everything else as a JSON string, which the mapping accepts for every
// numeric type (including "NaN"), enum names, bytes (base64) and scalar-like messages.
nlohmann::json LeafJson(const FieldDescriptor* field, const std::string& text) {
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    // Wrappers take their wrapped value's JSON form; the others are strings.
    const FieldDescriptor* wrapped = field->message_type()->FindFieldByName("value");
    if (wrapped == nullptr || !absl::EndsWith(field->message_type()->name(), "Value")) {
      return text;
    }
    field = wrapped;
  }
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
    if (text == "true") return true;
    if (text == "false") return false;
  } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
    int64_t number = 0;
    if (absl::SimpleAtoi(text, &number)) return number;
  }
  return text;
}

// Parses proto3 JSON into `message` (replacing its contents), rejecting unknown fields.
absl::Status ParseJson(absl::string_view json, Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message, options);
  if (status.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(status.message().ToString());
}

// Sets the field at `path` from its textual values. The value is parsed into a scratch
// message holding only that field, then merged after clearing the field, so the
// result is exactly the parsed value even when it is the default ("0", "false").
absl::Status ApplyValues(const FieldPath& path, const std::vector<std::string>& values,
                         Message* request) {
  for (const std::string& v : values) {
    if (!IsValidUtf8(v)) return absl::InvalidArgumentError("not valid UTF-8");
  }
  const FieldDescriptor* leaf = path.fields.back();
  nlohmann::json value;
  if (leaf->is_repeated()) {
    value = nlohmann::json::array();
    for (const std::string& v : values) value.push_back(LeafJson(leaf, v));
  } else {
    value = LeafJson(leaf, values.front());
  }
  for (auto it = path.fields.rbegin(); it != path.fields.rend(); ++it) {
    nlohmann::json wrapper = nlohmann::json::object();
    wrapper[(*it)->name()] = std::move(value);
    value = std::move(wrapper);
  }
  std::unique_ptr<Message> scratch(request->New());
  CIVIC_RETURN_IF_ERROR(ParseJson(value.dump(), scratch.get()));
  Message* parent = request;
  for (size_t i = 0; i + 1 < path.fields.size(); ++i) {
    parent = parent->GetReflection()->MutableMessage(parent, path.fields[i]);
  }
  parent->GetReflection()->ClearField(parent, leaf);
  request->MergeFrom(*scratch);
  return absl::OkStatus();
}

// "/v1/reports/{}" style key: two templates with the same shape can never be told apart.
std::string Shape(const PathTemplate& t) {
  std::string out;
  for (const auto& seg : t.segments) absl::StrAppend(&out, "/", seg.variable ? "{}" : seg.literal);
  if (!t.verb.empty()) absl::StrAppend(&out, ":", t.verb);
  return out;
}

// True when `a` should win over `b` for a path both match.
bool MoreSpecific(const PathTemplate& a, const PathTemplate& b) {
  const size_t n = std::min(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < n; ++i) {
    if (a.segments[i].variable != b.segments[i].variable) return !a.segments[i].variable;
  }
  return !a.verb.empty() && b.verb.empty();
}

absl::Status AddRoute(const MethodDescriptor* method, const google::api::HttpRule& rule,
                      std::vector<Route>* routes) {
  using google::api::HttpRule;
  const std::string& where = method->full_name();
  Route route;
  absl::string_view pattern;
  switch (rule.pattern_case()) {
    case HttpRule::kGet: route.http_method = "GET"; pattern = rule.get(); break;
    case HttpRule::kPut: route.http_method = "PUT"; pattern = rule.put(); break;
    case HttpRule::kPost: route.http_method = "POST"; pattern = rule.post(); break;
    case HttpRule::kDelete: route.http_method = "DELETE"; pattern = rule.delete_(); break;
    case HttpRule::kPatch: route.http_method = "PATCH"; pattern = rule.patch(); break;
    default:
      return absl::UnimplementedError(
          absl::StrCat(where, ": only get/put/post/delete/patch http rules are supported"));
  }
  absl::StatusOr<PathTemplate> path = ParsePathTemplate(pattern);
  if (!path.ok()) {
    return absl::Status(path.status().code(), absl::StrCat(where, ": ", path.status().message()));
  }
  route.path = *std::move(path);
  const Descriptor* input = method->input_type();
  for (const auto& seg : route.path.segments) {
    if (!seg.variable) continue;
    if (auto field = ResolveFieldPath(input, seg.field, /*allow_repeated_leaf=*/false);
        !field.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": path variable {", seg.field, "}: ", field.status().message()));
    }
  }
  if (!rule.body().empty() && rule.body() != "*") {
    const FieldDescriptor* body = input->FindFieldByName(rule.body());
    if (body == nullptr || body->is_repeated() ||
        body->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      return absl::UnimplementedError(absl::StrCat(
          where, ": body '", rule.body(), "' must be \"*\" or a singular message field"));
    }
  }
  if (!rule.response_body().empty()) {
    return absl::UnimplementedError(absl::StrCat(where, ": response_body is not supported"));
  }
  route.body = rule.body();
  route.service = method->service()->full_name();
  route.rpc_path = absl::StrCat("/", route.service, "/", method->name());
  route.method = method;
  const std::string shape = Shape(route.path);
  for (const Route& other : *routes) {
    if (other.http_method == route.http_method && Shape(other.path) == shape) {
      return absl::AlreadyExistsError(absl::StrCat(
          where, ": ", route.http_method, " ", route.path.text, " is already routed to ",
          other.method->full_name()));
    }
  }
  routes->push_back(std::move(route));
  return absl::OkStatus();
}

// Splits a raw query string into decoded (name, value) pairs, in order.
absl::StatusOr<std::vector<Binding>> ParseQuery(absl::string_view query) {
  std::vector<Binding> out;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const size_t eq = part.find('=');
    Binding b;
    if (!PercentDecode(part.substr(0, eq), true, &b.first) ||
        (eq != absl::string_view::npos && !PercentDecode(part.substr(eq + 1), true, &b.second))) {
      return WithReason(absl::InvalidArgumentError("malformed percent-encoding in the query"),
                        "MALFORMED_QUERY", kDomain);
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

bool IsScalarLikeMessage(const Descriptor* type) {
  static const std::set<std::string, std::less<>> kTypes = {
      "google.protobuf.Timestamp",   "google.protobuf.Duration",
      "google.protobuf.FieldMask",   "google.protobuf.DoubleValue",
      "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
      "google.protobuf.UInt64Value", "google.protobuf.Int32Value",
      "google.protobuf.UInt32Value", "google.protobuf.BoolValue",
      "google.protobuf.StringValue", "google.protobuf.BytesValue"};
  return kTypes.count(type->full_name()) > 0;
}


bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

absl::StatusOr<PathTemplate> ParsePathTemplate(absl::string_view text) {
  auto bad = [text](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("path template '", text, "': ", why));
  };
  if (text.size() < 2 || text[0] != '/') {
    return bad("must start with '/' and name at least one segment");
  }
  if (text.find('=') != absl::string_view::npos) {
    return absl::UnimplementedError(
        absl::StrCat("path template '", text, "': variables with patterns are not supported"));
  }
  PathTemplate out;
  out.text = std::string(text);
  absl::string_view rest = text.substr(1);
  // The verb is whatever follows a ':' in the last segment.
  const size_t last_slash = rest.rfind('/');
  const size_t colon = rest.find(':', last_slash == absl::string_view::npos ? 0 : last_slash);
  if (colon != absl::string_view::npos) {
    out.verb = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!IsLiteral(out.verb)) return bad("malformed verb");
  }
  std::set<absl::string_view> variables;
  for (absl::string_view seg : absl::StrSplit(rest, '/')) {
    if (seg.empty()) return bad("empty segment");
    if (seg == "*" || seg == "**") {
      return absl::UnimplementedError(
          absl::StrCat("path template '", text, "': wildcard segments are not supported"));
    }
    PathTemplate::Segment segment;
    if (seg.front() == '{') {
      if (seg.size() < 3 || seg.back() != '}') return bad("malformed variable");
      const absl::string_view field = seg.substr(1, seg.size() - 2);
      for (absl::string_view part : absl::StrSplit(field, '.')) {
        if (!IsIdent(part)) return bad(absl::StrCat("'", field, "' is not a field path"));
      }
      if (!variables.insert(field).second) {
        return bad(absl::StrCat("variable '", field, "' appears twice"));
      }
      segment.variable = true;
      segment.field = std::string(field);
    } else {
      if (!IsLiteral(seg)) return bad(absl::StrCat("unsupported literal '", seg, "'"));
      segment.literal = std::string(seg);
    }
    out.segments.push_back(std::move(segment));
  }
  return out;
}

bool MatchPath(const PathTemplate& tmpl, absl::string_view path,
               std::vector<Binding>* bindings) {
  if (path.empty() || path[0] != '/') return false;
  absl::string_view rest = path.substr(1);
  if (!tmpl.verb.empty()) {
    const std::string suffix = absl::StrCat(":", tmpl.verb);
    if (!absl::EndsWith(rest, suffix)) return false;
    rest.remove_suffix(suffix.size());
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
  if (parts.size() != tmpl.segments.size()) return false;
  std::vector<Binding> found;
  std::string decoded;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!PercentDecode(parts[i], /*plus_is_space=*/false, &decoded) || decoded.empty()) {
      return false;
    }
    const auto& seg = tmpl.segments[i];
    if (!seg.variable) {
      if (decoded != seg.literal) return false;
    } else {
      found.emplace_back(seg.field, decoded);
    }
  }
  for (auto& b : found) bindings->push_back(std::move(b));
  return true;
}

absl::StatusOr<RouteTable> RouteTable::Build(const std::vector<std::string>& services) {
  const google::protobuf::DescriptorPool* pool =
      google::protobuf::DescriptorPool::generated_pool();
  RouteTable table;
  for (const std::string& name : services) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(name);
    if (service == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "service ", name, " has no generated descriptor (is its proto linked in?)"));
    }
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor* method = service->method(i);
      if (!method->options().HasExtension(google::api::http)) continue;
      // Server-streaming methods are routes too: the gateway answers them with an event
      // stream (sse.h). A client stream has no HTTP form here.
      if (method->client_streaming()) continue;
      const google::api::HttpRule& rule = method->options().GetExtension(google::api::http);
      CIVIC_RETURN_IF_ERROR(AddRoute(method, rule, table.routes_.get()));
      for (const auto& extra : rule.additional_bindings()) {
        CIVIC_RETURN_IF_ERROR(AddRoute(method, extra, table.routes_.get()));
      }
    }
  }
  return table;
}

RouteMatch RouteTable::Match(absl::string_view http_method, absl::string_view path) const {
  RouteMatch best;
  std::set<std::string> allowed;
  for (const Route& route : *routes_) {
    std::vector<Binding> bindings;
    if (!MatchPath(route.path, path, &bindings)) continue;
    if (route.http_method != http_method) {
      allowed.insert(route.http_method);
      continue;
    }
    if (best.route == nullptr || MoreSpecific(route.path, best.route->path)) {
      best.route = &route;
      best.bindings = std::move(bindings);
    }
  }
  if (best.route == nullptr) best.allowed_methods.assign(allowed.begin(), allowed.end());
  return best;
}

absl::StatusOr<std::unique_ptr<Message>> BuildRequest(const RouteMatch& match,
                                                      absl::string_view query,
                                                      absl::string_view body) {
  if (match.route == nullptr) return absl::InvalidArgumentError("no route matched");
  const Route& route = *match.route;
  const Descriptor* type = route.method->input_type();
  std::unique_ptr<Message> request(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());

  // The body first, so that query parameters and path variables override it.
  Message* body_target = nullptr;
  if (route.body == "*") {
    if (body.empty()) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            "this request needs a JSON body (", type->full_name(), ")")),
                        "MISSING_BODY", kDomain);
    }
    body_target = request.get();
  } else if (!route.body.empty() && !body.empty()) {
    body_target = request->GetReflection()->MutableMessage(
        request.get(), type->FindFieldByName(route.body));
  }
  if (body_target != nullptr) {
    if (absl::Status s = ParseJson(body, body_target); !s.ok()) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            "cannot read the body as ", body_target->GetTypeName(), ": ",
                            s.message())),
                        "MALFORMED_JSON", kDomain);
    }
  }

  struct Group {
    std::string name;  // as the client wrote it, for error reports
    FieldPath path;
    std::vector<std::string> values;
  };
  std::vector<Group> groups;
  FieldErrors errors;
  CIVIC_ASSIGN_OR_RETURN(const std::vector<Binding> params, ParseQuery(query));
  for (const auto& [name, value] : params) {
    if (route.body == "*") {
      errors.Add(name, "unknown query parameter (this request takes its fields from the body)");
      continue;
    }
    absl::StatusOr<FieldPath> path = ResolveFieldPath(type, name, /*allow_repeated_leaf=*/true);
    if (!path.ok()) {
      errors.Add(name, path.status().code() == absl::StatusCode::kNotFound
                           ? std::string("unknown query parameter")
                           : std::string(path.status().message()));
      continue;
    }
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const Group& g) { return g.path.canonical == path->canonical; });
    if (it == groups.end()) {
      groups.push_back({name, *std::move(path), {}});
      it = groups.end() - 1;
    }
    it->values.push_back(value);
  }
  for (const Group& g : groups) {
    if (!g.path.fields.back()->is_repeated() && g.values.size() > 1) {
      errors.Add(g.name, "given more than once for a single-valued field");
    }
  }
  // Path variables last, so that they win over the body and the query.
  for (const auto& [field, value] : match.bindings) {
    absl::StatusOr<FieldPath> path = ResolveFieldPath(type, field, false);
    if (!path.ok()) {
      errors.Add(field, std::string(path.status().message()));  // checked at Build
      continue;
    }
    groups.push_back({field, *std::move(path), {value}});
  }
  if (!errors.empty()) return errors.ToStatus(kDomain);

  for (const Group& g : groups) {
    if (absl::Status s = ApplyValues(g.path, g.values, request.get()); !s.ok()) {
      errors.Add(g.name, std::string(s.message()));
    }
  }
  if (!errors.empty()) return errors.ToStatus(kDomain);
  return request;
}

}  // namespace civic::gateway
