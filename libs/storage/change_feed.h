// A durable change feed: an append-only log of events with gap-free sequence numbers,
// written in the same atomic batch as the state change it describes. Readers replay it
// from any position and are woken when it grows. This is how a service tells others
// what happened: at-least-once delivery, with exactly-once effects when consumers keep
// their cursor beside their effects (see feed_consumer.h).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/storage/store.h"

namespace civic::storage {

class ChangeFeed {
 public:
  struct Entry {
    uint64_t sequence;
    std::string payload;
  };

  // Uses keyspace `cf` of `store` (which must outlive the feed). Recovers the last
  // sequence from the store.
  static absl::StatusOr<std::unique_ptr<ChangeFeed>> Open(Store* store, std::string cf);

  // Adds one entry to `batch` and writes the batch, atomically and in sequence order:
  // `payload(sequence)` builds the entry for the sequence it is given. Appends are
  // serialised so a reader never sees sequence n+1 before n. Returns the sequence.
  absl::StatusOr<uint64_t> AppendAndWrite(
      Batch& batch, const std::function<std::string(uint64_t)>& payload);

  // As AppendAndWrite for `n` consecutive entries in the one batch, for a change that is
  // several events at once (a merge changes two cases): `payload(i, sequence)` builds
  // entry i (0 ≤ i < n) for its sequence, and the entries get consecutive sequences in
  // the order of i. All of them and the rest of `batch` are written atomically, or none.
  // Returns the first entry's sequence. INVALID_ARGUMENT when n is 0 (nothing written).
  absl::StatusOr<uint64_t> AppendAllAndWrite(
      Batch& batch, size_t n, const std::function<std::string(size_t, uint64_t)>& payload);

  // Up to `limit` entries with sequence > `after`, in order.
  absl::StatusOr<std::vector<Entry>> ReadAfter(uint64_t after, size_t limit) const;

  // The highest sequence written (0 when empty).
  uint64_t last_sequence() const;

  // Calls `fn` once, from the thread of a later append (or at once, on the caller's
  // thread, if the feed already holds entries after `after`). Used by streaming readers
  // that have caught up.
  void NotifyAfter(uint64_t after, std::function<void()> fn);

 private:
  ChangeFeed(Store* store, std::string cf) : store_(store), cf_(std::move(cf)) {}

  Store* store_;
  std::string cf_;
  std::mutex append_mu_;  // held across the write: orders appends
  mutable std::mutex mu_;
  uint64_t last_ = 0;
  std::vector<std::function<void()>> waiters_;
};

}  // namespace civic::storage
