// Open311 GeoReport v2 for the gateway. Every answer is first built as one small tree
// (Node) and then written either as XML (pugixml) or as JSON (nlohmann, the spec's
// "Spark convention"), so the two formats cannot drift apart.
#include "services/gateway/open311.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <pugixml.hpp>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/auth/caller.h"
#include "libs/core/text.h"
#include "libs/core/log.h"
#include "nlohmann/json.hpp"
#include "services/gateway/http_rules.h"
#include "services/gateway/problem.h"

namespace civic::gateway {

// ---------------------------------------------------------------------------------
// API keys.

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // SHA-256 cannot fail short of memory exhaustion; abort rather than compare keys
  // against a garbage digest.
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    CIVIC_LOG_ERROR("open311: SHA-256 failed");
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

absl::StatusOr<ApiKeyChecker> LoadApiKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the api key file"));
  auto hashes = std::make_shared<std::set<std::string>>();
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    const absl::string_view hash = text.substr(0, text.find_first_of(" \t"));
    const bool hex = hash.size() == 64 && std::all_of(hash.begin(), hash.end(), [](char c) {
                       return absl::ascii_isxdigit(static_cast<unsigned char>(c));
                     });
    if (!hex) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": expected the SHA-256 of a key (64 hex digits)"));
    }
    hashes->insert(absl::AsciiStrToLower(hash));
  }
  CIVIC_LOG_INFO("open311: {} api key hashes loaded", hashes->size());
  return ApiKeyChecker([hashes = std::shared_ptr<const std::set<std::string>>(std::move(hashes))](
                           absl::string_view key) -> absl::StatusOr<std::string> {
    // Keys are short tokens: a megabyte "key" is refused before hashing it.
    if (key.empty() || key.size() > 512) {
      return absl::PermissionDeniedError("invalid api_key");
    }
    const std::string hash = Sha256Hex(key);
    if (!hashes->count(hash)) return absl::PermissionDeniedError("invalid api_key");
    return absl::StrCat("open311-", hash.substr(0, 16));
  });
}

ApiKeyChecker RejectAllApiKeys() {
  return [](absl::string_view) -> absl::StatusOr<std::string> {
    return absl::PermissionDeniedError("invalid api_key");
  };
}

namespace open311 {
namespace {

using nlohmann::ordered_json;

constexpr char kIntakeService[] = "civic.intake.v1.IntakeService";
constexpr char kCasesService[] = "civic.cases.v1.CasesService";

// The spec's default and cap on GET requests, and its largest date range.
constexpr int kMaxRequests = 1000;
constexpr absl::Duration kMaxWindow = absl::Hours(24 * 90);
// ListPublicCases' page cap and case_ids cap (services/cases/public_view.h).
constexpr int kBackendPageSize = 200;
constexpr size_t kBackendMaxIds = 100;
// How deep page/page_size may reach: beyond this, narrow the dates instead.
constexpr int kMaxOffset = 10000;


// Ids that may travel in metadata and logs.
bool IsSaneId(absl::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// XML 1.0 cannot carry most control characters, even escaped: drop them (tab, line
// feed and carriage return stay).
std::string CleanText(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7F) continue;
    out.push_back(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------
// The answer tree.

struct Node {
  enum class Kind { kValue, kObject, kList };
  std::string name;  // the XML tag
  Kind kind = Kind::kValue;
  ordered_json value;  // kValue: a string, number, bool, or null (an empty element)
  std::vector<Node> children;
};

// A text element; empty text is an empty element (JSON null).
Node Text(std::string name, absl::string_view text) {
  Node n{.name = std::move(name)};
  if (!text.empty()) n.value = CleanText(text);
  return n;
}
Node Bool(std::string name, bool value) { return Node{.name = std::move(name), .value = value}; }
Node Int(std::string name, int64_t value) { return Node{.name = std::move(name), .value = value}; }
Node Number(std::string name, double value) {
  return Node{.name = std::move(name), .value = value};
}
Node Object(std::string name, std::vector<Node> children) {
  return Node{
      .name = std::move(name), .kind = Node::Kind::kObject, .children = std::move(children)};
}
Node List(std::string name, std::vector<Node> children) {
  return Node{.name = std::move(name), .kind = Node::Kind::kList, .children = std::move(children)};
}

ordered_json ToJson(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kValue:
      return node.value;
    case Node::Kind::kObject: {
      ordered_json object = ordered_json::object();
      for (const Node& child : node.children) object[child.name] = ToJson(child);
      return object;
    }
    case Node::Kind::kList: {
      ordered_json array = ordered_json::array();
      for (const Node& child : node.children) array.push_back(ToJson(child));
      return array;
    }
  }
  return nullptr;
}

void AppendXml(pugi::xml_node parent, const Node& node) {
  pugi::xml_node element = parent.append_child(node.name.c_str());
  if (node.kind != Node::Kind::kValue) {
    for (const Node& child : node.children) AppendXml(element, child);
    return;
  }
  if (node.value.is_null()) return;
  const std::string text =
      node.value.is_string() ? node.value.get<std::string>() : node.value.dump();
  element.append_child(pugi::node_pcdata).set_value(text.c_str());
}

struct StringWriter : pugi::xml_writer {
  std::string out;
  void write(const void* data, size_t size) override {
    out.append(static_cast<const char*>(data), size);
  }
};

Response Render(Format format, int http_status, const Node& root) {
  Response response;
  response.http_status = http_status;
  if (format == Format::kJson) {
    response.content_type = std::string(kJsonContentType);
    response.body =
        ToJson(root).dump(-1, ' ', /*ensure_ascii=*/false, ordered_json::error_handler_t::replace);
    return response;
  }
  pugi::xml_document doc;
  pugi::xml_node declaration = doc.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "UTF-8";
  AppendXml(doc, root);
  StringWriter writer;
  doc.save(writer, "  ", pugi::format_indent | pugi::format_no_declaration, pugi::encoding_utf8);
  response.content_type = std::string(kXmlContentType);
  response.body = std::move(writer.out);
  return response;
}

// The text in `language`, or in the other one when it has none.
const std::string& Pick(Language language, const std::string& vi, const std::string& en) {
  if (language == Language::kVi) return vi.empty() ? en : vi;
  return en.empty() ? vi : en;
}

bool IsListDatatype(absl::string_view datatype) {
  return datatype == "singlevaluelist" || datatype == "multivaluelist";
}

Node RequestNode(const ServiceRequest& r) {
  std::vector<Node> fields;
  fields.push_back(Text("service_request_id", r.service_request_id));
  fields.push_back(Text("status", r.status));
  fields.push_back(Text("status_notes", r.status_notes));
  fields.push_back(Text("service_name", r.service_name));
  fields.push_back(Text("service_code", r.service_code));
  fields.push_back(Text("description", r.description));
  fields.push_back(Text("agency_responsible", r.agency_responsible));
  fields.push_back(Text("service_notice", r.service_notice));
  fields.push_back(Text("requested_datetime", r.requested_datetime));
  fields.push_back(Text("updated_datetime", r.updated_datetime));
  fields.push_back(Text("expected_datetime", r.expected_datetime));
  fields.push_back(Text("address", r.address));
  fields.push_back(Text("address_id", r.address_id));
  fields.push_back(Text("zipcode", r.zipcode));
  fields.push_back(r.has_location ? Number("lat", r.lat) : Text("lat", ""));
  fields.push_back(r.has_location ? Number("long", r.lon) : Text("long", ""));
  fields.push_back(Text("media_url", r.media_url));
  return Object("request", std::move(fields));
}

}  // namespace

// ---------------------------------------------------------------------------------
// Parameters.

absl::StatusOr<Params> ParseForm(absl::string_view text) {
  Params params;
  for (absl::string_view piece : absl::StrSplit(text, '&', absl::SkipEmpty())) {
    const size_t eq = piece.find('=');
    std::string name, value;
    if (!PercentDecode(piece.substr(0, eq), /*plus_is_space=*/true, &name) ||
        (eq != absl::string_view::npos &&
         !PercentDecode(piece.substr(eq + 1), /*plus_is_space=*/true, &value))) {
      return absl::InvalidArgumentError("malformed %-escape in the parameters");
    }
    if (!IsValidUtf8(name) || !IsValidUtf8(value)) {
      return absl::InvalidArgumentError("parameters must be UTF-8");
    }
    if (name.empty()) continue;
    params.emplace_back(std::move(name), std::move(value));
  }
  return params;
}

std::string Param(const Params& params, absl::string_view name) {
  for (const auto& [key, value] : params) {
    if (key == name && !value.empty()) return value;
  }
  return "";
}

std::map<std::string, std::vector<std::string>> AttributeParams(const Params& params) {
  std::map<std::string, std::vector<std::string>> attributes;
  for (const auto& [key, value] : params) {
    absl::string_view rest = key;
    if (!absl::ConsumePrefix(&rest, "attribute[")) continue;
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos || close == 0) continue;
    const std::string code(rest.substr(0, close));
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest != "[]") continue;  // attribute[a][b]: not Open311
    if (value.empty()) continue;
    attributes[code].push_back(value);
  }
  return attributes;
}

