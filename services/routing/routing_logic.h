// The routing service's logic without any transport: where a report lies (from its
// point, else its typed address), which unit handles its category there (published
// rules first, then the default rules of the directory), and the administration of
// the directory and the rules kept in routing's store.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "civic/common/v1/common.pb.h"
#include "civic/routing/v1/routing.pb.h"
#include "libs/core/clock.h"
#include "libs/storage/store.h"

namespace civic::routing {

class AddressResolver;
class Catalog;
class CompiledRules;
class GeoIndex;
class UnitDirectory;
struct UnitInfo;

// Addresses longer than this are refused by ResolveAddress and cut to this length
// (bytes) by Route.
inline constexpr size_t kMaxAddressBytes = 1000;

struct RoutingLogicOptions {
  std::filesystem::path data_dir;  // contains boundaries/, categories.json, agencies.json
  std::string triage_unit_id = "ioc.triage";  // last resort when no unit matches
  // Routing's store, opened with RoutingKeyspaces(); must outlive the logic. The unit
  // directory (seeded from agencies.json on first start) and the published rule sets
  // live there. Null: the directory comes from agencies.json and every change stays
  // in memory (tests, benchmarks).
  storage::Store* store = nullptr;
  // Time source for rule windows and publication times; null: the system clock.
  const Clock* clock = nullptr;
  // Boundaries already loaded from data_dir/boundaries, to share between instances;
  // null: loaded by Load().
  std::shared_ptr<const GeoIndex> geo = nullptr;
};

// Thread-safe. Reads (Resolve, ResolveAddress, Route, DryRun, List*) work on an
// immutable snapshot of the directory and compiled rules taken with one atomic load, so
// they never wait for a writer; the administrative changes (Put*, Delete*) run one at a
// time, persist, then swap in a new snapshot.
class RoutingLogic {
 public:
  // Loads boundaries/wards-*.geojson (all ward files present),
  // boundaries/vn-districts.geojson, boundaries/vn-provinces.geojson and
  // categories.json; the units from the store, or from agencies.json when there is no
  // store or the store was never seeded (then seeds it); the latest published rule
  // set from the store. Errors: NOT_FOUND / INVALID_ARGUMENT naming the file and what
  // is wrong; the store's errors; DATA_LOSS for an unreadable stored record.
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

  // Typed address → the most specific area it names without doubt (see
  // AddressResolver); empty when it names none. INVALID_ARGUMENT on field "address"
  // when the address is empty or longer than kMaxAddressBytes.
  absl::StatusOr<civic::common::v1::AdminArea> ResolveAddress(
      const v1::ResolveAddressRequest& request) const;

  // INVALID_ARGUMENT (a civic::FieldErrors violation on field "category") for an empty
  // or unknown category code; otherwise always a decision. The area comes from the
  // location, or from the address when the location is absent, (0, 0) or outside every
  // ward and the address names something more specific. The unit comes from the most
  // specific published rule that matches (category × area × local time of
  // reported_at, else now), else from the default rules: the category's
  // routing.primary then routing.support unit types (most local jurisdiction
  // containing the area), else the province's ops centre, else the triage unit.
  // `rule` names the path taken (see RouteDecision.rule).
  absl::StatusOr<v1::RouteDecision> Route(const v1::RouteRequest& request) const;

  // What Route would decide for the request's place and category at `at` (else now)
  // under the published rules with the request's draft applied. Publishes nothing.
  // Errors as Route, plus INVALID_ARGUMENT for invalid draft rules
  // ("draft_rules[i].<field>"), repeated draft ids, and remove_rule_ids naming no
  // published rule.
  absl::StatusOr<v1::RouteDecision> DryRun(const v1::DryRunRequest& request) const;

  // True if `code` is a category in categories.json.
  bool HasCategory(std::string_view code) const;

  // --- Administration ---

  // A page of units in id order. INVALID_ARGUMENT for a negative page_size or a
  // page_token not issued here.
  absl::StatusOr<v1::ListUnitsResponse> ListUnits(const v1::ListUnitsRequest& request) const;

  // One unit as ListUnits shows it. INVALID_ARGUMENT without an id; NOT_FOUND when unknown.
  absl::StatusOr<v1::Unit> GetUnit(const v1::GetUnitRequest& request) const;

  // Creates or replaces the unit; returns it as stored (province_code set from the
  // jurisdiction). INVALID_ARGUMENT naming every bad field ("unit.<field>"); the
  // store's error when the write fails (then nothing changed).
  absl::StatusOr<v1::Unit> PutUnit(const v1::PutUnitRequest& request);

  // NOT_FOUND when absent; FAILED_PRECONDITION naming the published rules that send
  // reports to the unit; the store's error when the write fails.
  absl::Status DeleteUnit(const v1::DeleteUnitRequest& request);

  // The published rule set (version 0 in the request), or an earlier version kept in
  // the store. NOT_FOUND for a version never published (or, without a store, any
  // version but the current one).
  absl::StatusOr<v1::RuleSet> ListRules(const v1::ListRulesRequest& request) const;

  // Creates or replaces the rule and publishes a new rule set version. Errors:
  // INVALID_ARGUMENT naming every bad field ("rule.<field>"); ABORTED when
  // expected_rule_set_version is set and differs from the published version;
  // RESOURCE_EXHAUSTED past kMaxRules; the store's error (nothing published).
  absl::StatusOr<v1::RuleChange> PutRule(const v1::PutRuleRequest& request);

  // Removes the rule and publishes a new rule set version. NOT_FOUND when absent;
  // ABORTED and store errors as PutRule.
  absl::StatusOr<v1::RuleChange> DeleteRule(const v1::DeleteRuleRequest& request);

  size_t ward_count() const;
  size_t unit_count() const;
  uint64_t rule_set_version() const;
  const GeoIndex& geo() const { return *geo_; }

 private:
  // What one decision reads: replaced whole, never modified.
  struct Snapshot {
    std::shared_ptr<const UnitDirectory> directory;
    std::shared_ptr<const CompiledRules> rules;
  };

  RoutingLogic(RoutingLogicOptions options, std::shared_ptr<const GeoIndex> geo,
               std::unique_ptr<AddressResolver> resolver);

  std::shared_ptr<const Snapshot> snapshot() const {
    return snapshot_.load(std::memory_order_acquire);
  }

  // The decision for one place and category under `directory` and `rules`.
  absl::StatusOr<v1::RouteDecision> Decide(const UnitDirectory& directory,
                                           const CompiledRules& rules,
                                           std::string_view category,
                                           const civic::common::v1::GeoPoint* location,
                                           absl::string_view address,
                                           std::optional<absl::Time> at) const;

  // Publishes `rules` as the next rule set version, stamped `now` (persisting it
  // first); returns that version. Requires admin_mu_, and `current` read under it.
  absl::StatusOr<uint64_t> PublishLocked(const Snapshot& current, std::vector<v1::Rule> rules,
                                         absl::Time now);

  // Sets the province of units whose files left it out, from their jurisdiction.
  void FillProvinces(std::vector<UnitInfo>* units) const;

  // ABORTED when `expected` is set and is not the published version.
  static absl::Status CheckExpectedVersion(const CompiledRules& rules, bool has_expected,
                                           uint64_t expected);

  RoutingLogicOptions options_;
  const Clock* clock_;
  absl::TimeZone zone_;
  std::shared_ptr<const GeoIndex> geo_;
  std::unique_ptr<AddressResolver> resolver_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  std::mutex admin_mu_;  // one administrative change at a time
};

}  // namespace civic::routing
