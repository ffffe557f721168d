// The published catalogue (ListCategories / GetCategory, Open311's services) keeps
// everything categories.json says about a category, in a stable order.
#include "services/intake/catalog.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "services/intake/test_support.h"

namespace civic::intake {
namespace {

TEST_CASE("The published catalogue keeps every category with names, attributes and values",
          "[catalog]") {
  absl::StatusOr<std::unique_ptr<Catalog>> loaded = Catalog::Load(SharedData() / "categories.json");
  REQUIRE(loaded.ok());
  const Catalog& catalog = **loaded;
  REQUIRE(catalog.Published().size() == 34);
  REQUIRE(catalog.Published().size() == catalog.size());

  // By group in the file's order, then by code.
  CHECK(catalog.Published().front().code() == "construction.dangerous_structure");
  CHECK(catalog.Published().back().group() == "emergency");
  std::set<std::string> codes;
  for (size_t i = 0; i < catalog.Published().size(); ++i) {
    codes.insert(catalog.Published()[i].code());
    if (i > 0 && catalog.Published()[i].group() == catalog.Published()[i - 1].group()) {
      CHECK(catalog.Published()[i - 1].code() < catalog.Published()[i].code());
    }
  }
  CHECK(codes.size() == 34);

  const v1::Category* flooding = catalog.FindPublished("environment.flooding");
  REQUIRE(flooding != nullptr);
  CHECK(flooding->name_vi() == "Ngập nước");
  CHECK(flooding->name_en() == "Flooding / waterlogging");
  CHECK(flooding->group_name_vi() == "Môi trường");
  CHECK(flooding->group_name_en() == "Environment");
  CHECK(flooding->description_vi() ==
        "Đường, khu dân cư bị ngập do mưa, triều cường, lũ; nước "
        "rút chậm.");
  CHECK(flooding->type() == "realtime");
  CHECK(flooding->default_priority() == common::v1::PRIORITY_URGENT);
  CHECK(flooding->default_sla_hours() == 6);
  CHECK_FALSE(flooding->is_emergency());
  CHECK(flooding->emergency_hotline().empty());  // null in the file
  CHECK(flooding->keywords_size() == 6);
  REQUIRE(flooding->attributes_size() == 3);
  const v1::CategoryAttribute& depth = flooding->attributes(0);
  CHECK(depth.code() == "water_depth");
  CHECK(depth.datatype() == "singlevaluelist");
  CHECK(depth.required());
  CHECK(depth.variable());
  CHECK(depth.order() == 1);
  CHECK(depth.description_en() == "Water depth");
  CHECK(depth.description_vi() == "Độ sâu ngập");
  CHECK(depth.datatype_description().empty());  // null in the file
  REQUIRE(depth.values_size() == 4);
  CHECK(depth.values(1).key() == "10_30");
  CHECK(depth.values(1).name_en() == "10–30 cm (calf)");
  CHECK(depth.values(1).name_vi() == "10–30 cm (ngang bắp chân)");

  const v1::Category* fire = catalog.FindPublished("emergency.fire");
  REQUIRE(fire != nullptr);
  CHECK(fire->is_emergency());
  CHECK(fire->emergency_hotline() == "114");
  CHECK(fire->default_priority() == common::v1::PRIORITY_CRITICAL);

  const v1::Category* building = catalog.FindPublished("construction.illegal_building");
  REQUIRE(building != nullptr);
  CHECK(building->attributes(2).datatype() == "number");
  CHECK(building->attributes(2).datatype_description() == "integer 1-50");

  CHECK(catalog.FindPublished("no.such") == nullptr);
}

}  // namespace
}  // namespace civic::intake