Language PickLanguage(absl::string_view locale, absl::string_view accept_language) {
  absl::string_view tag = absl::StripAsciiWhitespace(locale);
  if (tag.empty()) {
    tag = accept_language.substr(0, accept_language.find(','));
    tag = absl::StripAsciiWhitespace(tag.substr(0, tag.find(';')));
  }
  return absl::StartsWithIgnoreCase(tag, "vi") ? Language::kVi : Language::kEn;
}

// ---------------------------------------------------------------------------------
// Date-times.

absl::StatusOr<absl::Time> ParseW3cDateTime(absl::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a W3C date-time such as 2026-01-01T00:00:00+07:00"));
  };
  std::string s(text);
  auto digits = [&](size_t from, size_t count) {
    if (from + count > s.size()) return false;
    for (size_t i = from; i < from + count; ++i) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
  };
  // YYYY-MM-DDThh:mm
  if (s.size() < 16 || !digits(0, 4) || s[4] != '-' || !digits(5, 2) || s[7] != '-' ||
      !digits(8, 2) || s[10] != 'T' || !digits(11, 2) || s[13] != ':' || !digits(14, 2)) {
    return bad();
  }
  size_t i = 16;
  if (i < s.size() && s[i] == ':') {  // :ss[.s…]
    if (!digits(i + 1, 2)) return bad();
    i += 3;
    if (i < s.size() && s[i] == '.') {
      size_t j = i + 1;
      while (j < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[j]))) ++j;
      if (j == i + 1) return bad();
      i = j;
    }
  } else {
    s.insert(i, ":00");
    i += 3;
  }
  // The zone: Z, or ±hh:mm (a space standing for a '+' lost in a query string).
  if (i < s.size() && s[i] == ' ') s[i] = '+';
  const bool zulu = s.size() == i + 1 && s[i] == 'Z';
  const bool offset = s.size() == i + 6 && (s[i] == '+' || s[i] == '-') && digits(i + 1, 2) &&
                      s[i + 3] == ':' && digits(i + 4, 2);
  if (!zulu && !offset) return bad();
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, s, &time, &error)) return bad();
  return time;
}

std::string FormatW3cDateTime(absl::Time time) {
  static const absl::TimeZone* const kZone = new absl::TimeZone(VietnamTimeZone());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", time, *kZone);
}

// ---------------------------------------------------------------------------------
// Rendering.

Response RenderErrors(Format format, int http_status, const std::vector<Error>& errors) {
  std::vector<Node> items;
  for (const Error& e : errors) {
    items.push_back(Object("error", {Int("code", e.code), Text("description", e.description)}));
  }
  return Render(format, http_status, List("errors", std::move(items)));
}

