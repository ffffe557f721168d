// Accent-insensitive full-text search over cases: the inverted index's writer and its
// AND query (rarest word drives, the others are checked with point look-ups).
#include "services/cases/search_index.h"

#include <algorithm>
#include <optional>
#include <unordered_set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/core/text.h"

namespace civic::cases {
namespace {

// Separates the token from the case id in a posting key. Below every character a folded
// token can hold, so "ng\x1f…" sorts before "nga\x1f…".
constexpr char kSep[] = "\x1f";
// The byte after kSep: seeking to token + kAfterSep skips all of the token's postings.
constexpr char kAfterSep[] = "\x20";
// Posting lists are counted (and, for a prefix, collected) up to this many entries.
constexpr size_t kCountCap = 10000;
// Case ids fetched per backward scan of one posting list.
constexpr size_t kPageSize = 256;

std::string PostingPrefix(absl::string_view token) { return absl::StrCat(token, kSep); }

// One query word: the tokens it stands for (one for a whole word, up to
// kMaxPrefixExpansion for a type-ahead prefix; a case matches when it has any of them).
struct Term {
  std::vector<std::string> tokens;
  // Postings counted, at most the cap it was counted with (then "at least this many").
  size_t estimate = 0;
  // Set when a multi-token term's postings were collected completely: its case ids.
  std::optional<std::unordered_set<std::string>> members;
};

// Walks one token's postings from the newest case id to the oldest, a page at a time.
class PostingCursor {
 public:
  PostingCursor(const storage::Store* store, absl::string_view token)
      : store_(store), prefix_(PostingPrefix(token)) {}

  // The current (newest unvisited) case id, nullptr once the list is exhausted.
  absl::StatusOr<const std::string*> Peek() {
    if (pos_ == page_.size() && !exhausted_) {
      page_.clear();
      pos_ = 0;
      std::string last_key;
      absl::Status status = store_->ScanBackward(
          kSearchCf, prefix_, before_, [&](absl::string_view key, absl::string_view) {
            page_.emplace_back(key.substr(prefix_.size()));
            last_key.assign(key.data(), key.size());
            return page_.size() < kPageSize;
          });
      if (!status.ok()) return status;
      if (page_.size() < kPageSize) {
        exhausted_ = true;
      } else {
        before_ = std::move(last_key);  // never empty: it holds at least prefix_
      }
    }
    if (pos_ == page_.size()) return nullptr;
    return &page_[pos_];
  }

  // Requires a non-null Peek().
  void Pop() { ++pos_; }

 private:
  const storage::Store* store_;
  std::string prefix_;
  std::string before_;  // empty: start from the end of the list
  std::vector<std::string> page_;
  size_t pos_ = 0;
  bool exhausted_ = false;
};

// The union of several posting lists, newest case id first, each id once.
class DescendingUnion {
 public:
  DescendingUnion(const storage::Store* store, const std::vector<std::string>& tokens) {
    cursors_.reserve(tokens.size());
    for (const std::string& token : tokens) cursors_.emplace_back(store, token);
  }

  // The next case id, std::nullopt when every list is exhausted.
  absl::StatusOr<std::optional<std::string>> Next() {
    std::optional<std::string> best;
    for (PostingCursor& cursor : cursors_) {
      absl::StatusOr<const std::string*> head = cursor.Peek();
      if (!head.ok()) return head.status();
      if (*head != nullptr && (!best.has_value() || **head > *best)) best = **head;
    }
    if (!best.has_value()) return best;
    // Each list is strictly descending, so the id is at most at the head of each.
    for (PostingCursor& cursor : cursors_) {
      absl::StatusOr<const std::string*> head = cursor.Peek();
      if (!head.ok()) return head.status();
      if (*head != nullptr && **head == *best) cursor.Pop();
    }
    return best;
  }

