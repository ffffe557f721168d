// RoutingLogic: composes GeoIndex and AddressResolver (where), the published rules and
// UnitDirectory (who) into a RouteDecision, and applies administrative changes as
// persisted, atomically swapped snapshots.
#include "services/routing/routing_logic.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/clock.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "services/routing/address_resolver.h"
#include "services/routing/geo_index.h"
#include "services/routing/routing_rules.h"
#include "services/routing/routing_store.h"
#include "services/routing/unit_directory.h"

namespace civic::routing {
namespace {

namespace fs = std::filesystem;
using civic::common::v1::AdminArea;

// ErrorReason domain of errors raised here.
constexpr char kDomain[] = "routing.civicdesk";
constexpr char kTriageNameVi[] = "Trung tâm điều hành (phân loại)";
constexpr char kTriageNameEn[] = "Operations centre triage";
constexpr int32_t kDefaultPageSize = 100;
constexpr int32_t kMaxPageSize = 1000;
constexpr size_t kMaxUnitIdLength = 128;
constexpr size_t kMaxUnitTextBytes = 300;

// 3 for a ward, 2 a district, 1 a province, 0 nothing.
int Depth(const std::string& ward, const std::string& district, const std::string& province) {
  if (!ward.empty()) return 3;
  if (!district.empty()) return 2;
  return province.empty() ? 0 : 1;
}
int Depth(const AdminArea& a) { return Depth(a.ward_code(), a.district_code(), a.province_code()); }
int Depth(const AreaRecord& r) { return Depth(r.ward_code, r.district_code, r.province_code); }

void CopyRecord(const AreaRecord& record, AdminArea* area) {
  area->set_ward_code(record.ward_code);
  area->set_ward_name(record.ward_name);
  area->set_district_code(record.district_code);
  area->set_district_name(record.district_name);
  area->set_province_code(record.province_code);
  area->set_province_name(record.province_name);
}

bool IsUnitId(const std::string& id) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  };
  return !id.empty() && id.size() <= kMaxUnitIdLength &&
         std::all_of(id.begin(), id.end(), allowed) && id[0] != '.' && id[0] != '_' &&
         id[0] != '-';
}

