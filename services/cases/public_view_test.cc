// The public view: no personal data, private reports coarsened, and listing by place,
// box, filters and pages, with the geo index surviving a restart.
#include "services/cases/public_view.h"

#include <cmath>
#include <set>

#include <catch2/catch.hpp>

#include "libs/core/status.h"
#include "libs/storage/test_dir.h"
#include "services/cases/cases_logic.h"

namespace civic::cases {
namespace {

constexpr char kQ1[] = "hcm.district_pc.760";

struct Place {
  double lat;
  double lon;
};
// Real places in Ho Chi Minh City, measured from Bến Thành market.
constexpr Place kBenThanh{10.7725, 106.6980};
constexpr Place kNotreDame{10.7798, 106.6990};     // ~0.8 km
constexpr Place kLandmark81{10.7950, 106.7218};    // ~3.6 km
constexpr Place kTanSonNhat{10.8185, 106.6588};    // ~6.7 km
// A house in District 3, ~250 m from the centre of its 0.005° grid cell.
constexpr Place kHome{10.78312, 106.69473};

// Great-circle distance (mean Earth radius): ample for a "< 600 m" check.
double MetresBetween(double lat1, double lon1, double lat2, double lon2) {
  const double rad = M_PI / 180;
  const double dlat = (lat2 - lat1) * rad;
  const double dlon = (lon2 - lon1) * rad;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * rad) * std::cos(lat2 * rad) * std::sin(dlon / 2) *
                       std::sin(dlon / 2);
  return 2 * 6371008.8 * std::asin(std::sqrt(a));
}

struct Fixture {
  explicit Fixture(bool sync = true) { Reopen(sync); }

  // Closes and reopens the store and the logic, as a restart would.
  void Reopen(bool sync = true) {
    logic.reset();
    store.reset();
    store = std::move(*storage::Store::Open({dir.path(), CasesKeyspaces(), sync}));
    auto created = CasesLogic::Create(store.get(), &clock);
    REQUIRE(created.ok());
    logic = std::move(*created);
  }

  v1::OpenCaseRequest Report(const std::string& report_id, Place where) {
    v1::OpenCaseRequest r;
    r.set_report_id(report_id);
    r.set_tracking_code("PA-2611-AAAAA-" + report_id);
    r.set_category("traffic.pothole");
    r.set_description("Ổ gà sâu trước số 12 Lê Lợi");
    r.set_address("12 Lê Lợi, phường Bến Nghé, Quận 1");
    r.mutable_location()->set_lat(where.lat);
    r.mutable_location()->set_lon(where.lon);
    r.mutable_unit()->set_id(kQ1);
    r.mutable_area()->set_district_code("760");
    r.mutable_contact()->set_name("Nguyễn Văn A");
    r.mutable_contact()->set_phone("+84901234567");
    r.mutable_contact()->set_email("nguyenvana@example.com");
    r.set_operator_id("op.lan");
    r.add_photo_ids("PHOTO-" + report_id);
    r.set_sla_hours(72);
    return r;
  }

  v1::Case Open(const v1::OpenCaseRequest& r) {
    auto c = logic->OpenCase(r);
    REQUIRE(c.ok());
    return *c;
  }

  v1::Case Open(const std::string& report_id, Place where) {
    return Open(Report(report_id, where));
  }

  v1::Case Do(Action action, const v1::Case& c, const std::string& comment = "") {
    ActionArgs args;
    args.case_id = c.case_id();
    args.expected_version = c.version();
    args.comment = comment;
    auto done = logic->Act({kQ1}, action, args);
    REQUIRE(done.ok());
    return *done;
  }

  std::vector<std::string> Near(Place where, double radius_m) {
    v1::ListPublicCasesRequest request;
    request.mutable_near()->set_lat(where.lat);
    request.mutable_near()->set_lon(where.lon);
    request.set_radius_m(radius_m);
    return Ids(request);
  }

  std::vector<std::string> Ids(const v1::ListPublicCasesRequest& request) {
    auto response = logic->ListPublic(request);
    REQUIRE(response.ok());
    std::vector<std::string> ids;
    for (const auto& c : response->cases()) ids.push_back(c.case_id());
    return ids;
  }

