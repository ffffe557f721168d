// GeoIndex: GeoJSON parsing into Boost.Geometry polygons, one R-tree of polygon
// bounding boxes per administrative level, and covered_by tests of the candidates.
#include "services/routing/geo_index.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <system_error>
#include <utility>

// Boost 1.74's math constants (pulled in by Boost.Geometry) include a deprecated Boost
// header; without this every build prints a #pragma message for this file.
#ifndef BOOST_ALLOW_DEPRECATED_HEADERS
#define BOOST_ALLOW_DEPRECATED_HEADERS
#endif
#include <boost/geometry/algorithms/correct.hpp>
#include <boost/geometry/algorithms/covered_by.hpp>
#include <boost/geometry/algorithms/envelope.hpp>
#include <boost/geometry/geometries/box.hpp>
#include <boost/geometry/geometries/point_xy.hpp>
#include <boost/geometry/geometries/polygon.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace civic::routing {
namespace {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
namespace fs = std::filesystem;
using Json = nlohmann::json;

// Planar lon/lat coordinates (x = lon, y = lat): the source polygons' edges are straight
// lines in lon/lat, so cartesian predicates answer exactly what the data say, fastest.
using Point = bg::model::d2::point_xy<double>;
using Polygon = bg::model::polygon<Point>;  // clockwise outer ring, closed
using Ring = Polygon::ring_type;
using Box = bg::model::box<Point>;
using BoxEntry = std::pair<Box, uint32_t>;  // bounding box, index into polygons
using Tree = bgi::rtree<BoxEntry, bgi::rstar<16>>;

constexpr uint32_t kNoMatch = std::numeric_limits<uint32_t>::max();

enum class Level { kWard, kDistrict, kProvince };

const char* LevelName(Level level) {
  switch (level) {
    case Level::kWard:
      return "ward";
    case Level::kDistrict:
      return "district";
    case Level::kProvince:
      return "province";
  }
  return "?";
}

// A feature after parsing, before it is placed in a layer.
struct ParsedFeature {
  AreaRecord record;
  std::string key;  // the code of the feature's own level, the sort and tie-break key
  std::vector<Polygon> polygons;
  const fs::path* source = nullptr;
};

// An output iterator that hands each value to a callback, so R-tree queries neither
// allocate nor copy into a container.
template <typename Fn>
class CallbackOutputIterator {
 public:
  using iterator_category = std::output_iterator_tag;
  using value_type = void;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = void;

  explicit CallbackOutputIterator(Fn* fn) : fn_(fn) {}
  CallbackOutputIterator& operator*() { return *this; }
  CallbackOutputIterator& operator++() { return *this; }
  CallbackOutputIterator operator++(int) { return *this; }
  CallbackOutputIterator& operator=(const BoxEntry& entry) {
    (*fn_)(entry);
    return *this;
  }

 private:
  Fn* fn_;
};

absl::StatusOr<Json> ReadJsonFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open file"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return Json::parse(text.str());
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": invalid JSON: ", e.what()));
  }
}

absl::Status ParseRing(const Json& json, Ring* ring) {
  if (!json.is_array() || json.size() < 4) {
    return absl::InvalidArgumentError(
        "a linear ring must be an array of at least 4 positions");
  }
  ring->reserve(json.size());
  for (const Json& position : json) {
    if (!position.is_array() || position.size() < 2 || !position[0].is_number() ||
        !position[1].is_number()) {
      return absl::InvalidArgumentError("a position must be [lon, lat] numbers");
    }
    const double lon = position[0].get<double>();
    const double lat = position[1].get<double>();
    if (!std::isfinite(lon) || !std::isfinite(lat) || lon < -180 || lon > 180 ||
        lat < -90 || lat > 90) {
      return absl::InvalidArgumentError(
          absl::StrCat("position [", lon, ", ", lat, "] is not a [lon, lat] pair"));
    }
    ring->push_back(Point(lon, lat));
  }
  return absl::OkStatus();
}

