// Checks address-only resolution on the real names: spellings with and without
// diacritics and prefixes, districts alone, ambiguous ward numbers, every ward of HCMC
// and Huế from its own name and district, and the sample reports' typed addresses.
#include "services/routing/address_resolver.h"

#include <string>

#include <catch2/catch.hpp>

#include "services/routing/test_data.h"

namespace civic::routing {
namespace {

using testing::ReadJsonFile;
using testing::SharedDataDir;
using testing::SharedGeo;

const AddressResolver& Resolver() {
  static const AddressResolver* const resolver = new AddressResolver(*SharedGeo());
  return *resolver;
}

std::string Describe(const AddressMatch& m) {
  if (m.area == nullptr) return std::string(AddressOutcomeName(m.outcome)) + " (no area)";
  return std::string(AddressOutcomeName(m.outcome)) + " ward '" + m.area->ward_code +
         "' district '" + m.area->district_code + "' province '" + m.area->province_code +
         "'";
}

TEST_CASE("FoldForSearch drops diacritics, case and punctuation", "[address]") {
  CHECK(FoldForSearch("Phường Bến Nghé") == "phuong ben nghe");
  CHECK(FoldForSearch("P.BẾN NGHÉ, Q.1") == "p ben nghe , q 1");
  CHECK(FoldForSearch("Đống Đa; đường") == "dong da , duong");
  CHECK(FoldForSearch("q1 P15 f.07") == "q 1 p 15 f 7");
  CHECK(FoldForSearch("Thuỷ Biều") == FoldForSearch("Thủy Biều"));
  CHECK(FoldForSearch("ＴＰ.ＨＣＭ") == "tp hcm");  // full-width forms
  CHECK(FoldForSearch(", ,Huế,") == "hue");
  CHECK(FoldForSearch("") == "");
  CHECK(FoldForSearch("\xff\xfe bad utf-8") == "bad utf 8");
}

TEST_CASE("Bến Nghé is found however it is typed", "[address]") {
  for (const char* address :
       {"phuong ben nghe", "Phường Bến Nghé", "p. Bến Nghé, Q.1", "P.BẾN NGHÉ quận 1",
        "P.Bến Nghé", "ben nghe quan 1", "Bến Nghé, Quận 1, TP.HCM",
        "Ben Nghe Ward, District 1, HCMC", "12 Hai Bà Trưng, Phường Bến Nghé"}) {
    const AddressMatch m = Resolver().Resolve(address);
    INFO(address << " → " << Describe(m));
    REQUIRE(m.area != nullptr);
    CHECK(m.area->ward_code == "26740");
    CHECK(m.area->district_code == "760");
    CHECK(m.area->province_code == "79");
  }
  CHECK(Resolver().Resolve("phuong ben nghe").outcome == AddressOutcome::kWard);
  CHECK(Resolver().Resolve("p. Bến Nghé, Q.1").outcome == AddressOutcome::kWardInDistrict);
}

TEST_CASE("A ward number resolves only with its district", "[address]") {
  for (const char* address : {"Phường 15, Quận Tân Bình", "phuong 15 quan tan binh",
                              "F15 Q.Tân Bình", "P.15, Q. Tân Bình, TP HCM"}) {
    const AddressMatch m = Resolver().Resolve(address);
    INFO(address << " → " << Describe(m));
    REQUIRE(m.area != nullptr);
    CHECK(m.area->ward_code == "27007");
    CHECK(m.outcome == AddressOutcome::kWardInDistrict);
  }
  // Eight HCMC districts have a Phường 15: only the city is certain.
  const AddressMatch alone = Resolver().Resolve("Phường 15");
  INFO(Describe(alone));
  CHECK(alone.outcome == AddressOutcome::kAmbiguous);
  REQUIRE(alone.area != nullptr);
  CHECK(alone.area->ward_code.empty());
  CHECK(alone.area->district_code.empty());
  CHECK(alone.area->province_code == "79");
}

TEST_CASE("Districts and provinces alone", "[address]") {
  struct Case {
    const char* address;
    AddressOutcome outcome;
    const char* district;
    const char* province;
  };
  const Case kCases[] = {
      {"q1", AddressOutcome::kDistrict, "760", "79"},
      {"Q.1", AddressOutcome::kDistrict, "760", "79"},
      {"quận 1", AddressOutcome::kDistrict, "760", "79"},
      {"District 1", AddressOutcome::kDistrict, "760", "79"},
      {"TP Huế", AddressOutcome::kDistrict, "474", "46"},
      {"Thành phố Huế", AddressOutcome::kDistrict, "474", "46"},
      {"Hue City", AddressOutcome::kDistrict, "474", "46"},
      {"TP Nam Định", AddressOutcome::kDistrict, "356", "36"},
      // The province and its capital share the words: only the province is certain.
      {"Nam Định", AddressOutcome::kProvince, "", "36"},
      {"Thừa Thiên Huế", AddressOutcome::kProvince, "", "46"},
      {"TP.HCM", AddressOutcome::kProvince, "", "79"},
      {"Sài Gòn", AddressOutcome::kProvince, "", "79"},
  };
  for (const Case& c : kCases) {
    const AddressMatch m = Resolver().Resolve(c.address);
    INFO(c.address << " → " << Describe(m));
    CHECK(m.outcome == c.outcome);
    REQUIRE(m.area != nullptr);
    CHECK(m.area->ward_code.empty());
    CHECK(m.area->district_code == c.district);
    CHECK(m.area->province_code == c.province);
  }
}

TEST_CASE("Street names and noise name no area", "[address]") {
  for (const char* address : {"123 Lê Lợi", "Xa lộ Hà Nội", "", "   ,;  ", "hẻm 15/35",
                              "Quận", "Phường"}) {
    const AddressMatch m = Resolver().Resolve(address);
    INFO("'" << address << "' → " << Describe(m));
    CHECK(m.area == nullptr);
  }
}

TEST_CASE("Names differing only by diacritics need them", "[address]") {
  // Thị xã Hương Trà has both Phường Hương Văn (20011) and Phường Hương Vân.
  const AddressMatch exact = Resolver().Resolve("Phường Hương Văn, Thị xã Hương Trà");
  REQUIRE(exact.area != nullptr);
  CHECK(exact.area->ward_code == "20011");
  const AddressMatch plain = Resolver().Resolve("phuong huong van, tx huong tra");
  INFO(Describe(plain));
  CHECK(plain.outcome == AddressOutcome::kAmbiguous);
  REQUIRE(plain.area != nullptr);
  CHECK(plain.area->ward_code.empty());
  CHECK(plain.area->district_code == "480");
}

TEST_CASE("Every ward of HCMC and Huế is found from its name and district", "[address]") {
  size_t checked = 0;
  size_t failures = 0;
  for (const char* file : {"wards-ho-chi-minh.geojson", "wards-thua-thien-hue.geojson"}) {
    const nlohmann::json wards = ReadJsonFile(SharedDataDir() / "boundaries" / file);
    for (const nlohmann::json& ward : wards.at("features")) {
      const nlohmann::json& props = ward.at("properties");
      const std::string code = props.at("code").get<std::string>();
      const std::string address = props.at("name_full").get<std::string>() + ", " +
                                  props.at("district_name").get<std::string>();
      const AddressMatch m = Resolver().Resolve(address);
      ++checked;
      const bool good = m.area != nullptr && m.area->ward_code == code &&
                        m.outcome == AddressOutcome::kWardInDistrict;
      if (!good && failures++ < 10) {
        INFO(address << " (" << code << ") → " << Describe(m));
        CHECK(good);
      }
    }
  }
  CHECK(checked == 322 + 152);
  CHECK(failures == 0);
}

TEST_CASE("The sample reports' typed addresses name their true ward", "[address]") {
  std::ifstream in(SharedDataDir() / "reports-sample.jsonl");
  REQUIRE(in.good());
  std::string line;
  size_t checked = 0;
  size_t failures = 0;
  while (std::getline(in, line)) {
    const nlohmann::json report = nlohmann::json::parse(line);
    auto address = report.find("address_text");
    if (address == report.end() || !address->is_string()) continue;
    const std::string truth = report.at("_truth").at("ward_code").get<std::string>();
    const AddressMatch m = Resolver().Resolve(address->get<std::string>());
    ++checked;
    const bool good = m.area != nullptr && m.area->ward_code == truth;
    if (!good && failures++ < 10) {
      INFO(address->get<std::string>() << " (" << truth << ") → " << Describe(m));
      CHECK(good);
    }
  }
  CHECK(checked > 1000);
  CHECK(failures == 0);
}

TEST_CASE("FindArea looks codes up by level", "[address]") {
  const AreaRecord* ward = Resolver().FindArea(AdminLevel::kWard, "26743");
  REQUIRE(ward != nullptr);
  CHECK(ward->ward_name == "Phường Bến Thành");
  const AreaRecord* district = Resolver().FindArea(AdminLevel::kDistrict, "760");
  REQUIRE(district != nullptr);
  CHECK(district->district_name == "Quận 1");
  CHECK(district->ward_code.empty());
  CHECK(Resolver().FindArea(AdminLevel::kProvince, "46") != nullptr);
  CHECK(Resolver().FindArea(AdminLevel::kWard, "760") == nullptr);
  CHECK(Resolver().FindArea(AdminLevel::kDistrict, "") == nullptr);
}

}  // namespace
}  // namespace civic::routing