Response RenderDiscovery(Format format, const Discovery& d) {
  std::vector<Node> endpoints;
  endpoints.push_back(Object("endpoint", {Text("specification", kSpecification), Text("url", d.url),
                                          Text("changeset", d.changeset), Text("type", d.type),
                                          List("formats", {Text("format", "text/xml"),
                                                           Text("format", "application/json")})}));
  return Render(format, 200,
                Object("discovery", {Text("changeset", d.changeset), Text("contact", d.contact),
                                     Text("key_service", d.key_service),
                                     List("endpoints", std::move(endpoints))}));
}

Response RenderServices(Format format, const std::vector<intake::v1::Category>& categories,
                        Language language) {
  std::vector<Node> services;
  for (const auto& c : categories) {
    services.push_back(Object(
        "service", {Text("service_code", c.code()),
                    Text("service_name", Pick(language, c.name_vi(), c.name_en())),
                    Text("description", Pick(language, c.description_vi(), c.description_en())),
                    Bool("metadata", c.attributes_size() > 0), Text("type", c.type()),
                    Text("keywords", absl::StrJoin(c.keywords(), ", ")),
                    Text("group", Pick(language, c.group_name_vi(), c.group_name_en()))}));
  }
  return Render(format, 200, List("services", std::move(services)));
}

Response RenderServiceDefinition(Format format, const intake::v1::Category& category,
                                 Language language) {
  std::vector<Node> attributes;
  for (const auto& a : category.attributes()) {
    std::vector<Node> fields = {
        Bool("variable", a.variable()),
        Text("code", a.code()),
        Text("datatype", a.datatype()),
        Bool("required", a.required()),
        Text("datatype_description", a.datatype_description()),
        Int("order", a.order()),
        Text("description", Pick(language, a.description_vi(), a.description_en())),
    };
    if (IsListDatatype(a.datatype())) {
      std::vector<Node> values;
      for (const auto& v : a.values()) {
        values.push_back(Object("value", {Text("key", v.key()),
                                          Text("name", Pick(language, v.name_vi(), v.name_en()))}));
      }
      fields.push_back(List("values", std::move(values)));
    }
    attributes.push_back(Object("attribute", std::move(fields)));
  }
  return Render(format, 200,
                Object("service_definition", {Text("service_code", category.code()),
                                              List("attributes", std::move(attributes))}));
}

Response RenderServiceRequests(Format format, const std::vector<ServiceRequest>& requests) {
  std::vector<Node> items;
  items.reserve(requests.size());
  for (const ServiceRequest& r : requests) items.push_back(RequestNode(r));
  return Render(format, 200, List("service_requests", std::move(items)));
}

Response RenderPostResult(Format format, const ServiceRequest& r) {
  std::vector<Node> fields;
  if (!r.service_request_id.empty()) {
    fields.push_back(Text("service_request_id", r.service_request_id));
  } else {
    fields.push_back(Text("token", r.token));
  }
  if (!r.service_notice.empty()) fields.push_back(Text("service_notice", r.service_notice));
  std::vector<Node> items;
  items.push_back(Object("request", std::move(fields)));
  return Render(format, 200, List("service_requests", std::move(items)));
}

Response RenderTokenResult(Format format, const ServiceRequest& r) {
  std::vector<Node> items;
  items.push_back(Object(
      "request", {Text("service_request_id", r.service_request_id), Text("token", r.token)}));
  return Render(format, 200, List("service_requests", std::move(items)));
}

// ---------------------------------------------------------------------------------
// Mapping.

absl::string_view Open311Status(common::v1::CaseStatus status) {
  switch (status) {
    case common::v1::CASE_STATUS_RESOLVED:
    case common::v1::CASE_STATUS_CLOSED:
    case common::v1::CASE_STATUS_REJECTED:
    case common::v1::CASE_STATUS_MERGED:
      return "closed";
    default:
      return "open";
  }
}

std::vector<common::v1::CaseStatus> CaseStatusesFor(absl::string_view word) {
  if (absl::EqualsIgnoreCase(word, "open")) {
    return {common::v1::CASE_STATUS_NEW,         common::v1::CASE_STATUS_ACCEPTED,
            common::v1::CASE_STATUS_ASSIGNED,    common::v1::CASE_STATUS_IN_PROGRESS,
            common::v1::CASE_STATUS_TRANSFERRED, common::v1::CASE_STATUS_REOPENED};
  }
  if (absl::EqualsIgnoreCase(word, "closed")) {
    return {common::v1::CASE_STATUS_RESOLVED, common::v1::CASE_STATUS_CLOSED,
            common::v1::CASE_STATUS_REJECTED, common::v1::CASE_STATUS_MERGED};
  }
  return {};
}

ServiceRequest ToServiceRequest(const cases::v1::PublicCase& c,
                                const intake::v1::Category* category, Language language,
                                absl::string_view origin) {
  ServiceRequest r;
  r.service_request_id = c.case_id();
  r.status = std::string(Open311Status(c.status()));
  for (auto it = c.updates().rbegin(); it != c.updates().rend(); ++it) {
    if (!it->text().empty()) {
      r.status_notes = it->text();
      break;
    }
  }
  r.service_code = c.category();
  r.service_name =
      category != nullptr ? Pick(language, category->name_vi(), category->name_en()) : c.category();
  r.description = c.description();
  r.agency_responsible = Pick(language, c.unit().name_vi(), c.unit().name_en());
  if (c.has_opened_at()) r.requested_datetime = FormatW3cDateTime(FromTimestamp(c.opened_at()));
  r.updated_datetime =
      c.has_updated_at() ? FormatW3cDateTime(FromTimestamp(c.updated_at())) : r.requested_datetime;
  if (c.has_due_at()) r.expected_datetime = FormatW3cDateTime(FromTimestamp(c.due_at()));
  r.address = c.address();
  // (0, 0) is where an address-only report's unset point would be: no location.
  if (c.has_location() && (c.location().lat() != 0 || c.location().lon() != 0)) {
    r.has_location = true;
    r.lat = c.location().lat();
    r.lon = c.location().lon();
  }
  if (!c.photo_ids().empty()) r.media_url = absl::StrCat(origin, "/v1/photos/", c.photo_ids(0));
  return r;
}

