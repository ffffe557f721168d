// Phone numbers as citizens type them, normalised to E.164 so one person is one key
// (for contact, rate limits, the blocklist and citizens' sign-in).
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace civic {

// A Vietnamese phone number in E.164 ("+84" and 9-10 national digits), from the forms
// people type: "0901 234 567", "+84 90 123 4567", "84901234567". "" when it is not one
// (other countries are refused for now).
std::string NormalizePhone(absl::string_view raw);

}  // namespace civic
