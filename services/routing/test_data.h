// Fixtures the routing tests share: where the reference data is, and one boundary index
// per test process (loading every boundary file takes a moment).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/storage/store.h"
#include "libs/storage/test_dir.h"
#include "services/routing/geo_index.h"
#include "services/routing/routing_logic.h"
#include "services/routing/routing_store.h"

namespace civic::routing::testing {

// $CIVIC_SHARED_DATA, else the shared data beside the source tree.
inline std::filesystem::path SharedDataDir() {
  if (const char* env = std::getenv("CIVIC_SHARED_DATA"); env != nullptr && *env != 0) {
    return env;
  }
  return std::filesystem::path(CIVIC_SOURCE_DIR "/../shared/data");
}

inline std::shared_ptr<const GeoIndex> SharedGeo() {
  static auto* const loaded = new absl::StatusOr<std::unique_ptr<GeoIndex>>(
      GeoIndex::LoadDir(SharedDataDir() / "boundaries"));
  static const std::shared_ptr<const GeoIndex> shared =
      loaded->ok() ? std::shared_ptr<const GeoIndex>(std::move(**loaded)) : nullptr;
  INFO("data dir: " << SharedDataDir().string() << "; status: "
                    << loaded->status().ToString());
  REQUIRE(shared != nullptr);
  return shared;
}

inline nlohmann::json ReadJsonFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  INFO("reading " << path.string());
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// A temporary directory (removed at scope end) to write test data files into.
class TempDataDir : public storage::TestDir {
 public:
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(path() / name) << text;
  }
};

// A local Vietnam time.
inline absl::Time VietnamTime(int year, int month, int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         VietnamTimeZone());
}

// A RoutingLogic over a store in a temporary directory, with a fake clock (Friday
// 2026-01-02 12:00 in Vietnam), that can be closed and reopened like a restart.
class StoreFixture {
 public:
  StoreFixture() : clock_(VietnamTime(2026, 1, 2, 12)) { Open(); }

  // Closes the logic and the store (as a shutdown does) and opens them again.
  void Reopen() {
    logic_.reset();
    store_.reset();
    Open();
  }

  RoutingLogic& logic() { return *logic_; }
  FakeClock& clock() { return clock_; }
  storage::Store& store() { return *store_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  void Open() {
    storage::StoreOptions options;
    options.path = dir_.path() / "routing";
    options.column_families = RoutingKeyspaces();
    auto store = storage::Store::Open(options);
    INFO(store.status().ToString());
    REQUIRE(store.ok());
    store_ = *std::move(store);
    auto logic = RoutingLogic::Load({.data_dir = SharedDataDir(),
                                     .store = store_.get(),
                                     .clock = &clock_,
                                     .geo = SharedGeo()});
    INFO(logic.status().ToString());
    REQUIRE(logic.ok());
    logic_ = *std::move(logic);
  }

  storage::TestDir dir_;
  FakeClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<RoutingLogic> logic_;
};

}  // namespace civic::routing::testing
