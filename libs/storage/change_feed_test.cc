#include "absl/strings/string_view.h"
#include "libs/storage/change_feed.h"

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "libs/core/status.h"
#include "libs/storage/feed_consumer.h"
#include "libs/storage/test_dir.h"

namespace civic::storage {
namespace {

TEST_CASE("feed sequences are gap-free, ordered and survive a reopen", "[storage][feed]") {
  TestDir dir;
  {
    auto store = Store::Open({dir.path(), {"state", "feed"}});
    REQUIRE(store.ok());
    auto feed = ChangeFeed::Open(store->get(), "feed");
    REQUIRE(feed.ok());
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; i < 25; ++i) {
          Batch batch(store->get());
          batch.Put("state", std::to_string(w) + "/" + std::to_string(i), "x");
          REQUIRE((*feed)->AppendAndWrite(batch, [](uint64_t s) {
                           return "event " + std::to_string(s);
                         }).ok());
        }
      });
    }
    for (auto& t : writers) t.join();
    REQUIRE((*feed)->last_sequence() == 100);
  }
  auto store = Store::Open({dir.path(), {"state", "feed"}});
  auto feed = ChangeFeed::Open(store->get(), "feed");
  REQUIRE((*feed)->last_sequence() == 100);
  auto entries = (*feed)->ReadAfter(90, 100);
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 10);
  REQUIRE(entries->front().sequence == 91);
  REQUIRE(entries->front().payload == "event 91");
  REQUIRE((*feed)->ReadAfter(100, 10)->empty());
}

TEST_CASE("feed wakes a caught-up reader on the next append", "[storage][feed]") {
  TestDir dir;
  auto store = Store::Open({dir.path(), {"feed"}});
  auto feed = ChangeFeed::Open(store->get(), "feed");
  std::atomic<int> woken{0};
  (*feed)->NotifyAfter(0, [&] { woken++; });
  REQUIRE(woken == 0);
  Batch batch(store->get());
  REQUIRE((*feed)->AppendAndWrite(batch, [](uint64_t) { return "e"; }).ok());
  REQUIRE(woken == 1);
  (*feed)->NotifyAfter(0, [&] { woken++; });  // already has entries after 0: at once
  REQUIRE(woken == 2);
}

TEST_CASE("several entries appended with one batch get consecutive sequences, atomically",
          "[storage][feed]") {
  TestDir dir;
  {
    auto store = Store::Open({dir.path(), {"state", "feed"}});
    auto feed = ChangeFeed::Open(store->get(), "feed");
    Batch one(store->get());
    REQUIRE((*feed)->AppendAndWrite(one, [](uint64_t s) { return "single " + std::to_string(s); })
                .value() == 1);
    std::atomic<int> woken{0};
    (*feed)->NotifyAfter(1, [&] { woken++; });
    Batch batch(store->get());
    batch.Put("state", "merged", "yes");
    auto first = (*feed)->AppendAllAndWrite(batch, 3, [](size_t i, uint64_t s) {
      return "entry " + std::to_string(i) + " at " + std::to_string(s);
    });
    REQUIRE(first.value() == 2);
    REQUIRE(woken == 1);  // one wake-up for the whole group
    REQUIRE((*feed)->last_sequence() == 4);
    REQUIRE((*store)->Get("state", "merged")->value() == "yes");
    Batch none(store->get());
    REQUIRE((*feed)->AppendAllAndWrite(none, 0, [](size_t, uint64_t) { return ""; })
                .status()
                .code() == absl::StatusCode::kInvalidArgument);
    REQUIRE((*feed)->last_sequence() == 4);
  }
  auto store = Store::Open({dir.path(), {"state", "feed"}});
  auto feed = ChangeFeed::Open(store->get(), "feed");
  REQUIRE((*feed)->last_sequence() == 4);
  auto entries = (*feed)->ReadAfter(1, 10);
  REQUIRE(entries->size() == 3);
  REQUIRE(entries->at(0).sequence == 2);
  REQUIRE(entries->at(0).payload == "entry 0 at 2");
  REQUIRE(entries->at(2).payload == "entry 2 at 4");
  Batch after(store->get());
  REQUIRE((*feed)->AppendAndWrite(after, [](uint64_t) { return "next"; }).value() == 5);
}

// A source that replays a fixed list, optionally failing midway, like a broken stream.
class ListSource : public FeedSource {
 public:
  ListSource(std::vector<std::string> events, int fail_after)
      : events_(std::move(events)), fail_after_(fail_after) {}
  absl::Status Run(uint64_t after, const Sink& sink) override {
    // At-least-once: always start a little before `after`, like a replaying server.
    const uint64_t from = after > 2 ? after - 2 : 0;
    for (uint64_t seq = from + 1; seq <= events_.size(); ++seq) {
      if (cancelled_) return absl::CancelledError("cancelled");
      if (fail_after_ > 0 && seq == static_cast<uint64_t>(fail_after_) && !failed_) {
        failed_ = true;
        return absl::UnavailableError("stream broke");
      }
      CIVIC_RETURN_IF_ERROR(sink(seq, events_[seq - 1]));
    }
    while (!cancelled_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return absl::CancelledError("cancelled");
  }
  void Cancel() override { cancelled_ = true; }

 private:
  std::vector<std::string> events_;
  int fail_after_;
  bool failed_ = false;
  std::atomic<bool> cancelled_{false};
};

TEST_CASE("a consumer applies each event once across failures and restarts",
          "[storage][feed]") {
  TestDir dir;
  std::vector<std::string> events;
  for (int i = 0; i < 50; ++i) events.push_back("e" + std::to_string(i));
  auto count_applied = [](Store* store) {
    int n = 0;
    REQUIRE(store->Scan("effects", "", "", [&](absl::string_view, absl::string_view) {
                   ++n;
                   return true;
                 }).ok());
    return n;
  };
  auto apply_into = [](Store*) {
    return [](uint64_t seq, const std::string& payload, Batch& batch) {
      batch.Put("effects", EncodeUint64(seq), payload);
      batch.Put("counter", "applied/" + std::to_string(seq), "");
      return absl::OkStatus();
    };
  };
  {
    auto store = Store::Open({dir.path(), {"effects", "counter", "meta"}});
    FeedConsumer consumer("test", store->get(), "meta",
                          std::make_unique<ListSource>(
                              std::vector<std::string>(events.begin(), events.begin() + 30), 12),
                          apply_into(store->get()));
    REQUIRE(consumer.Start().ok());
    REQUIRE(consumer.WaitFor(30, absl::Seconds(10)));
    consumer.Stop();
    REQUIRE(count_applied(store->get()) == 30);
  }
  // Restart: resumes from the persisted cursor; replayed events are skipped.
  auto store = Store::Open({dir.path(), {"effects", "counter", "meta"}});
  FeedConsumer consumer("test", store->get(), "meta", std::make_unique<ListSource>(events, 0),
                        apply_into(store->get()));
  REQUIRE(consumer.Start().ok());
  REQUIRE(consumer.position() == 30);
  REQUIRE(consumer.WaitFor(50, absl::Seconds(10)));
  consumer.Stop();
  REQUIRE(count_applied(store->get()) == 50);
}

}  // namespace
}  // namespace civic::storage
