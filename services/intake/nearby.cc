#include "services/intake/nearby.h"

#include <cmath>
#include <vector>

#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>

namespace civic::intake {
namespace {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

using GeoPoint = bg::model::point<double, 2, bg::cs::geographic<bg::degree>>;
using Box = bg::model::box<GeoPoint>;

constexpr double kMetresPerDegreeLat = 111320.0;

struct Entry {
  absl::Time received_at;
  std::string root_report_id;
  std::string root_tracking_code;
};

using Value = std::pair<GeoPoint, size_t>;  // point, index into entries

}  // namespace

struct NearbyIndex::Tree {
  bgi::rtree<Value, bgi::quadratic<16>> rtree;
  std::vector<Entry> entries;  // by index; pruned entries are removed from the rtree only
};

NearbyIndex::NearbyIndex(NearbyOptions options) : options_(options) {}
NearbyIndex::~NearbyIndex() = default;

void NearbyIndex::Add(const std::string& category, double lat, double lon,
                      absl::Time received_at, const std::string& root_report_id,
                      const std::string& root_tracking_code) {
  std::lock_guard lock(mu_);
  auto& tree = by_category_[category];
  if (!tree) tree = std::make_unique<Tree>();
  tree->entries.push_back({received_at, root_report_id, root_tracking_code});
  tree->rtree.insert({GeoPoint(lon, lat), tree->entries.size() - 1});
}

std::optional<NearbyReport> NearbyIndex::FindNear(const std::string& category, double lat,
                                                  double lon, absl::Time now) const {
  std::lock_guard lock(mu_);
  auto it = by_category_.find(category);
  if (it == by_category_.end()) return std::nullopt;
  const Tree& tree = *it->second;

  // A box safely larger than the radius, then exact geodesic distances (Andoyer on the
  // WGS84 spheroid, accurate to centimetres at these distances).
  const double dlat = options_.radius_m / kMetresPerDegreeLat * 1.1;
  const double dlon = dlat / std::max(0.01, std::cos(lat * M_PI / 180.0));
  const Box box(GeoPoint(lon - dlon, lat - dlat), GeoPoint(lon + dlon, lat + dlat));
  std::vector<Value> candidates;
  tree.rtree.query(bgi::intersects(box), std::back_inserter(candidates));

  const GeoPoint here(lon, lat);
  const absl::Time oldest = now - options_.window;
  std::optional<NearbyReport> best;
  // (No structured bindings here: Boost.Geometry adapts std::pair, and the bindings
  // would be looked up as a geometry.)
  for (const Value& candidate : candidates) {
    const Entry& e = tree.entries[candidate.second];
    if (e.received_at < oldest || e.received_at > now) continue;
    const double d = bg::distance(here, candidate.first);
    if (d > options_.radius_m) continue;
    if (!best || d < best->distance_m) {
      best = NearbyReport{e.root_report_id, e.root_tracking_code, e.received_at, d};
    }
  }
  return best;
}

size_t NearbyIndex::Prune(absl::Time now) {
  std::lock_guard lock(mu_);
  const absl::Time oldest = now - options_.window;
  size_t dropped = 0;
  for (auto& [category, tree] : by_category_) {
    std::vector<Value> stale;
    for (const auto& v : tree->rtree) {
      if (tree->entries[v.second].received_at < oldest) stale.push_back(v);
    }
    for (const auto& v : stale) tree->rtree.remove(v);
    dropped += stale.size();
    if (tree->rtree.empty()) tree->entries.clear();
  }
  return dropped;
}

size_t NearbyIndex::size() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [category, tree] : by_category_) n += tree->rtree.size();
  return n;
}

}  // namespace civic::intake
