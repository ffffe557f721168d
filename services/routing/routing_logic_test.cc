// Checks who gets a report: RoutingLogic on the real data (README examples, every
// category in both provinces, triage outside coverage, errors) and UnitDirectory's rule
// table on small hand-made files (support and ops-centre fallbacks, tie-breaks).
#include "services/routing/routing_logic.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "services/routing/test_data.h"

#include "libs/core/status.h"
#include "services/routing/unit_directory.h"

namespace civic::routing {
namespace {

namespace fs = std::filesystem;
using civic::common::v1::AdminArea;
using civic::routing::v1::RouteDecision;
using civic::routing::v1::RouteRequest;

// One instance per test process: loading the boundary files takes a moment.
const RoutingLogic& Logic() {
  static const auto* const loaded = new absl::StatusOr<std::unique_ptr<RoutingLogic>>(
      RoutingLogic::Load({.data_dir = testing::SharedDataDir()}));
  INFO("data dir: " << testing::SharedDataDir().string() << "; status: " << loaded->status().ToString());
  REQUIRE(loaded->ok());
  return ***loaded;
}

RouteRequest Request(const std::string& category, double lat, double lon) {
  RouteRequest request;
  request.set_category(category);
  request.mutable_location()->set_lat(lat);
  request.mutable_location()->set_lon(lon);
  return request;
}

// Route() that must succeed.
RouteDecision MustRoute(const std::string& category, double lat, double lon) {
  absl::StatusOr<RouteDecision> decision = Logic().Route(Request(category, lat, lon));
  INFO(category << " at (" << lat << ", " << lon << "): " << decision.status().ToString());
  REQUIRE(decision.ok());
  return *std::move(decision);
}

constexpr double kBenThanhLat = 10.7725;
constexpr double kBenThanhLon = 106.6980;
constexpr double kCitadelLat = 16.4698;  // Huế citadel, Phường Thuận Thành
constexpr double kCitadelLon = 107.5786;

TEST_CASE("RoutingLogic loads the shared data", "[routing]") {
  const RoutingLogic& logic = Logic();
  CHECK(logic.ward_count() == 1287);
  CHECK(logic.unit_count() == 1072);
  CHECK(logic.HasCategory("traffic.pothole"));
  CHECK(logic.HasCategory("emergency.fire"));
  CHECK_FALSE(logic.HasCategory("traffic.unicorn"));
  CHECK_FALSE(logic.HasCategory(""));
}

TEST_CASE("A pothole at Chợ Bến Thành goes to UBND Quận 1", "[routing]") {
  const RouteDecision d = MustRoute("traffic.pothole", kBenThanhLat, kBenThanhLon);
  CHECK(d.unit().id() == "hcm.district_pc.760");
  CHECK(d.unit().name_vi() == "UBND Quận 1");
  CHECK(d.unit().name_en() == "District 1 People's Committee");
  CHECK(d.area().ward_code() == "26743");
  CHECK(d.area().ward_name() == "Phường Bến Thành");
  CHECK(d.area().district_code() == "760");
  CHECK(d.area().province_code() == "79");
  CHECK(d.priority() == civic::common::v1::PRIORITY_HIGH);
  CHECK(d.sla_hours() == 72);
  CHECK(d.rule() == "primary:district_pc@district:760");
}

TEST_CASE("Ward-level categories go to the ward's own unit", "[routing]") {
  const RouteDecision noise = MustRoute("public_order.noise", kBenThanhLat, kBenThanhLon);
  CHECK(noise.unit().id() == "hcm.ward_police.26743");
  CHECK(noise.rule() == "primary:ward_police@ward:26743");
  const RouteDecision building =
      MustRoute("construction.illegal_building", kCitadelLat, kCitadelLon);
  CHECK(building.unit().id() == "hue.ward_pc.19765");
}

TEST_CASE("Garbage goes to the district company in HCMC and to HEPCO in Huế",
          "[routing]") {
  const RouteDecision hcm = MustRoute("environment.garbage", kBenThanhLat, kBenThanhLon);
  CHECK(hcm.unit().id() == "hcm.district_public_services.760");
  CHECK(hcm.rule() == "primary:district_public_services@district:760");

  // Huế has no district public-services companies: the next primary type wins.
  const RouteDecision hue = MustRoute("environment.garbage", kCitadelLat, kCitadelLon);
  CHECK(hue.area().ward_code() == "19765");
  CHECK(hue.unit().id() == "hue.util_sanitation");
  CHECK_THAT(hue.unit().name_vi(), Catch::Contains("HEPCO"));
  CHECK(hue.rule() == "primary:util_sanitation@province:46");
  CHECK(hue.priority() == civic::common::v1::PRIORITY_HIGH);
  CHECK(hue.sla_hours() == 24);

  const RouteDecision pothole = MustRoute("traffic.pothole", kCitadelLat, kCitadelLon);
  CHECK(pothole.unit().id() == "hue.district_pc.474");
}

TEST_CASE("Every category routes to a unit of the province at every ward's label point",
          "[routing]") {
  const RoutingLogic& logic = Logic();
  const nlohmann::json categories = testing::ReadJsonFile(testing::SharedDataDir() / "categories.json");
  const std::map<std::string, civic::common::v1::Priority> kPriorities = {
      {"low", civic::common::v1::PRIORITY_LOW},
      {"normal", civic::common::v1::PRIORITY_NORMAL},
      {"high", civic::common::v1::PRIORITY_HIGH},
      {"urgent", civic::common::v1::PRIORITY_URGENT},
      {"critical", civic::common::v1::PRIORITY_CRITICAL}};
  struct Province {
    const char* ward_file;
    const char* code;
    const char* unit_prefix;
  };
  const Province kProvinces[] = {{"wards-ho-chi-minh.geojson", "79", "hcm."},
                                 {"wards-thua-thien-hue.geojson", "46", "hue."}};
  size_t routed = 0;
  size_t failures = 0;
  for (const Province& province : kProvinces) {
    const nlohmann::json wards = testing::ReadJsonFile(testing::SharedDataDir() / "boundaries" / province.ward_file);
    for (const nlohmann::json& ward : wards.at("features")) {
      const nlohmann::json& props = ward.at("properties");
      const double lon = props.at("label_point").at(0).get<double>();
      const double lat = props.at("label_point").at(1).get<double>();
      for (const nlohmann::json& service : categories.at("services")) {
        const std::string code = service.at("code").get<std::string>();
        absl::StatusOr<RouteDecision> d = logic.Route(Request(code, lat, lon));
        ++routed;
        const bool good =
            d.ok() && d->unit().id().rfind(province.unit_prefix, 0) == 0 &&
            d->rule().rfind("triage", 0) != 0 && !d->unit().name_vi().empty() &&
            d->area().ward_code() == props.at("code").get<std::string>() &&
            d->area().province_code() == province.code &&
            d->priority() ==
                kPriorities.at(service.at("default_priority").get<std::string>()) &&
            d->sla_hours() == service.at("default_sla_hours").get<double>();
        if (!good && failures++ < 10) {
          INFO(code << " in ward " << props.at("code").get<std::string>() << ": "
                    << (d.ok() ? d->ShortDebugString() : d.status().ToString()));
          CHECK(good);
        }
      }
    }
  }
  INFO(failures << " of " << routed << " decisions were wrong");
  CHECK(routed == (322 + 152) * categories.at("services").size());
  CHECK(failures == 0);
}

TEST_CASE("An unknown or missing category is INVALID_ARGUMENT on field category",
          "[routing]") {
  for (const std::string category : {"traffic.unicorn", ""}) {
    INFO("category '" << category << "'");
    absl::StatusOr<RouteDecision> d =
        Logic().Route(Request(category, kBenThanhLat, kBenThanhLon));
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == absl::StatusCode::kInvalidArgument);
    const std::vector<FieldViolation> violations = FieldViolationsOf(d.status());
    REQUIRE(violations.size() == 1);
    CHECK(violations[0].field == "category");
    if (!category.empty()) CHECK_THAT(violations[0].description, Catch::Contains(category));
  }
}

TEST_CASE("A place in Viet Nam without agencies goes to triage with its areas",
          "[routing]") {
  // Hải Châu, Đà Nẵng: in the district layer, but neither in a ward file nor covered by
  // the agency directory.
  const RouteDecision d = MustRoute("traffic.pothole", 16.0544, 108.2022);
  CHECK(d.unit().id() == "ioc.triage");
  CHECK(d.rule() == "triage:no_unit@province:48");
  CHECK(d.area().ward_code().empty());
  CHECK(d.area().district_code() == "492");
  CHECK(d.area().province_code() == "48");
  CHECK(d.priority() == civic::common::v1::PRIORITY_HIGH);

  // Lăng Bác, Hà Nội: a ward file covers it, the directory does not.
  const RouteDecision hanoi = MustRoute("public_order.noise", 21.03673, 105.83466);
  CHECK(hanoi.unit().id() == "ioc.triage");
  CHECK(hanoi.area().ward_code() == "00019");
}

TEST_CASE("A point outside Viet Nam gets an empty area and the triage unit",
          "[routing]") {
  const RouteDecision d = MustRoute("environment.flooding", 12.0, 111.0);
  CHECK(d.area().ByteSizeLong() == 0);
  CHECK(d.unit().id() == "ioc.triage");
  CHECK(d.unit().name_vi() == "Trung tâm điều hành (phân loại)");
  CHECK(d.unit().name_en() == "Operations centre triage");
  CHECK(d.rule() == "triage:outside_coverage");
  CHECK(d.priority() == civic::common::v1::PRIORITY_URGENT);
  CHECK(d.sla_hours() == 6);

  // A request without a location is (0, 0): also outside.
  RouteRequest no_location;
  no_location.set_category("traffic.pothole");
  absl::StatusOr<RouteDecision> none = Logic().Route(no_location);
  REQUIRE(none.ok());
  CHECK(none->unit().id() == "ioc.triage");
}

TEST_CASE("Resolve matches the README example", "[routing]") {
  const AdminArea area = Logic().Resolve(kBenThanhLat, kBenThanhLon);
  CHECK(area.ward_code() == "26743");
  CHECK(area.district_name() == "Quận 1");
  CHECK(Logic().Resolve(12.0, 111.0).ByteSizeLong() == 0);
}

TEST_CASE("RoutingLogic::Load reports missing files as NOT_FOUND naming the file",
          "[routing][errors]") {
  testing::TempDataDir dir;
  SECTION("a missing data dir") {
    auto logic = RoutingLogic::Load({.data_dir = dir.path() / "no-such-dir"});
    REQUIRE_FALSE(logic.ok());
    CHECK(logic.status().code() == absl::StatusCode::kNotFound);
    CHECK_THAT(std::string(logic.status().message()),
               Catch::Contains("no-such-dir") && Catch::Contains("wards-*.geojson"));
  }
  SECTION("a data dir without agencies.json") {
    const fs::path data = fs::absolute(testing::SharedDataDir());
    fs::create_directory_symlink(data / "boundaries", dir.path() / "boundaries");
    fs::create_symlink(data / "categories.json", dir.path() / "categories.json");
    auto logic = RoutingLogic::Load({.data_dir = dir.path()});
    REQUIRE_FALSE(logic.ok());
    CHECK(logic.status().code() == absl::StatusCode::kNotFound);
    CHECK_THAT(std::string(logic.status().message()), Catch::Contains("agencies.json"));
  }
}

TEST_CASE("A custom triage unit id is used", "[routing]") {
  auto logic = RoutingLogic::Load({.data_dir = testing::SharedDataDir(), .triage_unit_id = "x.triage"});
  REQUIRE(logic.ok());
  absl::StatusOr<RouteDecision> d = (*logic)->Route(Request("traffic.pothole", 12, 111));
  REQUIRE(d.ok());
  CHECK(d->unit().id() == "x.triage");
}

// --- Address-only reports ---

RouteRequest AddressRequest(const std::string& category, const std::string& address) {
  RouteRequest request;
  request.set_category(category);
  request.set_address(address);
  return request;
}

TEST_CASE("Without a location the address places the report", "[routing][address]") {
  absl::StatusOr<RouteDecision> d =
      Logic().Route(AddressRequest("traffic.pothole", "P.BẾN NGHÉ quận 1"));
  REQUIRE(d.ok());
  CHECK(d->area().ward_code() == "26740");
  CHECK(d->area().ward_name() == "Phường Bến Nghé");
  CHECK(d->area().district_name() == "Quận 1");
  CHECK(d->area_source() == civic::routing::v1::AREA_SOURCE_ADDRESS);
  CHECK(d->unit().id() == "hcm.district_pc.760");
  CHECK(d->rule() == "address:ward+district;primary:district_pc@district:760");

  d = Logic().Route(AddressRequest("public_order.noise", "phuong ben nghe"));
  REQUIRE(d.ok());
  CHECK(d->unit().id() == "hcm.ward_police.26740");
  CHECK(d->rule() == "address:ward;primary:ward_police@ward:26740");

  // A district alone: district-level routing.
  d = Logic().Route(AddressRequest("traffic.pothole", "q1"));
  REQUIRE(d.ok());
  CHECK(d->area().ward_code().empty());
  CHECK(d->area().district_code() == "760");
  CHECK(d->rule() == "address:district;primary:district_pc@district:760");

  // A ward number without its district: only the city is certain, and the rule says so.
  d = Logic().Route(AddressRequest("traffic.pothole", "Phường 15"));
  REQUIRE(d.ok());
  CHECK(d->area().ward_code().empty());
  CHECK(d->area().district_code().empty());
  CHECK(d->area().province_code() == "79");
  CHECK(d->rule() == "address:ambiguous;support:dept_transport@province:79");
  d = Logic().Route(AddressRequest("traffic.pothole", "Phường 15, Quận Tân Bình"));
  REQUIRE(d.ok());
  CHECK(d->area().ward_code() == "27007");
  CHECK(d->unit().id() == "hcm.district_pc.766");

  // Nothing recognisable: triage, with the reason.
  d = Logic().Route(AddressRequest("traffic.pothole", "123 Lê Lợi"));
  REQUIRE(d.ok());
  CHECK(d->area().ByteSizeLong() == 0);
  CHECK(d->area_source() == civic::routing::v1::AREA_SOURCE_NONE);
  CHECK(d->unit().id() == "ioc.triage");
  CHECK(d->rule() == "address:none;triage:outside_coverage");
}

TEST_CASE("The address is used only when the point lies in no ward", "[routing][address]") {
  // Inside a ward: the point wins over a contradicting address.
  RouteRequest request = Request("traffic.pothole", kCitadelLat, kCitadelLon);
  request.set_address("p. Bến Nghé, Q.1");
  absl::StatusOr<RouteDecision> d = Logic().Route(request);
  REQUIRE(d.ok());
  CHECK(d->area().ward_code() == "19765");
  CHECK(d->area_source() == civic::routing::v1::AREA_SOURCE_LOCATION);
  CHECK(d->rule() == "primary:district_pc@district:474");

  // Outside every ward (Hải Châu, Đà Nẵng has no ward file): the address names a ward.
  request = Request("traffic.pothole", 16.0544, 108.2022);
  request.set_address("Phường Phú Hội, TP Huế");
  d = Logic().Route(request);
  REQUIRE(d.ok());
  CHECK(d->area_source() == civic::routing::v1::AREA_SOURCE_ADDRESS);
  CHECK(d->area().district_code() == "474");
  CHECK_FALSE(d->area().ward_code().empty());
  CHECK(d->unit().id() == "hue.district_pc.474");

  // Outside every ward, and the address says no more than the point: the point stays.
  request.set_address("Thành phố Hồ Chí Minh");
  d = Logic().Route(request);
  REQUIRE(d.ok());
  CHECK(d->area_source() == civic::routing::v1::AREA_SOURCE_LOCATION);
  CHECK(d->area().district_code() == "492");
  CHECK(d->rule() == "triage:no_unit@province:48");
}

TEST_CASE("ResolveAddress answers the area and refuses empty or long addresses",
          "[routing][address]") {
  civic::routing::v1::ResolveAddressRequest request;
  request.set_address("Phường 15, Quận Tân Bình");
  absl::StatusOr<AdminArea> area = Logic().ResolveAddress(request);
  REQUIRE(area.ok());
  CHECK(area->ward_code() == "27007");
  CHECK(area->ward_name() == "Phường 15");
  CHECK(area->district_name() == "Quận Tân Bình");
  CHECK(area->province_code() == "79");

  request.set_address("không có địa danh nào");
  area = Logic().ResolveAddress(request);
  REQUIRE(area.ok());
  CHECK(area->ByteSizeLong() == 0);

  for (const std::string& bad : {std::string(), std::string(1001, 'a')}) {
    request.set_address(bad);
    area = Logic().ResolveAddress(request);
    REQUIRE(area.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldViolationsOf(area.status()).at(0).field == "address");
  }
}

// --- UnitDirectory on hand-made files ---

constexpr char kCategories[] = R"({
  "unit_types": [{"code": "ward_pc"}, {"code": "district_pc"}, {"code": "util_x"},
                 {"code": "ops_center"}],
  "services": [
    {"code": "t.district", "default_priority": "high", "default_sla_hours": 72,
     "routing": {"primary": ["district_pc"], "support": ["ward_pc"]}},
    {"code": "t.support", "default_priority": "low", "default_sla_hours": 168,
     "routing": {"primary": ["util_x"], "support": ["district_pc", "ward_pc"]}},
    {"code": "t.ops", "default_priority": "critical", "default_sla_hours": 1,
     "routing": {"primary": ["util_x"]}}
  ]})";