std::optional<AdminLevel> UnitLevel(v1::AreaLevel level) {
  switch (level) {
    case v1::AREA_LEVEL_WARD:
      return AdminLevel::kWard;
    case v1::AREA_LEVEL_DISTRICT:
      return AdminLevel::kDistrict;
    case v1::AREA_LEVEL_PROVINCE:
      return AdminLevel::kProvince;
    default:
      return std::nullopt;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<RoutingLogic>> RoutingLogic::Load(
    const RoutingLogicOptions& options) {
  std::shared_ptr<const GeoIndex> geo = options.geo;
  if (geo == nullptr) {
    CIVIC_ASSIGN_OR_RETURN(std::unique_ptr<GeoIndex> loaded,
                           GeoIndex::LoadDir(options.data_dir / "boundaries"));
    geo = std::move(loaded);
  }
  auto resolver = std::make_unique<AddressResolver>(*geo);
  CIVIC_ASSIGN_OR_RETURN(std::shared_ptr<const Catalog> catalog,
                         Catalog::Load(options.data_dir / "categories.json"));
  std::unique_ptr<RoutingLogic> logic(new RoutingLogic(options, geo, std::move(resolver)));

  // The directory: from the store once it has been seeded, so that administrators'
  // edits survive restarts; agencies.json only seeds it (or serves without a store).
  const fs::path agencies = options.data_dir / "agencies.json";
  std::vector<UnitInfo> units;
  v1::RuleSet rule_set;
  if (options.store == nullptr) {
    CIVIC_ASSIGN_OR_RETURN(units, LoadAgencies(agencies, *catalog));
  } else {
    RoutingStore store(options.store);
    CIVIC_ASSIGN_OR_RETURN(const bool seeded, store.UnitsSeeded());
    if (!seeded) {
      CIVIC_ASSIGN_OR_RETURN(std::vector<UnitInfo> seed, LoadAgencies(agencies, *catalog));
      logic->FillProvinces(&seed);
      // Refuse a file with repeated ids before anything is written.
      if (absl::Status st = UnitDirectory::Build(catalog, seed).status(); !st.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(agencies.string(), ": ", st.message()));
      }
      CIVIC_RETURN_IF_ERROR(store.SeedUnits(seed, agencies.string()));
      CIVIC_LOG_INFO("routing store seeded with {} units from {}", seed.size(),
                     agencies.string());
    }
    CIVIC_ASSIGN_OR_RETURN(units, store.ReadUnits());
    // A unit whose type categories.json no longer declares cannot be indexed; keep
    // serving with the rest rather than refuse to start.
    std::erase_if(units, [&](const UnitInfo& unit) {
      if (catalog->CheckUnitTypes(unit.unit_types).ok()) return false;
      CIVIC_LOG_WARN("routing: unit {} has a unit type categories.json does not declare; "
                     "ignored until fixed",
                     unit.id);
      return true;
    });
    CIVIC_ASSIGN_OR_RETURN(std::optional<v1::RuleSet> latest, store.ReadRuleSet(0));
    if (latest) rule_set = *std::move(latest);
  }
  logic->FillProvinces(&units);
  absl::StatusOr<std::unique_ptr<UnitDirectory>> directory =
      UnitDirectory::Build(catalog, std::move(units));
  if (!directory.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(agencies.string(), ": ", directory.status().message()));
  }
  logic->snapshot_.store(std::make_shared<const Snapshot>(
      Snapshot{.directory = *std::move(directory),
               .rules = CompiledRules::Compile(std::move(rule_set), *catalog)}));
  return logic;
}

RoutingLogic::RoutingLogic(RoutingLogicOptions options, std::shared_ptr<const GeoIndex> geo,
                           std::unique_ptr<AddressResolver> resolver)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : SystemClock::Get()),
      zone_(VietnamTimeZone()),
      geo_(std::move(geo)),
      resolver_(std::move(resolver)) {}

RoutingLogic::~RoutingLogic() = default;

void RoutingLogic::FillProvinces(std::vector<UnitInfo>* units) const {
  for (UnitInfo& unit : *units) {
    if (!unit.province_code.empty()) continue;
    if (const AreaRecord* area = resolver_->FindArea(unit.level, unit.jurisdiction_code)) {
      unit.province_code = area->province_code;
    }
  }
}

AdminArea RoutingLogic::Resolve(double lat, double lon) const {
  return geo_->Resolve(lat, lon);
}

absl::StatusOr<AdminArea> RoutingLogic::ResolveAddress(
    const v1::ResolveAddressRequest& request) const {
  FieldErrors errors;
  if (request.address().empty()) {
    errors.Add("address", "is required");
  } else if (request.address().size() > kMaxAddressBytes) {
    errors.Add("address", absl::StrCat("must be at most ", kMaxAddressBytes, " bytes"));
  }
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));
  AdminArea area;
  const AddressMatch match = resolver_->Resolve(request.address());
  if (match.area != nullptr) CopyRecord(*match.area, &area);
  return area;
}

absl::StatusOr<v1::RouteDecision> RoutingLogic::Route(const v1::RouteRequest& request) const {
  const std::shared_ptr<const Snapshot> current = snapshot();
  std::optional<absl::Time> at;
  if (request.has_reported_at()) at = FromTimestamp(request.reported_at());
  return Decide(*current->directory, *current->rules, request.category(),
                request.has_location() ? &request.location() : nullptr, request.address(),
                at);
}

