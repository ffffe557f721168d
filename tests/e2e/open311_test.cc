// Open311 GeoReport v2 against a real civicd, as existing 311 clients call it: discovery,
// the service list and definitions, form-encoded POSTs with Vietnamese text and
// attribute[...] values, tokens, and reading requests back with the spec's filters, in
// XML and JSON, with the spec's errors and HTTP codes.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/support/civic_api.h"
#include "tests/support/civicd_process.h"
#include "tests/support/http_client.h"

namespace civic::testing {
namespace {

using nlohmann::json;

// The key our test client holds, and what civicd's key file lists: its SHA-256
// (printf %s open311-e2e-key | sha256sum), never the key itself.
constexpr char kApiKey[] = "open311-e2e-key";
constexpr char kApiKeyHash[] = "17a8c1ef9168edb209fc81b78f2308217078d2c47d9b065d4900ac1fde157835";
constexpr char kForm[] = "application/x-www-form-urlencoded; charset=utf-8";

// A civicd whose gateway accepts kApiKey for Open311 POSTs.
std::vector<std::string> Open311Args(const TempDir& dir) {
  const std::string keys = (dir.path() / "open311-keys").string();
  std::ofstream(keys) << "# Open311 clients\n" << kApiKeyHash << " e2e\n";
  return {"--set", absl::StrCat("gateway.open311_api_keys_file=", keys)};
}

std::string Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    absl::StrAppend(&out, PercentEncode(name), "=", PercentEncode(value));
  }
  return out;
}

// A W3C date-time in Vietnam time, as a client puts it in a query string.
std::string QueryTime(absl::Time t) {
  return PercentEncode(absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, absl::FixedTimeZone(7 * 3600)));
}

json Json(const HttpResponse& response, int status) {
  INFO(response.Describe());
  REQUIRE(response.status == status);
  REQUIRE(response.MediaType() == "application/json");
  json body = json::parse(response.body, nullptr, false);
  REQUIRE_FALSE(body.is_discarded());
  return body;
}

