#include "libs/core/log.h"

#include <catch2/catch.hpp>

namespace civic {
namespace {

TEST_CASE("personal data never formats into a log line", "[core][log]") {
  const Pii<std::string> phone("+84901234567");
  const std::string line = fmt::format("report from {} at {}", phone, absl::string_view("ward 26743"));
  REQUIRE(line == "report from <redacted> at ward 26743");
  REQUIRE(phone.value() == "+84901234567");
}

}  // namespace
}  // namespace civic
