// Merging duplicate cases, long transfer chains, and photos on replies and resolutions:
// what units and citizens would notice, through the logic's public API.
#include <algorithm>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status.h"
#include "libs/photos/photos.h"
#include "libs/storage/test_dir.h"
#include "services/cases/cases_logic.h"

namespace civic::cases {
namespace {

constexpr char kQ1[] = "hcm.district_pc.760";
constexpr char kWater[] = "hcm.util_water";
constexpr char kDrainage[] = "hcm.util_drainage";
constexpr char kOps[] = "hcm.ops_center";

struct Fixture {
  storage::TestDir dir;
  std::unique_ptr<storage::Store> store =
      std::move(*storage::Store::Open({dir.path(), CasesKeyspaces()}));
  FakeClock clock;
  std::unique_ptr<CasesLogic> logic = std::move(*CasesLogic::Create(
      store.get(), &clock, {.triage_by_province = {{"79", kOps}}}));

  static std::string CodeOf(const std::string& report_id) {
    return "PA-2611-AAAAA-" + report_id;
  }

  v1::Case Open(const std::string& report_id, const std::string& unit = kQ1,
                const std::string& supports = "") {
    v1::OpenCaseRequest r;
    r.set_report_id(report_id);
    r.set_tracking_code(CodeOf(report_id));
    r.set_category("traffic.pothole");
    r.set_description("Ổ gà sâu trước chợ Bến Thành");
    r.mutable_unit()->set_id(unit);
    r.mutable_area()->set_province_code("79");
    r.mutable_contact()->set_phone("+8490123" + report_id);
    r.set_sla_hours(72);
    r.set_supports_report_id(supports);
    auto c = logic->OpenCase(r);
    REQUIRE(c.ok());
    return *c;
  }

  absl::StatusOr<v1::Case> Do(const std::string& unit, Action action, const v1::Case& c,
                              ActionArgs extra = {}) {
    extra.case_id = c.case_id();
    extra.expected_version = c.version();
    return logic->Act({unit}, action, extra);
  }

  absl::StatusOr<v1::Case> Merge(const std::string& unit, const v1::Case& dup,
                                 const std::string& into, uint64_t version = 0) {
    v1::MergeRequest r;
    r.set_case_id(dup.case_id());
    r.set_expected_version(version == 0 ? dup.version() : version);
    r.set_into_case_id(into);
    r.set_comment("trùng với vụ việc đã có");
    return logic->Merge({unit}, r);
  }

  v1::Case Get(const v1::Case& c) { return *logic->GetCase(c.case_id()); }

