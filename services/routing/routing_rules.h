// Published routing rules: checking a rule against the catalogue, the directory and the
// boundary data, and the compiled form Route matches a report against in a few
// comparisons, built once per published rule set version.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "civic/common/v1/common.pb.h"
#include "civic/routing/v1/routing.pb.h"
#include "libs/core/status.h"
#include "services/routing/unit_directory.h"

namespace civic::routing {

class AddressResolver;

// Limits of the rule API.
inline constexpr size_t kMaxRules = 10000;
inline constexpr size_t kMaxRuleIdLength = 64;
inline constexpr size_t kMaxRuleDescriptionBytes = 500;
inline constexpr double kMaxSlaHours = 8760;

// What a rule is checked against; all three must be non-null.
struct RuleContext {
  const Catalog* catalog;
  const UnitDirectory* directory;
  const AddressResolver* areas;
};

// Adds one violation to `errors` per bad field of `rule`, each field path prefixed with
// `field_prefix` ("rule." or "draft_rules[2]."): an id that is not 1..64 characters of
// [a-z0-9._-] starting with a letter or digit; not exactly one of category and
// category_group, or one the catalogue lacks; an unspecified area level, an area code
// given with AREA_LEVEL_ANY or one the boundary data lack at its level; a time window
// with hours out of range, equal hours or an unknown weekday; a unit not in the
// directory; an unknown priority; sla_hours outside 0..8760; a description over 500
// bytes. Output-only fields (version, updated_at) are ignored.
void ValidateRule(const v1::Rule& rule, const RuleContext& context,
                  absl::string_view field_prefix, FieldErrors* errors);

// A local (Asia/Ho_Chi_Minh) time of week, as rule windows see it.
struct LocalTime {
  int hour = 0;     // 0..23
  int weekday = 1;  // v1::Weekday numbering: 1 = Monday … 7 = Sunday
};

// `t` in `zone`.
LocalTime ToLocalTime(absl::Time t, absl::TimeZone zone);

// True when `window` (valid per ValidateRule) is open at `time`. A window across
// midnight belongs to the day it opens: Friday 22 → 6 is open on Saturday at 02:00.
bool WindowContains(const v1::TimeWindow& window, LocalTime time);

// Whether a published rule's target can be used (its unit is in the directory).
using RuleFilter = absl::FunctionRef<bool(const v1::Rule& rule)>;

// One rule set version, compiled: for every category of the catalogue, the rules that
// apply to it (its own and its group's), most specific first. Immutable; safe to share
// between threads.
class CompiledRules {
 public:
  // Compiles `rule_set` for `catalog`'s categories. A rule naming a category or group
  // the catalogue does not have (e.g. after categories.json changed) never matches.
  static std::shared_ptr<const CompiledRules> Compile(v1::RuleSet rule_set,
                                                      const Catalog& catalog);

  // The most specific rule for `category` that covers `area`, is open at the local
  // time `now()` returns (called at most once, and only when a candidate rule has a
  // window) and passes `usable`; nullptr when none does. Specificity: ward > district
  // > province > any area; category > group; with a window > without; lower order;
  // lower id.
  const v1::Rule* Match(std::string_view category, const civic::common::v1::AdminArea& area,
                        absl::FunctionRef<LocalTime()> now, RuleFilter usable) const;

  // The rule with `id`, or nullptr.
  const v1::Rule* FindRule(std::string_view id) const;

  const v1::RuleSet& rule_set() const { return rule_set_; }
  uint64_t version() const { return rule_set_.version(); }

 private:
  CompiledRules() = default;

  v1::RuleSet rule_set_;
  std::map<std::string, std::vector<const v1::Rule*>, std::less<>> by_category_;
  std::map<std::string, const v1::Rule*, std::less<>> by_id_;
};

// The text RouteDecision.rule carries for a published rule: "rule:<id>@v<version>".
std::string RuleName(const v1::Rule& rule);

}  // namespace civic::routing
