#include "libs/core/worker_pool.h"

#include <atomic>

#include <catch2/catch.hpp>

namespace civic {
namespace {

TEST_CASE("worker pool runs every submitted task before it is destroyed", "[core]") {
  std::atomic<int> done{0};
  {
    WorkerPool pool(3);
    for (int i = 0; i < 1000; ++i) pool.Submit([&] { done.fetch_add(1); });
  }
  REQUIRE(done.load() == 1000);
}

}  // namespace
}  // namespace civic