 private:
  std::vector<PostingCursor> cursors_;
};

// Number of postings of `token`, at most `cap`.
absl::StatusOr<size_t> CountPostings(const storage::Store& store, absl::string_view token,
                                     size_t cap) {
  size_t n = 0;
  absl::Status status = store.Scan(kSearchCf, PostingPrefix(token), "",
                                   [&](absl::string_view, absl::string_view) {
                                     ++n;
                                     return n < cap;
                                   });
  if (!status.ok()) return status;
  return n;
}

// The indexed tokens beginning with `prefix`, in byte order, at most `max`. One seek per
// token: each scan stops at the token's first posting and the next one skips the rest.
absl::StatusOr<std::vector<std::string>> ExpandPrefix(const storage::Store& store,
                                                      absl::string_view prefix, size_t max) {
  std::vector<std::string> tokens;
  std::string start(prefix);
  while (tokens.size() < max) {
    std::optional<std::string> token;
    absl::Status status =
        store.Scan(kSearchCf, prefix, start, [&](absl::string_view key, absl::string_view) {
          token = std::string(key.substr(0, key.find(kSep[0])));
          return false;
        });
    if (!status.ok()) return status;
    if (!token.has_value()) break;
    start = absl::StrCat(*token, kAfterSep);
    tokens.push_back(*std::move(token));
  }
  return tokens;
}

// Counts a prefix term's postings up to `cap`, keeping its case ids when they all fit.
absl::Status EstimatePrefixTerm(const storage::Store& store, size_t cap, Term& term) {
  std::unordered_set<std::string> ids;
  size_t total = 0;
  for (const std::string& token : term.tokens) {
    absl::Status status = store.Scan(kSearchCf, PostingPrefix(token), "",
                                     [&](absl::string_view key, absl::string_view) {
                                       ids.emplace(key.substr(token.size() + 1));
                                       ++total;
                                       return total < cap;
                                     });
    if (!status.ok()) return status;
    if (total >= cap) break;
  }
  if (total < cap) {
    term.estimate = ids.size();
    term.members = std::move(ids);
  } else {
    term.estimate = cap;
  }
  return absl::OkStatus();
}

// True when case `case_id` has any of `term`'s tokens.
absl::StatusOr<bool> Matches(const storage::Store& store, const Term& term,
                             const std::string& case_id) {
  if (term.members.has_value()) return term.members->count(case_id) > 0;
  for (const std::string& token : term.tokens) {
    absl::StatusOr<std::optional<std::string>> posting =
        store.Get(kSearchCf, absl::StrCat(token, kSep, case_id));
    if (!posting.ok()) return posting.status();
    if (posting->has_value()) return true;
  }
  return false;
}

}  // namespace

void SearchIndex::Index(const std::string& case_id, absl::string_view text,
                        storage::Batch& batch) const {
  if (case_id.empty()) return;
  const std::string folded = FoldForMatch(text);
  std::unordered_set<std::string> seen;
  for (absl::string_view word : absl::StrSplit(folded, ' ', absl::SkipEmpty())) {
    if (seen.size() >= kMaxTokensPerCall) break;
    if (word.size() > kMaxTokenBytes) continue;
    if (!seen.emplace(word).second) continue;
    batch.Put(kSearchCf, absl::StrCat(word, kSep, case_id), "");
  }
}

absl::StatusOr<std::vector<std::string>> SearchIndex::Search(
    absl::string_view query, size_t limit,
    const std::function<bool(const std::string& case_id)>& accept) const {
  const std::string folded = FoldForMatch(query);
  std::vector<std::string> words = absl::StrSplit(folded, ' ', absl::SkipEmpty());
  if (words.empty()) return absl::InvalidArgumentError("search query has no words");

  // The last word is a type-ahead prefix unless it is a single character or also typed
  // earlier as a whole word (which already implies it).
  std::string prefix_word;
  if (words.back().size() >= 2 &&
      std::find(words.begin(), words.end() - 1, words.back()) == words.end() - 1) {
    prefix_word = std::move(words.back());
    words.pop_back();
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  if (words.size() + (prefix_word.empty() ? 0 : 1) > kMaxQueryWords) {
    return absl::InvalidArgumentError(
        absl::StrCat("search query has more than ", kMaxQueryWords, " distinct words"));
  }
  if (limit == 0) return std::vector<std::string>();

  // Estimate every term's posting count, each only up to the smallest count so far (a
  // larger list cannot drive); any empty term means no result.
  std::vector<Term> terms;
  size_t best = kCountCap;
  for (std::string& word : words) {
    Term term;
    absl::StatusOr<size_t> count = CountPostings(*store_, word, best);
    if (!count.ok()) return count.status();
    if (*count == 0) return std::vector<std::string>();
    term.estimate = *count;
    best = std::min(best, *count);
    term.tokens.push_back(std::move(word));
    terms.push_back(std::move(term));
  }
  if (!prefix_word.empty()) {
    Term term;
    absl::StatusOr<std::vector<std::string>> tokens =
        ExpandPrefix(*store_, prefix_word, kMaxPrefixExpansion);
    if (!tokens.ok()) return tokens.status();
    if (tokens->empty()) return std::vector<std::string>();
    term.tokens = *std::move(tokens);
    if (absl::Status status = EstimatePrefixTerm(*store_, best, term); !status.ok()) {
      return status;
    }
    terms.push_back(std::move(term));
  }
  // Rarest first: the first term drives, the others reject candidates early.
  std::stable_sort(terms.begin(), terms.end(), [](const Term& a, const Term& b) {
    return a.estimate < b.estimate;
  });

  std::vector<std::string> results;
  DescendingUnion candidates(store_, terms.front().tokens);
  while (results.size() < limit) {
    absl::StatusOr<std::optional<std::string>> next = candidates.Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) break;
    const std::string& case_id = **next;
    bool match = true;
    for (size_t i = 1; i < terms.size() && match; ++i) {
      absl::StatusOr<bool> matches = Matches(*store_, terms[i], case_id);
      if (!matches.ok()) return matches.status();
      match = *matches;
    }
    if (match && (!accept || accept(case_id))) results.push_back(case_id);
  }
  return results;
}

}  // namespace civic::cases
