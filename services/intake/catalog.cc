#include "services/intake/catalog.h"

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/map.h"
#include "nlohmann/json.hpp"

namespace civic::intake {

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
      catalog->categories_.emplace(c.code, std::move(c));
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", e.what()));
  }
  return catalog;
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
