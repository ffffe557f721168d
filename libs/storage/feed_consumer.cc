#include "libs/storage/feed_consumer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/core/status.h"

namespace civic::storage {

FeedConsumer::FeedConsumer(std::string name, Store* store, std::string cursor_cf,
                           std::unique_ptr<FeedSource> source, Apply apply)
    : name_(std::move(name)),
      store_(store),
      cursor_cf_(std::move(cursor_cf)),
      cursor_key_(absl::StrCat("cursor/", name_)),
      source_(std::move(source)),
      apply_(std::move(apply)) {}

FeedConsumer::~FeedConsumer() { Stop(); }

absl::Status FeedConsumer::Start() {
  if (thread_.joinable()) return absl::FailedPreconditionError("feed consumer already started");
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> saved,
                         store_->Get(cursor_cf_, cursor_key_));
  position_ = saved ? DecodeUint64(*saved) : 0;
  CIVIC_LOG_INFO("feed consumer {} resumes after sequence {}", name_, position_.load());
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void FeedConsumer::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);  // so the loop cannot miss the wake-up below
    stopping_ = true;
  }
  source_->Cancel();
  cv_.notify_all();
  thread_.join();
}

bool FeedConsumer::WaitFor(uint64_t sequence, absl::Duration timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [&] { return position_.load() >= sequence || stopping_; }) &&
         position_.load() >= sequence;
}

absl::Status FeedConsumer::Handle(uint64_t sequence, const std::string& payload) {
  if (sequence <= position_.load()) return absl::OkStatus();  // replayed: already applied
  Batch batch(store_);
  CIVIC_RETURN_IF_ERROR(apply_(sequence, payload, batch));
  batch.Put(cursor_cf_, cursor_key_, EncodeUint64(sequence));
  CIVIC_RETURN_IF_ERROR(store_->Write(batch));
  {
    std::lock_guard lock(mu_);
    position_ = sequence;
  }
  cv_.notify_all();
  if (committed_) committed_(sequence);
  return absl::OkStatus();
}

void FeedConsumer::Loop() {
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stopping_) {
    const uint64_t before = position_.load();
    absl::Status status = source_->Run(before, [this](uint64_t seq, const std::string& p) {
      return Handle(seq, p);
    });
    if (stopping_) break;
    if (position_.load() > before) backoff = absl::Milliseconds(100);  // made progress
    CIVIC_LOG_WARN("feed consumer {} disconnected at {}: {}; retrying in {} ms", name_,
                   position_.load(), status.ToString(), absl::ToInt64Milliseconds(backoff));
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, absl::ToChronoNanoseconds(backoff), [&] { return stopping_.load(); });
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

}  // namespace civic::storage