// Holds the parsed XML of a response (pugixml documents cannot be copied).
struct Xml {
  pugi::xml_document doc;
  explicit Xml(const HttpResponse& response, int status) {
    INFO(response.Describe());
    REQUIRE(response.status == status);
    REQUIRE(response.MediaType() == "text/xml");
    REQUIRE(absl::StartsWith(response.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    REQUIRE(doc.load_buffer(response.body.data(), response.body.size(), pugi::parse_default,
                            pugi::encoding_utf8));
  }
};

std::string Child(pugi::xml_node node, const char* name) { return node.child_value(name); }

int Count(pugi::xml_node parent, const char* name) {
  int n = 0;
  for (pugi::xml_node child : parent.children(name)) {
    (void)child;
    ++n;
  }
  return n;
}

// Checks an Open311 error answer in either format: the HTTP status, and that one error
// has `code` and a description containing `text`.
void ExpectJsonError(const std::string& what, const HttpResponse& response, int status,
                     const std::string& text = "") {
  INFO(what);
  const json body = Json(response, status);
  REQUIRE(body.is_array());
  REQUIRE_FALSE(body.empty());
  bool found = false;
  for (const json& error : body) {
    REQUIRE(error.contains("code"));
    REQUIRE(error["description"].is_string());
    found = found || (error["code"] == status &&
                      error["description"].get<std::string>().find(text) != std::string::npos);
  }
  INFO(response.body);
  CHECK(found);
}

void ExpectXmlError(const std::string& what, const HttpResponse& response, int status,
                    const std::string& text = "") {
  INFO(what);
  Xml xml(response, status);
  pugi::xml_node errors = xml.doc.child("errors");
  REQUIRE(errors);
  bool found = false;
  for (pugi::xml_node error : errors.children("error")) {
    found = found || (Child(error, "code") == std::to_string(status) &&
                      Child(error, "description").find(text) != std::string::npos);
  }
  INFO(response.body);
  CHECK(found);
}

// The tracking code in a POST's service_notice ("...: PA-2611-V5N65-5E").
std::string CodeInNotice(const std::string& notice) {
  return notice.substr(notice.rfind(": ") + 2);
}

// The case id behind a token, once the case is open (tokens/{token}.json).
std::string CaseIdForToken(const HttpClient& gateway, const std::string& token) {
  std::string id;
  Eventually(
      [&] {
        const HttpResponse r = gateway.Get(absl::StrCat("/open311/v2/tokens/", token, ".json"));
        const json body = json::parse(r.body, nullptr, false);
        if (r.status != 200 || !body.is_array() || body.empty()) return false;
        if (!body[0]["service_request_id"].is_string()) return false;
        id = body[0]["service_request_id"].get<std::string>();
        CHECK(body[0]["token"] == token);
        return true;
      },
      absl::Seconds(30));
  return id;
}

TEST_CASE("Open311 clients discover the endpoint and read services and their definitions",
          "[e2e][open311]") {
  TempDir dir;
  CivicdProcess civicd(dir.path(), Open311Args(dir));
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);

  // Discovery.
  const json discovery = Json(gateway.Get("/open311/v2/discovery.json"), 200);
  REQUIRE(discovery["endpoints"].is_array());
  const json& endpoint = discovery["endpoints"][0];
  CHECK(endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2");
  CHECK(endpoint["url"] == absl::StrCat("http://", civicd.endpoints().gateway_http, "/open311/v2"));
  CHECK(endpoint["type"] == "production");
  CHECK(endpoint["formats"] == json({"text/xml", "application/json"}));
  for (const char* key : {"changeset", "contact", "key_service"}) {
    CHECK(discovery[key].is_string());
  }
  {
    Xml xml(gateway.Get("/open311/v2/discovery.xml"), 200);
    CHECK(Count(xml.doc.child("discovery").child("endpoints"), "endpoint") == 1);
  }

  // The service list: every category of categories.json.
  const json services = Json(gateway.Get("/open311/v2/services.json"), 200);
  REQUIRE(services.is_array());
  CHECK(services.size() == 34);
  const json* flooding = nullptr;
  for (const json& s : services) {
    CHECK(s["service_code"].is_string());
    CHECK(s["metadata"].is_boolean());
    CHECK((s["type"] == "realtime" || s["type"] == "batch"));
    if (s["service_code"] == "environment.flooding") flooding = &s;
  }
  REQUIRE(flooding != nullptr);
  CHECK((*flooding)["service_name"] == "Flooding / waterlogging");
  CHECK((*flooding)["metadata"] == true);
  CHECK((*flooding)["type"] == "realtime");
  CHECK((*flooding)["group"] == "Environment");
  CHECK((*flooding)["keywords"].get<std::string>().find("triều cường") != std::string::npos);
  {
    Xml xml(gateway.Get("/open311/v2/services.xml?locale=vi&jurisdiction_id=civicdesk.vn"), 200);
    pugi::xml_node list = xml.doc.child("services");
    CHECK(Count(list, "service") == 34);
    pugi::xml_node vi;
    for (pugi::xml_node s : list.children("service")) {
      if (Child(s, "service_code") == "environment.flooding") vi = s;
    }
    CHECK(Child(vi, "service_name") == "Ngập nước");
    CHECK(Child(vi, "group") == "Môi trường");
    CHECK(Child(vi, "metadata") == "true");
  }

  // A service definition, built from the category's attributes.
  const json definition = Json(gateway.Get("/open311/v2/services/environment.flooding.json"), 200);
  CHECK(definition["service_code"] == "environment.flooding");
  REQUIRE(definition["attributes"].is_array());
  const json& depth = definition["attributes"][0];
  CHECK(depth["code"] == "water_depth");
  CHECK(depth["variable"] == true);
  CHECK(depth["required"] == true);
  CHECK(depth["datatype"] == "singlevaluelist");
  CHECK(depth["order"] == 1);
  CHECK(depth["description"] == "Water depth");
  CHECK(depth["values"][1] == json({{"key", "10_30"}, {"name", "10–30 cm (calf)"}}));
  {
    Xml xml(gateway.Get("/open311/v2/services/environment.flooding.xml?locale=vi"), 200);
    pugi::xml_node attribute =
        xml.doc.child("service_definition").child("attributes").child("attribute");
    CHECK(Child(attribute, "description") == "Độ sâu ngập");
    CHECK(Child(attribute.child("values").child("value").next_sibling("value"), "name") ==
          "10–30 cm (ngang bắp chân)");
  }
  const json site = Json(gateway.Get("/open311/v2/services/construction.site_safety.json"), 200);
  bool multi = false;
  for (const json& a : site["attributes"]) multi = multi || a["datatype"] == "multivaluelist";
  CHECK(multi);

  // Errors, in the requested format (XML when the format is unknown).
  ExpectJsonError("unknown service", gateway.Get("/open311/v2/services/no.such.json"), 404);
  ExpectXmlError("unknown service", gateway.Get("/open311/v2/services/no.such.xml"), 404);
  ExpectJsonError("foreign jurisdiction",
                  gateway.Get("/open311/v2/services.json?jurisdiction_id=sfgov.org"), 404);
  ExpectXmlError("foreign jurisdiction",
                 gateway.Get("/open311/v2/services.xml?jurisdiction_id=sfgov.org"), 404);
  ExpectXmlError("unknown format", gateway.Get("/open311/v2/services.csv"), 400);
  ExpectJsonError("unknown resource", gateway.Get("/open311/v2/nothing.json"), 400);

  REQUIRE(civicd.Terminate() == 0);
}

TEST_CASE(
    "Open311 clients post reports with Vietnamese text in XML and JSON and read them "
    "back with the spec's filters",
    "[e2e][open311]") {
  TempDir dir;
  CivicdProcess civicd(dir.path(), Open311Args(dir));
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);
  const absl::Time start = absl::Now();

  const std::string flood_text = "Đường ngập sâu 30cm trước chợ Bến Thành, xe máy chết máy";
  const std::vector<std::pair<std::string, std::string>> flood = {
      {"api_key", kApiKey},
      {"jurisdiction_id", "civicdesk.vn"},
      {"service_code", "environment.flooding"},
      {"lat", "10.7725"},
      {"long", "106.698"},
      {"address_string", "Chợ Bến Thành, Quận 1"},
      {"description", flood_text},
      {"attribute[water_depth]", "30_50"},
      {"attribute[cause]", "tide"},
      {"attribute[fixmystreet_id]", "4242"},  // FixMyStreet's own: accepted, left out
      {"email", "an.nguyen@example.com"},
      {"first_name", "An"},
      {"last_name", "Nguyễn Văn"},
      {"phone", "0901234567"},
  };

  // JSON: a service_request_id when the case opened in time, else a token.
  const json posted = Json(gateway.Post("/open311/v2/requests.json", Form(flood), kForm), 200);
  REQUIRE(posted.is_array());
  REQUIRE(posted.size() == 1);
  CHECK(posted[0].contains("service_request_id") != posted[0].contains("token"));
  const std::string flood_code = CodeInNotice(posted[0]["service_notice"].get<std::string>());
  CHECK(posted[0]["service_notice"].get<std::string>().find("Tracking code") != std::string::npos);
  const std::string flood_id = CaseIdForToken(gateway, flood_code);
  REQUIRE_FALSE(flood_id.empty());
  if (posted[0].contains("service_request_id")) CHECK(posted[0]["service_request_id"] == flood_id);

  // XML, in Vietnamese: a pothole at the Huế citadel.
  const std::string pothole_text = "Ổ gà lớn giữa đường trước cửa Ngọ Môn, rất nguy hiểm";
  const std::string pothole_form = Form({{"api_key", kApiKey},
                                         {"service_code", "traffic.pothole"},
                                         {"lat", "16.4698"},
                                         {"long", "107.5786"},
                                         {"description", pothole_text},
                                         {"attribute[size]", "large"},
                                         {"attribute[lane]", "middle"},
                                         {"locale", "vi"}});
  std::string pothole_id;
  {
    Xml xml(gateway.Post("/open311/v2/requests.xml", pothole_form, kForm), 200);
    pugi::xml_node request = xml.doc.child("service_requests").child("request");
    REQUIRE(request);
    const std::string notice = Child(request, "service_notice");
    CHECK(absl::StartsWith(notice, "Đã nhận phản ánh. Mã theo dõi: "));
    pothole_id = CaseIdForToken(gateway, CodeInNotice(notice));
    REQUIRE_FALSE(pothole_id.empty());
    if (request.child("service_request_id")) {
      CHECK(Child(request, "service_request_id") == pothole_id);
      CHECK_FALSE(request.child("token"));
    } else {
      CHECK(Child(request, "token") == CodeInNotice(notice));
    }
  }
  CHECK(pothole_id != flood_id);

  // Refusals, in both formats, with the spec's HTTP codes.
  auto without = [&](const std::string& name) {
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& field : flood) {
      if (field.first != name) fields.push_back(field);
    }
    return fields;
  };
  auto with = [&](const std::string& name, const std::string& value) {
    std::vector<std::pair<std::string, std::string>> fields = without(name);
    fields.emplace_back(name, value);
    return Form(fields);
  };
  for (const char* format : {"json", "xml"}) {
    const std::string target = absl::StrCat("/open311/v2/requests.", format);
    const auto expect = absl::string_view(format) == "json" ? ExpectJsonError : ExpectXmlError;
    expect("missing api_key", gateway.Post(target, Form(without("api_key")), kForm), 403,
           "api_key");
    expect("wrong api_key", gateway.Post(target, with("api_key", "guessed"), kForm), 403,
           "api_key");
    expect("foreign jurisdiction",
           gateway.Post(target, with("jurisdiction_id", "sfgov.org"), kForm), 404,
           "jurisdiction_id");
    expect("unknown service_code", gateway.Post(target, with("service_code", "x.y"), kForm), 404,
           "service_code");
    expect("missing service_code", gateway.Post(target, Form(without("service_code")), kForm), 400,
           "service_code");
    expect("missing required attribute",
           gateway.Post(target, Form(without("attribute[water_depth]")), kForm), 400,
           "attribute[water_depth]");
    expect("value outside the list",
           gateway.Post(target, with("attribute[water_depth]", "deep"), kForm), 400,
           "attribute[water_depth]");
    expect("no location",
           gateway.Post(target,
                        Form({{"api_key", kApiKey},
                              {"service_code", "environment.blocked_drain"},
                              {"description", "Cống nghẹt"}}),
                        kForm),
           400, "location");
    expect("unknown token",
           gateway.Get(absl::StrCat("/open311/v2/tokens/PA-0000-00000-00.", format)), 404, "token");
    expect("unknown request", gateway.Get(absl::StrCat("/open311/v2/requests/nope.", format)), 404,
           "service_request_id");
  }

