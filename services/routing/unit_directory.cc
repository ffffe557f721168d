// UnitDirectory: parsing and validation of categories.json and agencies.json, and the
// rule table that picks the responsible unit (README "Suggested routing").
#include "services/routing/unit_directory.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace civic::routing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using civic::common::v1::AdminArea;
using civic::common::v1::Priority;

absl::StatusOr<Json> ReadJsonFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open file"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return Json::parse(text.str());
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": invalid JSON: ", e.what()));
  }
}

const char* LevelName(JurisdictionLevel level) {
  switch (level) {
    case JurisdictionLevel::kWard:
      return "ward";
    case JurisdictionLevel::kDistrict:
      return "district";
    case JurisdictionLevel::kProvince:
      return "province";
  }
  return "?";
}

bool ParseLevel(const std::string& name, JurisdictionLevel* level) {
  for (JurisdictionLevel l : {JurisdictionLevel::kWard, JurisdictionLevel::kDistrict,
                              JurisdictionLevel::kProvince}) {
    if (name == LevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

bool ParsePriority(const std::string& name, Priority* priority) {
  static constexpr std::pair<const char*, Priority> kPriorities[] = {
      {"low", civic::common::v1::PRIORITY_LOW},
      {"normal", civic::common::v1::PRIORITY_NORMAL},
      {"high", civic::common::v1::PRIORITY_HIGH},
      {"urgent", civic::common::v1::PRIORITY_URGENT},
      {"critical", civic::common::v1::PRIORITY_CRITICAL},
  };
  for (const auto& [key, value] : kPriorities) {
    if (name == key) {
      *priority = value;
      return true;
    }
  }
  return false;
}

// `obj[key]` as a non-empty string.
absl::Status GetString(const Json& obj, const char* key, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", key, "' must be a non-empty string"));
  }
  *out = it->get<std::string>();
  return absl::OkStatus();
}

// `obj[key]` as an array of non-empty strings; a missing key is an empty list unless
// `required`.
absl::Status GetStringList(const Json& obj, const char* key, bool required,
                           std::vector<std::string>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (!required) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("'", key, "' is missing"));
  }
  if (!it->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat("'", key, "' must be an array"));
  }
  for (const Json& item : *it) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", key, "' must hold non-empty strings"));
    }
    out->push_back(item.get<std::string>());
  }
  return absl::OkStatus();
}

absl::Status CheckDeclared(const std::vector<std::string>& types,
                           const std::set<std::string, std::less<>>& known) {
  for (const std::string& type : types) {
    if (known.count(type) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unit type '", type, "' is not declared in categories.json unit_types"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseCategory(const Json& service,
                           const std::set<std::string, std::less<>>& unit_types,
                           CategoryInfo* out) {
  if (!service.is_object()) return absl::InvalidArgumentError("not an object");
  if (absl::Status st = GetString(service, "code", &out->code); !st.ok()) return st;
  if (auto it = service.find("group"); it != service.end() && it->is_string()) {
    out->group = it->get<std::string>();
  }
  // Names are for display only; a category without them still routes.
  if (auto it = service.find("name_vi"); it != service.end() && it->is_string()) {
    out->name_vi = it->get<std::string>();
  }
  if (auto it = service.find("name_en"); it != service.end() && it->is_string()) {
    out->name_en = it->get<std::string>();
  }
  std::string priority;
  if (absl::Status st = GetString(service, "default_priority", &priority); !st.ok()) {
    return st;
  }
  if (!ParsePriority(priority, &out->priority)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "default_priority '", priority, "' is not low/normal/high/urgent/critical"));
  }
  auto sla = service.find("default_sla_hours");
  if (sla == service.end() || !sla->is_number() || !(sla->get<double>() > 0)) {
    return absl::InvalidArgumentError("'default_sla_hours' must be a positive number");
  }
  out->sla_hours = sla->get<double>();
  auto routing = service.find("routing");
  if (routing == service.end() || !routing->is_object()) {
    return absl::InvalidArgumentError("'routing' must be an object");
  }
  if (absl::Status st = GetStringList(*routing, "primary", true, &out->primary);
      !st.ok()) {
    return st;
  }
  if (out->primary.empty()) {
    return absl::InvalidArgumentError("'routing.primary' names no unit type");
  }
  if (absl::Status st = GetStringList(*routing, "support", false, &out->support);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = CheckDeclared(out->primary, unit_types); !st.ok()) return st;
  return CheckDeclared(out->support, unit_types);
}

// `obj[key]` as a string when it is one; nothing otherwise (optional fields).
void GetOptionalString(const Json& obj, const char* key, std::string* out) {
  if (auto it = obj.find(key); it != obj.end() && it->is_string()) {
    *out = it->get<std::string>();
  }
}

