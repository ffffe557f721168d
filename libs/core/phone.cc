// Phone normalisation (see phone.h).
#include "libs/core/phone.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace civic {

std::string NormalizePhone(absl::string_view raw) {
  std::string digits;
  bool plus = false;
  for (char c : raw) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digits.push_back(c);
    } else if (c == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (c != ' ' && c != '.' && c != '-' && c != '(' && c != ')') {
      return "";
    }
  }
  std::string national;
  if (plus || (digits.size() >= 11 && digits.rfind("84", 0) == 0)) {
    if (digits.rfind("84", 0) != 0) return "";  // other countries: later, with real rules
    national = digits.substr(2);
  } else if (digits.rfind("0", 0) == 0) {
    national = digits.substr(1);
  } else {
    return "";
  }
  if (national.size() < 9 || national.size() > 10 || national[0] == '0') return "";
  return absl::StrCat("+84", national);
}

}  // namespace civic
