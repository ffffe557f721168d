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

TEST_CASE("UTF-8 is checked strictly", "[core][text]") {
  CHECK(IsValidUtf8("Đường Lê Lợi, quận 1"));
  CHECK(IsValidUtf8("\xF0\x9F\x93\xB7"));  // a camera emoji
  CHECK(IsValidUtf8(""));
  CHECK_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));      // a surrogate
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(IsValidUtf8("\xE1\xBA"));          // truncated
  CHECK_FALSE(IsValidUtf8("\x80"));
}

}  // namespace
}  // namespace civic
