#include "libs/core/text.h"

#include <catch2/catch.hpp>

namespace civic {
namespace {

TEST_CASE("folding ignores case and Vietnamese diacritics", "[core][text]") {
  REQUIRE(FoldForMatch("Đường ngập") == "duong ngap");
  REQUIRE(FoldForMatch("ĐƯỜNG NGẬP") == "duong ngap");
  REQUIRE(FoldForMatch("Phường Bến Nghé, Q.1") == "phuong ben nghe q 1");
  // Decomposed input (combining marks) folds the same as precomposed.
  REQUIRE(FoldForMatch("đu\xCC\x9Bo\xCC\x9B\xCC\x80ng") == "duong");
  REQUIRE(FoldForMatch("  ...  ") == "");
}

TEST_CASE("folded search matches whole words", "[core][text]") {
  REQUIRE(ContainsFolded("Đường ngập nặng sau mưa", "duong ngap"));
  REQUIRE(ContainsFolded("Đường ngập nặng sau mưa", "NGẬP"));
  REQUIRE_FALSE(ContainsFolded("Đường ngập nặng", "ga"));
  REQUIRE_FALSE(ContainsFolded("anything", ""));
}

}  // namespace
}  // namespace civic
