#include "services/intake/catalog.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/map.h"
#include "nlohmann/json.hpp"

namespace civic::intake {
namespace {

// A string member, "" when absent or null (the file writes null for "none").
std::string Str(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? std::string() : it->get<std::string>();
}

common::v1::Priority PriorityFromName(const std::string& name) {
  if (name == "critical") return common::v1::PRIORITY_CRITICAL;
  if (name == "urgent") return common::v1::PRIORITY_URGENT;
  if (name == "high") return common::v1::PRIORITY_HIGH;
  if (name == "normal") return common::v1::PRIORITY_NORMAL;
  if (name == "low") return common::v1::PRIORITY_LOW;
  return common::v1::PRIORITY_UNSPECIFIED;
}

// The published form of one `services[]` entry. Throws nlohmann::json::exception on a
// member of the wrong type (Load turns it into INVALID_ARGUMENT).
v1::Category ToPublished(const nlohmann::json& s) {
  v1::Category c;
  c.set_code(s.at("service_code").get<std::string>());
  c.set_group(Str(s, "group"));
  c.set_group_name_en(Str(s, "group_name_en"));
  c.set_group_name_vi(Str(s, "group_name_vi"));
  c.set_name_en(Str(s, "name_en").empty() ? Str(s, "service_name") : Str(s, "name_en"));
  c.set_name_vi(Str(s, "name_vi"));
  c.set_description_en(Str(s, "description"));
  c.set_description_vi(Str(s, "description_vi"));
  if (auto it = s.find("keywords"); it != s.end() && it->is_array()) {
    for (const auto& k : *it) c.add_keywords(k.get<std::string>());
  }
  c.set_type(Str(s, "type"));
  c.set_default_priority(PriorityFromName(Str(s, "default_priority")));
  if (auto it = s.find("default_sla_hours"); it != s.end() && it->is_number()) {
    c.set_default_sla_hours(it->get<double>());
  }
  c.set_is_emergency(s.value("is_emergency", false));
  c.set_emergency_hotline(Str(s, "emergency_hotline"));
  if (auto it = s.find("attributes"); it != s.end() && it->is_array()) {
    for (const auto& a : *it) {
      const int position = c.attributes_size() + 1;  // the order when the file gives none
      v1::CategoryAttribute* attr = c.add_attributes();
      attr->set_code(a.at("code").get<std::string>());
      attr->set_datatype(Str(a, "datatype").empty() ? "string" : Str(a, "datatype"));
      attr->set_required(a.value("required", false));
      attr->set_variable(a.value("variable", true));
      attr->set_description_en(Str(a, "description"));
      attr->set_description_vi(Str(a, "description_vi"));
      attr->set_datatype_description(Str(a, "datatype_description"));
      attr->set_order(a.value("order", position));
      if (auto values = a.find("values"); values != a.end() && values->is_array()) {
        for (const auto& v : *values) {
          v1::AttributeValue* value = attr->add_values();
          value->set_key(v.at("key").get<std::string>());
          value->set_name_en(Str(v, "name"));
          value->set_name_vi(Str(v, "name_vi"));
        }
      }
    }
    // Open311 clients show attributes by `order`; keep the list in that order too.
    std::stable_sort(c.mutable_attributes()->begin(), c.mutable_attributes()->end(),
                     [](const v1::CategoryAttribute& x, const v1::CategoryAttribute& y) {
                       return x.order() < y.order();
                     });
  }
  return c;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Catalog>> Catalog::Load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open"));
  nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.contains("services") || !doc["services"].is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": not a category catalogue (no services array)"));
  }
  auto catalog = std::make_unique<Catalog>();
  try {
    for (const auto& s : doc["services"]) {
      Category c;
      c.code = s.at("service_code").get<std::string>();
      c.group = s.value("group", "");
      c.name_vi = s.value("name_vi", "");
      c.name_en = s.value("name_en", "");
      c.is_emergency = s.value("is_emergency", false);
      for (const auto& a : s.value("attributes", nlohmann::json::array())) {
        if (!a.value("variable", true)) continue;  // informational text only
        CategoryAttribute attr;
        attr.code = a.at("code").get<std::string>();
        attr.datatype = a.value("datatype", "string");
        attr.required = a.value("required", false);
        if (a.contains("values") && a["values"].is_array()) {
          for (const auto& v : a["values"]) attr.values.insert(v.at("key").get<std::string>());
        }
        c.attributes.push_back(std::move(attr));
      }
      const std::string code = c.code;
      if (!catalog->categories_.emplace(code, std::move(c)).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(path.string(), ": service_code ", code, " appears twice"));
      }
      catalog->published_.push_back(ToPublished(s));
    }
    // Groups in the order the file lists them (unknown groups last), then codes.
    std::map<std::string, size_t> group_rank;
    if (auto it = doc.find("groups"); it != doc.end() && it->is_array()) {
      for (const auto& g : *it) group_rank.emplace(Str(g, "code"), group_rank.size());
    }
    auto rank = [&](const v1::Category& c) {
      auto it = group_rank.find(c.group());
      return it == group_rank.end() ? group_rank.size() : it->second;
    };
    std::sort(catalog->published_.begin(), catalog->published_.end(),
              [&](const v1::Category& x, const v1::Category& y) {
                const size_t rx = rank(x), ry = rank(y);
                return rx != ry ? rx < ry : x.code() < y.code();
              });
    for (size_t i = 0; i < catalog->published_.size(); ++i) {
      catalog->published_index_[catalog->published_[i].code()] = i;
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", e.what()));
  }
  return catalog;
}

const v1::Category* Catalog::FindPublished(const std::string& code) const {
  auto it = published_index_.find(code);
  return it == published_index_.end() ? nullptr : &published_[it->second];
}

const Category* Catalog::Find(const std::string& code) const {
  auto it = categories_.find(code);
  return it == categories_.end() ? nullptr : &it->second;
}

void Catalog::CheckAttributes(const Category& category,
                              const google::protobuf::Map<std::string, std::string>& values,
                              FieldErrors& errors) const {
  for (const auto& attr : category.attributes) {
    const std::string field = absl::StrCat("attributes[", attr.code, "]");
    auto it = values.find(attr.code);
    if (it == values.end() || it->second.empty()) {
      if (attr.required) errors.Add(field, absl::StrCat("is required for ", category.code));
      continue;
    }
    const std::string& value = it->second;
    if (attr.datatype == "singlevaluelist" && !attr.values.count(value)) {
      errors.Add(field, absl::StrCat("'", value, "' is not one of the allowed values"));
    } else if (attr.datatype == "multivaluelist") {
      for (absl::string_view v : absl::StrSplit(value, ',', absl::SkipEmpty())) {
        if (!attr.values.count(std::string(v))) {
          errors.Add(field, absl::StrCat("'", v, "' is not one of the allowed values"));
          break;
        }
      }
    } else if (attr.datatype == "number") {
      double number;
      if (!absl::SimpleAtod(value, &number)) errors.Add(field, "must be a number");
    }
  }
  for (const auto& [code, value] : values) {
    bool known = false;
    for (const auto& attr : category.attributes) known = known || attr.code == code;
    if (!known) {
      errors.Add(absl::StrCat("attributes[", code, "]"),
                 absl::StrCat("is not an attribute of ", category.code));
    }
  }
}

}  // namespace civic::intake