std::string Agency(const std::string& id, const std::string& type,
                   const std::string& level, const std::string& code) {
  return R"({"id": ")" + id + R"(", "unit_type": ")" + type + R"(", "unit_types": [")" +
         type + R"("], "name_vi": "VI )" + id + R"(", "name_en": "EN )" + id +
         R"(", "jurisdiction": {"level": ")" + level + R"(", "code": ")" + code + R"("}})";
}

const std::string kAgencies =
    R"({"agencies": [)" + Agency("p.ward_pc.00001", "ward_pc", "ward", "00001") + "," +
    Agency("p.district_pc.001", "district_pc", "district", "001") + "," +
    Agency("p.ops", "ops_center", "province", "01") + "," +
    Agency("q.util_x.province", "util_x", "province", "09") + "," +
    Agency("q.util_x.district", "util_x", "district", "009") + "," +
    Agency("r.b", "util_x", "province", "07") + "," +
    Agency("r.a", "util_x", "province", "07") + "]}";

AdminArea Area(const std::string& ward, const std::string& district,
               const std::string& province) {
  AdminArea area;
  area.set_ward_code(ward);
  area.set_district_code(district);
  area.set_province_code(province);
  return area;
}

std::unique_ptr<UnitDirectory> LoadDirectory(const testing::TempDataDir& dir) {
  auto directory =
      UnitDirectory::Load(dir.path() / "categories.json", dir.path() / "agencies.json");
  INFO(directory.status().ToString());
  REQUIRE(directory.ok());
  return *std::move(directory);
}

