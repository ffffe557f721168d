// A fixed pool of threads for blocking work (synced writes, calls to peers) that must
// not run on gRPC's callback threads: handing fsyncs to several workers is what lets
// RocksDB group-commit them.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace civic {

class WorkerPool {
 public:
  // Starts `threads` workers (at least 1).
  explicit WorkerPool(int threads);
  // Runs every task already submitted, then joins.
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. Tasks submitted after destruction began are run by the submitter.
  void Submit(std::function<void()> task);

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace civic
