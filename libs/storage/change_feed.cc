#include "absl/strings/string_view.h"
#include "libs/storage/change_feed.h"

#include "libs/core/status.h"

namespace civic::storage {

absl::StatusOr<std::unique_ptr<ChangeFeed>> ChangeFeed::Open(Store* store, std::string cf) {
  std::unique_ptr<ChangeFeed> feed(new ChangeFeed(store, std::move(cf)));
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> last_key,
                         store->LastKey(feed->cf_));
  const uint64_t last = last_key ? DecodeUint64(*last_key) : 0;
  feed->last_ = last;
  return feed;
}

absl::StatusOr<uint64_t> ChangeFeed::AppendAndWrite(
    Batch& batch, const std::function<std::string(uint64_t)>& payload) {
  return AppendAllAndWrite(batch, 1,
                           [&](size_t, uint64_t sequence) { return payload(sequence); });
}

absl::StatusOr<uint64_t> ChangeFeed::AppendAllAndWrite(
    Batch& batch, size_t n, const std::function<std::string(size_t, uint64_t)>& payload) {
  if (n == 0) return absl::InvalidArgumentError("a feed append needs at least one entry");
  std::vector<std::function<void()>> wake;
  uint64_t first;
  {
    std::lock_guard append_lock(append_mu_);
    {
      std::lock_guard lock(mu_);
      first = last_ + 1;
    }
    for (size_t i = 0; i < n; ++i) {
      batch.Put(cf_, EncodeUint64(first + i), payload(i, first + i));
    }
    CIVIC_RETURN_IF_ERROR(store_->Write(batch));
    std::lock_guard lock(mu_);
    // Readers see all n entries at once: ReadAfter stops at last_.
    last_ = first + n - 1;
    wake.swap(waiters_);
  }
  for (auto& fn : wake) fn();
  return first;
}

absl::StatusOr<std::vector<ChangeFeed::Entry>> ChangeFeed::ReadAfter(uint64_t after,
                                                                     size_t limit) const {
  std::vector<Entry> out;
  const uint64_t last = last_sequence();
  if (after >= last) return out;
  CIVIC_RETURN_IF_ERROR(store_->Scan(
      cf_, "", EncodeUint64(after + 1), [&](absl::string_view key, absl::string_view value) {
        const uint64_t seq = DecodeUint64(key);
        // Entries beyond last_ may be mid-publication; they are delivered next time.
        if (seq > last) return false;
        out.push_back({seq, std::string(value)});
        return out.size() < limit;
      }));
  return out;
}

uint64_t ChangeFeed::last_sequence() const {
  std::lock_guard lock(mu_);
  return last_;
}

void ChangeFeed::NotifyAfter(uint64_t after, std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (last_ <= after) {
      waiters_.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

}  // namespace civic::storage
