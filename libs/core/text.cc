#include "libs/core/text.h"

#include <memory>
#include <mutex>

#include <unicode/translit.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace civic {
namespace {

// ICU transliterators are not thread-safe for concurrent use; one per thread.
icu::Transliterator* Folder() {
  thread_local std::unique_ptr<icu::Transliterator> folder = [] {
    UErrorCode error = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance(
        "Any-Latin; NFD; [:Nonspacing Mark:] Remove; Latin-ASCII; Lower; NFC",
        UTRANS_FORWARD, error));
    // The rule string is a constant known to ICU 72; failing here is a broken ICU.
    if (U_FAILURE(error)) t.reset();
    return t;
  }();
  return folder.get();
}

}  // namespace

std::string FoldForMatch(absl::string_view text) {
  icu::UnicodeString u =
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  if (icu::Transliterator* folder = Folder()) folder->transliterate(u);
  std::string folded;
  u.toUTF8String(folded);
  // Collapse everything that is not a letter or digit into single spaces.
  std::string out;
  out.reserve(folded.size());
  bool space = false;
  for (char c : folded) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      if (space && !out.empty()) out.push_back(' ');
      space = false;
      out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    } else {
      space = true;
    }
  }
  return out;
}

bool ContainsFolded(absl::string_view haystack, absl::string_view needle) {
  const std::string n = FoldForMatch(needle);
  if (n.empty()) return false;
  const std::string h = absl::StrCat(" ", FoldForMatch(haystack), " ");
  return h.find(absl::StrCat(" ", n, " ")) != std::string::npos;
}

bool IsValidUtf8(absl::string_view text) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  if (static_cast<size_t>(length) != text.size()) return false;  // over 2 GiB: not ours
  int32_t i = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);  // negative for any ill-formed sequence
    if (c < 0) return false;
  }
  return true;
}

}  // namespace civic
