// Applies another service's change feed to this service's store exactly once: each
// event's effects and the consumer's new cursor are written in one synced batch, so a
// crash either keeps both or neither, and replayed events (at-least-once delivery) are
// recognised by their sequence and skipped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/storage/store.h"

namespace civic::storage {

// Where events come from (e.g. a gRPC Subscribe stream).
class FeedSource {
 public:
  using Sink = std::function<absl::Status(uint64_t sequence, const std::string& payload)>;
  virtual ~FeedSource() = default;
  // Delivers entries with sequence > `after`, in order, to `sink` until the source ends,
  // fails, `sink` returns an error, or Cancel() is called; returns why it stopped.
  virtual absl::Status Run(uint64_t after, const Sink& sink) = 0;
  // Makes a running Run() return soon. Thread-safe; may be called before Run().
  virtual void Cancel() = 0;
};

class FeedConsumer {
 public:
  // Adds the effects of one event to `batch` (it must not write the store itself).
  // An error leaves the cursor where it was; the event is retried after a back-off.
  using Apply =
      std::function<absl::Status(uint64_t sequence, const std::string& payload, Batch& batch)>;

  // `store` keeps the cursor under key "cursor/<name>" in keyspace `cursor_cf`.
  FeedConsumer(std::string name, Store* store, std::string cursor_cf,
               std::unique_ptr<FeedSource> source, Apply apply);
  ~FeedConsumer();

  // Loads the cursor and starts consuming on a thread of its own; reconnects with
  // back-off (100 ms doubling to 5 s) when the source fails. Once only: a stopped
  // consumer is not restarted (make a new one); FAILED_PRECONDITION on a second Start.
  absl::Status Start();
  // Stops and joins. Events applied so far are durable.
  void Stop();

  // ---- After-commit hook (notify's live streams).
  // Before Start: `fn` is called on the consumer's thread right after each event's batch
  // has been written (not for replayed events, which write nothing), so that readers
  // waiting for an effect are woken only once it can be read. Keep it quick: the next
  // event waits for it.
  void OnCommitted(std::function<void(uint64_t sequence)> fn) { committed_ = std::move(fn); }

  // The last sequence applied.
  uint64_t position() const { return position_.load(); }
  // Waits until position() >= sequence or `timeout` passes; true if reached.
  bool WaitFor(uint64_t sequence, absl::Duration timeout);

 private:
  void Loop();
  absl::Status Handle(uint64_t sequence, const std::string& payload);

  std::string name_;
  Store* store_;
  std::string cursor_cf_;
  std::string cursor_key_;
  std::unique_ptr<FeedSource> source_;
  Apply apply_;
  std::function<void(uint64_t)> committed_;  // may be empty

  std::atomic<uint64_t> position_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace civic::storage