absl::StatusOr<Submission> BuildSubmission(const Params& params,
                                           const intake::v1::Category& category,
                                           std::vector<Error>* errors) {
  const size_t errors_before = errors->size();
  auto fail = [&](std::string description) { errors->push_back({400, std::move(description)}); };
  Submission sub;
  intake::v1::SubmitReportRequest& r = sub.request;
  r.set_category(category.code());
  r.set_channel(common::v1::CHANNEL_OPEN311);

  const std::string lat = Param(params, "lat");
  const std::string lon = Param(params, "long");
  if (!lat.empty() || !lon.empty()) {
    double lat_value = 0, lon_value = 0;
    if (lat.empty() || lon.empty()) {
      fail("lat and long must be given together");
    } else {
      if (!absl::SimpleAtod(lat, &lat_value) || !std::isfinite(lat_value)) {
        fail("lat must be a number of degrees (WGS84)");
      }
      if (!absl::SimpleAtod(lon, &lon_value) || !std::isfinite(lon_value)) {
        fail("long must be a number of degrees (WGS84)");
      }
      r.mutable_location()->set_lat(lat_value);
      r.mutable_location()->set_lon(lon_value);
    }
  }
  r.set_address(Param(params, "address_string"));
  if (lat.empty() && lon.empty() && r.address().empty()) {
    if (!Param(params, "address_id").empty()) {
      fail("address_id is not supported here: send lat and long, or address_string");
    } else {
      fail("a location is required: lat and long, or address_string");
    }
  }

  const std::map<std::string, std::vector<std::string>> attributes = AttributeParams(params);
  for (const auto& [code, values] : attributes) {
    const intake::v1::CategoryAttribute* attribute = nullptr;
    for (const auto& a : category.attributes()) {
      if (a.code() == code && a.variable()) attribute = &a;
    }
    if (attribute == nullptr) {
      sub.dropped_attributes.push_back(code);
    } else if (attribute->datatype() == "multivaluelist") {
      (*r.mutable_attributes())[code] = absl::StrJoin(values, ",");
    } else if (values.size() > 1) {
      fail(absl::StrCat("attribute[", code, "] takes one value"));
    } else {
      (*r.mutable_attributes())[code] = values.front();
    }
  }

  std::string description = Param(params, "description");
  if (description.empty()) {
    // FixMyStreet also sends its report's title and text as attributes.
    std::vector<std::string> parts;
    for (const char* key : {"title", "description"}) {
      if (auto it = attributes.find(key); it != attributes.end()) {
        parts.push_back(it->second.front());
      }
    }
    description = parts.empty() ? Pick(Language::kVi, category.name_vi(), category.name_en())
                                : absl::StrJoin(parts, "\n");
  }
  r.set_description(description);

  std::vector<std::string> names;
  for (const char* key : {"first_name", "last_name"}) {
    if (std::string name = Param(params, key); !name.empty()) names.push_back(std::move(name));
  }
  const std::string email = Param(params, "email");
  const std::string phone = Param(params, "phone");
  if (!names.empty() || !email.empty() || !phone.empty()) {
    r.mutable_contact()->set_name(absl::StrJoin(names, " "));
    r.mutable_contact()->set_email(email);
    r.mutable_contact()->set_phone(phone);
  }
  const std::string locale = Param(params, "locale");
  if (absl::StartsWithIgnoreCase(locale, "vi")) r.set_language("vi");
  if (absl::StartsWithIgnoreCase(locale, "en")) r.set_language("en");

  if (std::string device = Param(params, "device_id"); IsSaneId(device)) {
    sub.device_id = std::move(device);
  }
  for (const auto& [key, value] : params) {
    if (key != "media_url" || value.empty()) continue;
    const bool url = (absl::StartsWithIgnoreCase(value, "http://") ||
                      absl::StartsWithIgnoreCase(value, "https://")) &&
                     value.size() <= 2048;
    if (url) {
      r.add_media_urls(value);  // intake checks how many, and their form again
    } else {
      fail("media_url must be an http or https URL");
    }
  }
  if (errors->size() > errors_before) {
    return absl::InvalidArgumentError("the request has errors");
  }
  return sub;
}

namespace {

// Intake's field names as the POST's parameters.
std::string Open311Field(absl::string_view field) {
  static const auto* const kNames = new std::map<std::string, std::string, std::less<>>{
      {"category", "service_code"},  {"location", "lat/long"},
      {"location.lat", "lat"},       {"location.lon", "long"},
      {"address", "address_string"}, {"contact.phone", "phone"},
      {"contact.email", "email"},    {"contact.name", "first_name/last_name"},
      {"language", "locale"},
  };
  if (auto it = kNames->find(field); it != kNames->end()) return it->second;
  absl::string_view rest = field;
  if (absl::ConsumePrefix(&rest, "attributes[")) return absl::StrCat("attribute[", rest);
  if (absl::StartsWith(field, "media_urls")) return "media_url";
  return std::string(field);
}

}  // namespace

std::pair<int, std::vector<Error>> ErrorsFromGrpcStatus(const grpc::Status& status) {
  const grpc::StatusCode code = status.error_code();
  const int http_status = code == grpc::StatusCode::NOT_FOUND ? 404 : 400;
  const int body_code = HttpStatusForCode(code);
  std::vector<Error> errors;
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      google::rpc::BadRequest bad_request;
      if (!any.Is<google::rpc::BadRequest>() || !any.UnpackTo(&bad_request)) continue;
      for (const auto& v : bad_request.field_violations()) {
        errors.push_back({400, absl::StrCat(Open311Field(v.field()), " ", v.description())});
      }
    }
  }
  if (!errors.empty()) return {http_status, std::move(errors)};
  std::string description = status.error_message();
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
      description = "the service is temporarily unavailable; try again later";
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      description = "the service did not answer in time; try again later";
      break;
    default:
      if (body_code >= 500 || description.empty()) {
        description = "internal error; try again later";
      }
  }
  errors.push_back({body_code, std::move(description)});
  return {http_status, std::move(errors)};
}

