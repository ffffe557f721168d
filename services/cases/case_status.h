// How a case status reads to people and in URLs-friendly JSON: "new", "in_progress".
// Header-only, so intake can answer citizens without linking the cases library.
#pragma once

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "civic/common/v1/common.pb.h"

namespace civic::cases {

// The enum name without its CASE_STATUS_ prefix, lower-case ("unspecified" for 0).
inline std::string CaseStatusWord(common::v1::CaseStatus status) {
  const std::string& name = common::v1::CaseStatus_Name(status);
  absl::string_view word = name;
  constexpr absl::string_view kPrefix = "CASE_STATUS_";
  if (word.substr(0, kPrefix.size()) == kPrefix) word.remove_prefix(kPrefix.size());
  return absl::AsciiStrToLower(word);
}

}  // namespace civic::cases
