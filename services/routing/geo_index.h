// Point-in-polygon lookup from a WGS84 coordinate to the ward, district and province
// containing it, over the GeoJSON boundary sets in shared/data/boundaries.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "civic/common/v1/common.pb.h"

namespace civic::routing {

// The three levels of Viet Nam's administration the boundary files describe, most local
// first.
enum class AdminLevel { kWard = 0, kDistrict = 1, kProvince = 2 };

// The administrative areas a lookup found, mirroring civic.common.v1.AdminArea. A ward
// record has all six fields; a district record only the district and province ones; a
// province record only the province ones.
struct AreaRecord {
  std::string ward_code;
  std::string ward_name;
  std::string district_code;
  std::string district_name;
  std::string province_code;
  std::string province_name;
};

// The boundary files one GeoIndex is built from.
struct BoundaryFiles {
  std::vector<std::filesystem::path> wards;  // wards-*.geojson, any number >= 1
  std::filesystem::path districts;           // vn-districts.geojson
  std::filesystem::path provinces;           // vn-provinces.geojson
};

// Immutable after Load(); every const method is safe to call from many threads at once.
//
// Wards are looked up first; a point in no ward polygon falls back to the district and
// then the province polygons. Points on a border are inside (covered_by), and a point in
// several polygons of one level resolves to the lowest code, so answers are
// deterministic.
class GeoIndex {
 public:
  // Finds the boundary files in `boundaries_dir`: every wards-*.geojson (sorted by file
  // name), vn-districts.geojson and vn-provinces.geojson. NOT_FOUND naming the missing
  // file (or the wards-*.geojson pattern) when one is absent.
  static absl::StatusOr<BoundaryFiles> FindFiles(
      const std::filesystem::path& boundaries_dir);

  // Parses and indexes the files. NOT_FOUND when a file cannot be opened;
  // INVALID_ARGUMENT naming the file (and feature) when the JSON, a geometry or a
  // required property is malformed, or when two features of one level share a code.
  static absl::StatusOr<std::unique_ptr<GeoIndex>> Load(const BoundaryFiles& files);

  // FindFiles(boundaries_dir) followed by Load().
  static absl::StatusOr<std::unique_ptr<GeoIndex>> LoadDir(
      const std::filesystem::path& boundaries_dir);

  GeoIndex(const GeoIndex&) = delete;
  GeoIndex& operator=(const GeoIndex&) = delete;
  ~GeoIndex();

  // The most specific area containing (lat, lon): a ward record, else a district
  // record, else a province record, else nullptr (outside every polygon, or a
  // non-finite coordinate). Does not allocate; the record lives as long as the index.
  const AreaRecord* Locate(double lat, double lon) const;

  // Locate() as a proto: all six fields inside a ward file, district and province
  // fields only elsewhere in Viet Nam, an empty message outside.
  civic::common::v1::AdminArea Resolve(double lat, double lon) const;

  // Like Resolve() but overwrites `*area`, so a caller can reuse one message.
  void ResolveInto(double lat, double lon, civic::common::v1::AdminArea* area) const;

  // Calls `fn` once for every area record, wards first, then districts, then
  // provinces, each level in code order. Records live as long as the index.
  void ForEachArea(
      const std::function<void(AdminLevel level, const AreaRecord& record)>& fn) const;

  size_t ward_count() const;
  size_t district_count() const;
  size_t province_count() const;

 private:
  class Layer;

  GeoIndex(std::unique_ptr<Layer> wards, std::unique_ptr<Layer> districts,
           std::unique_ptr<Layer> provinces);

  std::unique_ptr<Layer> wards_;
  std::unique_ptr<Layer> districts_;
  std::unique_ptr<Layer> provinces_;
};

}  // namespace civic::routing
