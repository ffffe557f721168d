#include "services/notify/message_watch.h"

#include <vector>

namespace civic::notify {

void MessageWatch::Stage(uint64_t sequence, const std::string& code) {
  std::lock_guard lock(mu_);
  staged_[sequence].insert(code);
}

void MessageWatch::Committed(uint64_t sequence) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mu_);
    auto end = staged_.upper_bound(sequence);
    if (staged_.begin() == end) return;  // nothing for citizens in this event
    for (auto it = staged_.begin(); it != end; ++it) {
      for (const std::string& code : it->second) {
        auto waiting = waiters_.find(code);
        if (waiting == waiters_.end()) continue;
        for (auto& [ticket, fn] : waiting->second) {
          codes_.erase(ticket);
          wake.push_back(std::move(fn));
        }
        waiters_.erase(waiting);
      }
    }
    staged_.erase(staged_.begin(), end);
    ++version_;
  }
  // Outside the lock: a woken reader reads the store and may wait again at once.
  for (auto& fn : wake) fn();
}

uint64_t MessageWatch::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

uint64_t MessageWatch::Wait(const std::string& code, uint64_t seen, std::function<void()> wake) {
  std::lock_guard lock(mu_);
  if (version_ != seen) return 0;
  const uint64_t ticket = next_ticket_++;
  waiters_[code].emplace(ticket, std::move(wake));
  codes_.emplace(ticket, code);
  return ticket;
}

void MessageWatch::Cancel(uint64_t ticket) {
  std::lock_guard lock(mu_);
  auto it = codes_.find(ticket);
  if (it == codes_.end()) return;  // woken already
  auto waiting = waiters_.find(it->second);
  if (waiting != waiters_.end()) {
    waiting->second.erase(ticket);
    if (waiting->second.empty()) waiters_.erase(waiting);
  }
  codes_.erase(it);
}

size_t MessageWatch::waiting() const {
  std::lock_guard lock(mu_);
  return codes_.size();
}

}  // namespace civic::notify
