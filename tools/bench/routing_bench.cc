// Measures routing's hot path on ONE thread: point → ward resolutions per second (the
// target is ≥ 100,000/s) and full Route() decisions per second, by point and by typed
// address, over a fixed pseudo-random mix of sample-report points, ward label points
// and points outside every ward. A benchmark, not a test: run it by hand (README.md).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "civic/routing/v1/routing.pb.h"
#include "services/routing/geo_index.h"
#include "services/routing/routing_logic.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr double kTargetPerSecond = 100000;
constexpr size_t kLookups = 2000000;
constexpr size_t kDecisions = 500000;
constexpr size_t kAddressDecisions = 50000;

struct Point {
  double lat;
  double lon;
};

// splitmix64: a fixed seed gives the same sequence on every machine and run.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
  double Uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(Next() >> 11) / 9007199254740992.0;
  }

 private:
  uint64_t state_;
};

bool ReadJson(const fs::path& path, Json* out) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot open " << path << "\n";
    return false;
  }
  try {
    *out = Json::parse(in);
  } catch (const Json::exception& e) {
    std::cerr << path << ": " << e.what() << "\n";
    return false;
  }
  return true;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  const fs::path data = argc > 1 ? fs::path(argv[1]) : fs::path("../shared/data");
  std::cout << "routing_bench: data " << data.string() << "\n";

  const Clock::time_point load_start = Clock::now();
  absl::StatusOr<std::unique_ptr<civic::routing::RoutingLogic>> loaded =
      civic::routing::RoutingLogic::Load({.data_dir = data});
  if (!loaded.ok()) {
    std::cerr << "cannot load the reference data: " << loaded.status() << "\n";
    return 1;
  }
  const civic::routing::RoutingLogic& logic = **loaded;
  const civic::routing::GeoIndex& geo = logic.geo();
  std::printf("loaded %zu wards, %zu districts, %zu provinces, %zu units in %.2f s\n",
              geo.ward_count(), geo.district_count(), geo.province_count(),
              logic.unit_count(), Seconds(Clock::now() - load_start));

  // The pool of points: every sample report, every ward's label point, and points
  // outside every ward (other provinces, the sea, neighbouring countries).
  std::vector<Point> pool;
  std::vector<std::string> addresses;
  {
    std::ifstream in(data / "reports-sample.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      const Json report = Json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!report.is_object() || !report.contains("lat") || !report.contains("lon")) continue;
      pool.push_back({report["lat"].get<double>(), report["lon"].get<double>()});
      if (auto a = report.find("address_text"); a != report.end() && a->is_string()) {
        addresses.push_back(a->get<std::string>());
      }
    }
  }
  const size_t report_points = pool.size();
  for (const auto& entry : fs::directory_iterator(data / "boundaries")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("wards-", 0) != 0) continue;
    Json wards;
    if (!ReadJson(entry.path(), &wards)) return 1;
    for (const Json& ward : wards["features"]) {
      const Json& label = ward["properties"]["label_point"];
      pool.push_back({label[1].get<double>(), label[0].get<double>()});
    }
  }
  const size_t label_points = pool.size() - report_points;
  Random random(20191102);
  const size_t outside_points = pool.size() / 10;
  for (size_t i = 0; i < outside_points; ++i) {
    pool.push_back({random.Uniform(8.0, 23.5), random.Uniform(102.0, 112.0)});
  }
  if (report_points == 0 || label_points == 0) {
    std::cerr << "no sample reports or ward files under " << data.string() << "\n";
    return 1;
  }
  std::printf("point pool: %zu report points, %zu ward label points, %zu random points "
              "over Viet Nam and its seas\n",
              report_points, label_points, outside_points);

  std::vector<Point> sequence(kLookups);
  for (Point& p : sequence) p = pool[random.Below(pool.size())];

  // Point → ward, one thread.
  size_t wards = 0, districts = 0, provinces = 0, outside = 0;
  for (size_t i = 0; i < 20000; ++i) geo.Locate(sequence[i].lat, sequence[i].lon);  // warm-up
  const Clock::time_point start = Clock::now();
  for (const Point& p : sequence) {
    const civic::routing::AreaRecord* area = geo.Locate(p.lat, p.lon);
    if (area == nullptr) {
      ++outside;
    } else if (!area->ward_code.empty()) {
      ++wards;
    } else if (!area->district_code.empty()) {
      ++districts;
    } else {
      ++provinces;
    }
  }
  const double elapsed = Seconds(Clock::now() - start);
  const double per_second = static_cast<double>(kLookups) / elapsed;
  std::printf("\npoint -> ward (GeoIndex::Locate), 1 thread\n");
  std::printf("  %zu lookups in %.3f s: %zu in a ward, %zu district only, %zu province only, "
              "%zu outside\n",
              kLookups, elapsed, wards, districts, provinces, outside);
  std::printf("  %.0f points/s, %.0f ns/lookup (target >= %.0f/s: %s)\n", per_second,
              elapsed * 1e9 / static_cast<double>(kLookups), kTargetPerSecond,
              per_second >= kTargetPerSecond ? "met" : "NOT met");

  // Full decisions: area, published rules (none here), default rules, the message.
  const std::vector<std::string> categories = {
      "traffic.pothole",       "environment.garbage",       "public_order.noise",
      "environment.flooding",  "public_services.streetlight", "construction.illegal_building",
      "traffic.signal_fault",  "emergency.fire"};
  std::vector<civic::routing::v1::RouteRequest> requests(4096);
  for (civic::routing::v1::RouteRequest& r : requests) {
    const Point& p = pool[random.Below(pool.size())];
    r.set_category(categories[random.Below(categories.size())]);
    r.mutable_location()->set_lat(p.lat);
    r.mutable_location()->set_lon(p.lon);
  }
  size_t triage = 0;
  const Clock::time_point route_start = Clock::now();
  for (size_t i = 0; i < kDecisions; ++i) {
    absl::StatusOr<civic::routing::v1::RouteDecision> d =
        logic.Route(requests[i % requests.size()]);
    if (!d.ok() || d->unit().id() == "ioc.triage") ++triage;
  }
  const double route_elapsed = Seconds(Clock::now() - route_start);
  std::printf("\nRoute() by point, 1 thread\n");
  std::printf("  %zu decisions in %.3f s (%zu to triage): %.0f decisions/s, %.0f ns each\n",
              kDecisions, route_elapsed, triage,
              static_cast<double>(kDecisions) / route_elapsed,
              route_elapsed * 1e9 / static_cast<double>(kDecisions));

  // Address-only decisions: the typed addresses of the sample reports, no location.
  if (!addresses.empty()) {
    std::vector<civic::routing::v1::RouteRequest> by_address(addresses.size());
    for (size_t i = 0; i < addresses.size(); ++i) {
      by_address[i].set_category(categories[i % categories.size()]);
      by_address[i].set_address(addresses[i]);
    }
    size_t placed = 0;
    const Clock::time_point address_start = Clock::now();
    for (size_t i = 0; i < kAddressDecisions; ++i) {
      absl::StatusOr<civic::routing::v1::RouteDecision> d =
          logic.Route(by_address[i % by_address.size()]);
      if (d.ok() && !d->area().ward_code().empty()) ++placed;
    }
    const double address_elapsed = Seconds(Clock::now() - address_start);
    std::printf("\nRoute() by typed address only (%zu sample addresses), 1 thread\n",
                addresses.size());
    std::printf("  %zu decisions in %.3f s (%zu placed in a ward): %.0f decisions/s, "
                "%.0f ns each\n",
                kAddressDecisions, address_elapsed, placed,
                static_cast<double>(kAddressDecisions) / address_elapsed,
                address_elapsed * 1e9 / static_cast<double>(kAddressDecisions));
  }
  return 0;
}