absl::Status ParseUnit(const Json& agency, const Catalog& catalog, UnitInfo* out) {
  if (!agency.is_object()) return absl::InvalidArgumentError("not an object");
  if (absl::Status st = GetString(agency, "id", &out->id); !st.ok()) return st;
  if (absl::Status st = GetString(agency, "name_vi", &out->name_vi); !st.ok()) return st;
  if (absl::Status st = GetString(agency, "name_en", &out->name_en); !st.ok()) return st;
  std::string unit_type;
  if (absl::Status st = GetString(agency, "unit_type", &unit_type); !st.ok()) return st;
  if (absl::Status st = GetStringList(agency, "unit_types", false, &out->unit_types);
      !st.ok()) {
    return st;
  }
  out->unit_types.push_back(std::move(unit_type));
  std::sort(out->unit_types.begin(), out->unit_types.end());
  out->unit_types.erase(std::unique(out->unit_types.begin(), out->unit_types.end()),
                        out->unit_types.end());
  if (absl::Status st = catalog.CheckUnitTypes(out->unit_types); !st.ok()) return st;
  GetOptionalString(agency, "parent_id", &out->parent_id);
  if (auto contact = agency.find("contact"); contact != agency.end() && contact->is_object()) {
    GetOptionalString(*contact, "email", &out->email);
  }

  auto jurisdiction = agency.find("jurisdiction");
  if (jurisdiction == agency.end() || !jurisdiction->is_object()) {
    return absl::InvalidArgumentError("'jurisdiction' must be an object");
  }
  std::string level;
  if (absl::Status st = GetString(*jurisdiction, "level", &level); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("jurisdiction: ", st.message()));
  }
  if (!ParseLevel(level, &out->level)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "jurisdiction.level '", level, "' is not ward/district/province"));
  }
  if (absl::Status st = GetString(*jurisdiction, "code", &out->jurisdiction_code);
      !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("jurisdiction: ", st.message()));
  }
  GetOptionalString(*jurisdiction, "province_code", &out->province_code);
  if (out->province_code.empty() && out->level == JurisdictionLevel::kProvince) {
    out->province_code = out->jurisdiction_code;
  }
  return absl::OkStatus();
}

// The array `root[key]`, or INVALID_ARGUMENT naming `path`.
absl::StatusOr<const Json*> GetArray(const Json& root, const char* key,
                                     const fs::path& path) {
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": top level must be an object"));
  }
  auto it = root.find(key);
  if (it == root.end() || !it->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": '", key, "' must be an array"));
  }
  return &*it;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Catalog>> Catalog::Load(const fs::path& categories_json) {
  std::shared_ptr<Catalog> catalog(new Catalog());

  // Declared unit types and groups, then services.
  absl::StatusOr<Json> categories = ReadJsonFile(categories_json);
  if (!categories.ok()) return categories.status();
  absl::StatusOr<const Json*> declared = GetArray(*categories, "unit_types", categories_json);
  if (!declared.ok()) return declared.status();
  for (size_t i = 0; i < (*declared)->size(); ++i) {
    const Json& type = (**declared)[i];
    std::string code;
    absl::Status st = type.is_object() ? GetString(type, "code", &code)
                                       : absl::InvalidArgumentError("not an object");
    if (!st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          categories_json.string(), ": unit_types[", i, "]: ", st.message()));
    }
    catalog->unit_types_.insert(std::move(code));
  }
  if (auto groups = categories->find("groups");
      groups != categories->end() && groups->is_array()) {
    for (const Json& group : *groups) {
      std::string code;
      if (group.is_object() && GetString(group, "code", &code).ok()) {
        catalog->groups_.insert(std::move(code));
      }
    }
  }
  absl::StatusOr<const Json*> services = GetArray(*categories, "services", categories_json);
  if (!services.ok()) return services.status();
  for (const Json& service : **services) {
    CategoryInfo category;
    absl::Status st = ParseCategory(service, catalog->unit_types_, &category);
    if (st.ok() &&
        !catalog->category_by_code_.emplace(category.code, catalog->categories_.size())
             .second) {
      st = absl::InvalidArgumentError("duplicate category code");
    }
    if (!st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          categories_json.string(), ": services[", catalog->categories_.size(), "]",
          category.code.empty() ? "" : absl::StrCat(" (", category.code, ")"), ": ",
          st.message()));
    }
    if (!category.group.empty()) catalog->groups_.insert(category.group);
    catalog->categories_.push_back(std::move(category));
  }
  if (catalog->categories_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(categories_json.string(), ": 'services' is empty"));
  }
  return std::shared_ptr<const Catalog>(std::move(catalog));
}

const CategoryInfo* Catalog::FindCategory(std::string_view code) const {
  auto it = category_by_code_.find(code);
  return it == category_by_code_.end() ? nullptr : &categories_[it->second];
}

absl::Status Catalog::CheckUnitTypes(const std::vector<std::string>& types) const {
  return CheckDeclared(types, unit_types_);
}

absl::StatusOr<std::vector<UnitInfo>> LoadAgencies(const fs::path& agencies_json,
                                                   const Catalog& catalog) {
  absl::StatusOr<Json> agencies = ReadJsonFile(agencies_json);
  if (!agencies.ok()) return agencies.status();
  absl::StatusOr<const Json*> list = GetArray(*agencies, "agencies", agencies_json);
  if (!list.ok()) return list.status();
  std::vector<UnitInfo> units;
  units.reserve((*list)->size());
  for (const Json& agency : **list) {
    UnitInfo unit;
    if (absl::Status st = ParseUnit(agency, catalog, &unit); !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          agencies_json.string(), ": agencies[", units.size(), "]",
          unit.id.empty() ? "" : absl::StrCat(" (", unit.id, ")"), ": ", st.message()));
    }
    units.push_back(std::move(unit));
  }
  return units;
}

