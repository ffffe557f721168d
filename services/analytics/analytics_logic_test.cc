#include "services/analytics/analytics_logic.h"

#include <catch2/catch.hpp>

#include "libs/storage/test_dir.h"

namespace civic::analytics {
namespace {

common::v1::CaseEvent Opened(const std::string& category, const std::string& district) {
  common::v1::CaseEvent e;
  e.set_type(common::v1::CASE_EVENT_TYPE_OPENED);
  e.set_category(category);
  e.mutable_area()->set_district_code(district);
  e.mutable_area()->set_district_name(district == "760" ? "Quận 1" : "Thành phố Huế");
  return e;
}

TEST_CASE("opened cases are counted by category and district, with filters",
          "[analytics]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), AnalyticsKeyspaces()}));
  AnalyticsLogic logic(store.get());
  const std::vector<common::v1::CaseEvent> events = {
      Opened("traffic.pothole", "760"), Opened("traffic.pothole", "760"),
      Opened("traffic.pothole", "474"), Opened("environment.flooding", "474")};
  for (const auto& e : events) {
    storage::Batch batch(store.get());
    REQUIRE(logic.Apply(e, batch).ok());
    REQUIRE(store->Write(batch).ok());
  }
  common::v1::CaseEvent reply = Opened("traffic.pothole", "760");
  reply.set_type(common::v1::CASE_EVENT_TYPE_REPLIED);
  storage::Batch batch(store.get());
  REQUIRE(logic.Apply(reply, batch).ok());
  REQUIRE(batch.empty());

  auto all = logic.Counts({});
  REQUIRE(all->total_opened() == 4);
  REQUIRE(all->counts_size() == 3);
  v1::GetCaseCountsRequest potholes;
  potholes.set_category("traffic.pothole");
  REQUIRE(logic.Counts(potholes)->total_opened() == 3);
  potholes.set_district_code("760");
  auto q1 = logic.Counts(potholes);
  REQUIRE(q1->total_opened() == 2);
  REQUIRE(q1->counts(0).district_name() == "Quận 1");
  v1::GetCaseCountsRequest hue;
  hue.set_district_code("474");
  REQUIRE(logic.Counts(hue)->total_opened() == 2);
}

}  // namespace
}  // namespace civic::analytics