// `json` is the coordinates of one GeoJSON Polygon: outer ring, then holes.
absl::Status ParsePolygon(const Json& json, Polygon* polygon) {
  if (!json.is_array() || json.empty()) {
    return absl::InvalidArgumentError("a polygon must be a non-empty array of rings");
  }
  if (absl::Status st = ParseRing(json[0], &polygon->outer()); !st.ok()) return st;
  polygon->inners().resize(json.size() - 1);
  for (size_t i = 1; i < json.size(); ++i) {
    if (absl::Status st = ParseRing(json[i], &polygon->inners()[i - 1]); !st.ok()) {
      return st;
    }
  }
  // GeoJSON rings are counter-clockwise; the Boost model expects clockwise outers.
  bg::correct(*polygon);
  return absl::OkStatus();
}

absl::Status ParseGeometry(const Json& geometry, std::vector<Polygon>* polygons) {
  if (!geometry.is_object() || !geometry.contains("type") ||
      !geometry["type"].is_string() || !geometry.contains("coordinates")) {
    return absl::InvalidArgumentError("geometry must have a type and coordinates");
  }
  const std::string& type = geometry["type"].get_ref<const std::string&>();
  const Json& coordinates = geometry["coordinates"];
  if (type == "Polygon") {
    polygons->emplace_back();
    return ParsePolygon(coordinates, &polygons->back());
  }
  if (type == "MultiPolygon") {
    if (!coordinates.is_array() || coordinates.empty()) {
      return absl::InvalidArgumentError(
          "MultiPolygon coordinates must be a non-empty array of polygons");
    }
    for (const Json& part : coordinates) {
      polygons->emplace_back();
      if (absl::Status st = ParsePolygon(part, &polygons->back()); !st.ok()) return st;
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("geometry type '", type, "' is not Polygon or MultiPolygon"));
}

absl::Status GetString(const Json& properties, const char* key, std::string* out) {
  auto it = properties.find(key);
  if (it == properties.end() || !it->is_string() ||
      it->get_ref<const std::string&>().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("property '", key, "' must be a non-empty string"));
  }
  *out = it->get<std::string>();
  return absl::OkStatus();
}

// Fills the record fields `level` requires from the feature properties. Every level
// uses the official full form a citizen reads on a letter: "Phường Bến Nghé",
// "Quận 1", "Thành phố Hồ Chí Minh" (name_full; name when a file lacks it).
absl::Status ParseProperties(const Json& properties, Level level, ParsedFeature* out) {
  if (!properties.is_object()) {
    return absl::InvalidArgumentError("properties must be an object");
  }
  AreaRecord& r = out->record;
  std::string code;
  std::string name;
  if (absl::Status st = GetString(properties, "code", &code); !st.ok()) return st;
  out->key = code;
  if (!GetString(properties, "name_full", &name).ok()) {
    if (absl::Status st = GetString(properties, "name", &name); !st.ok()) return st;
  }
  if (level == Level::kProvince) {
    r.province_code = std::move(code);
    r.province_name = std::move(name);
    return absl::OkStatus();
  }
  if (absl::Status st = GetString(properties, "province_code", &r.province_code);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = GetString(properties, "province_name", &r.province_name);
      !st.ok()) {
    return st;
  }
  if (level == Level::kDistrict) {
    r.district_code = std::move(code);
    r.district_name = std::move(name);
    return absl::OkStatus();
  }
  if (absl::Status st = GetString(properties, "district_code", &r.district_code);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = GetString(properties, "district_name", &r.district_name);
      !st.ok()) {
    return st;
  }
  r.ward_code = std::move(code);
  r.ward_name = std::move(name);
  return absl::OkStatus();
}

