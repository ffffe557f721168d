// Search over real Vietnamese report texts, checked against a naive reference (fold every
// text, test word containment), plus the index's limits and ordering on larger lists.
#include "services/cases/search_index.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/core/text.h"
#include "libs/storage/test_dir.h"

namespace civic::cases {
namespace {

std::filesystem::path SharedData() {
  if (const char* env = std::getenv("CIVIC_SHARED_DATA"); env != nullptr && *env != 0) {
    return env;
  }
  return std::filesystem::path(CIVIC_SOURCE_DIR "/../shared/data");
}

// `prefix` followed by `n` zero-padded to `width` digits, e.g. ("c", 7, 4) → "c0007".
std::string PaddedId(absl::string_view prefix, int n, size_t width) {
  std::string digits = std::to_string(n);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return absl::StrCat(prefix, digits);
}

// A store holding only the search keyspace.
std::unique_ptr<storage::Store> OpenStore(const std::filesystem::path& path, bool sync = true) {
  storage::StoreOptions options;
  options.path = path;
  options.column_families = {kSearchCf};
  options.sync = sync;
  auto store = storage::Store::Open(options);
  REQUIRE(store.ok());
  return *std::move(store);
}

std::vector<std::string> FoldedWords(absl::string_view text) {
  return absl::StrSplit(FoldForMatch(text), ' ', absl::SkipEmpty());
}

// The cases of the test, each with every text indexed under it.
struct Doc {
  std::string case_id;
  std::vector<std::string> texts;
};

// Naive search: the documents (newest first) whose folded words contain every query word,
// the last one (of 2+ characters) also as a prefix of a word.
std::vector<std::string> Reference(const std::vector<Doc>& docs, absl::string_view query) {
  const std::vector<std::string> words = FoldedWords(query);
  std::vector<std::string> found;
  for (auto it = docs.rbegin(); it != docs.rend(); ++it) {
    std::set<std::string> tokens;
    for (const std::string& text : it->texts) {
      for (std::string& w : FoldedWords(text)) tokens.insert(std::move(w));
    }
    bool all = true;
    for (size_t i = 0; i < words.size() && all; ++i) {
      const bool prefix = i + 1 == words.size() && words[i].size() >= 2;
      if (tokens.count(words[i]) > 0) continue;
      all = prefix && std::any_of(tokens.begin(), tokens.end(), [&](const std::string& t) {
              return absl::StartsWith(t, words[i]);
            });
    }
    if (all) found.push_back(it->case_id);
  }
  return found;
}

// Distinct corpus tokens starting with `prefix` (to keep queries within the expansion
// bound, which the reference does not model).
size_t TokensWithPrefix(const std::vector<Doc>& docs, absl::string_view prefix) {
  std::set<std::string> tokens;
  for (const Doc& doc : docs) {
    for (const std::string& text : doc.texts) {
      for (std::string& w : FoldedWords(text)) {
        if (absl::StartsWith(w, prefix)) tokens.insert(std::move(w));
      }
    }
  }
  return tokens.size();
}

// 30 report descriptions from the shared sample under "c0001".."c0030" (file order, so
// c0030 is the newest): the first 15 that mention flooding ("ngập") and the first 15
// that do not.
struct Corpus {
  Corpus() {
    store = OpenStore(dir.path() / "cases");
    index = std::make_unique<SearchIndex>(store.get());

    std::ifstream in(SharedData() / "reports-sample.jsonl");
    REQUIRE(in.good());
    int flooded = 0;
    int other = 0;
    for (std::string line; std::getline(in, line) && docs.size() < 30;) {
      if (line.empty()) continue;
      const nlohmann::json report = nlohmann::json::parse(line);
      if (!report.at("description").is_string()) continue;
      const std::string description = report.at("description").get<std::string>();
      const bool floods = absl::StrContains(FoldForMatch(description), "ngap");
      if (floods ? flooded++ >= 15 : other++ >= 15) continue;
      Add(PaddedId("c", static_cast<int>(docs.size()) + 1, 4), description);
    }
    REQUIRE(docs.size() == 30);
  }

