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
        const std::set<uint64_t> woken = waiting->second;  // ForgetLocked edits the set
        for (uint64_t ticket : woken) {
          auto waiter = tickets_.find(ticket);
          wake.push_back(std::move(waiter->second.wake));
          ForgetLocked(waiter);
        }
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

uint64_t MessageWatch::Wait(const std::vector<std::string>& codes, uint64_t seen,
                            std::function<void()> wake) {
  std::lock_guard lock(mu_);
  if (version_ != seen) return 0;
  const uint64_t ticket = next_ticket_++;
  for (const std::string& code : codes) waiters_[code].insert(ticket);
  tickets_.emplace(ticket, Waiter{codes, std::move(wake)});
  return ticket;
}

void MessageWatch::Cancel(uint64_t ticket) {
  std::lock_guard lock(mu_);
  auto waiter = tickets_.find(ticket);
  if (waiter != tickets_.end()) ForgetLocked(waiter);  // else woken already
}

void MessageWatch::ForgetLocked(std::map<uint64_t, Waiter>::iterator waiter) {
  for (const std::string& code : waiter->second.codes) {
    auto waiting = waiters_.find(code);
    if (waiting == waiters_.end()) continue;
    waiting->second.erase(waiter->first);
    if (waiting->second.empty()) waiters_.erase(waiting);
  }
  tickets_.erase(waiter);
}

size_t MessageWatch::waiting() const {
  std::lock_guard lock(mu_);
  return tickets_.size();
}

}  // namespace civic::notify