absl::StatusOr<std::unique_ptr<UnitDirectory>> UnitDirectory::Load(
    const fs::path& categories_json, const fs::path& agencies_json) {
  absl::StatusOr<std::shared_ptr<const Catalog>> catalog = Catalog::Load(categories_json);
  if (!catalog.ok()) return catalog.status();
  absl::StatusOr<std::vector<UnitInfo>> units = LoadAgencies(agencies_json, **catalog);
  if (!units.ok()) return units.status();
  absl::StatusOr<std::unique_ptr<UnitDirectory>> dir =
      Build(*std::move(catalog), *std::move(units));
  if (!dir.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(agencies_json.string(), ": ", dir.status().message()));
  }
  return dir;
}

absl::StatusOr<std::unique_ptr<UnitDirectory>> UnitDirectory::Build(
    std::shared_ptr<const Catalog> catalog, std::vector<UnitInfo> units) {
  std::unique_ptr<UnitDirectory> dir(new UnitDirectory());
  dir->catalog_ = std::move(catalog);
  dir->units_ = std::move(units);
  for (size_t i = 0; i < dir->units_.size(); ++i) {
    const UnitInfo& unit = dir->units_[i];
    absl::Status st = dir->catalog_->CheckUnitTypes(unit.unit_types);
    if (st.ok() && !dir->unit_by_id_.emplace(unit.id, i).second) {
      st = absl::InvalidArgumentError("duplicate agency id");
    }
    if (!st.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("agencies[", i, "] (", unit.id, "): ", st.message()));
    }
  }

  // (unit type, level, jurisdiction code) -> unit; the lowest id wins a tie so the
  // choice never depends on file order.
  for (size_t i = 0; i < dir->units_.size(); ++i) {
    const UnitInfo& unit = dir->units_[i];
    for (const std::string& type : unit.unit_types) {
      CodeIndex& index = dir->units_by_type_[type][static_cast<size_t>(unit.level)];
      auto [it, inserted] = index.emplace(unit.jurisdiction_code, i);
      if (!inserted && unit.id < dir->units_[it->second].id) it->second = i;
    }
  }
  return dir;
}

UnitDirectory::~UnitDirectory() = default;

const CategoryInfo* UnitDirectory::FindCategory(std::string_view code) const {
  return catalog_->FindCategory(code);
}

const UnitInfo* UnitDirectory::FindUnit(std::string_view id) const {
  auto it = unit_by_id_.find(id);
  return it == unit_by_id_.end() ? nullptr : &units_[it->second];
}

void UnitDirectory::ForEachUnitAfter(
    std::string_view after_id, const std::function<bool(const UnitInfo& unit)>& fn) const {
  for (auto it = unit_by_id_.upper_bound(after_id); it != unit_by_id_.end(); ++it) {
    if (!fn(units_[it->second])) return;
  }
}

const UnitInfo* UnitDirectory::FindLocal(std::string_view unit_type, const AdminArea& area,
                                         JurisdictionLevel* level) const {
  auto type = units_by_type_.find(unit_type);
  if (type == units_by_type_.end()) return nullptr;
  const std::string* codes[] = {&area.ward_code(), &area.district_code(),
                                &area.province_code()};
  for (size_t l = 0; l < 3; ++l) {
    if (codes[l]->empty()) continue;
    const CodeIndex& index = type->second[l];
    if (auto it = index.find(*codes[l]); it != index.end()) {
      if (level != nullptr) *level = static_cast<JurisdictionLevel>(l);
      return &units_[it->second];
    }
  }
  return nullptr;
}

UnitChoice UnitDirectory::Choose(const CategoryInfo& category,
                                 const AdminArea& area) const {
  const std::pair<const char*, const std::vector<std::string>*> passes[] = {
      {"primary", &category.primary}, {"support", &category.support}};
  JurisdictionLevel level = JurisdictionLevel::kProvince;
  for (const auto& [pass, types] : passes) {
    for (const std::string& type : *types) {
      if (const UnitInfo* unit = FindLocal(type, area, &level)) {
        return {unit, absl::StrCat(pass, ":", type, "@", LevelName(level), ":",
                                   unit->jurisdiction_code)};
      }
    }
  }
  if (area.province_code().empty()) return {nullptr, "triage:outside_coverage"};
  if (const UnitInfo* ops = FindLocal(kOpsCentreUnitType, area, &level)) {
    return {ops, absl::StrCat("fallback:", kOpsCentreUnitType, "@", LevelName(level), ":",
                              ops->jurisdiction_code)};
  }
  return {nullptr, absl::StrCat("triage:no_unit@province:", area.province_code())};
}

}  // namespace civic::routing