  std::vector<common::v1::CaseEvent> Events() {
    std::vector<common::v1::CaseEvent> out;
    auto entries = logic->feed()->ReadAfter(0, 1000);
    REQUIRE(entries.ok());
    for (const auto& e : *entries) {
      common::v1::CaseEvent event;
      REQUIRE(event.ParseFromString(e.payload));
      event.set_sequence(e.sequence);
      out.push_back(event);
    }
    return out;
  }
};

std::vector<std::string> Codes(const google::protobuf::RepeatedPtrField<std::string>& codes) {
  return {codes.begin(), codes.end()};
}

TEST_CASE("a merged duplicate's reporter and supporters follow the master, with one event "
          "on each case",
          "[cases][merge]") {
  Fixture f;
  v1::Case master = *f.Do(kQ1, Action::kAccept, f.Open("R1"));
  v1::Case dup = f.Open("R2");
  f.Open("R3", kQ1, "R2");  // a +1 on the duplicate
  dup = f.Get(dup);
  REQUIRE(dup.supporters_size() == 1);
  const size_t events_before = f.Events().size();

  auto merged = f.Merge(kQ1, dup, master.case_id());
  REQUIRE(merged.ok());
  REQUIRE(merged->status() == common::v1::CASE_STATUS_MERGED);
  REQUIRE(merged->merged_into_case_id() == master.case_id());
  REQUIRE(merged->version() == dup.version() + 1);
  REQUIRE(merged->sla_state() == v1::SLA_STATE_STOPPED);
  const v1::HistoryEntry& merge = *merged->history().rbegin();
  REQUIRE(merge.action() == "merge");
  REQUIRE(merge.actor() == kQ1);
  REQUIRE(merge.from_status() == common::v1::CASE_STATUS_NEW);
  REQUIRE(merge.to_status() == common::v1::CASE_STATUS_MERGED);
  REQUIRE(merge.comment() == "trùng với vụ việc đã có");
  REQUIRE_FALSE(merge.public_comment());
  REQUIRE(merge.reason() == master.case_id());
  REQUIRE(merge.version() == merged->version());

  const v1::Case after = f.Get(master);
  REQUIRE(after.version() == master.version() + 1);
  REQUIRE(after.status() == common::v1::CASE_STATUS_ACCEPTED);
  REQUIRE(after.supporters_size() == 2);
  REQUIRE(after.supporters(0).report_id() == "R2");
  REQUIRE(after.supporters(0).tracking_code() == Fixture::CodeOf("R2"));
  REQUIRE(after.supporters(0).contact().phone() == "+8490123R2");
  REQUIRE(after.supporters(1).report_id() == "R3");
  REQUIRE(after.history().rbegin()->action() == "merged");
  REQUIRE(after.history().rbegin()->reason() == dup.case_id());
  REQUIRE(after.history().rbegin()->version() == after.version());

  // Citizens' codes still find their own case, which names the master.
  for (const char* report : {"R2", "R3"}) {
    auto mine = f.logic->GetCaseByReport(report);
    REQUIRE(mine->case_id() == dup.case_id());
    REQUIRE(mine->merged_into_case_id() == master.case_id());
  }

  auto events = f.Events();
  REQUIRE(events.size() == events_before + 2);
  const auto& closed = events[events_before];
  const auto& joined = events[events_before + 1];
  REQUIRE(joined.sequence() == closed.sequence() + 1);
  REQUIRE(closed.type() == common::v1::CASE_EVENT_TYPE_STATUS_CHANGED);
  REQUIRE(closed.case_id() == dup.case_id());
  REQUIRE(closed.from_status() == common::v1::CASE_STATUS_NEW);
  REQUIRE(closed.to_status() == common::v1::CASE_STATUS_MERGED);
  REQUIRE(closed.merged_into_case_id() == master.case_id());
  REQUIRE(Codes(closed.follower_tracking_codes()) ==
          std::vector<std::string>{Fixture::CodeOf("R3")});
  REQUIRE(joined.type() == common::v1::CASE_EVENT_TYPE_MERGED);
  REQUIRE(joined.case_id() == master.case_id());
  REQUIRE(joined.merged_case_id() == dup.case_id());
  REQUIRE(joined.supporter_count() == 2);
  REQUIRE(Codes(joined.follower_tracking_codes()) ==
          std::vector<std::string>{Fixture::CodeOf("R2"), Fixture::CodeOf("R3")});

  // From now on the master's updates carry the merged reporters' codes ...
  v1::Case m = *f.Do(kQ1, Action::kReply, after, {.comment = "Đội đã đến hiện trường"});
  REQUIRE(Codes(f.Events().back().follower_tracking_codes()) ==
          std::vector<std::string>{Fixture::CodeOf("R2"), Fixture::CodeOf("R3")});
  // ... a later +1 on the duplicate's report joins the master ...
  f.Open("R4", kQ1, "R2");
  REQUIRE(f.Get(m).supporters_size() == 3);
  REQUIRE(f.logic->GetCaseByReport("R4")->case_id() == master.case_id());
  // ... and the duplicate is closed to work.
  v1::Case d = f.Get(dup);
  REQUIRE(f.Do(kQ1, Action::kReply, d, {.comment = "?"}).status().code() ==
          absl::StatusCode::kFailedPrecondition);
  REQUIRE(f.Do(kQ1, Action::kAccept, d).status().code() ==
          absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("merge is listed only where it is allowed", "[cases][merge]") {
  auto has_merge = [](common::v1::CaseStatus s) {
    auto allowed = CasesLogic::AllowedActions(s);
    return std::find(allowed.begin(), allowed.end(), "merge") != allowed.end();
  };
  REQUIRE(has_merge(common::v1::CASE_STATUS_NEW));
  REQUIRE(has_merge(common::v1::CASE_STATUS_IN_PROGRESS));
  REQUIRE(has_merge(common::v1::CASE_STATUS_REOPENED));
  REQUIRE_FALSE(has_merge(common::v1::CASE_STATUS_RESOLVED));
  REQUIRE_FALSE(has_merge(common::v1::CASE_STATUS_MERGED));
  REQUIRE_FALSE(has_merge(common::v1::CASE_STATUS_REJECTED));
}

TEST_CASE("a merge is refused when the unit may not make it, the cases are closed or the "
          "same, or the version is stale, and then changes nothing",
          "[cases][merge][authz]") {
  Fixture f;
  v1::Case master = f.Open("R1");
  v1::Case dup = f.Open("R2");
  v1::Case elsewhere = f.Open("R3", kWater);
  const size_t events_before = f.Events().size();

  // Another unit's case: as if it did not exist, either side.
  REQUIRE(f.Merge(kWater, dup, elsewhere.case_id()).status().code() ==
          absl::StatusCode::kNotFound);
  auto hidden = f.Merge(kQ1, dup, elsewhere.case_id());
  REQUIRE(hidden.status().code() == absl::StatusCode::kNotFound);
  REQUIRE(ReasonOf(hidden.status()) == "CASE_NOT_FOUND");
  REQUIRE(f.Merge(kQ1, dup, "01JUNKNOWNCASE000000000000").status().code() ==
          absl::StatusCode::kNotFound);
  REQUIRE(f.Merge("", dup, master.case_id()).status().code() ==
          absl::StatusCode::kUnauthenticated);
  // Stale, self, missing fields.
  auto stale = f.Merge(kQ1, dup, master.case_id(), dup.version() + 1);
  REQUIRE(stale.status().code() == absl::StatusCode::kAborted);
  REQUIRE(ReasonOf(stale.status()) == "STALE_VERSION");
  REQUIRE(f.Merge(kQ1, dup, dup.case_id()).status().code() ==
          absl::StatusCode::kFailedPrecondition);
  auto missing = f.Merge(kQ1, dup, "");
  REQUIRE(missing.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(FieldViolationsOf(missing.status()).at(0).field == "into_case_id");
  // Offered a case by transfer, a unit may accept or decline it, not merge it away.
  v1::Case offered = *f.Do(kWater, Action::kTransfer, elsewhere, {.to_unit_id = kQ1});
  REQUIRE(f.Merge(kQ1, offered, master.case_id()).status().code() ==
          absl::StatusCode::kPermissionDenied);
  // A closed master takes no duplicates; a closed duplicate cannot be merged.
  v1::Case resolved = *f.Do(kQ1, Action::kAccept, master);
  resolved = *f.Do(kQ1, Action::kResolve, resolved, {.comment = "Đã vá"});
  auto into_closed = f.Merge(kQ1, dup, resolved.case_id());
  REQUIRE(into_closed.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(ReasonOf(into_closed.status()) == "ACTION_NOT_ALLOWED");
  v1::Case third = f.Open("R4");
  REQUIRE(f.Merge(kQ1, resolved, third.case_id()).status().code() ==
          absl::StatusCode::kFailedPrecondition);

  REQUIRE(f.Get(dup).version() == dup.version());
  REQUIRE(f.Get(dup).status() == common::v1::CASE_STATUS_NEW);
  REQUIRE(f.Get(third).supporters().empty());
  // Only the transfer, accept, resolve and the fourth case's opening were written.
  REQUIRE(f.Events().size() == events_before + 4);

  // Merged once, a duplicate cannot be merged again, nor be a master.
  v1::Case gone = *f.Merge(kQ1, dup, third.case_id());
  REQUIRE(f.Merge(kQ1, gone, third.case_id()).status().code() ==
          absl::StatusCode::kFailedPrecondition);
  REQUIRE(f.Merge(kQ1, f.Get(third), gone.case_id()).status().code() ==
          absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a transfer chain with a decline in the middle ends with the last unit, and every "
          "unit on the way keeps read access without the contact",
          "[cases][actions][transfer]") {
  Fixture f;
  v1::Case c = *f.Do(kQ1, Action::kAccept, f.Open("R1"));
  // A → B, declined: back to A, as it was.
  c = *f.Do(kQ1, Action::kTransfer, c, {.to_unit_id = kWater, .reason = "ống nước vỡ"});
  c = *f.Do(kWater, Action::kReject, c,
            {.comment = "không phải ống nước", .reject_reason = v1::REJECT_REASON_OUT_OF_SCOPE});
  REQUIRE(c.status() == common::v1::CASE_STATUS_ACCEPTED);
  REQUIRE(c.unit().id() == kQ1);
  REQUIRE(c.offered_to_unit_id().empty());
  REQUIRE_FALSE(c.history().rbegin()->public_comment());  // a decline is internal
  c = *f.logic->GetCaseFor({kQ1}, c.case_id());
  c = *f.Do(kQ1, Action::kStartWork, c);
  // A → C, accepted; C → B, accepted: B handles it now.
  c = *f.Do(kQ1, Action::kTransfer, c, {.to_unit_id = kDrainage, .reason = "cống tắc"});
  c = *f.Do(kDrainage, Action::kAccept, c);
  REQUIRE(c.unit().id() == kDrainage);
  c = *f.Do(kDrainage, Action::kTransfer, c, {.to_unit_id = kWater, .reason = "vỡ ống"});
  REQUIRE(f.Do(kQ1, Action::kAccept, c).status().code() == absl::StatusCode::kPermissionDenied);
  c = *f.Do(kWater, Action::kAccept, c);
  REQUIRE(c.unit().id() == kWater);
  REQUIRE(c.contact().phone() == "+8490123R1");
  c = *f.Do(kWater, Action::kResolve, c, {.comment = "Đã thay ống"});
  REQUIRE(c.status() == common::v1::CASE_STATUS_RESOLVED);

  for (const char* unit : {kQ1, kDrainage}) {
    auto seen = f.logic->GetCaseFor({unit}, c.case_id());
    REQUIRE(seen.ok());
    REQUIRE_FALSE(seen->has_contact());
    REQUIRE(f.Do(unit, Action::kReply, c, {.comment = "?"}).status().code() ==
            absl::StatusCode::kPermissionDenied);
  }
  std::vector<std::string> actions;
  for (const auto& h : c.history()) actions.push_back(h.action());
  REQUIRE(actions == std::vector<std::string>{"open", "accept", "transfer", "reject", "start",
                                              "transfer", "accept", "transfer", "accept",
                                              "resolve"});
  REQUIRE(c.version() == 10);
  REQUIRE(f.Events().size() == 10);
}

TEST_CASE("a case rejected back to triage is routed on, worked, disputed and reopened",
          "[cases][actions][triage]") {
  Fixture f;
  v1::Case c = f.Open("R1");
  c = *f.Do(kQ1, Action::kReject, c,
            {.comment = "Không thuộc địa bàn",
             .reject_reason = v1::REJECT_REASON_NOT_OUR_JURISDICTION});
  REQUIRE(c.status() == common::v1::CASE_STATUS_NEW);
  c = *f.logic->GetCaseFor({kOps}, c.case_id());
  REQUIRE(c.unit().id() == kOps);
  // The operations centre sends it to the right unit, which works it.
  c = *f.Do(kOps, Action::kTransfer, c, {.to_unit_id = kDrainage});
  c = *f.Do(kDrainage, Action::kAccept, c);
  c = *f.Do(kDrainage, Action::kResolve, c, {.comment = "Đã thông cống"});
  v1::RateResolutionRequest rate;
  rate.set_case_id(c.case_id());
  rate.set_tracking_code(c.tracking_code());
  rate.set_rating(1);
  REQUIRE(f.logic->Rate(rate)->status() == common::v1::CASE_STATUS_REOPENED);
  c = *f.logic->GetCaseFor({kDrainage}, c.case_id());
  c = *f.Do(kDrainage, Action::kAccept, c);
  REQUIRE(c.status() == common::v1::CASE_STATUS_ACCEPTED);
}

// A 1×1 PNG whose text chunk names the place and the camera (CRCs are not checked).
std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string PngChunk(absl::string_view type, absl::string_view data) {
  return absl::StrCat(Be32(static_cast<uint32_t>(data.size())), type, data, Be32(0));
}
std::string PngWithSecrets() {
  return absl::StrCat(
      absl::string_view("\x89PNG\r\n\x1a\n", 8),
      PngChunk("IHDR", absl::StrCat(Be32(1), Be32(1), absl::string_view("\x08\x02\0\0\0", 5))),
      PngChunk("tEXt", absl::string_view("Comment\0GPS 10.7725,106.698 Canon", 33)),
      PngChunk("IDAT", absl::string_view("\x78\x9C\x63\x60\x60\x60\x00\x00\x00\x04\x00\x01", 12)),
      PngChunk("IEND", ""));
}

google::protobuf::RepeatedPtrField<common::v1::PhotoUpload> Uploads(int n,
                                                                    const std::string& bytes) {
  google::protobuf::RepeatedPtrField<common::v1::PhotoUpload> out;
  for (int i = 0; i < n; ++i) {
    common::v1::PhotoUpload* p = out.Add();
    p->set_data(bytes);
    p->set_file_name("duong.png");
  }
  return out;
}

TEST_CASE("photos on a reply and a resolution are served stripped to anyone, and nothing "
          "else is",
          "[cases][photos]") {
  Fixture f;
  const std::string png = PngWithSecrets();
  v1::Case c = *f.Do(kQ1, Action::kAccept, f.Open("R1"));
  c = *f.Do(kQ1, Action::kReply, c, {.comment = "Đang sửa", .photos = Uploads(1, png)});
  REQUIRE(c.history().rbegin()->photo_ids_size() == 1);
  const std::string reply_photo = c.history().rbegin()->photo_ids(0);
  c = *f.Do(kQ1, Action::kResolve, c, {.comment = "Đường đã sửa xong", .photos = Uploads(2, png)});
  REQUIRE(c.history().rbegin()->photo_ids_size() == 2);
  REQUIRE(c.history().rbegin()->public_comment());

  auto served = f.logic->GetCasePhoto(c.case_id(), reply_photo);
  REQUIRE(served.ok());
  REQUIRE(served->photo_id() == reply_photo);
  REQUIRE(served->content_type() == "image/png");
  REQUIRE_FALSE(absl::StrContains(served->data(), "GPS"));
  REQUIRE_FALSE(absl::StrContains(served->data(), "Canon"));
  REQUIRE(absl::StrContains(served->data(), "IDAT"));
  REQUIRE(f.logic->GetCasePhoto(c.case_id(), c.history().rbegin()->photo_ids(1)).ok());

  // Unknown ids, another case's photo, and a stored photo no public entry shows: absent.
  REQUIRE(f.logic->GetCasePhoto(c.case_id(), "01JNOSUCHPHOTO000000000000").status().code() ==
          absl::StatusCode::kNotFound);
  REQUIRE(f.logic->GetCasePhoto("01JNOSUCHCASE0000000000000", reply_photo).status().code() ==
          absl::StatusCode::kNotFound);
  v1::Case other = f.Open("R2");
  REQUIRE(f.logic->GetCasePhoto(other.case_id(), reply_photo).status().code() ==
          absl::StatusCode::kNotFound);
  storage::Batch batch(f.store.get());
  auto loose = photos::PhotoStore(f.store.get()).Add(Uploads(1, png), batch, f.clock.Now());
  REQUIRE(f.store->Write(batch).ok());
  auto internal = f.logic->GetCasePhoto(c.case_id(), loose->at(0));
  REQUIRE(internal.status().code() == absl::StatusCode::kNotFound);
  REQUIRE(ReasonOf(internal.status()) == "PHOTO_NOT_FOUND");
}

TEST_CASE("photos only with replies and resolutions, at most five, each a real image",
          "[cases][photos]") {
  Fixture f;
  const std::string png = PngWithSecrets();
  v1::Case c = f.Open("R1");
  auto on_accept = f.Do(kQ1, Action::kAccept, c, {.photos = Uploads(1, png)});
  REQUIRE(on_accept.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(FieldViolationsOf(on_accept.status()).at(0).field == "photos");
  auto on_note = f.Do(kQ1, Action::kNote, c, {.comment = "nội bộ", .photos = Uploads(1, png)});
  REQUIRE(FieldViolationsOf(on_note.status()).at(0).field == "photos");
  auto six = f.Do(kQ1, Action::kReply, c, {.comment = "x", .photos = Uploads(6, png)});
  REQUIRE(FieldViolationsOf(six.status()).at(0).field == "photos");
  auto bad = Uploads(2, png);
  bad.Mutable(1)->set_data("not an image at all");
  auto text = f.Do(kQ1, Action::kReply, c, {.comment = "x", .photos = bad});
  REQUIRE(text.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(FieldViolationsOf(text.status()).at(0).field == "photos[1]");
  // Nothing was written, photos included.
  REQUIRE(f.Get(c).version() == 1);
  REQUIRE(f.Events().size() == 1);
  int stored = 0;
  REQUIRE(f.store
              ->Scan(photos::kPublicPhotosCf, "", "",
                     [&](absl::string_view, absl::string_view) {
                       ++stored;
                       return true;
                     })
              .ok());
  REQUIRE(stored == 0);
}

}  // namespace
}  // namespace civic::cases
