#include "libs/core/phone.h"

#include <catch2/catch.hpp>

namespace civic {
namespace {

TEST_CASE("phone numbers as people type them become one E.164 number", "[phone]") {
  for (const char* typed : {"0901234567", "0901 234 567", "+84 90 123 4567", "84901234567",
                            "(090) 123-4567", "090.123.4567"}) {
    INFO(typed);
    CHECK(NormalizePhone(typed) == "+84901234567");
  }
  CHECK(NormalizePhone("02439876543") == "+842439876543");  // Hà Nội landline
}

TEST_CASE("what is not a Vietnamese phone number normalises to nothing", "[phone]") {
  for (const char* typed : {"", "12345", "+1 415 555 0100", "0901234567x", "0012345678",
                            "+84 0901234567", "090123456789", "09012345+67"}) {
    INFO(typed);
    CHECK(NormalizePhone(typed).empty());
  }
}

}  // namespace
}  // namespace civic