// Appends the features of one FeatureCollection file.
absl::Status ParseFile(const fs::path& path, Level level,
                       std::vector<ParsedFeature>* features) {
  absl::StatusOr<Json> json = ReadJsonFile(path);
  if (!json.ok()) return json.status();
  auto collection = json->find("features");
  if (!json->is_object() || collection == json->end() || !collection->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path.string(), ": not a GeoJSON FeatureCollection (no 'features' array)"));
  }
  if (collection->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": the FeatureCollection has no features"));
  }
  size_t index = 0;
  for (const Json& feature : *collection) {
    ParsedFeature parsed;
    parsed.source = &path;
    absl::Status st;
    if (!feature.is_object() || !feature.contains("properties") ||
        !feature.contains("geometry")) {
      st = absl::InvalidArgumentError("a feature needs properties and geometry");
    } else {
      st = ParseProperties(feature["properties"], level, &parsed);
      if (st.ok()) st = ParseGeometry(feature["geometry"], &parsed.polygons);
    }
    if (!st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path.string(), ": ", LevelName(level), " feature #", index,
          parsed.key.empty() ? "" : absl::StrCat(" (code ", parsed.key, ")"), ": ",
          st.message()));
    }
    features->push_back(std::move(parsed));
    ++index;
  }
  return absl::OkStatus();
}

}  // namespace

// The polygons of one administrative level. Records are sorted by code, so the lowest
// matching record index is the lowest matching code.
class GeoIndex::Layer {
 public:
  // Parses `paths` as `level` features. Errors as GeoIndex::Load.
  static absl::StatusOr<std::unique_ptr<Layer>> Load(
      const std::vector<fs::path>& paths, Level level) {
    std::vector<ParsedFeature> features;
    for (const fs::path& path : paths) {
      if (absl::Status st = ParseFile(path, level, &features); !st.ok()) return st;
    }
    std::sort(features.begin(), features.end(),
              [](const ParsedFeature& a, const ParsedFeature& b) { return a.key < b.key; });
    for (size_t i = 1; i < features.size(); ++i) {
      if (features[i].key == features[i - 1].key) {
        return absl::InvalidArgumentError(absl::StrCat(
            features[i].source->string(), ": duplicate ", LevelName(level), " code ",
            features[i].key, " (also in ", features[i - 1].source->string(), ")"));
      }
    }
    return std::unique_ptr<Layer>(new Layer(std::move(features)));
  }

  // The lowest-coded record whose polygons cover `point`, or nullptr.
  const AreaRecord* Find(const Point& point) const {
    uint32_t best = kNoMatch;
    auto consider = [&](const BoxEntry& entry) {
      const uint32_t owner = polygon_owner_[entry.second];
      if (owner < best && bg::covered_by(point, polygons_[entry.second])) {
        best = owner;
      }
    };
    tree_.query(bgi::intersects(point),
                CallbackOutputIterator<decltype(consider)>(&consider));
    return best == kNoMatch ? nullptr : &records_[best];
  }

  size_t size() const { return records_.size(); }
  const std::vector<AreaRecord>& records() const { return records_; }

 private:
  explicit Layer(std::vector<ParsedFeature> features) {
    records_.reserve(features.size());
    std::vector<BoxEntry> entries;
    for (ParsedFeature& feature : features) {
      const auto owner = static_cast<uint32_t>(records_.size());
      records_.push_back(std::move(feature.record));
      for (Polygon& polygon : feature.polygons) {
        const auto index = static_cast<uint32_t>(polygons_.size());
        entries.emplace_back(bg::return_envelope<Box>(polygon), index);
        polygons_.push_back(std::move(polygon));
        polygon_owner_.push_back(owner);
      }
    }
    // The range constructor bulk-loads (STR packing): better queries than inserts.
    tree_ = Tree(entries.begin(), entries.end());
  }

  std::vector<AreaRecord> records_;
  std::vector<Polygon> polygons_;
  std::vector<uint32_t> polygon_owner_;  // record index of each polygon
  Tree tree_;
};

