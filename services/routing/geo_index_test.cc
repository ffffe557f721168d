// Checks point → ward/district/province against the real boundary files: landmarks,
// the report sample's ground truth, every ward's label point, places outside the ward
// files and outside Viet Nam, border ties, and load errors.
#include "services/routing/geo_index.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "services/routing/test_data.h"

namespace civic::routing {
namespace {

namespace fs = std::filesystem;
using civic::common::v1::AdminArea;

constexpr char kSquare[] = R"({"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"code": "%CODE%", "name": "Square",
    "district_code": "001", "district_name": "Quận Một", "province_code": "01",
    "province_name": "Tỉnh Một"},
   "geometry": {"type": "Polygon",
    "coordinates": [[[100, 10], [101, 10], [101, 11], [100, 11], [100, 10]]]}}]})";

std::string Square(const std::string& code) {
  std::string text = kSquare;
  text.replace(text.find("%CODE%"), 6, code);
  return text;
}

TEST_CASE("GeoIndex loads every ward file and the district and province layers",
          "[geo]") {
  const GeoIndex& index = *testing::SharedGeo();
  // 322 HCMC + 152 Thừa Thiên Huế + 584 Hà Nội + 229 Nam Định (README).
  CHECK(index.ward_count() == 1287);
  CHECK(index.district_count() == 710);
  CHECK(index.province_count() == 63);
}

TEST_CASE("Landmarks from the data README resolve to their wards", "[geo]") {
  struct Landmark {
    const char* name;
    double lat;
    double lon;
    const char* ward_code;
    const char* ward_name;
    const char* district_name;
    const char* province_code;
  };
  const Landmark kLandmarks[] = {
      {"Huế citadel", 16.4698, 107.5786, "19765", "Phường Thuận Thành", "Thành phố Huế", "46"},
      {"Chợ Bến Thành", 10.7725, 106.6980, "26743", "Phường Bến Thành", "Quận 1", "79"},
      {"Nhà thờ Đức Bà", 10.77978, 106.69902, "26740", "Phường Bến Nghé", "Quận 1", "79"},
      {"Lăng Chủ tịch Hồ Chí Minh", 21.03673, 105.83466, "00019", "Phường Điện Biên",
       "Quận Ba Đình", "01"},
      {"Hồ Hoàn Kiếm", 21.02875, 105.85228, "00070", "Phường Hàng Trống", "Quận Hoàn Kiếm",
       "01"},
      {"Chợ Đông Ba", 16.47303, 107.58774, "19768", "Phường Phú Hòa", "Thành phố Huế", "46"},
      {"Tân Sơn Nhất", 10.8188, 106.6520, "27007", "Phường 15", "Quận Tân Bình", "79"},
  };
  const GeoIndex& index = *testing::SharedGeo();
  for (const Landmark& l : kLandmarks) {
    INFO(l.name << " (" << l.lat << ", " << l.lon << ")");
    const AdminArea area = index.Resolve(l.lat, l.lon);
    CHECK(area.ward_code() == l.ward_code);
    CHECK(area.ward_name() == l.ward_name);
    CHECK(area.district_name() == l.district_name);
    CHECK(area.province_code() == l.province_code);
  }
}

TEST_CASE("Chợ Bến Thành resolves to all six fields", "[geo]") {
  const AdminArea area = testing::SharedGeo()->Resolve(10.7725, 106.6980);
  CHECK(area.ward_code() == "26743");
  CHECK(area.ward_name() == "Phường Bến Thành");
  CHECK(area.district_code() == "760");
  CHECK(area.district_name() == "Quận 1");
  CHECK(area.province_code() == "79");
  CHECK(area.province_name() == "Thành phố Hồ Chí Minh");
}

