// Text folding for matching what people type: case- and accent-insensitive, so
// "duong ngap" matches "Đường ngập" (Vietnamese đ folds to d). Built on ICU's
// transliterators, not a hand-made table.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace civic {

// Lower-case ASCII-folded form of UTF-8 `text`: diacritics removed, đ → d, runs of
// whitespace and punctuation collapsed to one space, trimmed. Thread-safe.
std::string FoldForMatch(absl::string_view text);

// True when the folded `needle` occurs in folded `haystack` on word boundaries
// (so "ngap" matches "đường ngập nặng" but "ga" does not match "ngập").
bool ContainsFolded(absl::string_view haystack, absl::string_view needle);

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates, code points
// above U+10FFFF or truncated sequences): what a proto string may hold. ICU decides.
bool IsValidUtf8(absl::string_view text);

}  // namespace civic