  // Indexes `text` under `case_id` in its own batch, as the cases logic does.
  void Add(const std::string& case_id, const std::string& text) {
    storage::Batch batch(store.get());
    index->Index(case_id, text, batch);
    REQUIRE(store->Write(batch).ok());
    auto it = std::find_if(docs.begin(), docs.end(),
                           [&](const Doc& d) { return d.case_id == case_id; });
    if (it == docs.end()) {
      docs.push_back({case_id, {text}});
    } else {
      it->texts.push_back(text);
    }
  }

  std::vector<std::string> Search(absl::string_view query, size_t limit = 1000) const {
    auto found = index->Search(query, limit);
    REQUIRE(found.ok());
    return *found;
  }

  storage::TestDir dir;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<SearchIndex> index;
  std::vector<Doc> docs;
};

TEST_CASE("'duong ngap' finds the reports about flooded roads", "[cases][search]") {
  Corpus corpus;
  const std::vector<std::string> expected = Reference(corpus.docs, "duong ngap");
  REQUIRE(expected.size() >= 2);
  REQUIRE(corpus.Search("duong ngap") == expected);
  // Typed with diacritics, in capitals, with punctuation: the same answer.
  REQUIRE(corpus.Search("đường ngập") == expected);
  REQUIRE(corpus.Search("ĐƯỜNG NGẬP") == expected);
  REQUIRE(corpus.Search("  Đường, ngập!  ") == expected);
  REQUIRE(corpus.Search("ngập đường") == expected);
}

TEST_CASE("search agrees with the naive reference on many queries", "[cases][search]") {
  Corpus corpus;
  const char* kQueries[] = {
      "ngap", "Ngập", "nước ngập", "nuoc ngap bap chan", "mưa lớn", "Mưa Lớn ngập",
      "kenh thuy loi", "phuong 13", "quận 10", "khu pho 5", "rac", "Rác thải",
      "kiem tra xu ly", "xe may", "cho", "chợ", "nha", "0922532353", "xyzzy",
      "ngap xyzzy", "a", "ngap 5",
      // The last word as a prefix (type-ahead).
      "duong ng", "đường ngậ", "nuoc ng", "kenh thuy l", "mua lo", "Kính gử", "xu ly kie",
      "nguoi tha", "ngap bap ch", "phuong 1",
  };
  for (const char* query : kQueries) {
    INFO("query: " << query);
    const std::vector<std::string> words = FoldedWords(query);
    if (words.back().size() >= 2) {
      REQUIRE(TokensWithPrefix(corpus.docs, words.back()) <= SearchIndex::kMaxPrefixExpansion);
    }
    CHECK(corpus.Search(query) == Reference(corpus.docs, query));
  }
  // The prefix queries really exercise prefixes.
  REQUIRE(corpus.Search("duong ng").size() > corpus.Search("duong ngap").size());
  REQUIRE(corpus.Search("mua lo") == corpus.Search("mua lon"));
  REQUIRE(corpus.Search("ngap bap ch") == corpus.Search("ngap bap chan"));
  REQUIRE_FALSE(corpus.Search("ngap bap ch").empty());
}

TEST_CASE("query words match whole words, only the last may be a prefix", "[cases][search]") {
  Corpus corpus;
  REQUIRE_FALSE(corpus.Search("duong ngap").empty());
  REQUIRE(corpus.Search("duo ngap").empty());        // a non-last word is a whole word
  // The last word may be a prefix: "duo" also finds "được".
  const std::vector<std::string> duo = corpus.Search("ngap duo");
  REQUIRE(duo == Reference(corpus.docs, "ngap duo"));
  for (const std::string& id : corpus.Search("ngap duong")) {
    REQUIRE(std::find(duo.begin(), duo.end(), id) != duo.end());
  }
  // A single-character last word is a whole word, not a prefix of everything.
  REQUIRE(corpus.Search("ngap n") == Reference(corpus.docs, "ngap n"));
  REQUIRE(corpus.Search("ngap n").size() < corpus.Search("ngap").size());
}

TEST_CASE("every query word must match (AND)", "[cases][search]") {
  Corpus corpus;
  const std::vector<std::string> duong = corpus.Search("duong");
  const std::vector<std::string> ngap = corpus.Search("ngap");
  std::vector<std::string> both;
  for (const std::string& id : duong) {
    if (std::find(ngap.begin(), ngap.end(), id) != ngap.end()) both.push_back(id);
  }
  REQUIRE(both.size() < duong.size());
  REQUIRE(both.size() < ngap.size());
  REQUIRE(corpus.Search("duong ngap") == both);
}

TEST_CASE("results are newest first and stop at the limit", "[cases][search]") {
  Corpus corpus;
  const std::vector<std::string> all = corpus.Search("ngap");
  REQUIRE(all.size() == 15);
  REQUIRE(std::is_sorted(all.rbegin(), all.rend()));
  REQUIRE(corpus.Search("ngap", 3) == std::vector<std::string>(all.begin(), all.begin() + 3));
  REQUIRE(corpus.Search("ngap", 1) == std::vector<std::string>{all.front()});
  REQUIRE(corpus.Search("ngap", 0).empty());
  const std::vector<std::string> prefix = corpus.Search("ng");
  REQUIRE(std::is_sorted(prefix.rbegin(), prefix.rend()));
  REQUIRE(std::adjacent_find(prefix.begin(), prefix.end()) == prefix.end());
}

TEST_CASE("the accept filter applies before the limit", "[cases][search]") {
  Corpus corpus;
  const std::vector<std::string> all = corpus.Search("ngap");
  auto even = [](const std::string& id) { return (id.back() - '0') % 2 == 0; };
  std::vector<std::string> expected;
  std::copy_if(all.begin(), all.end(), std::back_inserter(expected), even);
  REQUIRE(expected.size() >= 4);
  expected.resize(4);
  std::vector<std::string> asked;
  auto found = corpus.index->Search("ngap", 4, [&](const std::string& id) {
    asked.push_back(id);
    return even(id);
  });
  REQUIRE(found.ok());
  REQUIRE(*found == expected);
  // Asked only about matching cases, and no further than needed.
  for (const std::string& id : asked) {
    REQUIRE(std::find(all.begin(), all.end(), id) != all.end());
  }
  REQUIRE(asked.back() == expected.back());
  auto none = corpus.index->Search("ngap", 10, [](const std::string&) { return false; });
  REQUIRE(none.ok());
  REQUIRE(none->empty());
}

TEST_CASE("a reply indexed later makes the case findable by its words", "[cases][search]") {
  Corpus corpus;
  const std::string reply = "Đã nạo vét xong cống thoát nước, đề nghị người dân giám sát.";
  REQUIRE(Reference(corpus.docs, "nao vet").empty());
  REQUIRE(corpus.Search("nao vet").empty());
  const std::string target = corpus.Search("ngap").back();  // an older flooded case
  corpus.Add(target, reply);
  REQUIRE(corpus.Search("nạo vét") == std::vector<std::string>{target});
  // Words of the description and of the reply together still find it.
  REQUIRE(corpus.Search("ngap nao vet") == std::vector<std::string>{target});
  const std::vector<std::string> typed = corpus.Search("ngap nao ve");
  REQUIRE(typed == Reference(corpus.docs, "ngap nao ve"));
  REQUIRE(std::find(typed.begin(), typed.end(), target) != typed.end());
  REQUIRE(corpus.Search("ngap nao vet") == Reference(corpus.docs, "ngap nao vet"));
  // Indexing the same reply twice changes nothing.
  corpus.Add(target, reply);
  REQUIRE(corpus.Search("nao vet") == std::vector<std::string>{target});
}

TEST_CASE("a query without words is INVALID_ARGUMENT", "[cases][search]") {
  Corpus corpus;
  for (const char* query : {"", "   ", " ... !? ", "\n\t"}) {
    auto found = corpus.index->Search(query, 10);
    REQUIRE(found.status().code() == absl::StatusCode::kInvalidArgument);
  }
  std::string many;
  for (int i = 0; i < 40; ++i) absl::StrAppend(&many, "w", i, " ");
  REQUIRE(corpus.index->Search(many, 10).status().code() ==
          absl::StatusCode::kInvalidArgument);
}

TEST_CASE("long texts index within the token limits", "[cases][search]") {
  Corpus corpus;
  // A 5,000-character description made of the corpus's own texts.
  std::string longest;
  for (size_t i = 0; longest.size() < 5000; ++i) {
    absl::StrAppend(&longest, corpus.docs[i % corpus.docs.size()].texts[0], " ");
  }
  longest.resize(5000);
  corpus.Add("c0031", longest);
  REQUIRE(corpus.Search("duong ngap").front() == "c0031");
  REQUIRE(corpus.Search("duong ngap") == Reference(corpus.docs, "duong ngap"));

  // Words over 64 bytes are not indexed; only the first 2,000 distinct tokens are.
  const std::string word64(64, 'q');
  const std::string word65(65, 'z');
  std::string many = absl::StrCat(word64, " ", word65);
  for (int i = 0; i < 2500; ++i) absl::StrAppend(&many, " tok", i);
  corpus.Add("c0032", many);
  REQUIRE(corpus.Search(word64) == std::vector<std::string>{"c0032"});
  REQUIRE(corpus.Search(word65).empty());
  REQUIRE(corpus.Search("tok0") == std::vector<std::string>{"c0032"});
  REQUIRE(corpus.Search("tok1998") == std::vector<std::string>{"c0032"});  // 2,000th
  REQUIRE(corpus.Search("tok1999").empty());                               // 2,001st
}

TEST_CASE("a prefix stands for at most 50 tokens", "[cases][search]") {
  storage::TestDir dir;
  std::unique_ptr<storage::Store> store = OpenStore(dir.path());
  SearchIndex index(store.get());
  storage::Batch batch(store.get());
  for (int i = 0; i < 80; ++i) {
    index.Index(absl::StrCat("d", 100 + i), absl::StrCat("pfx", 100 + i), batch);
  }
  REQUIRE(store->Write(batch).ok());
  auto found = index.Search("pfx", 1000);
  REQUIRE(found.ok());
  REQUIRE(found->size() == SearchIndex::kMaxPrefixExpansion);
  REQUIRE(found->front() == "d149");  // the first 50 tokens in byte order: pfx100..pfx149
  auto exact = index.Search("pfx170", 10);
  REQUIRE(exact.ok());
  REQUIRE(*exact == std::vector<std::string>{"d170"});
}

TEST_CASE("long posting lists intersect newest first", "[cases][search]") {
  // Past the estimate cap (10,000) and many scan pages: every case has "alpha", every
  // third "beta", every seventh "gamma".
  storage::TestDir dir;
  std::unique_ptr<storage::Store> store = OpenStore(dir.path(), /*sync=*/false);
  SearchIndex index(store.get());
  constexpr int kCases = 10500;
  storage::Batch batch(store.get());
  for (int i = 0; i < kCases; ++i) {
    std::string text = "alpha";
    if (i % 3 == 0) text += " beta";
    if (i % 7 == 0) text += " Gâmma";
    index.Index(PaddedId("d", i, 5), text, batch);
  }
  REQUIRE(store->Write(batch).ok());

  auto expect = [&](int modulo, size_t limit) {
    std::vector<std::string> ids;
    for (int i = kCases - 1; i >= 0 && ids.size() < limit; --i) {
      if (i % modulo != 0) continue;
      ids.push_back(PaddedId("d", i, 5));
    }
    return ids;
  };
  for (const char* query : {"alpha beta gamma", "gamma beta alpha", "beta gam",
                            "gamma beta al", "alpha gamma be"}) {
    INFO("query: " << query);
    auto found = index.Search(query, 20);
    REQUIRE(found.ok());
    CHECK(*found == expect(21, 20));
  }
  auto betas = index.Search("alpha beta", 100000);
  REQUIRE(betas.ok());
  REQUIRE(*betas == expect(3, 100000));
  auto all = index.Search("al", 100000);
  REQUIRE(all.ok());
  REQUIRE(*all == expect(1, 100000));
  auto filtered = index.Search("alpha", 5, [](const std::string& id) {
    return id.back() == '5';
  });
  REQUIRE(filtered.ok());
  REQUIRE(*filtered == std::vector<std::string>{"d10495", "d10485", "d10475", "d10465",
                                                "d10455"});
}

}  // namespace
}  // namespace civic::cases