  // One request, both formats; the description's Vietnamese intact, times in +07:00,
  // and nothing personal.
  {
    const HttpResponse response =
        gateway.Get(absl::StrCat("/open311/v2/requests/", flood_id, ".json"));
    const json one = Json(response, 200);
    REQUIRE(one.is_array());
    REQUIRE(one.size() == 1);
    const json& r = one[0];
    CHECK(r["service_request_id"] == flood_id);
    CHECK(r["service_code"] == "environment.flooding");
    CHECK(r["service_name"] == "Flooding / waterlogging");
    CHECK(r["status"] == "open");
    CHECK(r["description"] == flood_text);
    CHECK(r["address"] == "Chợ Bến Thành, Quận 1");
    CHECK(r["lat"] == 10.7725);
    CHECK(r["long"] == 106.698);
    CHECK(absl::EndsWith(r["requested_datetime"].get<std::string>(), "+07:00"));
    CHECK(absl::EndsWith(r["updated_datetime"].get<std::string>(), "+07:00"));
    CHECK(r["agency_responsible"].is_string());
    for (const char* personal : {"an.nguyen@example.com", "0901234567", "Nguyễn Văn"}) {
      CHECK(response.body.find(personal) == std::string::npos);
    }
  }
  {
    Xml xml(gateway.Get(absl::StrCat("/open311/v2/requests/", pothole_id, ".xml?locale=vi")), 200);
    pugi::xml_node r = xml.doc.child("service_requests").child("request");
    CHECK(Count(xml.doc.child("service_requests"), "request") == 1);
    CHECK(Child(r, "service_request_id") == pothole_id);
    CHECK(Child(r, "service_name") == "Ổ gà, mặt đường hư hỏng");
    CHECK(Child(r, "description") == pothole_text);
    CHECK(Child(r, "status") == "open");
    CHECK(absl::EndsWith(Child(r, "requested_datetime"), "+07:00"));
  }

