// The report categories (categories.json) and the agency directory (agencies.json),
// indexed so that choosing the responsible unit for a category in an area is a few map
// lookups.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "civic/common/v1/common.pb.h"

namespace civic::routing {

// Unit type of the province's report intake & dispatch centre (1022, IOC Hue-S): the
// owner of a report when no unit type of its category has a unit for the place.
inline constexpr char kOpsCentreUnitType[] = "ops_center";

// One entry of categories.json `services`.
struct CategoryInfo {
  std::string code;  // e.g. "traffic.pothole"
  std::string name_vi;
  std::string name_en;
  civic::common::v1::Priority priority = civic::common::v1::PRIORITY_UNSPECIFIED;
  double sla_hours = 0;               // default_sla_hours
  std::vector<std::string> primary;   // routing.primary unit types, most preferred first
  std::vector<std::string> support;   // routing.support unit types, in order
};

// The level of an agency's jurisdiction, most local first.
enum class JurisdictionLevel { kWard = 0, kDistrict = 1, kProvince = 2 };

// One entry of agencies.json `agencies`.
struct UnitInfo {
  std::string id;  // e.g. "hcm.district_pc.760"
  std::string name_vi;
  std::string name_en;
  std::vector<std::string> unit_types;  // unit_types plus unit_type, deduplicated
  JurisdictionLevel level = JurisdictionLevel::kProvince;
  std::string jurisdiction_code;  // GSO code of the area covered, at `level`
};

// The outcome of UnitDirectory::Choose().
struct UnitChoice {
  // The responsible unit, or nullptr when the directory has none for the place (the
  // caller then routes to its triage unit).
  const UnitInfo* unit = nullptr;
  // How it was chosen, e.g. "primary:district_pc@district:760",
  // "support:ward_pc@ward:26743", "fallback:ops_center@province:79", or for a null
  // unit "triage:no_unit@province:48" / "triage:outside_coverage".
  std::string rule;
};

// Immutable after Load(); every const method is safe to call from many threads at once.
class UnitDirectory {
 public:
  // Parses both files. NOT_FOUND when a file cannot be opened; INVALID_ARGUMENT naming
  // the file and entry when the JSON is malformed, a required field is missing, a
  // priority or jurisdiction level is unknown, a routing rule or an agency names a unit
  // type that categories.json does not declare, or a category code or agency id repeats.
  static absl::StatusOr<std::unique_ptr<UnitDirectory>> Load(
      const std::filesystem::path& categories_json,
      const std::filesystem::path& agencies_json);

  UnitDirectory(const UnitDirectory&) = delete;
  UnitDirectory& operator=(const UnitDirectory&) = delete;
  ~UnitDirectory();

  // The category with `code`, or nullptr when categories.json has none.
  const CategoryInfo* FindCategory(std::string_view code) const;

  // The most local unit of `unit_type` whose jurisdiction contains `area` (ward, else
  // district, else province of the area), or nullptr. Sets `*level` to the level that
  // matched when non-null.
  const UnitInfo* FindLocal(std::string_view unit_type,
                            const civic::common::v1::AdminArea& area,
                            JurisdictionLevel* level = nullptr) const;

  // The unit responsible for `category` in `area`: the first routing.primary type with
  // a unit for the area (FindLocal), else the first routing.support type with one, else
  // the province's ops centre; unit == nullptr when none of those exists.
  UnitChoice Choose(const CategoryInfo& category,
                    const civic::common::v1::AdminArea& area) const;

  // The unit with `id`, or nullptr.
  const UnitInfo* FindUnit(std::string_view id) const;

  const std::vector<CategoryInfo>& categories() const { return categories_; }
  size_t unit_count() const { return units_.size(); }

 private:
  // Unit indices of one unit type, keyed by jurisdiction code, one map per level.
  using CodeIndex = std::map<std::string, size_t, std::less<>>;
  using TypeIndex = std::array<CodeIndex, 3>;

  UnitDirectory() = default;

  std::vector<CategoryInfo> categories_;
  std::map<std::string, size_t, std::less<>> category_by_code_;
  std::vector<UnitInfo> units_;
  std::map<std::string, size_t, std::less<>> unit_by_id_;
  std::map<std::string, TypeIndex, std::less<>> units_by_type_;
};

}  // namespace civic::routing
