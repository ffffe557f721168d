// What routing keeps in its own RocksDB store: the unit directory (seeded once from
// agencies.json) and every published rule set version, with their key layout.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "civic/routing/v1/routing.pb.h"
#include "libs/storage/store.h"
#include "services/routing/unit_directory.h"

namespace civic::routing {

// Keyspaces of the routing store.
inline constexpr char kUnitsCf[] = "units";         // unit id → civic.routing.v1.Unit
inline constexpr char kRuleSetsCf[] = "rule_sets";  // EncodeUint64(version) → RuleSet
inline constexpr char kMetaCf[] = "meta";           // kUnitsSeededKey → seed source
inline constexpr char kUnitsSeededKey[] = "units_seeded";
std::vector<std::string> RoutingKeyspaces();

// Conversions between the directory's and the API's form of a unit. A level the proto
// cannot express (AREA_LEVEL_ANY / _UNSPECIFIED) converts to kProvince; callers
// validate first.
v1::Unit UnitToProto(const UnitInfo& unit);
UnitInfo UnitFromProto(const v1::Unit& unit);
v1::AreaLevel AreaLevelToProto(AdminLevel level);

// Typed access to a store opened with RoutingKeyspaces(). Every write is one synced
// batch: after OK it survives a crash. Not synchronized: the caller serializes writes.
class RoutingStore {
 public:
  // `store` must outlive this object.
  explicit RoutingStore(storage::Store* store) : store_(store) {}

  // True once SeedUnits has run on this store (even if every unit was deleted since).
  absl::StatusOr<bool> UnitsSeeded() const;
  // Writes `units` and the seeded marker (naming `source`) in one batch.
  absl::Status SeedUnits(const std::vector<UnitInfo>& units, absl::string_view source);
  // Every stored unit, in id order. DATA_LOSS naming the key of an unreadable record.
  absl::StatusOr<std::vector<UnitInfo>> ReadUnits() const;
  absl::Status PutUnit(const UnitInfo& unit);
  absl::Status DeleteUnit(absl::string_view id);

  // The rule set `version`, or the latest when `version` is 0; std::nullopt when there
  // is none. DATA_LOSS for an unreadable record.
  absl::StatusOr<std::optional<v1::RuleSet>> ReadRuleSet(uint64_t version) const;
  // Stores `rule_set` under its version (earlier versions stay, for audit).
  absl::Status PutRuleSet(const v1::RuleSet& rule_set);

 private:
  storage::Store* store_;
};

}  // namespace civic::routing
