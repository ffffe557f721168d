// Routing rules: validation, local-time windows and the specificity order that decides
// which published rule wins.
#include "services/routing/routing_rules.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/routing/address_resolver.h"

namespace civic::routing {
namespace {

using civic::common::v1::AdminArea;

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// How local a rule's area is: the higher, the more specific.
int AreaRank(v1::AreaLevel level) {
  switch (level) {
    case v1::AREA_LEVEL_WARD:
      return 3;
    case v1::AREA_LEVEL_DISTRICT:
      return 2;
    case v1::AREA_LEVEL_PROVINCE:
      return 1;
    default:
      return 0;
  }
}

bool CoversArea(const v1::Rule& rule, const AdminArea& area) {
  switch (rule.area_level()) {
    case v1::AREA_LEVEL_WARD:
      return area.ward_code() == rule.area_code();
    case v1::AREA_LEVEL_DISTRICT:
      return area.district_code() == rule.area_code();
    case v1::AREA_LEVEL_PROVINCE:
      return area.province_code() == rule.area_code();
    case v1::AREA_LEVEL_ANY:
      return true;
    default:
      return false;  // rejected by ValidateRule; never published
  }
}

// Sorts most specific first (see CompiledRules::Match).
bool MoreSpecific(const v1::Rule* a, const v1::Rule* b) {
  auto key = [](const v1::Rule* r) {
    return std::make_tuple(-AreaRank(r->area_level()), r->category().empty() ? 1 : 0,
                           r->has_window() ? 0 : 1, r->order(), std::string_view(r->id()));
  };
  return key(a) < key(b);
}

}  // namespace

void ValidateRule(const v1::Rule& rule, const RuleContext& context,
                  absl::string_view field_prefix, FieldErrors* errors) {
  auto field = [&](absl::string_view name) { return absl::StrCat(field_prefix, name); };

  const std::string& id = rule.id();
  if (id.empty()) {
    errors->Add(field("id"), "is required");
  } else if (id.size() > kMaxRuleIdLength || !std::all_of(id.begin(), id.end(), IsIdChar) ||
             id[0] == '.' || id[0] == '_' || id[0] == '-') {
    errors->Add(field("id"),
                "must be 1..64 characters of a-z 0-9 . _ -, starting with a letter or digit");
  }

  if (rule.category().empty() == rule.category_group().empty()) {
    errors->Add(field("category"), "exactly one of category and category_group is required");
  } else if (!rule.category().empty() &&
             context.catalog->FindCategory(rule.category()) == nullptr) {
    errors->Add(field("category"), absl::StrCat("unknown category code '", rule.category(), "'"));
  } else if (!rule.category_group().empty() &&
             !context.catalog->HasGroup(rule.category_group())) {
    errors->Add(field("category_group"),
                absl::StrCat("unknown category group '", rule.category_group(), "'"));
  }

  switch (rule.area_level()) {
    case v1::AREA_LEVEL_ANY:
      if (!rule.area_code().empty()) {
        errors->Add(field("area_code"), "must be empty with AREA_LEVEL_ANY");
      }
      break;
    case v1::AREA_LEVEL_PROVINCE:
    case v1::AREA_LEVEL_DISTRICT:
    case v1::AREA_LEVEL_WARD: {
      const AdminLevel level = rule.area_level() == v1::AREA_LEVEL_WARD ? AdminLevel::kWard
                               : rule.area_level() == v1::AREA_LEVEL_DISTRICT
                                   ? AdminLevel::kDistrict
                                   : AdminLevel::kProvince;
      if (rule.area_code().empty()) {
        errors->Add(field("area_code"), "is required with a ward, district or province level");
      } else if (context.areas->FindArea(level, rule.area_code()) == nullptr) {
        errors->Add(field("area_code"),
                    absl::StrCat("no ", v1::AreaLevel_Name(rule.area_level()), " area has code '",
                                 rule.area_code(), "' in the boundary data"));
      }
      break;
    }
    default:
      errors->Add(field("area_level"),
                  "is required (AREA_LEVEL_ANY, _PROVINCE, _DISTRICT or _WARD)");
  }

  if (rule.has_window()) {
    const v1::TimeWindow& w = rule.window();
    if (w.start_hour() > 23) errors->Add(field("window.start_hour"), "must be 0..23");
    if (w.end_hour() < 1 || w.end_hour() > 24) {
      errors->Add(field("window.end_hour"), "must be 1..24");
    } else if (w.end_hour() == w.start_hour()) {
      errors->Add(field("window.end_hour"),
                  "must differ from start_hour (0 → 24 is the whole day)");
    }
    for (int i = 0; i < w.days_size(); ++i) {
      if (w.days(i) < v1::WEEKDAY_MONDAY || w.days(i) > v1::WEEKDAY_SUNDAY) {
        errors->Add(field(absl::StrCat("window.days[", i, "]")),
                    "must be WEEKDAY_MONDAY … WEEKDAY_SUNDAY");
      }
    }
  }

  if (rule.unit_id().empty()) {
    errors->Add(field("unit_id"), "is required");
  } else if (context.directory->FindUnit(rule.unit_id()) == nullptr) {
    errors->Add(field("unit_id"), absl::StrCat("no unit '", rule.unit_id(), "' in the directory"));
  }

  if (!civic::common::v1::Priority_IsValid(rule.priority())) {
    errors->Add(field("priority"), "unknown priority");
  }
  if (!(rule.sla_hours() >= 0 && rule.sla_hours() <= kMaxSlaHours)) {
    errors->Add(field("sla_hours"), "must be 0..8760 (0 keeps the category's default)");
  }
  if (rule.description().size() > kMaxRuleDescriptionBytes) {
    errors->Add(field("description"), "must be at most 500 bytes");
  }
}

LocalTime ToLocalTime(absl::Time t, absl::TimeZone zone) {
  const absl::CivilSecond local = zone.At(t).cs;
  // absl numbers Monday 0 … Sunday 6.
  const int weekday = static_cast<int>(absl::GetWeekday(absl::CivilDay(local))) + 1;
  return {.hour = local.hour(), .weekday = weekday};
}

bool WindowContains(const v1::TimeWindow& window, LocalTime time) {
  auto opens_on = [&](int weekday) {
    return window.days().empty() ||
           std::find(window.days().begin(), window.days().end(), weekday) !=
               window.days().end();
  };
  const int start = static_cast<int>(window.start_hour());
  const int end = static_cast<int>(window.end_hour());
  if (start < end) return start <= time.hour && time.hour < end && opens_on(time.weekday);
  // Across midnight: the evening part on its own day, the morning part on the next.
  const int previous_day = time.weekday == 1 ? 7 : time.weekday - 1;
  return (time.hour >= start && opens_on(time.weekday)) ||
         (time.hour < end && opens_on(previous_day));
}

std::shared_ptr<const CompiledRules> CompiledRules::Compile(v1::RuleSet rule_set,
                                                            const Catalog& catalog) {
  std::shared_ptr<CompiledRules> compiled(new CompiledRules());
  compiled->rule_set_ = std::move(rule_set);
  std::map<std::string, std::vector<const v1::Rule*>, std::less<>> by_group;
  for (const v1::Rule& rule : compiled->rule_set_.rules()) {
    compiled->by_id_.emplace(rule.id(), &rule);
    if (!rule.category().empty()) {
      compiled->by_category_[rule.category()].push_back(&rule);
    } else {
      by_group[rule.category_group()].push_back(&rule);
    }
  }
  for (const CategoryInfo& category : catalog.categories()) {
    if (category.group.empty()) continue;
    auto group = by_group.find(category.group);
    if (group == by_group.end()) continue;
    std::vector<const v1::Rule*>& rules = compiled->by_category_[category.code];
    rules.insert(rules.end(), group->second.begin(), group->second.end());
  }
  for (auto& [category, rules] : compiled->by_category_) {
    std::sort(rules.begin(), rules.end(), MoreSpecific);
  }
  return compiled;
}

const v1::Rule* CompiledRules::Match(std::string_view category, const AdminArea& area,
                                     absl::FunctionRef<LocalTime()> now,
                                     RuleFilter usable) const {
  auto it = by_category_.find(category);
  if (it == by_category_.end()) return nullptr;
  bool have_time = false;
  LocalTime time;
  for (const v1::Rule* rule : it->second) {
    if (!CoversArea(*rule, area)) continue;
    if (rule->has_window()) {
      if (!have_time) {
        time = now();
        have_time = true;
      }
      if (!WindowContains(rule->window(), time)) continue;
    }
    if (!usable(*rule)) continue;
    return rule;
  }
  return nullptr;
}

const v1::Rule* CompiledRules::FindRule(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::string RuleName(const v1::Rule& rule) {
  return absl::StrCat("rule:", rule.id(), "@v", rule.version());
}

}  // namespace civic::routing