absl::StatusOr<BoundaryFiles> GeoIndex::FindFiles(const fs::path& boundaries_dir) {
  BoundaryFiles files;
  std::error_code ec;
  fs::directory_iterator it(boundaries_dir, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat(
        (boundaries_dir / "wards-*.geojson").string(),
        ": cannot list the boundaries directory: ", ec.message()));
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (absl::StartsWith(name, "wards-") && absl::EndsWith(name, ".geojson")) {
      files.wards.push_back(it->path());
    }
  }
  if (ec) {
    return absl::NotFoundError(absl::StrCat(boundaries_dir.string(),
                                            ": cannot list directory: ", ec.message()));
  }
  if (files.wards.empty()) {
    return absl::NotFoundError(absl::StrCat(
        (boundaries_dir / "wards-*.geojson").string(), ": no ward boundary file found"));
  }
  std::sort(files.wards.begin(), files.wards.end());
  files.districts = boundaries_dir / "vn-districts.geojson";
  files.provinces = boundaries_dir / "vn-provinces.geojson";
  for (const fs::path* path : {&files.districts, &files.provinces}) {
    if (!fs::is_regular_file(*path, ec)) {
      return absl::NotFoundError(absl::StrCat(path->string(), ": file not found"));
    }
  }
  return files;
}

absl::StatusOr<std::unique_ptr<GeoIndex>> GeoIndex::Load(const BoundaryFiles& files) {
  if (files.wards.empty()) {
    return absl::InvalidArgumentError("GeoIndex::Load: no ward boundary file given");
  }
  absl::StatusOr<std::unique_ptr<Layer>> wards = Layer::Load(files.wards, Level::kWard);
  if (!wards.ok()) return wards.status();
  absl::StatusOr<std::unique_ptr<Layer>> districts =
      Layer::Load({files.districts}, Level::kDistrict);
  if (!districts.ok()) return districts.status();
  absl::StatusOr<std::unique_ptr<Layer>> provinces =
      Layer::Load({files.provinces}, Level::kProvince);
  if (!provinces.ok()) return provinces.status();
  return std::unique_ptr<GeoIndex>(new GeoIndex(
      *std::move(wards), *std::move(districts), *std::move(provinces)));
}

absl::StatusOr<std::unique_ptr<GeoIndex>> GeoIndex::LoadDir(
    const fs::path& boundaries_dir) {
  absl::StatusOr<BoundaryFiles> files = FindFiles(boundaries_dir);
  if (!files.ok()) return files.status();
  return Load(*files);
}

GeoIndex::GeoIndex(std::unique_ptr<Layer> wards, std::unique_ptr<Layer> districts,
                   std::unique_ptr<Layer> provinces)
    : wards_(std::move(wards)),
      districts_(std::move(districts)),
      provinces_(std::move(provinces)) {}

GeoIndex::~GeoIndex() = default;

const AreaRecord* GeoIndex::Locate(double lat, double lon) const {
  if (!std::isfinite(lat) || !std::isfinite(lon)) return nullptr;
  const Point point(lon, lat);
  if (const AreaRecord* ward = wards_->Find(point)) return ward;
  if (const AreaRecord* district = districts_->Find(point)) return district;
  return provinces_->Find(point);
}

civic::common::v1::AdminArea GeoIndex::Resolve(double lat, double lon) const {
  civic::common::v1::AdminArea area;
  ResolveInto(lat, lon, &area);
  return area;
}

void GeoIndex::ResolveInto(double lat, double lon,
                           civic::common::v1::AdminArea* area) const {
  area->Clear();
  const AreaRecord* record = Locate(lat, lon);
  if (record == nullptr) return;
  area->set_ward_code(record->ward_code);
  area->set_ward_name(record->ward_name);
  area->set_district_code(record->district_code);
  area->set_district_name(record->district_name);
  area->set_province_code(record->province_code);
  area->set_province_name(record->province_name);
}

void GeoIndex::ForEachArea(
    const std::function<void(AdminLevel level, const AreaRecord& record)>& fn) const {
  const std::pair<AdminLevel, const Layer*> layers[] = {
      {AdminLevel::kWard, wards_.get()},
      {AdminLevel::kDistrict, districts_.get()},
      {AdminLevel::kProvince, provinces_.get()}};
  for (const auto& [level, layer] : layers) {
    for (const AreaRecord& record : layer->records()) fn(level, record);
  }
}

size_t GeoIndex::ward_count() const { return wards_->size(); }
size_t GeoIndex::district_count() const { return districts_->size(); }
size_t GeoIndex::province_count() const { return provinces_->size(); }

}  // namespace civic::routing
