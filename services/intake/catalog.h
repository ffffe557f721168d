// The report categories intake accepts, with their Open311 attributes, loaded from
// categories.json, so every report is checked against its category's definition.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "civic/intake/v1/intake.pb.h"
#include "google/protobuf/map.h"
#include "libs/core/status.h"

namespace civic::intake {

struct CategoryAttribute {
  std::string code;
  std::string datatype;  // string, number, datetime, text, singlevaluelist, multivaluelist
  bool required = false;
  std::set<std::string> values;  // allowed keys for the list datatypes
};

struct Category {
  std::string code;
  std::string group;
  std::string name_vi;
  std::string name_en;
  bool is_emergency = false;
  std::vector<CategoryAttribute> attributes;
};

class Catalog {
 public:
  // Reads `path` (categories.json). NOT_FOUND / INVALID_ARGUMENT naming the file.
  static absl::StatusOr<std::unique_ptr<Catalog>> Load(const std::filesystem::path& path);

  // nullptr when `code` is not a category.
  const Category* Find(const std::string& code) const;

  // Adds a violation under "attributes[<code>]" for each missing required attribute,
  // unknown attribute, value outside its list, or non-numeric number.
  void CheckAttributes(const Category& category,
                       const google::protobuf::Map<std::string, std::string>& values,
                       FieldErrors& errors) const;

  size_t size() const { return categories_.size(); }

  // ---- The full catalogue as the API publishes it (ListCategories, GetCategory, and
  // through them Open311's services and service definitions).

  // Every category with names, descriptions, keywords, defaults and all attributes
  // (informational ones included), ordered by group (in the order of the file's
  // `groups`) and then by code.
  const std::vector<v1::Category>& Published() const { return published_; }

  // One published category; nullptr when `code` is not a category.
  const v1::Category* FindPublished(const std::string& code) const;

 private:
  std::map<std::string, Category> categories_;
  std::vector<v1::Category> published_;
  std::map<std::string, size_t> published_index_;  // code -> index in published_
};

}  // namespace civic::intake
