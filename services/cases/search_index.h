// Accent-insensitive full-text search over cases ("duong ngap" finds "đường ngập"): an
// inverted index kept in the cases store and written in the same batch as the case change
// it reflects, so after a crash search never disagrees with the cases.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/storage/store.h"

namespace civic::cases {

// Keyspace of the inverted index. Key: token '\x1f' case_id, value empty. Tokens are
// FoldForMatch words ([a-z0-9]+), so a token's postings are one prefix scan in case-id
// order, and case ids are sortable by time (newest last).
inline constexpr char kSearchCf[] = "search";

class SearchIndex {
 public:
  // Limits of the index and of a query.
  static constexpr size_t kMaxTokenBytes = 64;        // longer words are not indexed
  static constexpr size_t kMaxTokensPerCall = 2000;   // distinct tokens per Index call
  static constexpr size_t kMaxPrefixExpansion = 50;   // tokens a last-word prefix stands for
  static constexpr size_t kMaxQueryWords = 32;        // distinct words in one query

  // `store` must declare kSearchCf and outlive the index. Thread-safe: the index holds no
  // state of its own.
  explicit SearchIndex(storage::Store* store) : store_(store) {}

  // Adds to `batch` the postings of `text` under document `case_id`. Tokens are the
  // FoldForMatch words of `text`, deduplicated; words longer than kMaxTokenBytes are
  // skipped, and only the first kMaxTokensPerCall distinct tokens are indexed. Call it
  // once per text of the case (description, each reply): postings only accumulate, so a
  // case is findable by the words of any of its texts. Indexing the same text again is
  // harmless. An empty `case_id` indexes nothing. Nothing is visible until the batch is
  // written.
  void Index(const std::string& case_id, absl::string_view text,
             storage::Batch& batch) const;

  // Ids of the cases containing every word of `query` (AND), newest first (descending
  // case id), at most `limit`. Query words are folded like the indexed text and matched
  // as whole words, except the last one, which also matches as a prefix of a token
  // (type-ahead: "duong ng" finds "đường ngập") when it has at least 2 characters; a
  // prefix stands for at most kMaxPrefixExpansion tokens, the first in byte order, so a
  // very short prefix may miss cases matching only rarer, later tokens. `accept`, when
  // set, filters candidates (e.g. only the cases a unit may see) before the limit counts
  // them; it is called only for cases matching every word.
  // Errors: INVALID_ARGUMENT when `query` has no word or more than kMaxQueryWords
  // distinct words; storage errors as the store reports them.
  absl::StatusOr<std::vector<std::string>> Search(
      absl::string_view query, size_t limit,
      const std::function<bool(const std::string& case_id)>& accept = nullptr) const;

 private:
  storage::Store* store_;
};

}  // namespace civic::cases