TEST_CASE("Every report in the sample resolves to its ground-truth ward", "[geo]") {
  const GeoIndex& index = *testing::SharedGeo();
  std::ifstream in(testing::SharedDataDir() / "reports-sample.jsonl");
  REQUIRE(in.good());
  int total = 0;
  int wrong = 0;
  std::ostringstream first_wrong;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const nlohmann::json report = nlohmann::json::parse(line);
    const nlohmann::json& truth = report.at("_truth");
    const AdminArea area =
        index.Resolve(report.at("lat").get<double>(), report.at("lon").get<double>());
    ++total;
    if (area.ward_code() != truth.at("ward_code").get<std::string>() ||
        area.district_code() != truth.at("district_code").get<std::string>() ||
        area.province_code() != truth.at("province_code").get<std::string>()) {
      if (wrong++ < 5) {
        first_wrong << report.at("id").get<std::string>() << ": want "
                    << truth.at("ward_code").get<std::string>() << ", got '"
                    << area.ward_code() << "'; ";
      }
    }
  }
  INFO(wrong << " of " << total << " reports resolved to another ward: "
             << first_wrong.str());
  CHECK(total >= 300);
  CHECK(wrong == 0);
}

TEST_CASE("Every ward's label point resolves to that ward", "[geo]") {
  const GeoIndex& index = *testing::SharedGeo();
  const char* kFiles[] = {"wards-ho-chi-minh.geojson", "wards-thua-thien-hue.geojson",
                          "wards-ha-noi.geojson", "wards-nam-dinh.geojson"};
  size_t checked = 0;
  for (const char* file : kFiles) {
    const nlohmann::json wards = testing::ReadJsonFile(testing::SharedDataDir() / "boundaries" / file);
    for (const nlohmann::json& feature : wards.at("features")) {
      const nlohmann::json& props = feature.at("properties");
      const double lon = props.at("label_point").at(0).get<double>();
      const double lat = props.at("label_point").at(1).get<double>();
      const AdminArea area = index.Resolve(lat, lon);
      INFO(file << " ward " << props.at("code").get<std::string>() << " label point ("
                << lat << ", " << lon << ")");
      CHECK(area.ward_code() == props.at("code").get<std::string>());
      CHECK(area.district_code() == props.at("district_code").get<std::string>());
      ++checked;
    }
  }
  CHECK(checked == index.ward_count());
}

TEST_CASE("A point outside the ward files gets its district and province only",
          "[geo]") {
  // Hải Châu, Đà Nẵng: no ward file covers Đà Nẵng.
  const AdminArea area = testing::SharedGeo()->Resolve(16.0544, 108.2022);
  CHECK(area.ward_code().empty());
  CHECK(area.ward_name().empty());
  CHECK(area.district_code() == "492");
  CHECK(area.district_name() == "Quận Hải Châu");
  CHECK(area.province_code() == "48");
  CHECK(area.province_name() == "Thành phố Đà Nẵng");
}

TEST_CASE("Points outside Viet Nam resolve to an empty area", "[geo]") {
  const GeoIndex& index = *testing::SharedGeo();
  struct Place {
    const char* name;
    double lat;
    double lon;
  };
  const double kNaN = std::numeric_limits<double>::quiet_NaN();
  const Place kPlaces[] = {{"South China Sea", 12.0, 111.0},
                           {"Bangkok", 13.75, 100.5},
                           {"null island", 0, 0},
                           {"not a number", kNaN, 106.7},
                           {"out of range", 400, -900}};
  for (const Place& p : kPlaces) {
    INFO(p.name);
    const AdminArea area = index.Resolve(p.lat, p.lon);
    CHECK(area.ByteSizeLong() == 0);
    CHECK(index.Locate(p.lat, p.lon) == nullptr);
  }
}

TEST_CASE("A point on a shared border resolves to the lowest ward code", "[geo]") {
  // A vertex shared by the rings of Bến Nghé (26740) and Bến Thành (26743).
  const GeoIndex& index = *testing::SharedGeo();
  for (int i = 0; i < 3; ++i) {
    CHECK(index.Resolve(10.7758, 106.6991).ward_code() == "26740");
  }
}