// A decision is a value: the caller (intake) copies unit, rule and rule_set_version
// into the case, and routing keeps no reference to it. Publishing rules or editing the
// directory therefore changes only decisions made afterwards, never cases already
// routed; nothing here may ever rewrite a past decision.
absl::StatusOr<v1::RouteDecision> RoutingLogic::Decide(
    const UnitDirectory& directory, const CompiledRules& rules, std::string_view category_code,
    const civic::common::v1::GeoPoint* location, absl::string_view address,
    std::optional<absl::Time> at) const {
  const CategoryInfo* category = directory.FindCategory(category_code);
  if (category == nullptr) {
    FieldErrors errors;
    errors.Add("category", category_code.empty()
                               ? std::string("is required")
                               : absl::StrCat("unknown category code '",
                                              absl::string_view(category_code.data(),
                                                                category_code.size()),
                                              "'"));
    return errors.ToStatus(kDomain);
  }

  v1::RouteDecision decision;
  AdminArea* area = decision.mutable_area();
  v1::AreaSource source = v1::AREA_SOURCE_NONE;
  // (0, 0) is in the Gulf of Guinea: it is what an unset location reads as.
  if (location != nullptr && !(location->lat() == 0 && location->lon() == 0)) {
    geo_->ResolveInto(location->lat(), location->lon(), area);
    if (Depth(*area) > 0) source = v1::AREA_SOURCE_LOCATION;
  }
  std::string address_note;
  if (area->ward_code().empty() && !address.empty()) {
    const AddressMatch match = resolver_->Resolve(address.substr(0, kMaxAddressBytes));
    if (match.area != nullptr && Depth(*match.area) > Depth(*area)) {
      area->Clear();
      CopyRecord(*match.area, area);
      source = v1::AREA_SOURCE_ADDRESS;
    }
    if (source != v1::AREA_SOURCE_LOCATION) {
      address_note = absl::StrCat("address:", AddressOutcomeName(match.outcome), ";");
    }
  }

  auto now = [&] { return ToLocalTime(at.has_value() ? *at : clock_->Now(), zone_); };
  auto usable = [&](const v1::Rule& rule) {
    return directory.FindUnit(rule.unit_id()) != nullptr;
  };
  civic::common::v1::UnitRef* unit = decision.mutable_unit();
  std::string rule_text;
  if (const v1::Rule* rule = rules.Match(category->code, *area, now, usable)) {
    const UnitInfo* target = directory.FindUnit(rule->unit_id());
    unit->set_id(target->id);
    unit->set_name_vi(target->name_vi);
    unit->set_name_en(target->name_en);
    decision.set_priority(rule->priority() != civic::common::v1::PRIORITY_UNSPECIFIED
                              ? rule->priority()
                              : category->priority);
    decision.set_sla_hours(rule->sla_hours() > 0 ? rule->sla_hours() : category->sla_hours);
    decision.set_rule_id(rule->id());
    decision.set_rule_version(rule->version());
    rule_text = RuleName(*rule);
  } else {
    UnitChoice choice = directory.Choose(*category, *area);
    if (choice.unit != nullptr) {
      unit->set_id(choice.unit->id);
      unit->set_name_vi(choice.unit->name_vi);
      unit->set_name_en(choice.unit->name_en);
    } else {
      unit->set_id(options_.triage_unit_id);
      unit->set_name_vi(kTriageNameVi);
      unit->set_name_en(kTriageNameEn);
    }
    decision.set_priority(category->priority);
    decision.set_sla_hours(category->sla_hours);
    rule_text = std::move(choice.rule);
  }
  decision.set_rule(address_note.empty() ? std::move(rule_text)
                                         : absl::StrCat(address_note, rule_text));
  decision.set_rule_set_version(rules.version());
  decision.set_area_source(source);
  return decision;
}