  // The list, with every filter of the spec.
  auto ids_of = [&](const std::string& query) {
    const json list = Json(gateway.Get(absl::StrCat("/open311/v2/requests.json?", query)), 200);
    REQUIRE(list.is_array());
    std::vector<std::string> ids;
    for (const json& r : list) ids.push_back(r["service_request_id"].get<std::string>());
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  std::vector<std::string> both = {flood_id, pothole_id};
  std::sort(both.begin(), both.end());
  CHECK(ids_of("") == both);  // the last 90 days
  CHECK(ids_of("service_code=environment.flooding") == std::vector<std::string>{flood_id});
  CHECK(ids_of("service_code=environment.flooding,traffic.pothole") == both);
  CHECK(ids_of("status=open") == both);
  CHECK(ids_of("status=closed").empty());
  CHECK(ids_of("status=open,closed&service_code=traffic.pothole") ==
        std::vector<std::string>{pothole_id});
  const std::string window = absl::StrCat("start_date=", QueryTime(start - absl::Hours(1)),
                                          "&end_date=", QueryTime(absl::Now() + absl::Hours(1)));
  CHECK(ids_of(window) == both);
  CHECK(ids_of("start_date=2019-09-01T00:00:00%2B07:00&end_date=2019-11-29T00:00:00Z").empty());
  CHECK(ids_of(absl::StrCat("service_request_id=", pothole_id, ",", flood_id, "&status=closed")) ==
        both);  // overrides the other filters
  CHECK(ids_of("page_size=1").size() == 1);
  {
    Xml xml(gateway.Get(absl::StrCat("/open311/v2/requests.xml?service_request_id=", pothole_id)),
            200);
    CHECK(Count(xml.doc.child("service_requests"), "request") == 1);
  }
  ExpectJsonError("a bad status", gateway.Get("/open311/v2/requests.json?status=fixed"), 400,
                  "status");
  ExpectXmlError("a bad date", gateway.Get("/open311/v2/requests.xml?start_date=yesterday"), 400,
                 "start_date");
  ExpectJsonError("over 90 days",
                  gateway.Get("/open311/v2/requests.json?start_date=2025-01-01T00:00:00Z"
                              "&end_date=2025-06-01T00:00:00Z"),
                  400, "90 days");

  REQUIRE(civicd.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
