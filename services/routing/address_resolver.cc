// AddressResolver: ICU-based folding of Vietnamese text, the name index of every area,
// and the scoring that picks the area an address names.
#include "services/routing/address_resolver.h"

#include <algorithm>
#include <map>
#include <utility>

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace civic::routing {
namespace {

constexpr char kBreak[] = ",";  // the token standing for a hard separator
constexpr int kMaxAffixTokens = 2;

void AppendUtf8(UChar32 c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool IsHardSeparator(UChar32 c) {
  switch (c) {
    case ',':
    case ';':
    case '(':
    case ')':
    case '[':
    case ']':
    case '\n':
    case '\r':
    case 0xFF0C:  // fullwidth comma
    case 0x3001:  // ideographic comma
      return true;
    default:
      return false;
  }
}

bool IsNumber(absl::string_view token) {
  return !token.empty() &&
         std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A text as two parallel token lists: folded without diacritics (the matching key) and
// folded with them (the tie-break). Both have the same length; a hard separator is the
// token "," in both, never first, last or doubled.
struct FoldedText {
  std::vector<std::string> plain;
  std::vector<std::string> accented;
};

FoldedText Fold(absl::string_view text, size_t max_tokens) {
  FoldedText out;
  UErrorCode status = U_ZERO_ERROR;
  // A process-wide singleton owned by ICU; its const methods are thread-safe. NFKD
  // rather than NFD so that full-width and other compatibility forms fold too.
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFKDInstance(status);
  const icu::UnicodeString source = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::UnicodeString decomposed;
  if (U_SUCCESS(status)) decomposed = nfd->normalize(source, status);
  // ICU's normalization data is built into libicu, so this cannot fail in practice;
  // if it did, accented letters would stay composed and simply not match.
  if (U_FAILURE(status)) decomposed = source;

  enum class Kind { kNone, kLetter, kDigit };
  Kind kind = Kind::kNone;
  std::string plain;
  std::string accented;
  auto close = [&] {
    if (kind == Kind::kNone) return;
    if (kind == Kind::kDigit) {
      // "01" and "1" are the same ward number.
      size_t zeros = 0;
      while (zeros + 1 < plain.size() && plain[zeros] == '0') ++zeros;
      plain.erase(0, zeros);
      accented = plain;
    }
    out.plain.push_back(std::move(plain));
    out.accented.push_back(std::move(accented));
    plain.clear();
    accented.clear();
    kind = Kind::kNone;
  };

  for (int32_t i = 0; i < decomposed.length() && out.plain.size() < max_tokens;) {
    const UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if ((U_GET_GC_MASK(c) & U_GC_M_MASK) != 0) {
      // A combining mark belongs to the letter before it, in the accented form only;
      // a stray one is dropped.
      if (kind == Kind::kLetter) AppendUtf8(u_foldCase(c, U_FOLD_CASE_DEFAULT), &accented);
      continue;
    }
    if (u_isdigit(c)) {
      if (kind == Kind::kLetter) close();
      kind = Kind::kDigit;
      plain.push_back(static_cast<char>('0' + u_charDigitValue(c)));
      continue;
    }
    if (u_isalpha(c)) {
      if (kind == Kind::kDigit) close();
      kind = Kind::kLetter;
      const UChar32 folded = u_foldCase(c, U_FOLD_CASE_DEFAULT);
      AppendUtf8(folded, &accented);
      // đ has no canonical decomposition, yet Vietnamese typed without diacritics
      // writes it d ("phuong" is not the issue; "Đống Đa" → "dong da" is).
      AppendUtf8(folded == 0x0111 ? UChar32{'d'} : folded, &plain);
      continue;
    }
    close();
    if (IsHardSeparator(c) && !out.plain.empty() && out.plain.back() != kBreak) {
      out.plain.emplace_back(kBreak);
      out.accented.emplace_back(kBreak);
    }
  }
  if (out.plain.size() < max_tokens) close();
  if (!out.plain.empty() && out.plain.back() == kBreak) {
    out.plain.pop_back();
    out.accented.pop_back();
  }
  return out;
}

// The span of tokens [begin, end) joined by single spaces, or "" if it holds a break.
bool JoinSpan(const std::vector<std::string>& tokens, int begin, int end, std::string* out) {
  out->clear();
  for (int i = begin; i < end; ++i) {
    if (tokens[i] == kBreak) return false;
    if (i > begin) out->push_back(' ');
    out->append(tokens[i]);
  }
  return true;
}

const std::string& CodeAt(const AreaRecord& record, AdminLevel level) {
  switch (level) {
    case AdminLevel::kWard:
      return record.ward_code;
    case AdminLevel::kDistrict:
      return record.district_code;
    case AdminLevel::kProvince:
      break;
  }
  return record.province_code;
}

}  // namespace

std::string FoldForSearch(absl::string_view text) {
  return absl::StrJoin(Fold(text, static_cast<size_t>(-1)).plain, " ");
}

const char* AddressOutcomeName(AddressOutcome outcome) {
  switch (outcome) {
    case AddressOutcome::kNone:
      return "none";
    case AddressOutcome::kWardInDistrict:
      return "ward+district";
    case AddressOutcome::kWard:
      return "ward";
    case AddressOutcome::kDistrict:
      return "district";
    case AddressOutcome::kProvince:
      return "province";
    case AddressOutcome::kAmbiguous:
      return "ambiguous";
  }
  return "none";
}

// One occurrence of an area's name in an address.
struct AddressResolver::Match {
  uint32_t entry;
  int begin;       // first token, including a type word before the name
  int end;         // one past the name's last token
  int name_begin;  // first token of the name itself
  int quality;     // 1 bare name, 2 with a word of its level, 3 with its own type word
  bool exact;      // the diacritics match too

  bool Overlaps(const Match& other) const { return begin < other.end && other.begin < end; }
};

AddressResolver::AddressResolver(const GeoIndex& geo) {
  const auto level_affixes = [this](AdminLevel level, AreaType type,
                                     std::initializer_list<const char*> words) {
    for (const char* word : words) prefixes_[word].push_back({level, type});
  };
  level_affixes(AdminLevel::kWard, AreaType::kPhuong, {"phuong", "p", "ph", "f"});
  level_affixes(AdminLevel::kWard, AreaType::kXa, {"xa", "x"});
  level_affixes(AdminLevel::kWard, AreaType::kThiTran, {"thi tran", "tt"});
  level_affixes(AdminLevel::kWard, AreaType::kNone, {"ward", "commune"});
  level_affixes(AdminLevel::kDistrict, AreaType::kQuan, {"quan", "q"});
  level_affixes(AdminLevel::kDistrict, AreaType::kHuyen, {"huyen", "h"});
  level_affixes(AdminLevel::kDistrict, AreaType::kThiXa, {"thi xa", "tx"});
  level_affixes(AdminLevel::kDistrict, AreaType::kThanhPho, {"thanh pho", "tp"});
  level_affixes(AdminLevel::kDistrict, AreaType::kNone, {"district", "dist"});
  level_affixes(AdminLevel::kProvince, AreaType::kThanhPho, {"thanh pho", "tp"});
  level_affixes(AdminLevel::kProvince, AreaType::kTinh, {"tinh"});
  level_affixes(AdminLevel::kProvince, AreaType::kNone, {"province"});
  // English level words after a name: "Ben Nghe Ward", "District 1", "Hue City".
  for (const auto& [word, level] : std::initializer_list<std::pair<const char*, AdminLevel>>{
           {"ward", AdminLevel::kWard},
           {"commune", AdminLevel::kWard},
           {"district", AdminLevel::kDistrict},
           {"city", AdminLevel::kDistrict},
           {"city", AdminLevel::kProvince},
           {"province", AdminLevel::kProvince}}) {
    suffixes_[word].push_back({level, AreaType::kNone});
  }

  geo.ForEachArea([this](AdminLevel level, const AreaRecord& record) {
    by_code_[static_cast<size_t>(level)].emplace(CodeAt(record, level), &record);
    switch (level) {
      case AdminLevel::kWard:
        AddEntry(level, record, record.ward_name);
        break;
      case AdminLevel::kDistrict:
        AddEntry(level, record, record.district_name);
        break;
      case AdminLevel::kProvince:
        AddEntry(level, record, record.province_name);
        break;
    }
  });
  AddNickname("79", "hcm");
  AddNickname("79", "tphcm");
  AddNickname("79", "hcmc");
  AddNickname("79", "sai gon");
  AddNickname("79", "saigon");
  AddNickname("46", "tt hue");
  AddNickname("46", "tth");
}

void AddressResolver::AddEntry(AdminLevel level, const AreaRecord& record,
                               const std::string& name) {
  FoldedText folded = Fold(name, kMaxTokens);
  // Strip the official type word: "Phường Bến Nghé" is found as "Bến Nghé".
  static const std::map<AdminLevel, std::vector<std::pair<std::vector<std::string>, AreaType>>>
      kTypeWords = {
          {AdminLevel::kWard,
           {{{"thi", "tran"}, AreaType::kThiTran},
            {{"phuong"}, AreaType::kPhuong},
            {{"xa"}, AreaType::kXa}}},
          {AdminLevel::kDistrict,
           {{{"thi", "xa"}, AreaType::kThiXa},
            {{"thanh", "pho"}, AreaType::kThanhPho},
            {{"quan"}, AreaType::kQuan},
            {{"huyen"}, AreaType::kHuyen}}},
          {AdminLevel::kProvince,
           {{{"thanh", "pho"}, AreaType::kThanhPho}, {{"tinh"}, AreaType::kTinh}}}};
  AreaType type = AreaType::kNone;
  for (const auto& [words, word_type] : kTypeWords.at(level)) {
    if (folded.plain.size() > words.size() &&
        std::equal(words.begin(), words.end(), folded.plain.begin())) {
      type = word_type;
      folded.plain.erase(folded.plain.begin(), folded.plain.begin() + words.size());
      folded.accented.erase(folded.accented.begin(),
                            folded.accented.begin() + words.size());
      break;
    }
  }
  if (folded.plain.empty()) return;
  // Official names hold no separators; drop any so the name stays one run of tokens.
  std::erase(folded.plain, kBreak);
  std::erase(folded.accented, kBreak);
  const std::string key = absl::StrJoin(folded.plain, " ");
  entries_.push_back({.level = level,
                      .type = type,
                      .numeric = std::all_of(folded.plain.begin(), folded.plain.end(),
                                             [](const std::string& t) { return IsNumber(t); }),
                      .nickname = false,
                      .accented = absl::StrJoin(folded.accented, " "),
                      .record = &record});
  by_name_[key].push_back(static_cast<uint32_t>(entries_.size() - 1));
  max_name_tokens_ = std::max(max_name_tokens_, folded.plain.size());
}

void AddressResolver::AddNickname(const std::string& province_code, const char* nickname) {
  const AreaRecord* record = FindArea(AdminLevel::kProvince, province_code);
  if (record == nullptr) return;  // boundary files without that province
  // The province's own type, so that "TP HCM" counts as strongly as "TP Hồ Chí Minh".
  AreaType type = AreaType::kNone;
  const std::vector<std::string> own = Fold(record->province_name, kMaxTokens).plain;
  if (own.size() >= 2 && own[0] == "thanh" && own[1] == "pho") type = AreaType::kThanhPho;
  if (!own.empty() && own[0] == "tinh") type = AreaType::kTinh;
  entries_.push_back({.level = AdminLevel::kProvince,
                      .type = type,
                      .numeric = false,
                      .nickname = true,
                      .accented = nickname,
                      .record = record});
  by_name_[nickname].push_back(static_cast<uint32_t>(entries_.size() - 1));
  max_name_tokens_ = std::max<size_t>(
      max_name_tokens_, std::vector<absl::string_view>(absl::StrSplit(nickname, ' ')).size());
}

const AreaRecord* AddressResolver::FindArea(AdminLevel level, absl::string_view code) const {
  const auto& index = by_code_[static_cast<size_t>(level)];
  auto it = index.find(std::string(code));
  return it == index.end() ? nullptr : it->second;
}

std::vector<AddressResolver::Match> AddressResolver::FindMatches(
    const std::vector<std::string>& plain, const std::vector<std::string>& accented) const {
  const int n = static_cast<int>(plain.size());
  std::vector<Match> matches;
  std::string key;
  std::string word;
  for (int b = 0; b < n; ++b) {
    if (plain[b] == kBreak) continue;
    // The longest type word right before the name, if any.
    const std::vector<Affix>* prefix = nullptr;
    int prefix_length = 0;
    for (int length = kMaxAffixTokens; length >= 1 && prefix == nullptr; --length) {
      if (b - length < 0 || !JoinSpan(plain, b - length, b, &word)) continue;
      if (auto it = prefixes_.find(word); it != prefixes_.end()) {
        prefix = &it->second;
        prefix_length = length;
      }
    }
    key.clear();
    for (int e = b + 1; e <= n && e - b <= static_cast<int>(max_name_tokens_); ++e) {
      if (plain[e - 1] == kBreak) break;
      if (e > b + 1) key.push_back(' ');
      key.append(plain[e - 1]);
      auto found = by_name_.find(key);
      if (found == by_name_.end()) continue;
      const std::vector<Affix>* suffix = nullptr;
      if (e < n) {
        if (auto it = suffixes_.find(plain[e]); it != suffixes_.end()) suffix = &it->second;
      }
      std::string accented_key;
      JoinSpan(accented, b, e, &accented_key);
      for (uint32_t index : found->second) {
        const Entry& entry = entries_[index];
        int quality = 1;
        bool typed_by_prefix = false;
        if (prefix != nullptr) {
          quality = 0;  // a type word of another level: "quận Phong Điền" is no ward
          for (const Affix& affix : *prefix) {
            if (affix.level != entry.level) continue;
            const int q = (affix.type != AreaType::kNone && affix.type == entry.type) ? 3 : 2;
            quality = std::max(quality, q);
            typed_by_prefix = true;
          }
        }
        if (quality == 1 && suffix != nullptr) {
          quality = 0;
          for (const Affix& affix : *suffix) {
            if (affix.level == entry.level) quality = 2;
          }
        }
        if (quality == 1 && entry.nickname) quality = 2;
        if (quality == 0 || (entry.numeric && quality < 2)) continue;
        matches.push_back({.entry = index,
                           .begin = typed_by_prefix ? b - prefix_length : b,
                           .end = e,
                           .name_begin = b,
                           .quality = quality,
                           .exact = accented_key == entry.accented});
      }
    }
  }
  // A name inside a longer match is part of that one: "Phố Huế" in "thành phố Huế",
  // "Huế" in "Thừa Thiên Huế", "An Phú" in "An Phú Đông".
  std::vector<Match> outer;
  for (const Match& m : matches) {
    const bool inside = std::any_of(matches.begin(), matches.end(), [&](const Match& o) {
      return o.begin <= m.begin && m.end <= o.end && o.end - o.begin > m.end - m.begin;
    });
    if (!inside) outer.push_back(m);
  }
  // A bare name counts only when names fill the rest of its comma-separated part:
  // "Bến Nghé, Q.1" and "ben nghe quan 1" name a ward, "123 Lê Lợi" and "Xa lộ Hà
  // Nội" name streets.
  std::vector<bool> covered(plain.size(), false);
  for (const Match& m : outer) std::fill(covered.begin() + m.begin, covered.begin() + m.end, true);
  std::vector<Match> kept;
  for (const Match& m : outer) {
    if (m.quality == 1) {
      int first = m.begin;
      while (first > 0 && plain[first - 1] != kBreak) --first;
      int last = m.end;
      while (last < n && plain[last] != kBreak) ++last;
      if (!std::all_of(covered.begin() + first, covered.begin() + last,
                       [](bool c) { return c; })) {
        continue;
      }
    }
    kept.push_back(m);
  }
  return kept;
}

AddressMatch AddressResolver::Resolve(absl::string_view address) const {
  const FoldedText folded = Fold(address, kMaxTokens);
  const std::vector<Match> matches = FindMatches(folded.plain, folded.accented);
  if (matches.empty()) return {};

  // Each matched area's best score: its own match, plus the best non-overlapping match
  // of its district (for a ward) and of its province.
  struct Candidate {
    const AreaRecord* record;
    AdminLevel level;
    int score;
    int name_begin;
    int end;
    bool with_district;
  };
  std::map<std::pair<AdminLevel, std::string>, Candidate> candidates;
  auto best_enclosing = [&](AdminLevel level, const std::string& code,
                            const std::vector<const Match*>& used) -> const Match* {
    const Match* best = nullptr;
    for (const Match& o : matches) {
      const Entry& entry = entries_[o.entry];
      if (entry.level != level || CodeAt(*entry.record, level) != code) continue;
      if (std::any_of(used.begin(), used.end(), [&](const Match* u) { return o.Overlaps(*u); })) {
        continue;
      }
      if (best == nullptr || o.quality > best->quality) best = &o;
    }
    return best;
  };
  for (const Match& m : matches) {
    const Entry& entry = entries_[m.entry];
    int score = 2 * m.quality + (m.exact ? 1 : 0);
    std::vector<const Match*> used = {&m};
    bool with_district = false;
    if (entry.level == AdminLevel::kWard) {
      if (const Match* d = best_enclosing(AdminLevel::kDistrict, entry.record->district_code,
                                          used)) {
        score += 2 * d->quality;
        used.push_back(d);
        with_district = true;
      }
    }
    if (entry.level != AdminLevel::kProvince) {
      if (const Match* p = best_enclosing(AdminLevel::kProvince, entry.record->province_code,
                                          used)) {
        score += 2 * p->quality;
      }
    }
    const Candidate candidate{entry.record, entry.level, score, m.name_begin, m.end,
                              with_district};
    auto [it, inserted] =
        candidates.emplace(std::make_pair(entry.level, CodeAt(*entry.record, entry.level)),
                           candidate);
    if (!inserted && score > it->second.score) it->second = candidate;
  }

  int top_score = 0;
  for (const auto& [key, c] : candidates) top_score = std::max(top_score, c.score);
  std::vector<const Candidate*> top;
  for (const auto& [key, c] : candidates) {
    if (c.score == top_score) top.push_back(&c);
  }
  const Candidate* deepest = top.front();
  for (const Candidate* c : top) {
    if (c->level < deepest->level) deepest = c;
  }
  const bool nested = std::all_of(top.begin(), top.end(), [&](const Candidate* c) {
    return CodeAt(*c->record, c->level) == CodeAt(*deepest->record, c->level);
  });

  if (nested) {
    // Areas spelled by the very same words ("Nam Định": the province and its capital
    // city) are told apart by nothing: keep the one that contains the other.
    const Candidate* chosen = deepest;
    for (const Candidate* c : top) {
      if (c->name_begin == deepest->name_begin && c->end == deepest->end &&
          c->level > chosen->level) {
        chosen = c;
      }
    }
    switch (chosen->level) {
      case AdminLevel::kWard:
        return {chosen->with_district ? AddressOutcome::kWardInDistrict : AddressOutcome::kWard,
                chosen->record};
      case AdminLevel::kDistrict:
        return {AddressOutcome::kDistrict, chosen->record};
      case AdminLevel::kProvince:
        return {AddressOutcome::kProvince, chosen->record};
    }
  }

  // Ambiguous: keep what every best reading agrees on.
  for (AdminLevel level : {AdminLevel::kWard, AdminLevel::kDistrict, AdminLevel::kProvince}) {
    const bool shared = std::all_of(top.begin(), top.end(), [&](const Candidate* c) {
      return c->level <= level &&
             CodeAt(*c->record, level) == CodeAt(*deepest->record, level);
    });
    if (shared) {
      return {AddressOutcome::kAmbiguous,
              FindArea(level, CodeAt(*deepest->record, level))};
    }
  }
  return {AddressOutcome::kAmbiguous, nullptr};
}

}  // namespace civic::routing