absl::StatusOr<v1::RouteDecision> RoutingLogic::DryRun(const v1::DryRunRequest& request) const {
  const std::shared_ptr<const Snapshot> current = snapshot();
  std::shared_ptr<const CompiledRules> rules = current->rules;
  const bool has_draft = request.draft_rules_size() > 0 ||
                         request.remove_rule_ids_size() > 0 || request.replace_published();
  if (has_draft) {
    const UnitDirectory& directory = *current->directory;
    FieldErrors errors;
    if (directory.FindCategory(request.category()) == nullptr) {
      errors.Add("category", request.category().empty()
                                 ? std::string("is required")
                                 : absl::StrCat("unknown category code '", request.category(),
                                                "'"));
    }
    std::map<std::string, v1::Rule> draft;
    if (!request.replace_published()) {
      for (const v1::Rule& rule : current->rules->rule_set().rules()) draft[rule.id()] = rule;
    }
    for (int i = 0; i < request.remove_rule_ids_size(); ++i) {
      const std::string& id = request.remove_rule_ids(i);
      if (current->rules->FindRule(id) == nullptr) {
        errors.Add(absl::StrCat("remove_rule_ids[", i, "]"),
                   absl::StrCat("no published rule '", id, "'"));
      }
      draft.erase(id);
    }
    const RuleContext context{.catalog = &directory.catalog(),
                              .directory = &directory,
                              .areas = resolver_.get()};
    std::map<std::string, int> seen;
    for (int i = 0; i < request.draft_rules_size(); ++i) {
      const v1::Rule& rule = request.draft_rules(i);
      const std::string prefix = absl::StrCat("draft_rules[", i, "].");
      ValidateRule(rule, context, prefix, &errors);
      if (auto [it, inserted] = seen.emplace(rule.id(), i); !inserted && !rule.id().empty()) {
        errors.Add(absl::StrCat(prefix, "id"),
                   absl::StrCat("repeats draft_rules[", it->second, "].id"));
      }
      v1::Rule copy = rule;
      const v1::Rule* published = current->rules->FindRule(rule.id());
      copy.set_version(published != nullptr ? published->version() + 1 : 1);
      copy.clear_updated_at();
      draft[rule.id()] = std::move(copy);
    }
    CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));
    v1::RuleSet rule_set;
    rule_set.set_version(current->rules->version());
    for (auto& [id, rule] : draft) *rule_set.add_rules() = std::move(rule);
    rules = CompiledRules::Compile(std::move(rule_set), directory.catalog());
  }
  std::optional<absl::Time> at;
  if (request.has_at()) at = FromTimestamp(request.at());
  return Decide(*current->directory, *rules, request.category(),
                request.has_location() ? &request.location() : nullptr, request.address(),
                at);
}

bool RoutingLogic::HasCategory(std::string_view code) const {
  return snapshot()->directory->FindCategory(code) != nullptr;
}

absl::StatusOr<v1::ListUnitsResponse> RoutingLogic::ListUnits(
    const v1::ListUnitsRequest& request) const {
  FieldErrors errors;
  if (request.page_size() < 0) errors.Add("page_size", "must not be negative");
  std::string after;
  if (!request.page_token().empty() &&
      (!absl::WebSafeBase64Unescape(request.page_token(), &after) || after.empty())) {
    errors.Add("page_token", "is not a page token this API issued");
  }
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));
  const int32_t page_size =
      request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);

  const std::shared_ptr<const Snapshot> current = snapshot();
  v1::ListUnitsResponse response;
  bool more = false;
  current->directory->ForEachUnitAfter(after, [&](const UnitInfo& unit) {
    if (!request.province_code().empty() && unit.province_code != request.province_code()) {
      return true;
    }
    if (!request.unit_type().empty() &&
        !std::binary_search(unit.unit_types.begin(), unit.unit_types.end(),
                            request.unit_type())) {
      return true;
    }
    if (response.units_size() == page_size) {
      more = true;
      return false;
    }
    *response.add_units() = UnitToProto(unit);
    return true;
  });
  if (more) {
    response.set_next_page_token(
        absl::WebSafeBase64Escape(response.units(response.units_size() - 1).id()));
  }
  return response;
}

