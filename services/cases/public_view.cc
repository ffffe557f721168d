// The public view: personal data never leaves through it, private reports are coarsened
// to a grid cell, and listing by place goes through an in-memory R-tree of the public
// points (Boost.Geometry), with exact geodesic distances for radius searches.
#include "services/cases/public_view.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <set>

#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/core/clock.h"
#include "libs/core/ids.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "services/cases/cases_logic.h"

namespace civic::cases {
namespace {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

constexpr char kDomain[] = "cases.civicdesk";

// The R-tree holds plain (lon, lat) degrees: box queries are then exact lat/lon ranges.
// Distances are measured separately, on the spheroid.
using FlatPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using FlatBox = bg::model::box<FlatPoint>;
using SpherePoint = bg::model::point<double, 2, bg::cs::geographic<bg::degree>>;
using Value = std::pair<FlatPoint, std::string>;  // public point, case id
using RTree = bgi::rtree<Value, bgi::quadratic<16>>;

// A safe over-estimate of metres per degree of latitude (the meridian degree is
// 110.57-111.69 km), so a radius's bounding box never cuts off a point inside it.
constexpr double kMetresPerDegreeLat = 110000.0;

// Grid cell index of `degrees` on an axis of [-limit, limit), clamped to a real cell.
double CellCentre(double degrees, double limit) {
  if (!std::isfinite(degrees)) degrees = 0;
  const double cells = limit / kPublicGridDegrees;  // cells on each side of 0
  double index = std::floor(degrees / kPublicGridDegrees);
  index = std::clamp(index, -cells, cells - 1);
  return (index + 0.5) * kPublicGridDegrees;
}

}  // namespace

common::v1::GeoPoint CoarsenToGrid(const common::v1::GeoPoint& point) {
  common::v1::GeoPoint out;
  out.set_lat(CellCentre(point.lat(), 90));
  out.set_lon(CellCentre(point.lon(), 180));
  return out;
}

std::optional<common::v1::GeoPoint> PublicLocation(const v1::Case& c) {
  // Intake forwards an address-only report with a default (0, 0) point: that is no
  // place, not the Gulf of Guinea.
  if (!c.has_location() || (c.location().lat() == 0 && c.location().lon() == 0)) {
    return std::nullopt;
  }
  if (!std::isfinite(c.location().lat()) || !std::isfinite(c.location().lon())) {
    return std::nullopt;
  }
  return c.private_location() ? CoarsenToGrid(c.location()) : c.location();
}

bool PubliclyShown(const v1::Case& c) {
  if (c.status() != common::v1::CASE_STATUS_REJECTED) return true;
  for (auto it = c.history().rbegin(); it != c.history().rend(); ++it) {
    if (it->action() == "reject") return it->reason() != "REJECT_REASON_SPAM";
  }
  return true;
}

v1::PublicCase ToPublic(const v1::Case& c, v1::SlaState sla_state) {
  // Field by field on purpose: a field added to Case stays out of the public view until
  // someone decides it belongs here.
  v1::PublicCase p;
  p.set_case_id(c.case_id());
  p.set_category(c.category());
  p.set_status(c.status());
  if (std::optional<common::v1::GeoPoint> where = PublicLocation(c)) {
    *p.mutable_location() = *where;
    p.set_location_coarsened(c.private_location());
  }
  if (!c.private_location()) {
    p.set_description(c.description());
    p.set_address(c.address());
    *p.mutable_photo_ids() = c.photo_ids();
  }
  *p.mutable_area() = c.area();
  *p.mutable_unit() = c.unit();
  if (c.has_opened_at()) *p.mutable_opened_at() = c.opened_at();
  if (c.has_updated_at()) *p.mutable_updated_at() = c.updated_at();
  if (c.has_due_at()) *p.mutable_due_at() = c.due_at();
  if (c.has_resolved_at()) *p.mutable_resolved_at() = c.resolved_at();
  p.set_sla_state(sla_state);
  p.set_supporter_count(static_cast<uint32_t>(c.supporters_size()));
  p.set_merged_into_case_id(c.merged_into_case_id());
  p.set_rating(c.satisfaction().rating());
  p.set_priority(c.priority());
  for (const v1::HistoryEntry& entry : c.history()) {
    // Notes are internal whatever else they carry.
    if (entry.action() == "note") continue;
    const bool status_change = entry.from_status() != entry.to_status();
    if (!status_change && !entry.public_comment()) continue;
    v1::PublicUpdate* update = p.add_updates();
    if (entry.has_at()) *update->mutable_at() = entry.at();
    update->set_action(entry.action());
    update->set_status(entry.to_status());
    // Reasons, units offered and the actor stay internal; only a public text is shown.
    if (entry.public_comment()) {
      update->set_text(entry.comment());
      *update->mutable_photo_ids() = entry.photo_ids();
    }
  }
  return p;
}

struct CaseGeoIndex::Tree {
  RTree rtree;
};

CaseGeoIndex::CaseGeoIndex() : tree_(std::make_unique<Tree>()) {}
CaseGeoIndex::~CaseGeoIndex() = default;

void CaseGeoIndex::Add(const v1::Case& c) {
  std::optional<common::v1::GeoPoint> where = PublicLocation(c);
  if (!where) return;
  std::unique_lock lock(mu_);
  tree_->rtree.insert(Value(FlatPoint(where->lon(), where->lat()), c.case_id()));
}

absl::Status CaseGeoIndex::Rebuild(const storage::Store& store, absl::string_view cases_cf) {
  std::vector<Value> values;
  absl::Status parse;
  CIVIC_RETURN_IF_ERROR(
      store.Scan(cases_cf, "", "", [&](absl::string_view key, absl::string_view raw) {
        v1::Case c;
        if (!c.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
          parse = absl::DataLossError(absl::StrCat("case ", key, " is unreadable"));
          return false;
        }
        if (std::optional<common::v1::GeoPoint> where = PublicLocation(c)) {
          values.emplace_back(FlatPoint(where->lon(), where->lat()), c.case_id());
        }
        return true;
      }));
  CIVIC_RETURN_IF_ERROR(parse);
  // The packing constructor builds a better tree than one insertion at a time.
  auto fresh = std::make_unique<Tree>(Tree{RTree(values.begin(), values.end())});
  std::unique_lock lock(mu_);
  tree_ = std::move(fresh);
  return absl::OkStatus();
}

std::vector<std::string> CaseGeoIndex::Within(double lat, double lon, double radius_m) const {
  // A box safely larger than the circle, then exact geodesic distances (Andoyer on the
  // WGS84 spheroid, accurate to centimetres at these distances).
  const double dlat = radius_m / kMetresPerDegreeLat;
  const double dlon = dlat / std::max(0.01, std::cos(lat * M_PI / 180.0));
  const FlatBox box(FlatPoint(std::max(-180.0, lon - dlon), std::max(-90.0, lat - dlat)),
                    FlatPoint(std::min(180.0, lon + dlon), std::min(90.0, lat + dlat)));
  std::vector<Value> candidates;
  {
    std::shared_lock lock(mu_);
    tree_->rtree.query(bgi::intersects(box), std::back_inserter(candidates));
  }
  const SpherePoint here(lon, lat);
  std::vector<std::string> ids;
  // (No structured bindings: Boost.Geometry adapts std::pair, and the bindings would be
  // looked up as a geometry.)
  for (Value& candidate : candidates) {
    const SpherePoint there(bg::get<0>(candidate.first), bg::get<1>(candidate.first));
    if (bg::distance(here, there) <= radius_m) ids.push_back(std::move(candidate.second));
  }
  return ids;
}

std::vector<std::string> CaseGeoIndex::InBox(double min_lat, double min_lon, double max_lat,
                                             double max_lon) const {
  const FlatBox box(FlatPoint(min_lon, min_lat), FlatPoint(max_lon, max_lat));
  std::vector<Value> found;
  {
    std::shared_lock lock(mu_);
    tree_->rtree.query(bgi::intersects(box), std::back_inserter(found));
  }
  std::vector<std::string> ids;
  ids.reserve(found.size());
  for (Value& v : found) ids.push_back(std::move(v.second));
  return ids;
}

size_t CaseGeoIndex::size() const {
  std::shared_lock lock(mu_);
  return tree_->rtree.size();
}

// ---- CasesLogic's public reads (declared in cases_logic.h).

absl::Status CasesLogic::LoadPublicIndex() {
  CIVIC_RETURN_IF_ERROR(geo_.Rebuild(*store_, kCasesCf));
  CIVIC_LOG_INFO("cases: {} case locations indexed for the public view", geo_.size());
  return absl::OkStatus();
}

absl::StatusOr<v1::PublicCase> CasesLogic::GetPublic(const std::string& case_id) const {
  if (case_id.empty()) {
    FieldErrors errors;
    errors.Add("case_id", "is required");
    return errors.ToStatus(kDomain);
  }
  CIVIC_ASSIGN_OR_RETURN(v1::Case c, GetCase(case_id));
  if (!PubliclyShown(c)) {
    return WithReason(absl::NotFoundError(absl::StrCat("no case ", case_id)), "CASE_NOT_FOUND",
                      kDomain);
  }
  StampSla(c);
  return ToPublic(c, c.sla_state());
}

namespace {

// Out of range or NaN (!(x <= bound) is true for NaN).
void CheckPoint(const common::v1::GeoPoint& p, const std::string& field, FieldErrors& errors) {
  if (!(std::abs(p.lat()) <= 90)) errors.Add(field + ".lat", "must be between -90 and 90");
  if (!(std::abs(p.lon()) <= 180)) errors.Add(field + ".lon", "must be between -180 and 180");
}

// Case ids are Crockford base32 (NewSortableId); a token is the last id of a page.
bool LooksLikeCaseId(const std::string& id) {
  return !id.empty() && id.size() <= 64 &&
         std::all_of(id.begin(), id.end(), [](char ch) {
           return absl::ascii_isalnum(static_cast<unsigned char>(ch));
         });
}

}  // namespace

absl::StatusOr<v1::ListPublicCasesResponse> CasesLogic::ListPublic(
    const v1::ListPublicCasesRequest& request) const {
  FieldErrors errors;
  const bool near = request.has_near();
  const bool box = !near && (request.has_min() || request.has_max());
  double radius_m = request.radius_m();
  if (near) {
    CheckPoint(request.near(), "near", errors);
    if (radius_m == 0) radius_m = kDefaultPublicRadiusM;
    if (!(radius_m > 0 && radius_m <= kMaxPublicRadiusM)) {
      errors.Add("radius_m", absl::StrCat("must be more than 0 and at most ",
                                          static_cast<int>(kMaxPublicRadiusM), " metres"));
    }
  } else if (request.radius_m() != 0) {
    errors.Add("radius_m", "is only meaningful with near");
  }
  if (box) {
    if (!request.has_min()) errors.Add("min", "is required with max");
    if (!request.has_max()) errors.Add("max", "is required with min");
    if (request.has_min() && request.has_max()) {
      CheckPoint(request.min(), "min", errors);
      CheckPoint(request.max(), "max", errors);
      if (request.min().lat() > request.max().lat()) {
        errors.Add("min.lat", "must not be greater than max.lat");
      }
      if (request.min().lon() > request.max().lon()) {
        errors.Add("min.lon", "must not be greater than max.lon");
      }
    }
  }
  if (request.case_ids_size() > kMaxPublicCaseIds) {
    errors.Add("case_ids", absl::StrCat("at most ", kMaxPublicCaseIds, " ids"));
  }
  if (request.page_size() < 0) errors.Add("page_size", "must not be negative");
  if (!request.page_token().empty() && !LooksLikeCaseId(request.page_token())) {
    errors.Add("page_token", "is not a token this API returned");
  }
  const bool after = request.has_opened_after();
  const bool before = request.has_opened_before();
  const absl::Time opened_after = after ? FromTimestamp(request.opened_after())
                                        : absl::InfinitePast();
  const absl::Time opened_before = before ? FromTimestamp(request.opened_before())
                                          : absl::InfiniteFuture();
  if (after && before && opened_after >= opened_before) {
    errors.Add("opened_after", "must be before opened_before");
  }
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));

  const int page_size = request.page_size() == 0
                            ? kDefaultPublicPageSize
                            : std::min(request.page_size(), kMaxPublicPageSize);
  const std::set<std::string> categories(request.categories().begin(),
                                         request.categories().end());
  const std::set<int> statuses(request.statuses().begin(), request.statuses().end());
  const std::set<std::string> case_ids(request.case_ids().begin(), request.case_ids().end());
  const std::string& token = request.page_token();

  auto matches = [&](const v1::Case& c) {
    if (!PubliclyShown(c)) return false;
    if (!categories.empty() && categories.count(c.category()) == 0) return false;
    if (!statuses.empty() && statuses.count(c.status()) == 0) return false;
    if (!case_ids.empty() && case_ids.count(c.case_id()) == 0) return false;
    if (after || before) {
      const absl::Time opened = FromTimestamp(c.opened_at());
      if (opened < opened_after || opened >= opened_before) return false;
    }
    return true;
  };
  v1::ListPublicCasesResponse response;
  std::string last_id;
  // Adds `c` when it matches; false once the page is full.
  auto take = [&](v1::Case c) {
    if (!matches(c)) return true;
    StampSla(c);
    last_id = c.case_id();
    *response.add_cases() = ToPublic(c, c.sla_state());
    return response.cases_size() < page_size;
  };

  // Candidates come from the geo index or the caller's ids when given; otherwise every
  // case, newest first, straight from the store.
  std::optional<std::vector<std::string>> candidates;
  if (near) {
    candidates = geo_.Within(request.near().lat(), request.near().lon(), radius_m);
  } else if (box) {
    candidates = geo_.InBox(request.min().lat(), request.min().lon(), request.max().lat(),
                            request.max().lon());
  } else if (!case_ids.empty()) {
    candidates.emplace(case_ids.begin(), case_ids.end());
  }

  if (candidates) {
    // Case ids sort by opening time: descending id order is newest first.
    std::sort(candidates->begin(), candidates->end(), std::greater<>());
    candidates->erase(std::unique(candidates->begin(), candidates->end()), candidates->end());
    for (const std::string& id : *candidates) {
      if (!token.empty() && id >= token) continue;
      absl::StatusOr<v1::Case> c = GetCase(id);
      // An id the caller made up, or one indexed but gone: not a public case.
      if (c.status().code() == absl::StatusCode::kNotFound) continue;
      if (!c.ok()) return c.status();
      if (!take(*std::move(c))) break;
    }
  } else {
    // Ids carry a time no earlier than their case's opening (NewSortableId never goes
    // back, even when the clock does), so the scan stops at the first id made before
    // opened_after. (No such bound holds for opened_before: an id may be later than its
    // case's opening time.)
    const std::string stop =
        after && opened_after > absl::InfinitePast() ? SortableIdPrefix(opened_after) : "";
    absl::Status status;
    CIVIC_RETURN_IF_ERROR(store_->ScanBackward(
        kCasesCf, "", token, [&](absl::string_view key, absl::string_view raw) {
          if (!stop.empty() && key < stop) return false;
          v1::Case c;
          if (!c.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
            status = absl::DataLossError(absl::StrCat("case ", key, " is unreadable"));
            return false;
          }
          return take(std::move(c));
        }));
    CIVIC_RETURN_IF_ERROR(status);
  }
  if (response.cases_size() == page_size) response.set_next_page_token(last_id);
  return response;
}

}  // namespace civic::cases
