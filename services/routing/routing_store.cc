// RoutingStore: units and rule sets as serialized protos in routing's keyspaces.
#include "services/routing/routing_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status.h"

namespace civic::routing {

std::vector<std::string> RoutingKeyspaces() { return {kUnitsCf, kRuleSetsCf, kMetaCf}; }

v1::AreaLevel AreaLevelToProto(AdminLevel level) {
  switch (level) {
    case AdminLevel::kWard:
      return v1::AREA_LEVEL_WARD;
    case AdminLevel::kDistrict:
      return v1::AREA_LEVEL_DISTRICT;
    case AdminLevel::kProvince:
      break;
  }
  return v1::AREA_LEVEL_PROVINCE;
}

v1::Unit UnitToProto(const UnitInfo& unit) {
  v1::Unit out;
  out.set_id(unit.id);
  out.set_name_vi(unit.name_vi);
  out.set_name_en(unit.name_en);
  for (const std::string& type : unit.unit_types) out.add_unit_types(type);
  out.set_level(AreaLevelToProto(unit.level));
  out.set_jurisdiction_code(unit.jurisdiction_code);
  out.set_province_code(unit.province_code);
  out.set_parent_id(unit.parent_id);
  out.set_email(unit.email);
  return out;
}

UnitInfo UnitFromProto(const v1::Unit& unit) {
  UnitInfo out;
  out.id = unit.id();
  out.name_vi = unit.name_vi();
  out.name_en = unit.name_en();
  out.unit_types.assign(unit.unit_types().begin(), unit.unit_types().end());
  std::sort(out.unit_types.begin(), out.unit_types.end());
  out.unit_types.erase(std::unique(out.unit_types.begin(), out.unit_types.end()),
                       out.unit_types.end());
  out.level = unit.level() == v1::AREA_LEVEL_WARD       ? AdminLevel::kWard
              : unit.level() == v1::AREA_LEVEL_DISTRICT ? AdminLevel::kDistrict
                                                        : AdminLevel::kProvince;
  out.jurisdiction_code = unit.jurisdiction_code();
  out.province_code = unit.province_code();
  out.parent_id = unit.parent_id();
  out.email = unit.email();
  return out;
}

absl::StatusOr<bool> RoutingStore::UnitsSeeded() const {
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> marker,
                         store_->Get(kMetaCf, kUnitsSeededKey));
  return marker.has_value();
}

absl::Status RoutingStore::SeedUnits(const std::vector<UnitInfo>& units,
                                     absl::string_view source) {
  storage::Batch batch(store_);
  for (const UnitInfo& unit : units) {
    batch.Put(kUnitsCf, unit.id, UnitToProto(unit).SerializeAsString());
  }
  batch.Put(kMetaCf, kUnitsSeededKey, source);
  return store_->Write(batch);
}

absl::StatusOr<std::vector<UnitInfo>> RoutingStore::ReadUnits() const {
  std::vector<UnitInfo> units;
  absl::Status parse_error;
  CIVIC_RETURN_IF_ERROR(store_->Scan(
      kUnitsCf, "", "", [&](absl::string_view key, absl::string_view value) {
        v1::Unit unit;
        if (!unit.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parse_error = absl::DataLossError(
              absl::StrCat("routing store: unit record '", key, "' is unreadable"));
          return false;
        }
        units.push_back(UnitFromProto(unit));
        return true;
      }));
  CIVIC_RETURN_IF_ERROR(parse_error);
  return units;
}

absl::Status RoutingStore::PutUnit(const UnitInfo& unit) {
  storage::Batch batch(store_);
  batch.Put(kUnitsCf, unit.id, UnitToProto(unit).SerializeAsString());
  return store_->Write(batch);
}

absl::Status RoutingStore::DeleteUnit(absl::string_view id) {
  storage::Batch batch(store_);
  batch.Delete(kUnitsCf, id);
  return store_->Write(batch);
}

absl::StatusOr<std::optional<v1::RuleSet>> RoutingStore::ReadRuleSet(uint64_t version) const {
  std::optional<std::string> raw;
  std::string key;
  if (version == 0) {
    CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> last, store_->LastKey(kRuleSetsCf));
    if (!last) return std::optional<v1::RuleSet>();
    key = *std::move(last);
  } else {
    key = storage::EncodeUint64(version);
  }
  CIVIC_ASSIGN_OR_RETURN(raw, store_->Get(kRuleSetsCf, key));
  if (!raw) return std::optional<v1::RuleSet>();
  v1::RuleSet rule_set;
  if (!rule_set.ParseFromString(*raw)) {
    return absl::DataLossError(absl::StrCat("routing store: rule set version ",
                                            storage::DecodeUint64(key), " is unreadable"));
  }
  return std::optional<v1::RuleSet>(std::move(rule_set));
}

absl::Status RoutingStore::PutRuleSet(const v1::RuleSet& rule_set) {
  storage::Batch batch(store_);
  batch.Put(kRuleSetsCf, storage::EncodeUint64(rule_set.version()),
            rule_set.SerializeAsString());
  return store_->Write(batch);
}

}  // namespace civic::routing