absl::StatusOr<v1::Unit> RoutingLogic::GetUnit(const v1::GetUnitRequest& request) const {
  if (request.unit_id().empty()) {
    FieldErrors errors;
    errors.Add("unit_id", "is required");
    return errors.ToStatus(kDomain);
  }
  const std::shared_ptr<const Snapshot> current = snapshot();
  const UnitInfo* unit = current->directory->FindUnit(request.unit_id());
  if (unit == nullptr) {
    return WithReason(absl::NotFoundError(absl::StrCat("no unit '", request.unit_id(), "'")),
                      "UNIT_NOT_FOUND", kDomain);
  }
  return UnitToProto(*unit);
}

absl::StatusOr<v1::Unit> RoutingLogic::PutUnit(const v1::PutUnitRequest& request) {
  const v1::Unit& in = request.unit();
  const Catalog& catalog = snapshot()->directory->catalog();  // never changes
  FieldErrors errors;
  if (!IsUnitId(in.id())) {
    errors.Add("unit.id",
               "must be 1..128 characters of a-z 0-9 . _ -, starting with a letter or digit");
  }
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"unit.name_vi",
                                                                            &in.name_vi()},
                                    {"unit.name_en", &in.name_en()}}) {
    if (value->empty()) {
      errors.Add(name, "is required");
    } else if (value->size() > kMaxUnitTextBytes) {
      errors.Add(name, absl::StrCat("must be at most ", kMaxUnitTextBytes, " bytes"));
    }
  }
  if (in.unit_types().empty()) errors.Add("unit.unit_types", "needs at least one unit type");
  for (int i = 0; i < in.unit_types_size(); ++i) {
    if (!catalog.HasUnitType(in.unit_types(i))) {
      errors.Add(absl::StrCat("unit.unit_types[", i, "]"),
                 absl::StrCat("unit type '", in.unit_types(i),
                              "' is not declared in categories.json"));
    }
  }
  const AreaRecord* jurisdiction = nullptr;
  if (const std::optional<AdminLevel> level = UnitLevel(in.level()); !level) {
    errors.Add("unit.level", "must be AREA_LEVEL_PROVINCE, _DISTRICT or _WARD");
  } else if (in.jurisdiction_code().empty()) {
    errors.Add("unit.jurisdiction_code", "is required");
  } else if ((jurisdiction = resolver_->FindArea(*level, in.jurisdiction_code())) == nullptr) {
    errors.Add("unit.jurisdiction_code",
               absl::StrCat("no ", v1::AreaLevel_Name(in.level()), " area has code '",
                            in.jurisdiction_code(), "' in the boundary data"));
  }
  if (in.parent_id().size() > kMaxUnitIdLength) {
    errors.Add("unit.parent_id", "must be at most 128 bytes");
  }
  if (!in.email().empty() &&
      (in.email().size() > 254 || in.email().find('@') == std::string::npos)) {
    errors.Add("unit.email", "must be an e-mail address");
  }
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));

  UnitInfo unit = UnitFromProto(in);
  unit.province_code = jurisdiction->province_code;

  std::lock_guard lock(admin_mu_);
  const std::shared_ptr<const Snapshot> current = snapshot();
  std::vector<UnitInfo> units = current->directory->units();
  auto existing = std::find_if(units.begin(), units.end(),
                               [&](const UnitInfo& u) { return u.id == unit.id; });
  const bool replaced = existing != units.end();
  if (replaced) {
    *existing = unit;
  } else {
    units.push_back(unit);
  }
  CIVIC_ASSIGN_OR_RETURN(std::unique_ptr<UnitDirectory> directory,
                         UnitDirectory::Build(current->directory->shared_catalog(),
                                              std::move(units)));
  if (options_.store != nullptr) CIVIC_RETURN_IF_ERROR(RoutingStore(options_.store).PutUnit(unit));
  snapshot_.store(std::make_shared<const Snapshot>(
      Snapshot{.directory = std::move(directory), .rules = current->rules}));
  CIVIC_LOG_INFO("routing: unit {} {}", unit.id, replaced ? "replaced" : "created");
  return UnitToProto(unit);
}