// ---------------------------------------------------------------------------------
// The handler.

namespace {

// One request's state, shared by the steps of its flow.
struct Exchange {
  const HandlerOptions* options = nullptr;
  Backend* backend = nullptr;
  std::function<void(Response)> done;
  Format format = Format::kXml;
  Language language = Language::kEn;
  std::string route;
  std::string origin;
  Params params;

  void Reply(Response response) {
    response.route = route;
    // Moved out first: `done` may release what keeps the backend alive.
    std::function<void(Response)> reply = std::move(done);
    done = nullptr;
    if (reply) reply(std::move(response));
  }
  void Fail(int http_status, std::vector<Error> errors) {
    Reply(RenderErrors(format, http_status, errors));
  }
  void Fail(int http_status, std::string description) {
    Fail(http_status, std::vector<Error>{{http_status, std::move(description)}});
  }
  void FailBackend(const grpc::Status& status) {
    auto [http_status, errors] = ErrorsFromGrpcStatus(status);
    Fail(http_status, std::move(errors));
  }
};
using ExchangePtr = std::shared_ptr<Exchange>;

template <typename Answer>
void Call(const ExchangePtr& ex, const char* service, const char* method,
          const google::protobuf::Message& request, Backend::Metadata metadata,
          std::function<void(const grpc::Status&, Answer&)> then) {
  auto answer = std::make_shared<Answer>();
  ex->backend->Call(
      service, absl::StrCat("/", service, "/", method), request, answer, std::move(metadata),
      [answer, then = std::move(then)](const grpc::Status& status) { then(status, *answer); });
}

// ---- services

void ServeServices(const ExchangePtr& ex) {
  Call<intake::v1::ListCategoriesResponse>(
      ex, kIntakeService, "ListCategories", intake::v1::ListCategoriesRequest(), {},
      [ex](const grpc::Status& status, intake::v1::ListCategoriesResponse& answer) {
        if (!status.ok()) return ex->FailBackend(status);
        const std::vector<intake::v1::Category> categories(answer.categories().begin(),
                                                           answer.categories().end());
        ex->Reply(RenderServices(ex->format, categories, ex->language));
      });
}

void ServeServiceDefinition(const ExchangePtr& ex, const std::string& code) {
  intake::v1::GetCategoryRequest request;
  request.set_code(code);
  Call<intake::v1::Category>(
      ex, kIntakeService, "GetCategory", request, {},
      [ex, code](const grpc::Status& status, intake::v1::Category& category) {
        if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
          return ex->Fail(404, absl::StrCat("service_code '", code, "' is not a known service"));
        }
        if (!status.ok()) return ex->FailBackend(status);
        ex->Reply(RenderServiceDefinition(ex->format, category, ex->language));
      });
}

// ---- tokens

void ServeToken(const ExchangePtr& ex, const std::string& token) {
  intake::v1::GetReportStatusRequest request;
  request.set_tracking_code(token);
  Call<intake::v1::ReportStatus>(
      ex, kIntakeService, "GetReportStatus", request, {},
      [ex, token](const grpc::Status& status, intake::v1::ReportStatus& report) {
        if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
            status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
          return ex->Fail(404, absl::StrCat("token '", token, "' not found"));
        }
        if (!status.ok()) return ex->FailBackend(status);
        ServiceRequest r;
        r.service_request_id = report.case_id();
        r.token = report.tracking_code().empty() ? token : report.tracking_code();
        ex->Reply(RenderTokenResult(ex->format, r));
      });
}

// ---- POST requests

// What the citizen reads after submitting: the tracking code (and, for emergencies,
// the hotline to call).
std::string Notice(Language language, const intake::v1::Category& category,
                   const std::string& tracking_code) {
  std::string notice;
  const std::string& hotline = category.emergency_hotline();
  if (category.is_emergency() && !hotline.empty()) {
    notice = language == Language::kVi
                 ? absl::StrCat("Trường hợp khẩn cấp: hãy gọi ngay ", hotline, ". ")
                 : absl::StrCat("In an emergency, call ", hotline, " now. ");
  }
  absl::StrAppend(&notice,
                  language == Language::kVi ? "Đã nhận phản ánh. Mã theo dõi: "
                                            : "Report received. Tracking code: ",
                  tracking_code);
  return notice;
}

// Asks intake whether the report's case is open yet; answers with the case id once it
// is, or with the token when `deadline` would pass before the next try.
void AwaitCase(const ExchangePtr& ex, std::string code, std::string notice, absl::Time deadline,
               absl::Duration wait) {
  intake::v1::GetReportStatusRequest request;
  request.set_tracking_code(code);
  Call<intake::v1::ReportStatus>(
      ex, kIntakeService, "GetReportStatus", request, {},
      [ex, code, notice, deadline, wait](const grpc::Status& status,
                                         intake::v1::ReportStatus& report) {
        ServiceRequest r;
        r.service_notice = notice;
        if (status.ok() && !report.case_id().empty()) {
          r.service_request_id = report.case_id();
          return ex->Reply(RenderPostResult(ex->format, r));
        }
        // Not yet, or intake cannot say: the report is stored either way.
        if (!status.ok() || ex->options->clock->Now() + wait > deadline) {
          r.token = code;
          return ex->Reply(RenderPostResult(ex->format, r));
        }
        ex->backend->After(wait, [ex, code, notice, deadline, wait] {
          AwaitCase(ex, code, notice, deadline, std::min(wait * 2, absl::Milliseconds(400)));
        });
      });
}

