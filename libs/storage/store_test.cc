#include "absl/strings/string_view.h"
#include "libs/storage/store.h"

#include <catch2/catch.hpp>

#include "libs/storage/test_dir.h"

namespace civic::storage {
namespace {

TEST_CASE("a store keeps what it acknowledged across a reopen", "[storage]") {
  TestDir dir;
  StoreOptions options{dir.path() / "db", {"reports", "outbox"}};
  {
    auto store = Store::Open(options);
    REQUIRE(store.ok());
    Batch batch(store->get());
    batch.Put("reports", "r1", "đường ngập");
    batch.Put("outbox", "r1", "");
    REQUIRE((*store)->Write(batch).ok());
  }
  auto store = Store::Open(options);
  REQUIRE(store.ok());
  auto value = (*store)->Get("reports", "r1");
  REQUIRE(value.ok());
  REQUIRE(value->value() == "đường ngập");
  REQUIRE(!(*store)->Get("reports", "r2")->has_value());
}

TEST_CASE("a batch is all or nothing and scans are ordered by key", "[storage]") {
  TestDir dir;
  auto store = Store::Open({dir.path(), {"k"}});
  REQUIRE(store.ok());
  Batch batch(store->get());
  for (int i = 9; i >= 0; --i) batch.Put("k", "p/" + std::to_string(i), std::to_string(i));
  batch.Put("k", "q/0", "other prefix");
  REQUIRE((*store)->Write(batch).ok());
  std::vector<std::string> seen;
  REQUIRE((*store)
              ->Scan("k", "p/", "p/3",
                     [&](absl::string_view k, absl::string_view) {
                       seen.emplace_back(k);
                       return seen.size() < 4;
                     })
              .ok());
  REQUIRE(seen == std::vector<std::string>{"p/3", "p/4", "p/5", "p/6"});
  REQUIRE((*store)->LastKey("k")->value() == "q/0");

  std::vector<std::string> backward;
  auto collect = [&](absl::string_view k, absl::string_view) {
    backward.emplace_back(k);
    return backward.size() < 3;
  };
  REQUIRE((*store)->ScanBackward("k", "p/", "", collect).ok());
  REQUIRE(backward == std::vector<std::string>{"p/9", "p/8", "p/7"});
  backward.clear();
  REQUIRE((*store)->ScanBackward("k", "p/", "p/3", collect).ok());
  REQUIRE(backward == std::vector<std::string>{"p/2", "p/1", "p/0"});
}

TEST_CASE("a store refuses to open while another holds it", "[storage]") {
  TestDir dir;
  auto first = Store::Open({dir.path(), {}});
  REQUIRE(first.ok());
  auto second = Store::Open({dir.path(), {}});
  REQUIRE_FALSE(second.ok());
}

TEST_CASE("a store refuses keyspaces it does not know", "[storage]") {
  TestDir dir;
  { REQUIRE(Store::Open({dir.path(), {"a", "b"}}).ok()); }
  auto reopened = Store::Open({dir.path(), {"a"}});
  REQUIRE(reopened.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("uint64 keys sort numerically", "[storage]") {
  REQUIRE(EncodeUint64(255) < EncodeUint64(256));
  REQUIRE(DecodeUint64(EncodeUint64(1234567890123ull)) == 1234567890123ull);
  REQUIRE(DecodeUint64("short") == 0);
}

}  // namespace
}  // namespace civic::storage
