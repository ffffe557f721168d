// Address-only reports: turns a typed Vietnamese address ("p. Bến Nghé, Q.1",
// "phuong 15 quan tan binh", "TP Huế") into the ward, district or province it names,
// accent- and case-insensitively, over the names of the boundary files.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/routing/geo_index.h"

namespace civic::routing {

// Folds `text` for accent- and case-insensitive comparison: Unicode NFKD, combining
// marks dropped, simple case folding, đ/Đ → d, other digits → ASCII, every run of
// characters that are neither letters nor digits → one space, a letter/digit boundary
// split ("q1" → "q 1"), leading zeros dropped from numbers ("01" → "1"). The hard
// separators , ; ( ) [ ] and line breaks become a "," token. "P.BẾN NGHÉ, Q.1" →
// "p ben nghe , q 1". Invalid UTF-8 becomes U+FFFD (a separator). Never fails.
std::string FoldForSearch(absl::string_view text);

// How an address resolved.
enum class AddressOutcome {
  kNone,            // no area named
  kWardInDistrict,  // a ward, and its district was named too
  kWard,            // a ward named alone, unique by its name
  kDistrict,        // a district (no ward, or none named without doubt)
  kProvince,        // a province only
  kAmbiguous,       // names that fit several areas equally well (a ward name several
                    // districts share, without its district): `area` is what they
                    // have in common, possibly nothing
};

// Short stable name of an outcome, used in RouteDecision.rule: "ward+district",
// "ward", "district", "province", "ambiguous", "none".
const char* AddressOutcomeName(AddressOutcome outcome);

struct AddressMatch {
  AddressOutcome outcome = AddressOutcome::kNone;
  // The most specific area the address names without doubt (a ward record has all six
  // fields, a district record the district and province ones, a province record the
  // province ones), or nullptr. Owned by the GeoIndex.
  const AreaRecord* area = nullptr;
};

// Immutable after construction; every const method is safe to call from many threads.
//
// How an address is read: every ward, district and province name (the official full
// form without its type word: "Bến Nghé", "1", "Tân Bình", plus a few province
// nicknames such as "HCM", "Sài Gòn", "TT Huế") is looked for as a run of folded
// tokens that does not cross a comma. A match is stronger when a type word of its own
// level precedes it ("phường"/"p."/"f", "xã", "thị trấn"/"tt"; "quận"/"q.",
// "huyện"/"h.", "thị xã"/"tx", "thành phố"/"tp"; "tỉnh"; English "ward", "district"
// …; strongest when the type is its own: "quận 1" beats "tp 1"), or an English level
// word follows it ("District 1"). A name preceded by another level's type word is not
// that level's ("quận Phong Điền" is no ward). Numeric names ("Phường 15", "Quận 1")
// need their type word; other bare names count only when names fill the rest of their
// comma-separated part ("Bến Nghé, Q.1" yes, "123 Lê Lợi" no: a street). A match
// inside a longer one is ignored. Each ward is then
// scored with the matches of its own district and province, each district with its
// province's; the best-scoring area wins when it is alone or when the other best ones
// contain it (a district and a province spelled by the same words resolve to the
// province: "Nam Định"); otherwise the address is ambiguous. An exact match of the
// diacritics breaks ties between names that differ only by them ("Hương Vân" /
// "Hương Văn").
class AddressResolver {
 public:
  // Indexes the names of every area of `geo`, which must outlive the resolver.
  explicit AddressResolver(const GeoIndex& geo);

  AddressResolver(const AddressResolver&) = delete;
  AddressResolver& operator=(const AddressResolver&) = delete;

  // Resolves `address`; reads at most kMaxTokens tokens of it. Never fails.
  AddressMatch Resolve(absl::string_view address) const;

  // The area of `level` with GSO `code`, or nullptr.
  const AreaRecord* FindArea(AdminLevel level, absl::string_view code) const;

  // Tokens of an address beyond this are ignored (bounds the work per request).
  static constexpr size_t kMaxTokens = 200;

 private:
  // The type word of an area or of a prefix ("Phường", "Quận"…); kNone for English
  // level words and nicknames' prefixes that say only the level.
  enum class AreaType : uint8_t {
    kNone,
    kPhuong,
    kXa,
    kThiTran,
    kQuan,
    kHuyen,
    kThiXa,
    kThanhPho,
    kTinh
  };
  struct Entry {
    AdminLevel level;
    AreaType type;
    bool numeric;           // the name is a number: needs its type word
    bool nickname;          // not an official name ("HCM")
    std::string accented;   // the name's tokens with their diacritics, for tie-breaks
    const AreaRecord* record;
  };
  struct Affix {
    AdminLevel level;
    AreaType type;
  };
  struct Match;

  void AddEntry(AdminLevel level, const AreaRecord& record, const std::string& name);
  void AddNickname(const std::string& province_code, const char* nickname);
  // Every occurrence of a name in the folded tokens, without those inside longer ones.
  std::vector<Match> FindMatches(const std::vector<std::string>& plain,
                                 const std::vector<std::string>& accented) const;

  std::vector<Entry> entries_;
  // Folded name (tokens joined by one space) → entry indices.
  std::unordered_map<std::string, std::vector<uint32_t>> by_name_;
  size_t max_name_tokens_ = 1;
  // Folded prefix / suffix words → the levels and types they announce.
  std::unordered_map<std::string, std::vector<Affix>> prefixes_;
  std::unordered_map<std::string, std::vector<Affix>> suffixes_;
  // GSO code → record, one map per AdminLevel.
  std::array<std::unordered_map<std::string, const AreaRecord*>, 3> by_code_;
};

}  // namespace civic::routing
