// Open311 GeoReport v2 without a network: parameters as clients encode them (Vietnamese
// percent-encoded, attribute[...] keys), both formats of every answer read back with
// real parsers, W3C date-times, error mapping, and the handler's flows against a fake
// backend (api_key, jurisdiction, filters, waiting for the case to open).
#include "services/gateway/open311.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/core/clock.h"
#include "libs/core/status.h"
#include "libs/rpc/status.h"
#include "libs/storage/test_dir.h"

namespace civic::gateway::open311 {
namespace {

using nlohmann::json;

// What an Open311 client sends for "Ổ gà lớn trước chợ Bến Thành" (form encoding).
constexpr char kPotholeEncoded[] =
    "%E1%BB%94+g%C3%A0+l%E1%BB%9Bn+tr%C6%B0%E1%BB%9Bc+ch%E1%BB%A3+B%E1%BA%BFn+Th%C3%A0nh";
constexpr char kPothole[] = "Ổ gà lớn trước chợ Bến Thành";

intake::v1::Category Flooding() {
  intake::v1::Category c;
  c.set_code("environment.flooding");
  c.set_group("environment");
  c.set_group_name_en("Environment");
  c.set_group_name_vi("Môi trường");
  c.set_name_en("Flooding / waterlogging");
  c.set_name_vi("Ngập nước");
  c.set_description_en("Streets flooded by rain or high tide.");
  c.set_description_vi("Đường, khu dân cư bị ngập do mưa, triều cường.");
  c.add_keywords("ngập");
  c.add_keywords("triều cường");
  c.set_type("realtime");
  auto* depth = c.add_attributes();
  depth->set_code("water_depth");
  depth->set_datatype("singlevaluelist");
  depth->set_required(true);
  depth->set_variable(true);
  depth->set_order(1);
  depth->set_description_en("Water depth");
  depth->set_description_vi("Độ sâu ngập");
  for (auto [key, en, vi] : {std::tuple{"lt_10", "Under 10 cm", "Dưới 10 cm (mắt cá chân)"},
                             std::tuple{"10_30", "10–30 cm", "10–30 cm (ngang bắp chân)"}}) {
    auto* v = depth->add_values();
    v->set_key(key);
    v->set_name_en(en);
    v->set_name_vi(vi);
  }
  auto* hazards = c.add_attributes();
  hazards->set_code("hazards");
  hazards->set_datatype("multivaluelist");
  hazards->set_variable(true);
  hazards->set_order(2);
  hazards->set_description_en("Hazards");
  hazards->set_description_vi("Nguy hiểm");
  for (const char* key : {"open_drain", "live_wire"}) {
    auto* v = hazards->add_values();
    v->set_key(key);
    v->set_name_en(key);
    v->set_name_vi(key);
  }
  auto* note = c.add_attributes();
  note->set_code("note");
  note->set_datatype("string");
  note->set_variable(true);
  note->set_order(3);
  note->set_description_en("Anything else");
  note->set_description_vi("Ghi chú thêm");
  note->set_datatype_description("one line");
  return c;
}

intake::v1::Category Fire() {
  intake::v1::Category c;
  c.set_code("emergency.fire");
  c.set_name_en("Fire or explosion");
  c.set_name_vi("Cháy, nổ");
  c.set_type("realtime");
  c.set_is_emergency(true);
  c.set_emergency_hotline("114");
  return c;
}

cases::v1::PublicCase SampleCase() {
  cases::v1::PublicCase c;
  c.set_case_id("01JCASE0001");
  c.set_category("environment.flooding");
  c.set_status(common::v1::CASE_STATUS_IN_PROGRESS);
  c.set_description("Ngập sâu 30cm, xe máy chết máy");
  c.mutable_location()->set_lat(10.7725);
  c.mutable_location()->set_lon(106.698);
  c.mutable_unit()->set_name_vi("UBND Quận 1");
  c.mutable_unit()->set_name_en("District 1 People's Committee");
  *c.mutable_opened_at() = ToTimestamp(absl::FromUnixSeconds(1767225600));  // 07:00 +07
  *c.mutable_updated_at() = ToTimestamp(absl::FromUnixSeconds(1767229200));
  *c.mutable_due_at() = ToTimestamp(absl::FromUnixSeconds(1767247200));
  c.set_address("Đường Lê Lợi, Quận 1");
  c.add_photo_ids("ph1");
  auto* reply = c.add_updates();
  reply->set_action("reply");
  reply->set_text("Đã cử đội thoát nước đến kiểm tra.");
  auto* start = c.add_updates();
  start->set_action("start");  // no text: not a status note
  return c;
}

pugi::xml_document ParseXml(const Response& response) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed =
      doc.load_buffer(response.body.data(), response.body.size(),
                      pugi::parse_default | pugi::parse_declaration, pugi::encoding_utf8);
  INFO(response.body);
  REQUIRE(parsed);
  return doc;
}

json ParseJson(const Response& response) {
  INFO(response.body);
  json doc = json::parse(response.body, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

// ---------------------------------------------------------------------------------

TEST_CASE("Form parameters decode Vietnamese UTF-8 and plus signs", "[open311]") {
  absl::StatusOr<Params> params = ParseForm(
      absl::StrCat("description=", kPotholeEncoded,
                   "&address_string=%C4%90%C6%B0%E1%BB%9Dng+L%C3%AA+L%E1%BB%A3i%2C+Qu%E1%BA%ADn+1"
                   "&empty=&flag&&lat=10.7725"));
  REQUIRE(params.ok());
  CHECK(Param(*params, "description") == kPothole);
  CHECK(Param(*params, "address_string") == "Đường Lê Lợi, Quận 1");
  CHECK(Param(*params, "lat") == "10.7725");
  // Empty and absent are the same.
  CHECK(Param(*params, "empty").empty());
  CHECK(Param(*params, "flag").empty());
  CHECK(Param(*params, "missing").empty());
  // The first non-empty value wins.
  CHECK(Param(*ParseForm("a=&a=2&a=3"), "a") == "2");
}

TEST_CASE("Malformed escapes and non-UTF-8 parameters are refused", "[open311]") {
  CHECK_FALSE(ParseForm("a=%zz").ok());
  CHECK_FALSE(ParseForm("a=%4").ok());
  CHECK_FALSE(ParseForm("a=%C3").ok());        // truncated sequence
  CHECK_FALSE(ParseForm("a=%FF").ok());        // never UTF-8
  CHECK_FALSE(ParseForm("a=%C0%AF").ok());     // overlong '/'
  CHECK_FALSE(ParseForm("a=%ED%A0%80").ok());  // surrogate
  CHECK(ParseForm("a=%F0%9F%9A%A7").ok());     // 🚧
}

TEST_CASE("attribute[code] and attribute[code][] keys collect values by code", "[open311]") {
  absl::StatusOr<Params> params = ParseForm(
      "attribute%5Bwater_depth%5D=10_30&attribute[hazards][]=open_drain&"
      "attribute[hazards][]=live_wire&attribute[empty]=&attribute[]=x&"
      "attribute[a][b]=y&attribute[note]=N%C6%B0%E1%BB%9Bc+b%E1%BA%A9n&other=1");
  REQUIRE(params.ok());
  CHECK(AttributeParams(*params) ==
        std::map<std::string, std::vector<std::string>>{{"hazards", {"open_drain", "live_wire"}},
                                                        {"note", {"Nước bẩn"}},
                                                        {"water_depth", {"10_30"}}});
}

TEST_CASE("The answer language follows locale, then Accept-Language", "[open311]") {
  CHECK(PickLanguage("vi", "") == Language::kVi);
  CHECK(PickLanguage("vi_VN", "en") == Language::kVi);
  CHECK(PickLanguage("en", "vi-VN") == Language::kEn);
  CHECK(PickLanguage("", "vi-VN,vi;q=0.9,en;q=0.8") == Language::kVi);
  CHECK(PickLanguage("", "en-GB,en;q=0.9") == Language::kEn);
  CHECK(PickLanguage("", "") == Language::kEn);
}

TEST_CASE("W3C date-times parse strictly and print in Vietnam time with +07:00", "[open311]") {
  const absl::Time midnight_utc = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00Z
  CHECK(*ParseW3cDateTime("2026-01-01T00:00:00Z") == midnight_utc);
  CHECK(*ParseW3cDateTime("2026-01-01T07:00:00+07:00") == midnight_utc);
  CHECK(*ParseW3cDateTime("2025-12-31T19:00-05:00") == midnight_utc);
  CHECK(*ParseW3cDateTime("2026-01-01T00:00:00.250Z") == midnight_utc + absl::Milliseconds(250));
  // An unencoded '+' in a query string arrives as a space.
  CHECK(*ParseW3cDateTime("2026-01-01T07:00:00 07:00") == midnight_utc);
  for (const char* bad : {"2026-01-01", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z",
                          "2026-02-30T00:00:00Z", "2026-01-01T00:00:00+0700",
                          "2026-01-01T00:00:00z", "yesterday", "", "2026-01-01T00:00:00Zjunk"}) {
    INFO(bad);
    CHECK_FALSE(ParseW3cDateTime(bad).ok());
  }
  CHECK(FormatW3cDateTime(midnight_utc) == "2026-01-01T07:00:00+07:00");
  CHECK(FormatW3cDateTime(midnight_utc + absl::Hours(17)) == "2026-01-02T00:00:00+07:00");
}

TEST_CASE("The service list renders in XML and JSON with Vietnamese names", "[open311]") {
  const std::vector<intake::v1::Category> categories = {Flooding(), Fire()};

  const Response xml = RenderServices(Format::kXml, categories, Language::kVi);
  CHECK(xml.http_status == 200);
  CHECK(xml.content_type == "text/xml; charset=utf-8");
  CHECK(absl::StartsWith(xml.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
  pugi::xml_document doc = ParseXml(xml);
  pugi::xml_node services = doc.child("services");
  REQUIRE(services);
  pugi::xml_node first = services.child("service");
  CHECK(std::string(first.child_value("service_code")) == "environment.flooding");
  CHECK(std::string(first.child_value("service_name")) == "Ngập nước");
  CHECK(std::string(first.child_value("description")) ==
        "Đường, khu dân cư bị ngập do mưa, triều cường.");
  CHECK(std::string(first.child_value("metadata")) == "true");
  CHECK(std::string(first.child_value("type")) == "realtime");
  CHECK(std::string(first.child_value("keywords")) == "ngập, triều cường");
  CHECK(std::string(first.child_value("group")) == "Môi trường");
  CHECK(std::string(first.next_sibling("service").child_value("metadata")) == "false");

  const json list = ParseJson(RenderServices(Format::kJson, categories, Language::kEn));
  REQUIRE(list.is_array());
  REQUIRE(list.size() == 2);
  CHECK(list[0]["service_code"] == "environment.flooding");
  CHECK(list[0]["service_name"] == "Flooding / waterlogging");
  CHECK(list[0]["metadata"] == true);
  CHECK(list[0]["keywords"] == "ngập, triều cường");
  CHECK(list[0]["group"] == "Environment");
  CHECK(list[1]["metadata"] == false);
  CHECK(list[1]["group"].is_null());  // an empty element
}

TEST_CASE("A service definition lists attributes, with values only for lists", "[open311]") {
  pugi::xml_document doc =
      ParseXml(RenderServiceDefinition(Format::kXml, Flooding(), Language::kVi));
  pugi::xml_node definition = doc.child("service_definition");
  REQUIRE(definition);
  CHECK(std::string(definition.child_value("service_code")) == "environment.flooding");
  pugi::xml_node depth = definition.child("attributes").child("attribute");
  CHECK(std::string(depth.child_value("variable")) == "true");
  CHECK(std::string(depth.child_value("code")) == "water_depth");
  CHECK(std::string(depth.child_value("datatype")) == "singlevaluelist");
  CHECK(std::string(depth.child_value("required")) == "true");
  CHECK(std::string(depth.child_value("order")) == "1");
  CHECK(std::string(depth.child_value("description")) == "Độ sâu ngập");
  pugi::xml_node value = depth.child("values").child("value");
  CHECK(std::string(value.child_value("key")) == "lt_10");
  CHECK(std::string(value.child_value("name")) == "Dưới 10 cm (mắt cá chân)");

  const json definition_json =
      ParseJson(RenderServiceDefinition(Format::kJson, Flooding(), Language::kEn));
  REQUIRE(definition_json.is_object());
  CHECK(definition_json["service_code"] == "environment.flooding");
  const json& attributes = definition_json["attributes"];
  REQUIRE(attributes.is_array());
  REQUIRE(attributes.size() == 3);
  CHECK(attributes[0]["variable"] == true);
  CHECK(attributes[0]["required"] == true);
  CHECK(attributes[0]["order"] == 1);
  CHECK(attributes[0]["datatype_description"].is_null());
  CHECK(attributes[0]["values"][1] == json({{"key", "10_30"}, {"name", "10–30 cm"}}));
  CHECK(attributes[1]["datatype"] == "multivaluelist");
  CHECK(attributes[1]["values"].size() == 2);
  CHECK(attributes[2]["datatype_description"] == "one line");
  CHECK_FALSE(attributes[2].contains("values"));  // a string attribute has none
}

TEST_CASE("Errors render as <errors> and as an array of code and description", "[open311]") {
  const std::vector<Error> errors = {{403, "invalid api_key"}, {400, "lat thiếu long"}};
  const Response xml = RenderErrors(Format::kXml, 403, errors);
  CHECK(xml.http_status == 403);
  pugi::xml_document doc = ParseXml(xml);
  pugi::xml_node error = doc.child("errors").child("error");
  CHECK(std::string(error.child_value("code")) == "403");
  CHECK(std::string(error.child_value("description")) == "invalid api_key");
  CHECK(std::string(error.next_sibling("error").child_value("description")) == "lat thiếu long");

  const Response js = RenderErrors(Format::kJson, 403, errors);
  CHECK(js.content_type == "application/json; charset=utf-8");
  CHECK(ParseJson(js) == json::parse(R"([{"code":403,"description":"invalid api_key"},
                                         {"code":400,"description":"lat thiếu long"}])"));
}

TEST_CASE("A public case becomes a request with every field of the spec", "[open311]") {
  const intake::v1::Category flooding = Flooding();
  const ServiceRequest r =
      ToServiceRequest(SampleCase(), &flooding, Language::kVi, "https://api.example.vn");
  CHECK(r.service_request_id == "01JCASE0001");
  CHECK(r.status == "open");
  CHECK(r.status_notes == "Đã cử đội thoát nước đến kiểm tra.");
  CHECK(r.service_name == "Ngập nước");
  CHECK(r.service_code == "environment.flooding");
  CHECK(r.agency_responsible == "UBND Quận 1");
  CHECK(r.requested_datetime == "2026-01-01T07:00:00+07:00");
  CHECK(r.updated_datetime == "2026-01-01T08:00:00+07:00");
  CHECK(r.expected_datetime == "2026-01-01T13:00:00+07:00");
  CHECK(r.media_url == "https://api.example.vn/v1/photos/ph1");
  CHECK(r.has_location);

  const json list = ParseJson(RenderServiceRequests(Format::kJson, {r}));
  REQUIRE(list.is_array());
  REQUIRE(list.size() == 1);
  const json& item = list[0];
  CHECK(item.size() == 17);
  CHECK(item["lat"] == 10.7725);
  CHECK(item["long"] == 106.698);
  CHECK(item["service_request_id"] == "01JCASE0001");
  CHECK(item["address"] == "Đường Lê Lợi, Quận 1");
  CHECK(item["address_id"].is_null());
  CHECK(item["zipcode"].is_null());
  CHECK(item["service_notice"].is_null());

  pugi::xml_document doc = ParseXml(RenderServiceRequests(Format::kXml, {r}));
  pugi::xml_node request = doc.child("service_requests").child("request");
  std::vector<std::string> order;
  for (pugi::xml_node field : request.children()) order.push_back(field.name());
  CHECK(order == std::vector<std::string>{
                     "service_request_id", "status", "status_notes", "service_name", "service_code",
                     "description", "agency_responsible", "service_notice", "requested_datetime",
                     "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                     "lat", "long", "media_url"});
  CHECK(std::string(request.child_value("lat")) == "10.7725");
  CHECK(std::string(request.child_value("description")) == "Ngập sâu 30cm, xe máy chết máy");

  cases::v1::PublicCase closed = SampleCase();
  closed.set_status(common::v1::CASE_STATUS_RESOLVED);
  closed.clear_location();
  const ServiceRequest done = ToServiceRequest(closed, nullptr, Language::kEn, "");
  CHECK(done.status == "closed");
  CHECK(done.service_name == "environment.flooding");
  CHECK(done.agency_responsible == "District 1 People's Committee");
  CHECK_FALSE(done.has_location);
  CHECK(done.media_url == "/v1/photos/ph1");
}

TEST_CASE("Case statuses map onto open and closed", "[open311]") {
  for (common::v1::CaseStatus s : CaseStatusesFor("open")) CHECK(Open311Status(s) == "open");
  for (common::v1::CaseStatus s : CaseStatusesFor("closed")) CHECK(Open311Status(s) == "closed");
  CHECK(CaseStatusesFor("open").size() + CaseStatusesFor("closed").size() == 10);
  CHECK(CaseStatusesFor("OPEN").size() == 6);
  CHECK(CaseStatusesFor("fixed").empty());
  CHECK(Open311Status(common::v1::CASE_STATUS_MERGED) == "closed");
  CHECK(Open311Status(common::v1::CASE_STATUS_REOPENED) == "open");
}

TEST_CASE("Intake's field violations become Open311 errors named as the POST names them",
          "[open311]") {
  FieldErrors violations;
  violations.Add("attributes[water_depth]", "is required for environment.flooding");
  violations.Add("location.lat", "must be between -90 and 90");
  violations.Add("contact.phone", "is not a Vietnamese phone number (+84… or 0…)");
  violations.Add("media_urls[1]", "must be an http or https URL");
  auto [http_status, errors] =
      ErrorsFromGrpcStatus(rpc::ToGrpcStatus(violations.ToStatus("intake.civicdesk")));
  CHECK(http_status == 400);
  REQUIRE(errors.size() == 4);
  CHECK(errors[3].description == "media_url must be an http or https URL");
  CHECK(errors[0].code == 400);
  CHECK(errors[0].description == "attribute[water_depth] is required for environment.flooding");
  CHECK(errors[1].description == "lat must be between -90 and 90");
  CHECK(errors[2].description == "phone is not a Vietnamese phone number (+84… or 0…)");

  auto [missing_status, missing] =
      ErrorsFromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such case"));
  CHECK(missing_status == 404);
  CHECK(missing[0].code == 404);

  auto [down_status, down] =
      ErrorsFromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connect failed"));
  CHECK(down_status == 400);  // the spec's "general failure"
  CHECK(down[0].code == 503);
  auto [internal_status, internal] =
      ErrorsFromGrpcStatus(grpc::Status(grpc::StatusCode::INTERNAL, "rocksdb: /data/x"));
  CHECK(internal_status == 400);
  CHECK(internal[0].description.find("rocksdb") == std::string::npos);
}

TEST_CASE("POST parameters map onto a SubmitReportRequest", "[open311]") {
  absl::StatusOr<Params> params = ParseForm(absl::StrCat(
      "service_code=environment.flooding&lat=10.7725&long=106.698&description=", kPotholeEncoded,
      "&address_string=%C4%90%C6%B0%E1%BB%9Dng+L%C3%AA+L%E1%BB%A3i&attribute[water_depth]=10_30",
      "&attribute[hazards][]=open_drain&attribute[hazards][]=live_wire",
      "&attribute[fixmystreet_id]=42&first_name=V%C4%83n+An&last_name=Nguy%E1%BB%85n",
      "&email=an%40example.com&phone=0901234567&device_id=dev-1",
      "&media_url=https%3A%2F%2Fexample.com%2Fp.jpg&locale=vi"));
  REQUIRE(params.ok());
  std::vector<Error> errors;
  absl::StatusOr<Submission> sub = BuildSubmission(*params, Flooding(), &errors);
  REQUIRE(sub.ok());
  CHECK(errors.empty());
  const intake::v1::SubmitReportRequest& r = sub->request;
  CHECK(r.category() == "environment.flooding");
  CHECK(r.channel() == common::v1::CHANNEL_OPEN311);
  CHECK(r.description() == kPothole);
  CHECK(r.location().lat() == 10.7725);
  CHECK(r.location().lon() == 106.698);
  CHECK(r.address() == "Đường Lê Lợi");
  CHECK(r.attributes().at("water_depth") == "10_30");
  CHECK(r.attributes().at("hazards") == "open_drain,live_wire");
  CHECK(r.attributes().count("fixmystreet_id") == 0);
  CHECK(sub->dropped_attributes == std::vector<std::string>{"fixmystreet_id"});
  CHECK(r.contact().name() == "Văn An Nguyễn");
  CHECK(r.contact().email() == "an@example.com");
  CHECK(r.contact().phone() == "0901234567");
  CHECK(r.language() == "vi");
  CHECK(sub->device_id == "dev-1");
  CHECK(std::vector<std::string>(r.media_urls().begin(), r.media_urls().end()) ==
        std::vector<std::string>{"https://example.com/p.jpg"});
}

TEST_CASE("POST parameters without a usable location or with bad values are refused", "[open311]") {
  auto errors_for = [](const std::string& form) {
    std::vector<Error> errors;
    absl::StatusOr<Submission> sub = BuildSubmission(*ParseForm(form), Flooding(), &errors);
    CHECK(sub.ok() == errors.empty());
    std::vector<std::string> out;
    for (const Error& e : errors) {
      CHECK(e.code == 400);
      out.push_back(e.description);
    }
    return out;
  };
  CHECK(errors_for("description=x") ==
        std::vector<std::string>{"a location is required: lat and long, or address_string"});
  CHECK(errors_for("lat=10.7&description=x") ==
        std::vector<std::string>{"lat and long must be given together"});
  CHECK(errors_for("lat=abc&long=1") ==
        std::vector<std::string>{"lat must be a number of degrees (WGS84)"});
  CHECK(errors_for("address_id=123").front().find("address_id") != std::string::npos);
  CHECK(errors_for("address_string=x&attribute[water_depth]=lt_10&attribute[water_depth]=10_30")
            .size() == 1);
  CHECK(errors_for("address_string=x&media_url=javascript:alert(1)").size() == 1);
  // An address alone is a location; a missing description becomes the service's name,
  // or FixMyStreet's title and text.
  CHECK(errors_for("address_string=H%E1%BA%BBm+15").empty());
  std::vector<Error> errors;
  CHECK(
      BuildSubmission(*ParseForm("address_string=x"), Flooding(), &errors)->request.description() ==
      "Ngập nước");
  CHECK(BuildSubmission(*ParseForm("address_string=x&attribute[title]=T&attribute[description]=D"),
                        Flooding(), &errors)
            ->request.description() == "T\nD");
}

TEST_CASE("Hashed api keys are loaded from a file and checked", "[open311]") {
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  storage::TestDir dir;
  const std::string path = (dir.path() / "open311-keys").string();
  {
    std::ofstream out(path);
    out << "# accepted keys\n\n"
        << Sha256Hex("good-key") << " fixmystreet\n"
        << absl::AsciiStrToUpper(Sha256Hex("other-key")) << "\n";
  }
  absl::StatusOr<ApiKeyChecker> checker = LoadApiKeyFile(path);
  REQUIRE(checker.ok());
  absl::StatusOr<std::string> client = (*checker)("good-key");
  REQUIRE(client.ok());
  CHECK(*client == "open311-" + Sha256Hex("good-key").substr(0, 16));
  CHECK((*checker)("other-key").ok());
  CHECK((*checker)("bad-key").status().code() == absl::StatusCode::kPermissionDenied);
  CHECK_FALSE((*checker)("").ok());
  {
    std::ofstream out(path);
    out << "good-key\n";  // a key rather than its hash
  }
  CHECK(LoadApiKeyFile(path).status().code() == absl::StatusCode::kInvalidArgument);
  std::remove(path.c_str());
  CHECK(LoadApiKeyFile(path).status().code() == absl::StatusCode::kNotFound);
  CHECK_FALSE(RejectAllApiKeys()("good-key").ok());
}

// ---------------------------------------------------------------------------------
// The handler against a fake backend.

// Answers calls from per-method functions; completions and timers queue up and run in
// Drain() (never inline, as the interface promises). Timers advance the fake clock.
class FakeBackend final : public Backend {
 public:
  using Fn =
      std::function<grpc::Status(const google::protobuf::Message&, google::protobuf::Message*)>;
  struct Seen {
    std::string rpc_path;
    std::shared_ptr<google::protobuf::Message> request;
    Metadata metadata;
  };

  explicit FakeBackend(FakeClock* clock) : clock_(clock) {}

  template <typename Req, typename Resp>
  void On(const std::string& method, std::function<grpc::Status(const Req&, Resp*)> fn) {
    fns_[method] = [fn](const google::protobuf::Message& req, google::protobuf::Message* resp) {
      return fn(static_cast<const Req&>(req), static_cast<Resp*>(resp));
    };
  }

  void Call(const std::string& service, const std::string& rpc_path,
            const google::protobuf::Message& request,
            std::shared_ptr<google::protobuf::Message> response, Metadata metadata,
            std::function<void(const grpc::Status&)> done) override {
    std::shared_ptr<google::protobuf::Message> copy(request.New());
    copy->CopyFrom(request);
    seen.push_back({rpc_path, copy, metadata});
    const std::string method = rpc_path.substr(rpc_path.rfind('/') + 1);
    CHECK(rpc_path == "/" + service + "/" + method);
    auto it = fns_.find(method);
    const grpc::Status status = it == fns_.end()
                                    ? grpc::Status(grpc::StatusCode::UNIMPLEMENTED, method)
                                    : it->second(request, response.get());
    queue_.push_back([done, status] { done(status); });
  }

  void After(absl::Duration delay, std::function<void()> fn) override {
    queue_.push_back([this, delay, fn] {
      clock_->Advance(delay);
      fn();
    });
  }

  void Drain() {
    while (!queue_.empty()) {
      auto next = std::move(queue_.front());
      queue_.pop_front();
      next();
    }
  }

  // The requests sent to `method`, in order.
  template <typename Req>
  std::vector<Req> Requests(const std::string& method) const {
    std::vector<Req> out;
    for (const Seen& s : seen) {
      if (absl::EndsWith(s.rpc_path, "/" + method)) {
        out.push_back(static_cast<const Req&>(*s.request));
      }
    }
    return out;
  }

  std::vector<Seen> seen;

 private:
  FakeClock* clock_;
  std::map<std::string, Fn> fns_;
  std::deque<std::function<void()>> queue_;
};

struct HandlerFixture {
  FakeClock clock{absl::FromUnixSeconds(1767225600)};
  FakeBackend backend{&clock};
  Open311Handler handler{HandlerOptions{.jurisdiction_ids = {"civicdesk.vn", "hcm.civicdesk.vn"},
                                        .public_url = "https://api.example.vn/",
                                        .clock = &clock},
                         [](absl::string_view key) -> absl::StatusOr<std::string> {
                           if (key == "good-key") return std::string("client-1");
                           return absl::PermissionDeniedError("no");
                         }};

  HandlerFixture() {
    backend.On<intake::v1::GetCategoryRequest, intake::v1::Category>(
        "GetCategory", [](const auto& req, auto* resp) {
          for (const auto& c : {Flooding(), Fire()}) {
            if (c.code() == req.code()) {
              *resp = c;
              return grpc::Status::OK;
            }
          }
          return grpc::Status(grpc::StatusCode::NOT_FOUND, "no category");
        });
    backend.On<intake::v1::ListCategoriesRequest, intake::v1::ListCategoriesResponse>(
        "ListCategories", [](const auto&, auto* resp) {
          *resp->add_categories() = Flooding();
          *resp->add_categories() = Fire();
          return grpc::Status::OK;
        });
  }

  Response Serve(const std::string& method, const std::string& target, std::string body = "",
                 std::string content_type = "application/x-www-form-urlencoded") {
    const HttpRequest request{.method = method,
                              .target = target,
                              .body = std::move(body),
                              .content_type = std::move(content_type),
                              .accept_language = "",
                              .host = "ignored.example"};
    std::optional<Response> answer;
    handler.Serve(request, backend, [&](Response r) {
      CHECK_FALSE(answer.has_value());  // exactly once
      answer = std::move(r);
    });
    backend.Drain();
    REQUIRE(answer.has_value());
    return *answer;
  }
};

std::string PostBody(const std::string& extra = "") {
  return absl::StrCat(
      "api_key=good-key&service_code=environment.flooding&lat=10.7725&long=106.698"
      "&description=",
      kPotholeEncoded, "&attribute%5Bwater_depth%5D=10_30", extra);
}

// The only error of an errors answer in JSON.
json OnlyError(const Response& r) {
  const json body = ParseJson(r);
  REQUIRE(body.is_array());
  REQUIRE(body.size() == 1);
  return body[0];
}

TEST_CASE("Open311 POST answers the case id once the case opens", "[open311]") {
  HandlerFixture f;
  int polls = 0;
  f.backend.On<intake::v1::SubmitReportRequest, intake::v1::SubmitReportResponse>(
      "SubmitReport", [](const auto&, auto* resp) {
        resp->set_tracking_code("PA-2611-V5N65-5E");
        return grpc::Status::OK;
      });
  f.backend.On<intake::v1::GetReportStatusRequest, intake::v1::ReportStatus>(
      "GetReportStatus", [&](const auto& req, auto* resp) {
        CHECK(req.tracking_code() == "PA-2611-V5N65-5E");
        if (++polls >= 2) resp->set_case_id("01JCASE0001");
        return grpc::Status::OK;
      });
  const Response r = f.Serve("POST", "/open311/v2/requests.json", PostBody("&device_id=dev-9"));
  CHECK(r.http_status == 200);
  CHECK(r.route == "/open311/v2/requests");
  const json body = ParseJson(r);
  REQUIRE(body.is_array());
  CHECK(body[0]["service_request_id"] == "01JCASE0001");
  CHECK_FALSE(body[0].contains("token"));  // never both
  CHECK(body[0]["service_notice"] == "Report received. Tracking code: PA-2611-V5N65-5E");
  CHECK(polls == 2);

  const auto submitted = f.backend.Requests<intake::v1::SubmitReportRequest>("SubmitReport");
  REQUIRE(submitted.size() == 1);
  CHECK(submitted[0].description() == kPothole);
  CHECK(submitted[0].attributes().at("water_depth") == "10_30");
  for (const auto& s : f.backend.seen) {
    if (!absl::EndsWith(s.rpc_path, "/SubmitReport")) continue;
    CHECK(s.metadata ==
          Backend::Metadata{{"x-civic-client-id", "client-1"}, {"x-civic-device-id", "dev-9"}});
  }
}

TEST_CASE("Open311 POST answers a token when the case is not open in time", "[open311]") {
  HandlerFixture f;
  int polls = 0;
  f.backend.On<intake::v1::SubmitReportRequest, intake::v1::SubmitReportResponse>(
      "SubmitReport", [](const auto&, auto* resp) {
        resp->set_tracking_code("PA-1");
        return grpc::Status::OK;
      });
  f.backend.On<intake::v1::GetReportStatusRequest, intake::v1::ReportStatus>(
      "GetReportStatus", [&](const auto&, auto*) {
        ++polls;
        return grpc::Status::OK;
      });
  const absl::Time start = f.clock.Now();
  pugi::xml_document doc =
      ParseXml(f.Serve("POST", "/open311/v2/requests.xml?locale=vi", PostBody()));
  pugi::xml_node request = doc.child("service_requests").child("request");
  CHECK(std::string(request.child_value("token")) == "PA-1");
  CHECK_FALSE(request.child("service_request_id"));
  CHECK(std::string(request.child_value("service_notice")) ==
        "Đã nhận phản ánh. Mã theo dõi: PA-1");
  CHECK(polls >= 3);
  CHECK(f.clock.Now() - start <= absl::Milliseconds(1500));
}

TEST_CASE("Open311 POST needs a valid api_key, a served jurisdiction and a known service",
          "[open311]") {
  HandlerFixture f;
  Response r = f.Serve("POST", "/open311/v2/requests.json", "service_code=environment.flooding");
  CHECK(r.http_status == 403);
  CHECK(OnlyError(r)["code"] == 403);
  r = f.Serve("POST", "/open311/v2/requests.json",
              "api_key=bad-key&service_code=environment.flooding&lat=1&long=2");
  CHECK(r.http_status == 403);
  CHECK(OnlyError(r)["description"] == "invalid api_key");

  r = f.Serve("POST", "/open311/v2/requests.xml", PostBody("&jurisdiction_id=sfgov.org"));
  CHECK(r.http_status == 404);
  pugi::xml_document doc = ParseXml(r);
  CHECK(std::string(doc.child("errors").child("error").child_value("code")) == "404");
  CHECK(f.Serve("POST", "/open311/v2/requests.xml", PostBody("&jurisdiction_id=hcm.civicdesk.vn"))
            .http_status != 404);

  r = f.Serve("POST", "/open311/v2/requests.json",
              "api_key=good-key&service_code=no.such&lat=1&long=2");
  CHECK(r.http_status == 404);
  r = f.Serve("POST", "/open311/v2/requests.json", "api_key=good-key&lat=1&long=2");
  CHECK(r.http_status == 400);
  CHECK(OnlyError(r)["description"] == "service_code is required");
  r = f.Serve("POST", "/open311/v2/requests.json", PostBody(), "multipart/form-data; boundary=x");
  CHECK(r.http_status == 400);

  // Intake's verdict on the attributes comes back as Open311 errors.
  f.backend.On<intake::v1::SubmitReportRequest, intake::v1::SubmitReportResponse>(
      "SubmitReport", [](const auto&, auto*) {
        FieldErrors e;
        e.Add("attributes[water_depth]", "is required for environment.flooding");
        return rpc::ToGrpcStatus(e.ToStatus("intake.civicdesk"));
      });
  r = f.Serve("POST", "/open311/v2/requests.json",
              "api_key=good-key&service_code=environment.flooding&address_string=x");
  CHECK(r.http_status == 400);
  CHECK(OnlyError(r)["description"] ==
        "attribute[water_depth] is required for environment.flooding");
}

TEST_CASE("An api key store that cannot answer is a general failure, not a bad key", "[open311]") {
  FakeClock clock;
  FakeBackend backend(&clock);
  const Open311Handler handler(HandlerOptions{.clock = &clock}, [](absl::string_view) {
    return absl::StatusOr<std::string>(absl::UnavailableError("intake is down"));
  });
  std::optional<Response> answer;
  handler.Serve({.method = "POST", .target = "/open311/v2/requests.json", .body = PostBody()},
                backend, [&](Response r) { answer = std::move(r); });
  backend.Drain();
  REQUIRE(answer.has_value());
  CHECK(answer->http_status == 400);
  CHECK(OnlyError(*answer)["code"] == 503);
  CHECK(backend.seen.empty());
}

TEST_CASE("Open311 GET requests turns the spec's filters into ListPublicCases", "[open311]") {
  HandlerFixture f;
  f.backend.On<cases::v1::ListPublicCasesRequest, cases::v1::ListPublicCasesResponse>(
      "ListPublicCases", [](const auto& req, auto* resp) {
        if (req.page_token().empty()) {
          *resp->add_cases() = SampleCase();
          resp->set_next_page_token("p2");
        } else {
          cases::v1::PublicCase second = SampleCase();
          second.set_case_id("01JCASE0002");
          *resp->add_cases() = second;
        }
        return grpc::Status::OK;
      });

  Response r = f.Serve("GET",
                       "/open311/v2/requests.json?service_code=environment.flooding,emergency.fire"
                       "&status=open&start_date=2025-12-01T00:00:00%2B07:00"
                       "&end_date=2025-12-31T23:59:59Z&jurisdiction_id=civicdesk.vn");
  CHECK(r.http_status == 200);
  const json list = ParseJson(r);
  REQUIRE(list.size() == 2);
  CHECK(list[0]["service_name"] == "Flooding / waterlogging");
  CHECK(list[1]["service_request_id"] == "01JCASE0002");
  const auto sent = f.backend.Requests<cases::v1::ListPublicCasesRequest>("ListPublicCases");
  REQUIRE(sent.size() == 2);
  CHECK(std::vector<std::string>(sent[0].categories().begin(), sent[0].categories().end()) ==
        std::vector<std::string>{"environment.flooding", "emergency.fire"});
  CHECK(sent[0].statuses_size() == 6);
  CHECK(FromTimestamp(sent[0].opened_after()) == *ParseW3cDateTime("2025-12-01T00:00:00+07:00"));
  CHECK(FromTimestamp(sent[0].opened_before()) ==
        *ParseW3cDateTime("2025-12-31T23:59:59Z") + absl::Nanoseconds(1));
  CHECK(sent[1].page_token() == "p2");

  // By default the last 90 days; page_size keeps the first ones.
  f.backend.seen.clear();
  pugi::xml_document doc =
      ParseXml(f.Serve("GET", "/open311/v2/requests.xml?status=open,closed&page_size=1"));
  int requests = 0;
  for (pugi::xml_node n : doc.child("service_requests").children("request")) {
    (void)n;
    ++requests;
  }
  CHECK(requests == 1);
  const auto defaults = f.backend.Requests<cases::v1::ListPublicCasesRequest>("ListPublicCases");
  REQUIRE(defaults.size() == 1);
  CHECK(defaults[0].statuses_size() == 0);  // both words: every status
  CHECK(FromTimestamp(defaults[0].opened_after()) == f.clock.Now() - absl::Hours(24 * 90));

  // service_request_id overrides the other filters.
  f.backend.seen.clear();
  f.Serve("GET",
          "/open311/v2/requests.json?service_request_id=01JCASE0001,%2001JCASE0002&status=closed");
  const auto by_id = f.backend.Requests<cases::v1::ListPublicCasesRequest>("ListPublicCases");
  REQUIRE(by_id.size() == 1);
  CHECK(by_id[0].case_ids_size() == 2);
  CHECK(by_id[0].statuses_size() == 0);
  CHECK_FALSE(by_id[0].has_opened_after());

  // Bad filters are 400s, listed together.
  r = f.Serve("GET", "/open311/v2/requests.json?status=fixed&start_date=yesterday");
  CHECK(r.http_status == 400);
  CHECK(ParseJson(r).size() == 2);
  r = f.Serve("GET",
              "/open311/v2/requests.json?start_date=2025-01-01T00:00:00Z"
              "&end_date=2025-06-01T00:00:00Z");
  CHECK(r.http_status == 400);
  r = f.Serve("GET", "/open311/v2/requests.json?jurisdiction_id=elsewhere.org");
  CHECK(r.http_status == 404);
}

TEST_CASE("Open311 GET requests/{id}, tokens/{token} and services/{code}", "[open311]") {
  HandlerFixture f;
  f.backend.On<cases::v1::GetPublicCaseRequest, cases::v1::PublicCase>(
      "GetPublicCase", [](const auto& req, auto* resp) {
        if (req.case_id() != "01JCASE0001") return grpc::Status(grpc::StatusCode::NOT_FOUND, "");
        *resp = SampleCase();
        return grpc::Status::OK;
      });
  f.backend.On<intake::v1::GetReportStatusRequest, intake::v1::ReportStatus>(
      "GetReportStatus", [](const auto& req, auto* resp) {
        if (req.tracking_code() != "PA-1") return grpc::Status(grpc::StatusCode::NOT_FOUND, "");
        resp->set_tracking_code("PA-1");
        resp->set_case_id("01JCASE0001");
        return grpc::Status::OK;
      });

  pugi::xml_document one = ParseXml(f.Serve("GET", "/open311/v2/requests/01JCASE0001.xml"));
  CHECK(std::string(one.child("service_requests").child("request").child_value("status")) ==
        "open");
  const json one_json = ParseJson(f.Serve("GET", "/open311/v2/requests/01JCASE0001.json"));
  REQUIRE(one_json.size() == 1);
  CHECK(one_json[0]["media_url"] == "https://api.example.vn/v1/photos/ph1");
  CHECK(one_json[0]["service_name"] == "Flooding / waterlogging");
  CHECK(f.Serve("GET", "/open311/v2/requests/NOPE.json").http_status == 404);

  CHECK(ParseJson(f.Serve("GET", "/open311/v2/tokens/PA-1.json")) ==
        json::parse(R"([{"service_request_id":"01JCASE0001","token":"PA-1"}])"));
  CHECK(f.Serve("GET", "/open311/v2/tokens/PA-2.xml").http_status == 404);

  CHECK(
      ParseJson(f.Serve("GET", "/open311/v2/services/environment.flooding.json"))["service_code"] ==
      "environment.flooding");
  CHECK(f.Serve("GET", "/open311/v2/services/nope.xml").http_status == 404);
  CHECK(ParseJson(f.Serve("GET", "/open311/v2/services.json?locale=vi"))[0]["service_name"] ==
        "Ngập nước");
}

TEST_CASE("Open311 discovery, and paths that are not served", "[open311]") {
  HandlerFixture f;
  const json discovery = ParseJson(f.Serve("GET", "/open311/v2/discovery.json"));
  CHECK(discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2");
  CHECK(discovery["endpoints"][0]["url"] == "https://api.example.vn/open311/v2");
  CHECK(discovery["endpoints"][0]["formats"] == json({"text/xml", "application/json"}));
  CHECK(discovery["endpoints"][0]["type"] == "production");
  CHECK(discovery["changeset"] == "2026-01-01T07:00:00+07:00");
  for (const char* key : {"contact", "key_service"}) CHECK(discovery[key].is_string());
  pugi::xml_document xml = ParseXml(f.Serve("GET", "/open311/v2/discovery.xml"));
  CHECK(std::string(xml.child("discovery")
                        .child("endpoints")
                        .child("endpoint")
                        .child("formats")
                        .child_value("format")) == "text/xml");

  // An unknown format is answered in XML.
  Response r = f.Serve("GET", "/open311/v2/services.html");
  CHECK(r.http_status == 400);
  CHECK(r.content_type == "text/xml; charset=utf-8");
  CHECK(f.Serve("GET", "/open311/v2/services").http_status == 400);
  r = f.Serve("GET", "/open311/v2/nothing.json");
  CHECK(r.http_status == 400);
  CHECK(r.content_type == "application/json; charset=utf-8");
  CHECK(f.Serve("DELETE", "/open311/v2/requests.json").http_status == 400);
  CHECK(f.Serve("POST", "/open311/v2/services.json").http_status == 400);
  CHECK(IsOpen311Path("/open311/v2/services.json"));
  CHECK(IsOpen311Path("/open311/v2"));
  CHECK_FALSE(IsOpen311Path("/open311/v20"));
  CHECK_FALSE(IsOpen311Path("/v1/reports"));
}

}  // namespace
}  // namespace civic::gateway::open311