TEST_CASE("Locate returns records owned by the index", "[geo]") {
  const GeoIndex& index = *testing::SharedGeo();
  const AreaRecord* ward = index.Locate(10.7725, 106.6980);
  REQUIRE(ward != nullptr);
  CHECK(ward->ward_code == "26743");
  CHECK(index.Locate(10.7725, 106.6980) == ward);
  const AreaRecord* district = index.Locate(16.0544, 108.2022);
  REQUIRE(district != nullptr);
  CHECK(district->ward_code.empty());
  CHECK(district->district_code == "492");
}

TEST_CASE("GeoIndex::FindFiles reports missing files as NOT_FOUND", "[geo][errors]") {
  testing::TempDataDir dir;
  auto missing_dir = GeoIndex::FindFiles(dir.path() / "does-not-exist");
  REQUIRE_FALSE(missing_dir.ok());
  CHECK(missing_dir.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(missing_dir.status().message()),
             Catch::Contains("wards-*.geojson"));

  auto no_wards = GeoIndex::FindFiles(dir.path());
  REQUIRE_FALSE(no_wards.ok());
  CHECK(no_wards.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(no_wards.status().message()), Catch::Contains("wards-*.geojson"));

  dir.Write("wards-test.geojson", Square("00001"));
  auto no_districts = GeoIndex::FindFiles(dir.path());
  REQUIRE_FALSE(no_districts.ok());
  CHECK(no_districts.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(no_districts.status().message()),
             Catch::Contains("vn-districts.geojson"));
}

TEST_CASE("GeoIndex::Load names the file and feature that is malformed",
          "[geo][errors]") {
  testing::TempDataDir dir;
  dir.Write("vn-districts.geojson", Square("001"));
  dir.Write("vn-provinces.geojson", Square("01"));

  SECTION("a small valid set loads and answers") {
    dir.Write("wards-a.geojson", Square("00001"));
    auto index = GeoIndex::LoadDir(dir.path());
    INFO(index.status().ToString());
    REQUIRE(index.ok());
    CHECK((*index)->Resolve(10.5, 100.5).ward_code() == "00001");
    CHECK((*index)->Resolve(10, 100).ward_code() == "00001");  // corner: covered
    CHECK((*index)->Resolve(9.5, 100.5).ByteSizeLong() == 0);
  }
  SECTION("invalid JSON") {
    dir.Write("wards-a.geojson", "{\"features\": [");
    auto index = GeoIndex::LoadDir(dir.path());
    REQUIRE_FALSE(index.ok());
    CHECK(index.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(index.status().message()), Catch::Contains("wards-a.geojson"));
  }
  SECTION("a missing property") {
    std::string text = Square("00001");
    text.replace(text.find("\"district_code\""), 15, "\"district_id\"");
    dir.Write("wards-a.geojson", text);
    auto index = GeoIndex::LoadDir(dir.path());
    REQUIRE_FALSE(index.ok());
    CHECK(index.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(index.status().message()),
               Catch::Contains("wards-a.geojson") && Catch::Contains("district_code") &&
                   Catch::Contains("00001"));
  }
  SECTION("a geometry that is not a polygon") {
    std::string text = Square("00001");
    text.replace(text.find("\"Polygon\""), 9, "\"LineString\"");
    dir.Write("wards-a.geojson", text);
    auto index = GeoIndex::LoadDir(dir.path());
    REQUIRE_FALSE(index.ok());
    CHECK(index.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(index.status().message()), Catch::Contains("LineString"));
  }
  SECTION("the same ward code in two files") {
    dir.Write("wards-a.geojson", Square("00001"));
    dir.Write("wards-b.geojson", Square("00001"));
    auto index = GeoIndex::LoadDir(dir.path());
    REQUIRE_FALSE(index.ok());
    CHECK(index.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(index.status().message()),
               Catch::Contains("duplicate") && Catch::Contains("00001"));
  }
}

}  // namespace
}  // namespace civic::routing