TEST_CASE("UnitDirectory falls back from primary to support to the ops centre",
          "[directory]") {
  testing::TempDataDir dir;
  dir.Write("categories.json", kCategories);
  dir.Write("agencies.json", kAgencies);
  const std::unique_ptr<UnitDirectory> directory = LoadDirectory(dir);
  CHECK(directory->unit_count() == 7);
  CHECK(directory->categories().size() == 3);

  const CategoryInfo* district = directory->FindCategory("t.district");
  const CategoryInfo* support = directory->FindCategory("t.support");
  const CategoryInfo* ops = directory->FindCategory("t.ops");
  REQUIRE(district != nullptr);
  REQUIRE(support != nullptr);
  REQUIRE(ops != nullptr);
  CHECK(directory->FindCategory("t.none") == nullptr);
  CHECK(district->priority == civic::common::v1::PRIORITY_HIGH);
  CHECK(ops->sla_hours == 1);

  const AdminArea home = Area("00001", "001", "01");
  UnitChoice choice = directory->Choose(*district, home);
  REQUIRE(choice.unit != nullptr);
  CHECK(choice.unit->id == "p.district_pc.001");
  CHECK(choice.rule == "primary:district_pc@district:001");

  choice = directory->Choose(*support, home);
  REQUIRE(choice.unit != nullptr);
  CHECK(choice.unit->id == "p.district_pc.001");
  CHECK(choice.rule == "support:district_pc@district:001");

  choice = directory->Choose(*ops, home);
  REQUIRE(choice.unit != nullptr);
  CHECK(choice.unit->id == "p.ops");
  CHECK(choice.rule == "fallback:ops_center@province:01");

  // A ward with no unit of its own, in a district that has one.
  choice = directory->Choose(*support, Area("00002", "001", "01"));
  REQUIRE(choice.unit != nullptr);
  CHECK(choice.unit->id == "p.district_pc.001");

  // No unit and no ops centre in the province: the caller's triage.
  choice = directory->Choose(*ops, Area("00099", "099", "02"));
  CHECK(choice.unit == nullptr);
  CHECK(choice.rule == "triage:no_unit@province:02");

  choice = directory->Choose(*ops, AdminArea());
  CHECK(choice.unit == nullptr);
  CHECK(choice.rule == "triage:outside_coverage");
}

