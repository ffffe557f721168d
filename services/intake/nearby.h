// Recent reports by category and place, to spot a new report of a problem someone
// already reported nearby (a "+1"). In memory, rebuilt from intake's store at start;
// geometry by Boost.Geometry (R-tree, geodesic distances).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace civic::intake {

struct NearbyOptions {
  double radius_m = 50;
  absl::Duration window = absl::Hours(72);
};

struct NearbyReport {
  std::string report_id;
  std::string tracking_code;
  absl::Time received_at;
  double distance_m = 0;
};

class NearbyIndex {
 public:
  explicit NearbyIndex(NearbyOptions options);
  ~NearbyIndex();

  // Remembers a report. `root_report_id`/`root_tracking_code` name the report whose case
  // it belongs to: itself for a report that opens a case, the supported report for a +1
  // (so later reports join the original case, not a chain).
  void Add(const std::string& category, double lat, double lon, absl::Time received_at,
           const std::string& root_report_id, const std::string& root_tracking_code);

  // The nearest case root reported in `category` within the radius of (lat, lon) and
  // within the window before `now`; nullopt when there is none.
  std::optional<NearbyReport> FindNear(const std::string& category, double lat, double lon,
                                       absl::Time now) const;

  // Forgets reports older than the window; returns how many were dropped.
  size_t Prune(absl::Time now);

  size_t size() const;

 private:
  struct Tree;
  NearbyOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Tree>> by_category_;
};

}  // namespace civic::intake