void Submit(const ExchangePtr& ex, const std::string& client_id,
            const intake::v1::Category& category) {
  std::vector<Error> errors;
  absl::StatusOr<Submission> sub = BuildSubmission(ex->params, category, &errors);
  if (!sub.ok()) return ex->Fail(400, std::move(errors));
  if (!sub->dropped_attributes.empty()) {
    // Codes only: attribute values may identify the reporter.
    CIVIC_LOG_DEBUG("open311: {} report without attributes [{}]", category.code(),
                    absl::StrJoin(sub->dropped_attributes, ","));
  }
  Backend::Metadata metadata = {{"x-civic-client-id", client_id}};
  if (!sub->device_id.empty()) metadata.emplace_back(auth::kDeviceIdMetadata, sub->device_id);
  Call<intake::v1::SubmitReportResponse>(
      ex, kIntakeService, "SubmitReport", sub->request, std::move(metadata),
      [ex, category](const grpc::Status& status, intake::v1::SubmitReportResponse& answer) {
        if (!status.ok()) return ex->FailBackend(status);
        const absl::Time deadline = ex->options->clock->Now() + ex->options->case_wait;
        const std::string code = answer.tracking_code();
        const std::string notice = Notice(ex->language, category, code);
        // The outbox forwards at once: give routing and cases a moment before asking.
        const absl::Duration first = absl::Milliseconds(50);
        if (ex->options->case_wait < first) {
          ServiceRequest r;
          r.token = code;
          r.service_notice = notice;
          return ex->Reply(RenderPostResult(ex->format, r));
        }
        ex->backend->After(first, [ex, code, notice, deadline, first] {
          AwaitCase(ex, code, notice, deadline, first * 2);
        });
      });
}

// POST after the key check: the category, then the report.
void PostWithClient(const ExchangePtr& ex, const std::string& client_id) {
  const std::string code = Param(ex->params, "service_code");
  if (code.empty()) return ex->Fail(400, "service_code is required");
  intake::v1::GetCategoryRequest request;
  request.set_code(code);
  Call<intake::v1::Category>(
      ex, kIntakeService, "GetCategory", request, {},
      [ex, code, client = client_id](const grpc::Status& status, intake::v1::Category& category) {
        if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
          return ex->Fail(404, absl::StrCat("service_code '", code, "' is not a known service"));
        }
        if (!status.ok()) return ex->FailBackend(status);
        Submit(ex, client, category);
      });
}

// The answer to a refused or unverifiable key.
void FailKeyCheck(const ExchangePtr& ex, absl::StatusCode code) {
  if (code == absl::StatusCode::kPermissionDenied || code == absl::StatusCode::kUnauthenticated) {
    return ex->Fail(403, "invalid api_key");
  }
  // The key store cannot answer (e.g. intake is down): not the client's fault.
  return ex->Fail(400, {{HttpStatusForCode(static_cast<grpc::StatusCode>(code)),
                         "cannot check the api_key now; try again later"}});
}

// With `api_keys` (a hashed key file) the key is checked here; without, intake's key
// store checks it (CheckApiKey), asynchronously like every other backend call.
void ServePost(const ExchangePtr& ex, const ApiKeyChecker& api_keys) {
  const std::string key = Param(ex->params, "api_key");
  if (key.empty()) return ex->Fail(403, "api_key is required");
  if (api_keys) {
    absl::StatusOr<std::string> client_id = api_keys(key);
    if (!client_id.ok()) return FailKeyCheck(ex, client_id.status().code());
    return PostWithClient(ex, *client_id);
  }
  intake::v1::CheckApiKeyRequest request;
  request.set_key(key);
  Call<intake::v1::ApiKeyCheck>(
      ex, kIntakeService, "CheckApiKey", request, {},
      [ex](const grpc::Status& status, intake::v1::ApiKeyCheck& app) {
        if (!status.ok()) {
          return FailKeyCheck(ex, static_cast<absl::StatusCode>(status.error_code()));
        }
        // The same retry scope as the REST API's apps.
        PostWithClient(ex, absl::StrCat("app:", app.key_id()));
      });
}

// ---- GET requests

// A GET requests (or requests/{id}) answer while its pages are fetched.
struct Listing {
  std::map<std::string, intake::v1::Category> categories;  // for the services' names
  std::vector<cases::v1::PublicCase> cases;
  // Either the ids still to fetch (service_request_id given)...
  std::vector<std::string> ids;
  size_t next_id = 0;
  // ...or the filter, and which of the matching cases to answer with.
  cases::v1::ListPublicCasesRequest filter;
  size_t offset = 0;
  size_t limit = kMaxRequests;
};

void RenderListing(const ExchangePtr& ex, const Listing& listing) {
  std::vector<ServiceRequest> requests;
  for (size_t i = listing.offset; i < listing.cases.size() && requests.size() < listing.limit;
       ++i) {
    const cases::v1::PublicCase& c = listing.cases[i];
    auto it = listing.categories.find(c.category());
    const intake::v1::Category* category = it == listing.categories.end() ? nullptr : &it->second;
    requests.push_back(ToServiceRequest(c, category, ex->language, ex->origin));
  }
  ex->Reply(RenderServiceRequests(ex->format, requests));
}

void FetchCases(const ExchangePtr& ex, std::shared_ptr<Listing> listing) {
  cases::v1::ListPublicCasesRequest request;
  if (!listing->ids.empty()) {
    if (listing->next_id >= listing->ids.size()) return RenderListing(ex, *listing);
    const size_t end = std::min(listing->ids.size(), listing->next_id + kBackendMaxIds);
    for (size_t i = listing->next_id; i < end; ++i) request.add_case_ids(listing->ids[i]);
    request.set_page_size(kBackendPageSize);
    listing->next_id = end;
  } else {
    request = listing->filter;
  }
  Call<cases::v1::ListPublicCasesResponse>(
      ex, kCasesService, "ListPublicCases", request, {},
      [ex, listing](const grpc::Status& status, cases::v1::ListPublicCasesResponse& answer) {
        if (!status.ok()) return ex->FailBackend(status);
        for (auto& c : *answer.mutable_cases()) listing->cases.push_back(std::move(c));
        if (listing->ids.empty()) {
          if (answer.next_page_token().empty() ||
              listing->cases.size() >= listing->offset + listing->limit) {
            return RenderListing(ex, *listing);
          }
          listing->filter.set_page_token(answer.next_page_token());
        }
        FetchCases(ex, listing);
      });
}