absl::Status RoutingLogic::DeleteUnit(const v1::DeleteUnitRequest& request) {
  if (request.unit_id().empty()) {
    FieldErrors errors;
    errors.Add("unit_id", "is required");
    return errors.ToStatus(kDomain);
  }
  std::lock_guard lock(admin_mu_);
  const std::shared_ptr<const Snapshot> current = snapshot();
  if (current->directory->FindUnit(request.unit_id()) == nullptr) {
    return WithReason(absl::NotFoundError(absl::StrCat("no unit '", request.unit_id(), "'")),
                      "UNIT_NOT_FOUND", kDomain);
  }
  std::vector<std::string> users;
  for (const v1::Rule& rule : current->rules->rule_set().rules()) {
    if (rule.unit_id() == request.unit_id()) users.push_back(rule.id());
  }
  if (!users.empty()) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "unit '", request.unit_id(), "' receives the reports of published rules ",
            absl::StrJoin(users, ", "), "; change or delete them first")),
        "UNIT_IN_USE", kDomain);
  }
  std::vector<UnitInfo> units = current->directory->units();
  std::erase_if(units, [&](const UnitInfo& u) { return u.id == request.unit_id(); });
  CIVIC_ASSIGN_OR_RETURN(std::unique_ptr<UnitDirectory> directory,
                         UnitDirectory::Build(current->directory->shared_catalog(),
                                              std::move(units)));
  if (options_.store != nullptr) {
    CIVIC_RETURN_IF_ERROR(RoutingStore(options_.store).DeleteUnit(request.unit_id()));
  }
  snapshot_.store(std::make_shared<const Snapshot>(
      Snapshot{.directory = std::move(directory), .rules = current->rules}));
  CIVIC_LOG_INFO("routing: unit {} deleted", request.unit_id());
  return absl::OkStatus();
}

absl::StatusOr<v1::RuleSet> RoutingLogic::ListRules(const v1::ListRulesRequest& request) const {
  const std::shared_ptr<const Snapshot> current = snapshot();
  if (request.version() == 0 || request.version() == current->rules->version()) {
    return current->rules->rule_set();
  }
  if (options_.store != nullptr) {
    CIVIC_ASSIGN_OR_RETURN(std::optional<v1::RuleSet> stored,
                           RoutingStore(options_.store).ReadRuleSet(request.version()));
    if (stored) return *std::move(stored);
  }
  return WithReason(absl::NotFoundError(absl::StrCat("no rule set version ", request.version())),
                    "RULE_SET_NOT_FOUND", kDomain);
}

absl::Status RoutingLogic::CheckExpectedVersion(const CompiledRules& rules, bool has_expected,
                                                uint64_t expected) {
  if (!has_expected || expected == rules.version()) return absl::OkStatus();
  return WithReason(
      absl::AbortedError(absl::StrCat("the published rule set is version ", rules.version(),
                                      ", not ", expected, "; read it again and retry")),
      "RULE_SET_VERSION_MISMATCH", kDomain);
}

absl::StatusOr<uint64_t> RoutingLogic::PublishLocked(const Snapshot& current,
                                                     std::vector<v1::Rule> rules,
                                                     absl::Time now) {
  std::sort(rules.begin(), rules.end(),
            [](const v1::Rule& a, const v1::Rule& b) { return a.id() < b.id(); });
  v1::RuleSet rule_set;
  rule_set.set_version(current.rules->version() + 1);
  *rule_set.mutable_published_at() = ToTimestamp(now);
  for (v1::Rule& rule : rules) *rule_set.add_rules() = std::move(rule);
  if (options_.store != nullptr) {
    CIVIC_RETURN_IF_ERROR(RoutingStore(options_.store).PutRuleSet(rule_set));
  }
  const uint64_t version = rule_set.version();
  const size_t count = static_cast<size_t>(rule_set.rules_size());
  snapshot_.store(std::make_shared<const Snapshot>(Snapshot{
      .directory = current.directory,
      .rules = CompiledRules::Compile(std::move(rule_set), current.directory->catalog())}));
  CIVIC_LOG_INFO("routing: rule set version {} published ({} rules)", version, count);
  return version;
}

