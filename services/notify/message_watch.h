// Wakes the live readers of a tracking code's messages (WatchMessages) when a message
// for that code has been stored: notify's feed consumer stages the codes an event
// writes to, and publishes them once the event's batch is written, so a woken reader
// always finds the new message in the store. Waiters are kept per code, so an event
// wakes only the streams it concerns.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace civic::notify {

class MessageWatch {
 public:
  // The event `sequence` adds a message for `code` to a batch not yet written (called
  // by NotifyLogic::Apply). Staging the same pair again (a retried event) is harmless.
  void Stage(uint64_t sequence, const std::string& code);

  // The batch of event `sequence` is written: wakes the waiters of every code staged
  // for it or an earlier event (each waiter once, on this thread, outside the lock).
  void Committed(uint64_t sequence);

  // How many times Committed has published a message so far. A reader takes it
  // before reading the store and hands it to Wait, so nothing published in between is
  // missed.
  uint64_t version() const;

  // Registers `wake`, called once (from a later Committed's thread) when a message for
  // one of `codes` is published, and returns a ticket for Cancel (never 0). Returns 0
  // and registers nothing when a message (for any code) was published after version
  // `seen`: the caller reads the store again instead.
  uint64_t Wait(const std::vector<std::string>& codes, uint64_t seen,
                std::function<void()> wake);

  // Forgets the waiter `ticket` unless it has already been woken (a stream that ended).
  void Cancel(uint64_t ticket);

  // Waiters registered and not yet woken or cancelled.
  size_t waiting() const;

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, std::set<std::string>> staged_;  // event sequence -> codes
  uint64_t version_ = 0;
  uint64_t next_ticket_ = 1;
  struct Waiter {
    std::vector<std::string> codes;
    std::function<void()> wake;
  };
  // Removes a waiter from every code it waits on; requires mu_.
  void ForgetLocked(std::map<uint64_t, Waiter>::iterator waiter);
  // code -> tickets waiting on it; ticket -> its codes and wake-up.
  std::map<std::string, std::set<uint64_t>> waiters_;
  std::map<uint64_t, Waiter> tickets_;
};

}  // namespace civic::notify