// Fetches the catalogue (for the services' names; the answer goes on without them when
// intake cannot give it), then the cases.
void ListWithNames(const ExchangePtr& ex, std::shared_ptr<Listing> listing) {
  Call<intake::v1::ListCategoriesResponse>(
      ex, kIntakeService, "ListCategories", intake::v1::ListCategoriesRequest(), {},
      [ex, listing](const grpc::Status& status, intake::v1::ListCategoriesResponse& answer) {
        if (status.ok()) {
          for (auto& c : *answer.mutable_categories()) {
            std::string code = c.code();
            listing->categories.emplace(std::move(code), std::move(c));
          }
        }
        FetchCases(ex, listing);
      });
}

void ServeRequestList(const ExchangePtr& ex) {
  const Params& params = ex->params;
  auto listing = std::make_shared<Listing>();
  std::vector<Error> errors;

  int page_size = kMaxRequests;
  if (std::string text = Param(params, "page_size"); !text.empty()) {
    if (!absl::SimpleAtoi(text, &page_size) || page_size < 1 || page_size > kMaxRequests) {
      errors.push_back({400, absl::StrCat("page_size must be 1..", kMaxRequests)});
    }
  }
  int page = 1;
  if (std::string text = Param(params, "page"); !text.empty()) {
    if (!absl::SimpleAtoi(text, &page) || page < 1) {
      errors.push_back({400, "page must be a positive number"});
    }
  }
  if (errors.empty() && static_cast<int64_t>(page) * page_size > kMaxOffset) {
    errors.push_back({400, absl::StrCat("page reaches past the first ", kMaxOffset,
                                        " requests; narrow start_date/end_date instead")});
  }
  if (!errors.empty()) return ex->Fail(400, std::move(errors));
  listing->offset = static_cast<size_t>(page - 1) * page_size;
  listing->limit = static_cast<size_t>(page_size);

  // service_request_id overrides every other filter.
  if (std::string ids = Param(params, "service_request_id"); !ids.empty()) {
    std::set<std::string> seen;
    for (absl::string_view id : absl::StrSplit(ids, ',', absl::SkipWhitespace())) {
      std::string one(absl::StripAsciiWhitespace(id));
      if (seen.insert(one).second) listing->ids.push_back(std::move(one));
    }
    if (listing->ids.size() > static_cast<size_t>(kMaxRequests)) {
      return ex->Fail(400, absl::StrCat("at most ", kMaxRequests, " service_request_id values"));
    }
    listing->offset = 0;
    listing->limit = listing->ids.size();
    if (listing->ids.empty()) return RenderListing(ex, *listing);
    return ListWithNames(ex, listing);
  }

  cases::v1::ListPublicCasesRequest& filter = listing->filter;
  filter.set_page_size(kBackendPageSize);
  for (absl::string_view code :
       absl::StrSplit(Param(params, "service_code"), ',', absl::SkipWhitespace())) {
    filter.add_categories(std::string(absl::StripAsciiWhitespace(code)));
  }
  std::set<common::v1::CaseStatus> statuses;
  for (absl::string_view word :
       absl::StrSplit(Param(params, "status"), ',', absl::SkipWhitespace())) {
    word = absl::StripAsciiWhitespace(word);
    const std::vector<common::v1::CaseStatus> these = CaseStatusesFor(word);
    if (these.empty()) {
      errors.push_back({400, absl::StrCat("status '", word, "' is neither open nor closed")});
    }
    statuses.insert(these.begin(), these.end());
  }
  // Both words together mean every status: no filter.
  if (statuses.size() < CaseStatusesFor("open").size() + CaseStatusesFor("closed").size()) {
    for (common::v1::CaseStatus s : statuses) filter.add_statuses(s);
  }

  std::optional<absl::Time> start, end;
  for (const char* name : {"start_date", "end_date"}) {
    const std::string text = Param(params, name);
    if (text.empty()) continue;
    absl::StatusOr<absl::Time> time = ParseW3cDateTime(text);
    if (!time.ok()) {
      errors.push_back({400, absl::StrCat(name, ": ", time.status().message())});
      continue;
    }
    (absl::string_view(name) == "start_date" ? start : end) = *time;
  }
  if (errors.empty()) {
    const absl::Time now = ex->options->clock->Now();
    if (start && end) {
      if (*end < *start) {
        errors.push_back({400, "end_date is before start_date"});
      } else if (*end - *start > kMaxWindow) {
        errors.push_back({400, "start_date and end_date may be at most 90 days apart"});
      }
    } else if (start) {
      end = std::min(now, *start + kMaxWindow);
    } else if (end) {
      start = *end - kMaxWindow;
    } else {
      end = now;
      start = now - kMaxWindow;
    }
  }
  if (!errors.empty()) return ex->Fail(400, std::move(errors));
  *filter.mutable_opened_after() = ToTimestamp(*start);
  // end_date is inclusive; opened_before is not.
  *filter.mutable_opened_before() = ToTimestamp(*end + absl::Nanoseconds(1));
  ListWithNames(ex, listing);
}

void ServeRequest(const ExchangePtr& ex, const std::string& id) {
  cases::v1::GetPublicCaseRequest request;
  request.set_case_id(id);
  Call<cases::v1::PublicCase>(
      ex, kCasesService, "GetPublicCase", request, {},
      [ex, id](const grpc::Status& status, cases::v1::PublicCase& c) {
        // An id that cannot exist is as missing as one that does not.
        if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
            status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
          return ex->Fail(404, absl::StrCat("service_request_id '", id, "' not found"));
        }
        if (!status.ok()) return ex->FailBackend(status);
        auto listing = std::make_shared<Listing>();
        listing->limit = 1;
        listing->cases.push_back(std::move(c));
        intake::v1::GetCategoryRequest category;
        category.set_code(listing->cases.front().category());
        Call<intake::v1::Category>(
            ex, kIntakeService, "GetCategory", category, {},
            [ex, listing](const grpc::Status& status, intake::v1::Category& category) {
              if (status.ok()) listing->categories.emplace(category.code(), std::move(category));
              RenderListing(ex, *listing);
            });
      });
}

