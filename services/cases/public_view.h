// The public view of cases: what anyone may read about a case (no personal data, and for
// private reports neither the description nor the exact location), and an in-memory geo
// index so the public can list cases near a point or in a box.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "civic/cases/v1/cases.pb.h"
#include "civic/common/v1/common.pb.h"
#include "libs/storage/store.h"

namespace civic::cases {

// Private reports are shown at the centre of the grid cell (this many degrees on a side,
// ~550 m × 550 m at Vietnam's latitudes) that holds them: a neighbourhood, not a house.
inline constexpr double kPublicGridDegrees = 0.005;

// Limits of ListPublicCases.
inline constexpr double kDefaultPublicRadiusM = 1000;
inline constexpr double kMaxPublicRadiusM = 20000;
inline constexpr int kDefaultPublicPageSize = 50;
inline constexpr int kMaxPublicPageSize = 200;
inline constexpr int kMaxPublicCaseIds = 100;

// The centre of the kPublicGridDegrees cell holding `point`. Points outside the valid
// ranges are clamped first, so the result is always a valid coordinate.
common::v1::GeoPoint CoarsenToGrid(const common::v1::GeoPoint& point);

// Where the public sees the case: its location, or for a private report the centre of
// its grid cell; nullopt when the case has no point (an address-only report, which
// reaches cases with an unset or (0, 0) location).
std::optional<common::v1::GeoPoint> PublicLocation(const v1::Case& c);

// False for a case rejected as spam: abuse is not published (NOT_FOUND, not listed).
bool PubliclyShown(const v1::Case& c);

// The case as anyone may see it. Copies only public fields: never the contact, the
// supporters (only their number), the operator, tracking codes, internal notes or
// internal reasons. Updates are the history entries that change the status or carry a
// public text (never notes); an update's text and photos only when public. For a private
// report the location is coarsened (location_coarsened set) and the description,
// address and the report's photos are left out. `sla_state` is the state computed for
// now (CasesLogic stamps it).
v1::PublicCase ToPublic(const v1::Case& c, v1::SlaState sla_state);

// Public locations of every case, for radius and box searches. In memory, rebuilt from
// the store at start and added to as cases open (a case's location never changes).
// Private reports are indexed at their coarsened point, so no search can pinpoint them.
// Thread-safe: searches share a lock, additions take it exclusively.
class CaseGeoIndex {
 public:
  CaseGeoIndex();
  ~CaseGeoIndex();
  CaseGeoIndex(const CaseGeoIndex&) = delete;
  CaseGeoIndex& operator=(const CaseGeoIndex&) = delete;

  // Indexes `c` at its PublicLocation; a case without one is not indexed. Adding the
  // same case twice indexes it twice (callers add each case once).
  void Add(const v1::Case& c);

  // Replaces the contents with every case in `cases_cf` of `store`. DATA_LOSS when a
  // case cannot be parsed; storage errors as the store reports them.
  absl::Status Rebuild(const storage::Store& store, absl::string_view cases_cf);

  // Ids of the cases within `radius_m` metres (geodesic distance on the WGS84
  // spheroid) of (lat, lon), in no particular order.
  std::vector<std::string> Within(double lat, double lon, double radius_m) const;

  // Ids of the cases inside the box [min_lat, max_lat] × [min_lon, max_lon], borders
  // included, in no particular order. Requires min <= max on both axes.
  std::vector<std::string> InBox(double min_lat, double min_lon, double max_lat,
                                 double max_lon) const;

  size_t size() const;

 private:
  struct Tree;
  mutable std::shared_mutex mu_;
  std::unique_ptr<Tree> tree_;
};

}  // namespace civic::cases