TEST_CASE("UnitDirectory prefers the most local unit and breaks ties by id",
          "[directory]") {
  testing::TempDataDir dir;
  dir.Write("categories.json", kCategories);
  dir.Write("agencies.json", kAgencies);
  const std::unique_ptr<UnitDirectory> directory = LoadDirectory(dir);
  const CategoryInfo* ops = directory->FindCategory("t.ops");
  REQUIRE(ops != nullptr);

  UnitChoice choice = directory->Choose(*ops, Area("", "009", "09"));
  REQUIRE(choice.unit != nullptr);
  CHECK(choice.unit->id == "q.util_x.district");
  CHECK(choice.rule == "primary:util_x@district:009");

  choice = directory->Choose(*ops, Area("", "008", "09"));
  REQUIRE(choice.unit != nullptr);
  CHECK(choice.unit->id == "q.util_x.province");

  choice = directory->Choose(*ops, Area("", "", "07"));
  REQUIRE(choice.unit != nullptr);
  CHECK(choice.unit->id == "r.a");

  JurisdictionLevel level = JurisdictionLevel::kWard;
  CHECK(directory->FindLocal("util_x", Area("", "009", "09"), &level)->id ==
        "q.util_x.district");
  CHECK(level == JurisdictionLevel::kDistrict);
  CHECK(directory->FindLocal("no_such_type", Area("", "009", "09")) == nullptr);
  REQUIRE(directory->FindUnit("p.ops") != nullptr);
  CHECK(directory->FindUnit("p.ops")->name_en == "EN p.ops");
}