// A Host header that can go into a URL as it is.
bool SaneHost(absl::string_view host) {
  return !host.empty() && host.size() <= 255 && std::all_of(host.begin(), host.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']';
  });
}

}  // namespace

bool IsOpen311Path(absl::string_view path) {
  absl::string_view rest = path;
  return absl::ConsumePrefix(&rest, kBasePath) && (rest.empty() || rest[0] == '/');
}

Open311Handler::Open311Handler(HandlerOptions options, ApiKeyChecker api_keys)
    : options_(std::move(options)),
      api_keys_(std::move(api_keys)),
      changeset_(FormatW3cDateTime(options_.clock->Now())) {
  while (absl::EndsWith(options_.public_url, "/")) options_.public_url.pop_back();
}

void Open311Handler::Serve(const HttpRequest& http, Backend& backend,
                           std::function<void(Response)> done) const {
  auto ex = std::make_shared<Exchange>();
  ex->options = &options_;
  ex->backend = &backend;
  ex->done = std::move(done);
  ex->route = absl::StrCat(kBasePath, "/-");

  const absl::string_view target = http.target;
  const size_t q = target.find('?');
  const absl::string_view path = target.substr(0, q);
  const absl::string_view query =
      q == absl::string_view::npos ? absl::string_view() : target.substr(q + 1);

  // <base>/<resource>.<format>: the format first, so that every error can use it.
  absl::string_view resource = path;
  absl::ConsumePrefix(&resource, kBasePath);
  absl::ConsumePrefix(&resource, "/");
  const size_t slash = resource.rfind('/');
  const size_t dot = resource.rfind('.');
  absl::string_view format_name;
  if (dot != absl::string_view::npos && (slash == absl::string_view::npos || dot > slash)) {
    format_name = resource.substr(dot + 1);
    resource = resource.substr(0, dot);
  }
  if (absl::EqualsIgnoreCase(format_name, "json")) {
    ex->format = Format::kJson;
  } else if (!absl::EqualsIgnoreCase(format_name, "xml")) {
    return ex->Fail(400, "add .xml or .json to the resource");
  }

  absl::StatusOr<Params> params = ParseForm(query);
  if (!params.ok()) return ex->Fail(400, std::string(params.status().message()));
  ex->params = std::move(*params);
  if (http.method == "POST") {
    // Parameters may come in the query too (some clients put api_key there).
    const absl::string_view media = absl::StripAsciiWhitespace(
        absl::string_view(http.content_type).substr(0, http.content_type.find(';')));
    if (!media.empty() && !absl::EqualsIgnoreCase(media, "application/x-www-form-urlencoded")) {
      return ex->Fail(400, "send the parameters as application/x-www-form-urlencoded");
    }
    absl::StatusOr<Params> form = ParseForm(http.body);
    if (!form.ok()) return ex->Fail(400, std::string(form.status().message()));
    ex->params.insert(ex->params.end(), form->begin(), form->end());
  }
  ex->language = PickLanguage(Param(ex->params, "locale"), http.accept_language);
  if (!options_.public_url.empty()) {
    ex->origin = options_.public_url;
  } else if (SaneHost(http.host)) {
    ex->origin = absl::StrCat("http://", http.host);
  }

  const std::vector<absl::string_view> segments = absl::StrSplit(resource, '/');
  std::string id;  // the path's {id}, percent-decoded
  if (segments.size() == 2) {
    if (segments[1].empty() || !PercentDecode(segments[1], false, &id) || !IsValidUtf8(id)) {
      return ex->Fail(400, "malformed id in the path");
    }
  }
  const absl::string_view name = segments[0];
  const bool get = http.method == "GET";
  auto not_served = [&] {
    ex->Fail(400, absl::StrCat(http.method, " ", path, " is not an Open311 resource"));
  };

  if (segments.size() == 1 && name == "discovery") {
    ex->route = absl::StrCat(kBasePath, "/discovery");
    if (!get) return not_served();
    Discovery d;
    d.changeset = changeset_;
    d.contact = options_.contact;
    d.key_service = options_.key_service;
    d.url = absl::StrCat(ex->origin, kBasePath);
    return ex->Reply(RenderDiscovery(ex->format, d));
  }

  // Every other resource takes jurisdiction_id.
  if (const std::string jurisdiction = Param(ex->params, "jurisdiction_id");
      !jurisdiction.empty() &&
      std::find(options_.jurisdiction_ids.begin(), options_.jurisdiction_ids.end(), jurisdiction) ==
          options_.jurisdiction_ids.end()) {
    return ex->Fail(404, absl::StrCat("jurisdiction_id '", jurisdiction, "' is not served here"));
  }

  if (name == "services" && segments.size() == 1) {
    ex->route = absl::StrCat(kBasePath, "/services");
    if (!get) return not_served();
    return ServeServices(ex);
  }
  if (name == "services" && segments.size() == 2) {
    ex->route = absl::StrCat(kBasePath, "/services/{service_code}");
    if (!get) return not_served();
    return ServeServiceDefinition(ex, id);
  }
  if (name == "requests" && segments.size() == 1) {
    ex->route = absl::StrCat(kBasePath, "/requests");
    if (http.method == "POST") return ServePost(ex, api_keys_);
    if (!get) return not_served();
    return ServeRequestList(ex);
  }
  if (name == "requests" && segments.size() == 2) {
    ex->route = absl::StrCat(kBasePath, "/requests/{service_request_id}");
    if (!get) return not_served();
    return ServeRequest(ex, id);
  }
  if (name == "tokens" && segments.size() == 2) {
    ex->route = absl::StrCat(kBasePath, "/tokens/{token}");
    if (!get) return not_served();
    return ServeToken(ex, id);
  }
  not_served();
}

}  // namespace open311
}  // namespace civic::gateway