  storage::TestDir dir;
  FakeClock clock;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<CasesLogic> logic;
};

bool Has(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::set<std::string> BadFields(const absl::Status& status) {
  std::set<std::string> fields;
  for (const auto& v : FieldViolationsOf(status)) fields.insert(v.field);
  return fields;
}

TEST_CASE("the public view carries no personal data, notes or internal reasons",
          "[cases][public]") {
  Fixture f;
  v1::Case c = f.Open("R1", kBenThanh);
  auto supporter = f.Report("R2", kBenThanh);
  supporter.set_supports_report_id("R1");
  supporter.mutable_contact()->set_phone("+84987654321");
  supporter.mutable_contact()->set_email("tranthib@example.com");
  c = f.Open(supporter);
  c = f.Do(Action::kAccept, c);
  c = f.Do(Action::kNote, c, "Nhà ông A có chó dữ, gọi trước khi đến");
  c = f.Do(Action::kReply, c, "Đội đã đến hiện trường");

  auto p = f.logic->GetPublic(c.case_id());
  REQUIRE(p.ok());
  const std::string all = p->SerializeAsString();
  for (const char* secret :
       {"Nguyễn Văn A", "+84901234567", "nguyenvana@example.com", "+84987654321",
        "tranthib@example.com", "PA-2611-AAAAA-R1", "PA-2611-AAAAA-R2", "op.lan",
        "chó dữ"}) {
    INFO(secret);
    REQUIRE(all.find(secret) == std::string::npos);
  }
  REQUIRE(p->supporter_count() == 1);
  REQUIRE(p->description() == "Ổ gà sâu trước số 12 Lê Lợi");
  REQUIRE(p->address() == "12 Lê Lợi, phường Bến Nghé, Quận 1");
  REQUIRE(p->photo_ids_size() == 1);
  REQUIRE_FALSE(p->location_coarsened());
  REQUIRE(p->location().lat() == kBenThanh.lat);
  REQUIRE(p->sla_state() == v1::SLA_STATE_ON_TRACK);
  // open, accept (status changes) and the reply; not the supporter's join or the note.
  REQUIRE(p->updates_size() == 3);
  REQUIRE(p->updates(0).action() == "open");
  REQUIRE(p->updates(1).action() == "accept");
  REQUIRE(p->updates(1).text().empty());
  REQUIRE(p->updates(2).action() == "reply");
  REQUIRE(p->updates(2).text() == "Đội đã đến hiện trường");

  REQUIRE(f.logic->GetPublic("01NOSUCHCASE").status().code() == absl::StatusCode::kNotFound);
  REQUIRE(f.logic->GetPublic("").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ToPublic keeps internal texts out and shows merges and ratings",
          "[cases][public]") {
  v1::Case c;
  c.set_case_id("01CASE");
  c.set_status(common::v1::CASE_STATUS_MERGED);
  c.set_merged_into_case_id("01MASTER");
  c.mutable_satisfaction()->set_rating(4);
  c.mutable_satisfaction()->set_comment("Cảm ơn anh Bình, số nhà 45");
  auto* transfer = c.add_history();
  transfer->set_action("transfer");
  transfer->set_from_status(common::v1::CASE_STATUS_ACCEPTED);
  transfer->set_to_status(common::v1::CASE_STATUS_TRANSFERRED);
  transfer->set_reason("Không thuộc địa bàn, chuyển cấp nước");
  transfer->set_to_unit_id("hcm.util_water");
  auto* merge = c.add_history();
  merge->set_action("merge");
  merge->set_from_status(common::v1::CASE_STATUS_TRANSFERRED);
  merge->set_to_status(common::v1::CASE_STATUS_MERGED);
  merge->set_comment("trùng với 01MASTER, người báo là hàng xóm");
  auto* note = c.add_history();  // a note that somehow claims to be public stays hidden
  note->set_action("note");
  note->set_public_comment(true);
  note->set_comment("nội bộ");

  v1::PublicCase p = ToPublic(c, v1::SLA_STATE_STOPPED);
  REQUIRE(p.merged_into_case_id() == "01MASTER");
  REQUIRE(p.rating() == 4);
  REQUIRE(p.sla_state() == v1::SLA_STATE_STOPPED);
  REQUIRE(p.updates_size() == 2);
  REQUIRE(p.updates(1).status() == common::v1::CASE_STATUS_MERGED);
  const std::string all = p.SerializeAsString();
  for (const char* secret : {"Cảm ơn", "Không thuộc", "hcm.util_water", "hàng xóm", "nội bộ"}) {
    INFO(secret);
    REQUIRE(all.find(secret) == std::string::npos);
  }
  // An address-only report (no point, or intake's default (0, 0)) has no public location.
  REQUIRE_FALSE(p.has_location());
  c.mutable_location();
  REQUIRE_FALSE(ToPublic(c, v1::SLA_STATE_STOPPED).has_location());
}

TEST_CASE("a private report is shown coarsened, without its text and photos",
          "[cases][public]") {
  Fixture f;
  auto request = f.Report("R1", kHome);
  request.set_private_location(true);
  const v1::Case home = f.Open(request);
  const v1::Case open = f.Open("R2", kHome);  // the same spot, not private

  auto p = f.logic->GetPublic(home.case_id());
  REQUIRE(p.ok());
  REQUIRE(p->location_coarsened());
  REQUIRE(p->description().empty());
  REQUIRE(p->address().empty());
  REQUIRE(p->photo_ids_size() == 0);
  REQUIRE((p->location().lat() != kHome.lat || p->location().lon() != kHome.lon));
  const double moved =
      MetresBetween(kHome.lat, kHome.lon, p->location().lat(), p->location().lon());
  REQUIRE(moved > 0);
  REQUIRE(moved < 600);
  // Every private report in a cell is shown at the same point: the cell's centre.
  common::v1::GeoPoint neighbour;
  neighbour.set_lat(kHome.lat + 0.001);
  neighbour.set_lon(kHome.lon - 0.001);
  REQUIRE(CoarsenToGrid(neighbour).lat() == p->location().lat());
  REQUIRE(CoarsenToGrid(neighbour).lon() == p->location().lon());

  // The case itself keeps everything for the unit.
  REQUIRE(f.logic->GetCase(home.case_id())->description() == request.description());
  REQUIRE(f.logic->GetCase(home.case_id())->private_location());

  // A search around the exact spot does not find the home, only the public report; a
  // wider one finds both.
  auto close = f.Near(kHome, 50);
  REQUIRE(Has(close, open.case_id()));
  REQUIRE_FALSE(Has(close, home.case_id()));
  auto wide = f.Near(kHome, 1000);
  REQUIRE(Has(wide, open.case_id()));
  REQUIRE(Has(wide, home.case_id()));
}

TEST_CASE("a radius search finds the cases inside the circle and none outside",
          "[cases][public]") {
  Fixture f;
  const std::string ben_thanh = f.Open("R1", kBenThanh).case_id();
  const std::string notre_dame = f.Open("R2", kNotreDame).case_id();
  const std::string landmark = f.Open("R3", kLandmark81).case_id();
  const std::string airport = f.Open("R4", kTanSonNhat).case_id();
  auto no_point = f.Report("R5", kBenThanh);
  no_point.clear_location();
  const std::string address_only = f.Open(no_point).case_id();

  // Default radius: 1 km.
  auto near = f.Near(kBenThanh, 0);
  REQUIRE(near.size() == 2);
  REQUIRE(Has(near, ben_thanh));
  REQUIRE(Has(near, notre_dame));
  // Newest first.
  REQUIRE(near[0] == notre_dame);

  auto five = f.Near(kBenThanh, 5000);
  REQUIRE(five.size() == 3);
  REQUIRE(Has(five, landmark));
  REQUIRE_FALSE(Has(five, airport));
  REQUIRE(f.Near(kBenThanh, 20000).size() == 4);
  REQUIRE(f.Near(kBenThanh, 700).size() == 1);

  // Without a place, every case, the address-only one too.
  REQUIRE(f.Ids({}).size() == 5);
  REQUIRE(Has(f.Ids({}), address_only));

  v1::ListPublicCasesRequest bad;
  bad.mutable_near()->set_lat(91);
  bad.mutable_near()->set_lon(106.7);
  bad.set_radius_m(20001);
  auto refused = f.logic->ListPublic(bad);
  REQUIRE(refused.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(BadFields(refused.status()) == std::set<std::string>{"near.lat", "radius_m"});
  bad.mutable_near()->set_lat(10.77);
  bad.set_radius_m(-1);
  REQUIRE(BadFields(f.logic->ListPublic(bad).status()) == std::set<std::string>{"radius_m"});
  bad.set_radius_m(std::nan(""));
  REQUIRE(BadFields(f.logic->ListPublic(bad).status()) == std::set<std::string>{"radius_m"});
  v1::ListPublicCasesRequest radius_alone;
  radius_alone.set_radius_m(500);
  REQUIRE(BadFields(f.logic->ListPublic(radius_alone).status()) ==
          std::set<std::string>{"radius_m"});
}

TEST_CASE("a box search finds the cases inside the box", "[cases][public]") {
  Fixture f;
  const std::string ben_thanh = f.Open("R1", kBenThanh).case_id();
  const std::string notre_dame = f.Open("R2", kNotreDame).case_id();
  f.Open("R3", kLandmark81);
  f.Open("R4", kTanSonNhat);

  // District 1's centre.
  v1::ListPublicCasesRequest box;
  box.mutable_min()->set_lat(10.765);
  box.mutable_min()->set_lon(106.690);
  box.mutable_max()->set_lat(10.785);
  box.mutable_max()->set_lon(106.705);
  auto ids = f.Ids(box);
  REQUIRE(ids == std::vector<std::string>{notre_dame, ben_thanh});

  // `near` wins over a box.
  box.mutable_near()->set_lat(kTanSonNhat.lat);
  box.mutable_near()->set_lon(kTanSonNhat.lon);
  REQUIRE(f.Ids(box).size() == 1);

  v1::ListPublicCasesRequest upside_down;
  upside_down.mutable_min()->set_lat(10.8);
  upside_down.mutable_min()->set_lon(106.8);
  upside_down.mutable_max()->set_lat(10.7);
  upside_down.mutable_max()->set_lon(106.6);
  REQUIRE(BadFields(f.logic->ListPublic(upside_down).status()) ==
          std::set<std::string>{"min.lat", "min.lon"});
  v1::ListPublicCasesRequest half;
  half.mutable_min()->set_lat(10.7);
  half.mutable_min()->set_lon(181);
  REQUIRE(BadFields(f.logic->ListPublic(half).status()) == std::set<std::string>{"max"});
}

TEST_CASE("public lists filter by category, status, opening time and ids",
          "[cases][public]") {
  Fixture f;
  const absl::Time start = f.clock.Now();
  const v1::Case first = f.Open("R1", kBenThanh);
  f.clock.Advance(absl::Hours(1));
  auto light = f.Report("R2", kNotreDame);
  light.set_category("lighting.streetlight_out");
  const v1::Case second = f.Open(light);
  f.clock.Advance(absl::Hours(1));
  v1::Case third = f.Open("R3", kBenThanh);
  third = f.Do(Action::kAccept, third);

  v1::ListPublicCasesRequest by_category;
  by_category.add_categories("lighting.streetlight_out");
  REQUIRE(f.Ids(by_category) == std::vector<std::string>{second.case_id()});

  v1::ListPublicCasesRequest by_status;
  by_status.add_statuses(common::v1::CASE_STATUS_ACCEPTED);
  REQUIRE(f.Ids(by_status) == std::vector<std::string>{third.case_id()});
  by_status.add_statuses(common::v1::CASE_STATUS_NEW);
  by_status.add_categories("traffic.pothole");
  REQUIRE(f.Ids(by_status) == std::vector<std::string>{third.case_id(), first.case_id()});

  v1::ListPublicCasesRequest by_time;
  *by_time.mutable_opened_after() = ToTimestamp(start + absl::Minutes(30));
  *by_time.mutable_opened_before() = ToTimestamp(start + absl::Minutes(90));
  REQUIRE(f.Ids(by_time) == std::vector<std::string>{second.case_id()});
  by_time.clear_opened_before();
  REQUIRE(f.Ids(by_time) == std::vector<std::string>{third.case_id(), second.case_id()});
  // With a place as well.
  by_time.mutable_near()->set_lat(kBenThanh.lat);
  by_time.mutable_near()->set_lon(kBenThanh.lon);
  REQUIRE(f.Ids(by_time) == std::vector<std::string>{third.case_id(), second.case_id()});
  by_time.set_radius_m(100);
  REQUIRE(f.Ids(by_time) == std::vector<std::string>{third.case_id()});

  v1::ListPublicCasesRequest by_id;
  by_id.add_case_ids(first.case_id());
  by_id.add_case_ids(third.case_id());
  by_id.add_case_ids("01UNKNOWNCASE");
  REQUIRE(f.Ids(by_id) == std::vector<std::string>{third.case_id(), first.case_id()});
  by_id.add_statuses(common::v1::CASE_STATUS_NEW);
  REQUIRE(f.Ids(by_id) == std::vector<std::string>{first.case_id()});

  v1::ListPublicCasesRequest too_many;
  for (int i = 0; i < 101; ++i) too_many.add_case_ids("01CASE" + std::to_string(i));
  REQUIRE(BadFields(f.logic->ListPublic(too_many).status()) ==
          std::set<std::string>{"case_ids"});
  v1::ListPublicCasesRequest backwards;
  *backwards.mutable_opened_after() = ToTimestamp(start + absl::Hours(2));
  *backwards.mutable_opened_before() = ToTimestamp(start);
  backwards.set_page_size(-1);
  backwards.set_page_token("not a token!");
  REQUIRE(BadFields(f.logic->ListPublic(backwards).status()) ==
          std::set<std::string>{"opened_after", "page_size", "page_token"});
}

// Pages through `request` and returns every id, checking the page sizes on the way.
std::vector<std::string> AllPages(Fixture& f, v1::ListPublicCasesRequest request,
                                  const std::vector<int>& sizes) {
  std::vector<std::string> ids;
  for (size_t page = 0;; ++page) {
    auto response = f.logic->ListPublic(request);
    REQUIRE(response.ok());
    REQUIRE(page < sizes.size());
    REQUIRE(response->cases_size() == sizes[page]);
    for (const auto& c : response->cases()) ids.push_back(c.case_id());
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  return ids;
}

TEST_CASE("paging through 120 cases returns each once, newest first", "[cases][public]") {
  Fixture f(/*sync=*/false);  // nothing here is about durability
  std::vector<std::string> opened;
  for (int i = 0; i < 120; ++i) {
    // Spread over ~1 km around Bến Thành market.
    const Place where{kBenThanh.lat + (i % 11) * 0.0007, kBenThanh.lon + (i % 7) * 0.0009};
    opened.push_back(f.Open("R" + std::to_string(i), where).case_id());
    f.clock.Advance(absl::Minutes(1));
  }
  const std::vector<std::string> newest_first(opened.rbegin(), opened.rend());

  SECTION("everywhere: default page size 50") {
    REQUIRE(AllPages(f, {}, {50, 50, 20}) == newest_first);
  }
  SECTION("near a point, pages of 40") {
    v1::ListPublicCasesRequest near;
    near.mutable_near()->set_lat(kBenThanh.lat);
    near.mutable_near()->set_lon(kBenThanh.lon);
    near.set_radius_m(3000);
    near.set_page_size(40);
    // A full last page is followed by an empty one.
    REQUIRE(AllPages(f, near, {40, 40, 40, 0}) == newest_first);
  }
  SECTION("in a box, pages of at most 200") {
    v1::ListPublicCasesRequest box;
    box.mutable_min()->set_lat(10.7);
    box.mutable_min()->set_lon(106.6);
    box.mutable_max()->set_lat(10.9);
    box.mutable_max()->set_lon(106.8);
    box.set_page_size(1000);
    REQUIRE(AllPages(f, box, {120}) == newest_first);
  }
}

TEST_CASE("a case rejected as spam is not published, other rejections are",
          "[cases][public]") {
  Fixture f;
  const v1::Case spam = f.Open("R-SPAM", kBenThanh);
  const v1::Case out_of_scope = f.Open("R-SCOPE", kNotreDame);
  auto reject = [&](const v1::Case& c, v1::RejectReason reason) {
    ActionArgs args;
    args.case_id = c.case_id();
    args.expected_version = c.version();
    args.reject_reason = reason;
    args.comment = "Không thuộc phạm vi xử lý";
    REQUIRE(f.logic->Act({kQ1}, Action::kReject, args).ok());
  };
  reject(spam, v1::REJECT_REASON_SPAM);
  reject(out_of_scope, v1::REJECT_REASON_OUT_OF_SCOPE);

  CHECK(f.logic->GetPublic(spam.case_id()).status().code() == absl::StatusCode::kNotFound);
  CHECK(f.logic->GetPublic(out_of_scope.case_id()).ok());
  const std::vector<std::string> near = f.Near(kBenThanh, 2000);
  CHECK_FALSE(Has(near, spam.case_id()));
  CHECK(Has(near, out_of_scope.case_id()));
  CHECK_FALSE(Has(f.Ids(v1::ListPublicCasesRequest()), spam.case_id()));
}

TEST_CASE("the geo index is rebuilt from the store after a restart", "[cases][public]") {
  Fixture f;
  const std::string ben_thanh = f.Open("R1", kBenThanh).case_id();
  auto request = f.Report("R2", kHome);
  request.set_private_location(true);
  const std::string home = f.Open(request).case_id();
  f.Open("R3", kTanSonNhat);

  f.Reopen();
  REQUIRE(f.Near(kBenThanh, 1000) == std::vector<std::string>{ben_thanh});
  // Still indexed at its cell's centre only.
  REQUIRE(f.Near(kHome, 50).empty());
  REQUIRE(f.Near(kHome, 1000) == std::vector<std::string>{home});
  // New cases join the rebuilt index.
  const std::string again = f.Open("R4", kBenThanh).case_id();
  REQUIRE(f.Near(kBenThanh, 1000) == std::vector<std::string>{again, ben_thanh});
}

}  // namespace
}  // namespace civic::cases
