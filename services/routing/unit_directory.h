// The report categories (categories.json) and the unit directory (seeded from
// agencies.json, then kept in routing's store), indexed so that choosing the
// responsible unit for a category in an area is a few map lookups. The choice made here
// is the default rule set: what routes a report when no published rule matches.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "civic/common/v1/common.pb.h"
#include "services/routing/geo_index.h"

namespace civic::routing {

// Unit type of the province's report intake & dispatch centre (1022, IOC Hue-S): the
// owner of a report when no unit type of its category has a unit for the place.
inline constexpr char kOpsCentreUnitType[] = "ops_center";

// One entry of categories.json `services`.
struct CategoryInfo {
  std::string code;  // e.g. "traffic.pothole"
  std::string group;  // e.g. "traffic"; empty when categories.json gives none
  std::string name_vi;
  std::string name_en;
  civic::common::v1::Priority priority = civic::common::v1::PRIORITY_UNSPECIFIED;
  double sla_hours = 0;               // default_sla_hours
  std::vector<std::string> primary;   // routing.primary unit types, most preferred first
  std::vector<std::string> support;   // routing.support unit types, in order
};

// The level of an agency's jurisdiction, most local first.
using JurisdictionLevel = AdminLevel;

// One unit of the directory: an entry of agencies.json `agencies`, or a unit an
// administrator put.
struct UnitInfo {
  std::string id;  // e.g. "hcm.district_pc.760"
  std::string name_vi;
  std::string name_en;
  std::vector<std::string> unit_types;  // unit_types plus unit_type, sorted, deduplicated
  JurisdictionLevel level = JurisdictionLevel::kProvince;
  std::string jurisdiction_code;  // GSO code of the area covered, at `level`
  std::string province_code;      // province of the jurisdiction; may be empty in files
  std::string parent_id;          // escalation target, informative
  std::string email;              // the organisation's contact address

  bool operator==(const UnitInfo&) const = default;
};

// The reference catalogue of categories.json: declared unit types, groups and
// categories. Immutable after Load(); safe to share between threads.
class Catalog {
 public:
  // Parses `categories_json`. NOT_FOUND when it cannot be opened; INVALID_ARGUMENT
  // naming the file and entry when the JSON is malformed, a required field is missing,
  // a priority is unknown, a routing rule names an undeclared unit type, or a category
  // code repeats.
  static absl::StatusOr<std::shared_ptr<const Catalog>> Load(
      const std::filesystem::path& categories_json);

  // The category with `code`, or nullptr.
  const CategoryInfo* FindCategory(std::string_view code) const;
  bool HasUnitType(std::string_view code) const { return unit_types_.count(code) > 0; }
  bool HasGroup(std::string_view code) const { return groups_.count(code) > 0; }

  // INVALID_ARGUMENT naming the first type of `types` not declared in unit_types.
  absl::Status CheckUnitTypes(const std::vector<std::string>& types) const;

  const std::vector<CategoryInfo>& categories() const { return categories_; }

 private:
  Catalog() = default;

  std::vector<CategoryInfo> categories_;
  std::map<std::string, size_t, std::less<>> category_by_code_;
  std::set<std::string, std::less<>> unit_types_;
  std::set<std::string, std::less<>> groups_;  // declared groups and every category's
};

// Parses `agencies_json` into units, in file order, checking their unit types against
// `catalog`. NOT_FOUND when the file cannot be opened; INVALID_ARGUMENT naming the file
// and entry when the JSON is malformed, a required field is missing, a jurisdiction
// level is unknown or a unit type is undeclared. Duplicate ids are left to
// UnitDirectory::Build.
absl::StatusOr<std::vector<UnitInfo>> LoadAgencies(const std::filesystem::path& agencies_json,
                                                   const Catalog& catalog);

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

// Immutable after Load() / Build(); every const method is safe to call from many
// threads at once. A change to the directory builds a new one.
class UnitDirectory {
 public:
  // Parses both files. NOT_FOUND when a file cannot be opened; INVALID_ARGUMENT naming
  // the file and entry when the JSON is malformed, a required field is missing, a
  // priority or jurisdiction level is unknown, a routing rule or an agency names a unit
  // type that categories.json does not declare, or a category code or agency id repeats.
  static absl::StatusOr<std::unique_ptr<UnitDirectory>> Load(
      const std::filesystem::path& categories_json,
      const std::filesystem::path& agencies_json);

  // Indexes `units` under `catalog`. INVALID_ARGUMENT naming the unit when an id
  // repeats or a unit has an undeclared unit type.
  static absl::StatusOr<std::unique_ptr<UnitDirectory>> Build(
      std::shared_ptr<const Catalog> catalog, std::vector<UnitInfo> units);

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

  // Visits units with an id greater than `after_id` in id order until `fn` returns
  // false.
  void ForEachUnitAfter(std::string_view after_id,
                        const std::function<bool(const UnitInfo& unit)>& fn) const;

  const Catalog& catalog() const { return *catalog_; }
  const std::shared_ptr<const Catalog>& shared_catalog() const { return catalog_; }
  const std::vector<CategoryInfo>& categories() const { return catalog_->categories(); }
  // Every unit, in no particular order.
  const std::vector<UnitInfo>& units() const { return units_; }
  size_t unit_count() const { return units_.size(); }

 private:
  // Unit indices of one unit type, keyed by jurisdiction code, one map per level.
  using CodeIndex = std::map<std::string, size_t, std::less<>>;
  using TypeIndex = std::array<CodeIndex, 3>;

  UnitDirectory() = default;

  std::shared_ptr<const Catalog> catalog_;
  std::vector<UnitInfo> units_;
  std::map<std::string, size_t, std::less<>> unit_by_id_;
  std::map<std::string, TypeIndex, std::less<>> units_by_type_;
};

}  // namespace civic::routing