absl::StatusOr<v1::RuleChange> RoutingLogic::PutRule(const v1::PutRuleRequest& request) {
  std::lock_guard lock(admin_mu_);
  const std::shared_ptr<const Snapshot> current = snapshot();
  FieldErrors errors;
  if (!request.has_rule()) {
    errors.Add("rule", "is required");
  } else {
    ValidateRule(request.rule(),
                 {.catalog = &current->directory->catalog(),
                  .directory = current->directory.get(),
                  .areas = resolver_.get()},
                 "rule.", &errors);
  }
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));
  CIVIC_RETURN_IF_ERROR(CheckExpectedVersion(*current->rules,
                                             request.has_expected_rule_set_version(),
                                             request.expected_rule_set_version()));
  const v1::Rule* previous = current->rules->FindRule(request.rule().id());
  if (previous == nullptr &&
      static_cast<size_t>(current->rules->rule_set().rules_size()) >= kMaxRules) {
    return absl::ResourceExhaustedError(
        absl::StrCat("a rule set holds at most ", kMaxRules, " rules"));
  }
  const absl::Time now = clock_->Now();
  v1::Rule rule = request.rule();
  rule.set_version(previous != nullptr ? previous->version() + 1 : 1);
  *rule.mutable_updated_at() = ToTimestamp(now);
  std::vector<v1::Rule> rules;
  for (const v1::Rule& r : current->rules->rule_set().rules()) {
    if (r.id() != rule.id()) rules.push_back(r);
  }
  rules.push_back(rule);
  CIVIC_ASSIGN_OR_RETURN(const uint64_t version, PublishLocked(*current, std::move(rules), now));
  v1::RuleChange change;
  *change.mutable_rule() = std::move(rule);
  change.set_rule_set_version(version);
  return change;
}

absl::StatusOr<v1::RuleChange> RoutingLogic::DeleteRule(const v1::DeleteRuleRequest& request) {
  if (request.rule_id().empty()) {
    FieldErrors errors;
    errors.Add("rule_id", "is required");
    return errors.ToStatus(kDomain);
  }
  std::lock_guard lock(admin_mu_);
  const std::shared_ptr<const Snapshot> current = snapshot();
  CIVIC_RETURN_IF_ERROR(CheckExpectedVersion(*current->rules,
                                             request.has_expected_rule_set_version(),
                                             request.expected_rule_set_version()));
  const v1::Rule* removed = current->rules->FindRule(request.rule_id());
  if (removed == nullptr) {
    return WithReason(absl::NotFoundError(absl::StrCat("no rule '", request.rule_id(), "'")),
                      "RULE_NOT_FOUND", kDomain);
  }
  std::vector<v1::Rule> rules;
  for (const v1::Rule& r : current->rules->rule_set().rules()) {
    if (r.id() != request.rule_id()) rules.push_back(r);
  }
  v1::RuleChange change;
  *change.mutable_rule() = *removed;
  CIVIC_ASSIGN_OR_RETURN(const uint64_t version,
                         PublishLocked(*current, std::move(rules), clock_->Now()));
  change.set_rule_set_version(version);
  return change;
}

size_t RoutingLogic::ward_count() const { return geo_->ward_count(); }

size_t RoutingLogic::unit_count() const { return snapshot()->directory->unit_count(); }

uint64_t RoutingLogic::rule_set_version() const { return snapshot()->rules->version(); }

}  // namespace civic::routing