TEST_CASE("UnitDirectory::Load names the file and entry that is wrong", "[directory]") {
  testing::TempDataDir dir;
  dir.Write("agencies.json", kAgencies);
  SECTION("a missing categories file") {
    auto directory =
        UnitDirectory::Load(dir.path() / "categories.json", dir.path() / "agencies.json");
    REQUIRE_FALSE(directory.ok());
    CHECK(directory.status().code() == absl::StatusCode::kNotFound);
    CHECK_THAT(std::string(directory.status().message()),
               Catch::Contains("categories.json"));
  }
  SECTION("an unknown priority") {
    std::string text = kCategories;
    text.replace(text.find("\"high\""), 6, "\"asap\"");
    dir.Write("categories.json", text);
    auto directory =
        UnitDirectory::Load(dir.path() / "categories.json", dir.path() / "agencies.json");
    REQUIRE_FALSE(directory.ok());
    CHECK(directory.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(directory.status().message()),
               Catch::Contains("categories.json") && Catch::Contains("t.district") &&
                   Catch::Contains("asap"));
  }
  SECTION("a routing rule with an undeclared unit type") {
    std::string text = kCategories;
    text.replace(text.find("[\"util_x\"]}"), 10, "[\"util_y\"]");
    dir.Write("categories.json", text);
    auto directory =
        UnitDirectory::Load(dir.path() / "categories.json", dir.path() / "agencies.json");
    REQUIRE_FALSE(directory.ok());
    CHECK(directory.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(directory.status().message()), Catch::Contains("util_y"));
  }
  SECTION("malformed agencies JSON") {
    dir.Write("categories.json", kCategories);
    dir.Write("agencies.json", "{\"agencies\": [}");
    auto directory =
        UnitDirectory::Load(dir.path() / "categories.json", dir.path() / "agencies.json");
    REQUIRE_FALSE(directory.ok());
    CHECK(directory.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(directory.status().message()), Catch::Contains("agencies.json"));
  }
  SECTION("a duplicate agency id") {
    dir.Write("categories.json", kCategories);
    dir.Write("agencies.json", R"({"agencies": [)" +
                                   Agency("a", "ward_pc", "ward", "00001") + "," +
                                   Agency("a", "ward_pc", "ward", "00002") + "]}");
    auto directory =
        UnitDirectory::Load(dir.path() / "categories.json", dir.path() / "agencies.json");
    REQUIRE_FALSE(directory.ok());
    CHECK(directory.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(directory.status().message()), Catch::Contains("duplicate"));
  }
}

}  // namespace
}  // namespace civic::routing
