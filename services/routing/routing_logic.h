// The routing service's logic without any transport: where a point lies (ward,
// district, province) and which unit handles a category there.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "civic/common/v1/common.pb.h"
#include "civic/routing/v1/routing.pb.h"

namespace civic::routing {

class GeoIndex;
class UnitDirectory;

struct RoutingLogicOptions {
  std::filesystem::path data_dir;  // contains boundaries/, categories.json, agencies.json
  std::string triage_unit_id = "ioc.triage";  // last resort when no unit matches
};

// Immutable after Load(); every const method is safe to call from many threads at once.
class RoutingLogic {
 public:
  // Loads boundaries/wards-*.geojson (all ward files present),
  // boundaries/vn-districts.geojson, boundaries/vn-provinces.geojson, categories.json,
  // agencies.json. Errors: NOT_FOUND / INVALID_ARGUMENT naming the file and what is
  // wrong.
  static absl::StatusOr<std::unique_ptr<RoutingLogic>> Load(
      const RoutingLogicOptions& options);

  RoutingLogic(const RoutingLogic&) = delete;
  RoutingLogic& operator=(const RoutingLogic&) = delete;
  ~RoutingLogic();

  // Point → areas. Inside a ward file: all six fields. Outside the ward files but inside
  // a district/province polygon: the district and province fields only. Outside Viet
  // Nam (or a non-finite coordinate): empty. Points on a border resolve to the lowest
  // code.
  civic::common::v1::AdminArea Resolve(double lat, double lon) const;

  // INVALID_ARGUMENT (a civic::FieldErrors violation on field "category") for an empty
  // or unknown category code; otherwise always a decision: the unit chosen by the
  // category's routing.primary then routing.support unit types (most local
  // jurisdiction containing the point), else the province's ops centre, else the
  // triage unit. `rule` names the path taken, e.g. "primary:district_pc@district:760".
  absl::StatusOr<civic::routing::v1::RouteDecision> Route(
      const civic::routing::v1::RouteRequest& request) const;

  // True if `code` is a category in categories.json.
  bool HasCategory(std::string_view code) const;

  size_t ward_count() const;
  size_t unit_count() const;

 private:
  RoutingLogic(RoutingLogicOptions options, std::unique_ptr<GeoIndex> geo,
               std::unique_ptr<UnitDirectory> directory);

  RoutingLogicOptions options_;
  std::unique_ptr<GeoIndex> geo_;
  std::unique_ptr<UnitDirectory> directory_;
};

}  // namespace civic::routing
