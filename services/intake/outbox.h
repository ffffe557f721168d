// Forwards stored reports to routing and cases from a persisted outbox: emergencies
// first, then everything else in the order it arrived. While a peer is down, reports wait (intake keeps accepting); when it
// returns they are forwarded. Cases' OpenCase is idempotent per report, so a retry after
// a crash between "case opened" and "outbox entry removed" never makes a second case.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/storage/store.h"
#include "services/intake/intake_logic.h"
#include "services/intake/peers.h"

namespace civic::intake {

struct OutboxOptions {
  int batch = 64;                                   // entries read per pass
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Failures other than a peer being away (UNAVAILABLE, DEADLINE_EXCEEDED...) park a
  // report in the dead-letter keyspace after this many attempts.
  int max_attempts = 5;
};

class Outbox {
 public:
  // Nothing is owned; everything must outlive the outbox.
  Outbox(storage::Store* store, const IntakeLogic* logic, RoutingClient* routing,
         CasesClient* cases, OutboxOptions options);
  ~Outbox();

  // Starts the forwarding thread.
  void Start();
  // Stops after the report in hand; the rest stays in the outbox for the next start.
  void Stop();
  // Tells the thread there is new work.
  void Wake();

  // One pass: forwards entries in order until the outbox is empty or one fails (its
  // error is returned; the next pass retries it first). An entry failing other than
  // transiently `max_attempts` times is moved to the dead-letter keyspace and logged.
  // Used by the thread, and directly by tests.
  absl::Status DrainOnce();

  // Entries waiting (counted on each pass).
  int64_t pending() const { return pending_.load(); }

 private:
  absl::Status Forward(const std::string& outbox_key);
  void Loop();

  storage::Store* store_;
  const IntakeLogic* logic_;
  RoutingClient* routing_;
  CasesClient* cases_;
  OutboxOptions options_;

  std::atomic<int64_t> pending_{0};
  std::map<std::string, int> failed_attempts_;  // outbox key → attempts; DrainOnce only
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool work_ = true;
  std::thread thread_;
};

}  // namespace civic::intake
