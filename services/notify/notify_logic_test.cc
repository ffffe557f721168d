#include "services/notify/notify_logic.h"

#include <catch2/catch.hpp>

#include "libs/core/ids.h"
#include "libs/storage/test_dir.h"

namespace civic::notify {
namespace {

common::v1::CaseEvent Opened(uint64_t seq, const std::string& code, const std::string& lang) {
  common::v1::CaseEvent e;
  e.set_sequence(seq);
  e.set_type(common::v1::CASE_EVENT_TYPE_OPENED);
  e.set_case_id("case-1");
  e.set_tracking_code(code);
  e.set_language(lang);
  e.mutable_unit()->set_id("hcm.district_pc.760");
  e.mutable_unit()->set_name_vi("UBND Quận 1");
  e.mutable_unit()->set_name_en("District 1 People's Committee");
  return e;
}

TEST_CASE("an opened case gives the citizen one message in their language", "[notify]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), NotifyKeyspaces()}));
  FakeClock clock;
  NotifyLogic logic(store.get(), &clock);
  const std::string vi = NewTrackingCode("PA", clock.Now());
  const std::string en = NewTrackingCode("PA", clock.Now());
  storage::Batch batch(store.get());
  REQUIRE(logic.Apply(Opened(7, vi, "vi"), batch).ok());
  REQUIRE(logic.Apply(Opened(8, en, "en"), batch).ok());
  common::v1::CaseEvent note = Opened(9, vi, "vi");
  note.set_type(common::v1::CASE_EVENT_TYPE_NOTE_ADDED);  // internal: nothing to tell
  REQUIRE(logic.Apply(note, batch).ok());
  REQUIRE(store->Write(batch).ok());

  auto messages = logic.List(vi);
  REQUIRE(messages->size() == 1);
  REQUIRE(messages->at(0).body() ==
          "Cảm ơn bạn. Phản ánh " + vi +
              " đã được tiếp nhận và chuyển đến UBND Quận 1. Chúng tôi sẽ báo khi có cập nhật.");
  REQUIRE(messages->at(0).event_sequence() == 7);
  std::string lower = en;
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  auto english = logic.List(lower);  // codes are case-insensitive
  REQUIRE(english->size() == 1);
  REQUIRE(english->at(0).subject() == "Report " + en + " received");
  REQUIRE(logic.List("nope")->empty());
}

TEST_CASE("applying the same event twice leaves one message", "[notify]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), NotifyKeyspaces()}));
  FakeClock clock;
  NotifyLogic logic(store.get(), &clock);
  for (int i = 0; i < 2; ++i) {
    storage::Batch batch(store.get());
    REQUIRE(logic.Apply(Opened(3, "PA-2611-K7Q3M-9X", "vi"), batch).ok());
    REQUIRE(store->Write(batch).ok());
  }
  int n = 0;
  REQUIRE(store->Scan(kMessagesCf, "", "", [&](absl::string_view, absl::string_view v) {
    v1::Message m;
    REQUIRE(m.ParseFromArray(v.data(), static_cast<int>(v.size())));
    REQUIRE(m.body().find("UBND Quận 1") != std::string::npos);
    REQUIRE(m.subject() == "Đã tiếp nhận phản ánh PA-2611-K7Q3M-9X");
    ++n;
    return true;
  }).ok());
  REQUIRE(n == 1);
}

TEST_CASE("status changes and replies reach the reporter and every follower, internal "
          "moves do not",
          "[notify]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), NotifyKeyspaces()}));
  FakeClock clock;
  NotifyLogic logic(store.get(), &clock);
  const std::string reporter = NewTrackingCode("PA", clock.Now());
  const std::string follower = NewTrackingCode("PA", clock.Now());
  common::v1::CaseEvent resolved = Opened(20, reporter, "vi");
  resolved.set_type(common::v1::CASE_EVENT_TYPE_STATUS_CHANGED);
  resolved.set_from_status(common::v1::CASE_STATUS_IN_PROGRESS);
  resolved.set_to_status(common::v1::CASE_STATUS_RESOLVED);
  resolved.set_public_text("Đã vá ổ gà");
  resolved.add_follower_tracking_codes(follower);
  common::v1::CaseEvent transferred = Opened(21, reporter, "vi");
  transferred.set_type(common::v1::CASE_EVENT_TYPE_STATUS_CHANGED);
  transferred.set_to_status(common::v1::CASE_STATUS_TRANSFERRED);
  storage::Batch batch(store.get());
  REQUIRE(logic.Apply(resolved, batch).ok());
  REQUIRE(logic.Apply(transferred, batch).ok());
  REQUIRE(store->Write(batch).ok());

  for (const auto& code : {reporter, follower}) {
    auto messages = logic.List(code);
    REQUIRE(messages->size() == 1);
    REQUIRE(messages->at(0).template_() == "case_resolved");
    REQUIRE(messages->at(0).subject() == "Phản ánh " + code + " đã được xử lý xong");
    REQUIRE(messages->at(0).body().find("Đã vá ổ gà") != std::string::npos);
  }
}

TEST_CASE("a rating that reopens the case is confirmed to the citizen, others are not",
          "[notify]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), NotifyKeyspaces()}));
  FakeClock clock;
  NotifyLogic logic(store.get(), &clock);
  const std::string code = NewTrackingCode("PA", clock.Now());
  common::v1::CaseEvent reopened = Opened(30, code, "en");
  reopened.set_type(common::v1::CASE_EVENT_TYPE_RATED);
  reopened.set_to_status(common::v1::CASE_STATUS_REOPENED);
  common::v1::CaseEvent closed = Opened(31, code, "en");
  closed.set_type(common::v1::CASE_EVENT_TYPE_RATED);
  closed.set_to_status(common::v1::CASE_STATUS_CLOSED);
  storage::Batch batch(store.get());
  REQUIRE(logic.Apply(reopened, batch).ok());
  REQUIRE(logic.Apply(closed, batch).ok());
  REQUIRE(store->Write(batch).ok());
  auto messages = logic.List(code);
  REQUIRE(messages->size() == 1);
  REQUIRE(messages->at(0).template_() == "case_reopened");
  REQUIRE(messages->at(0).subject() == "Report " + code + " was reopened after your rating");
}

TEST_CASE("a merged duplicate's reporter and followers are told once, then hear of the "
          "master's updates",
          "[notify][merge]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), NotifyKeyspaces()}));
  FakeClock clock;
  NotifyLogic logic(store.get(), &clock);
  const std::string master = NewTrackingCode("PA", clock.Now());
  const std::string dup = NewTrackingCode("PA", clock.Now());
  const std::string dup_follower = NewTrackingCode("PA", clock.Now());

  // As cases writes a merge: the duplicate's STATUS_CHANGED to MERGED, then the
  // master's MERGED event listing the new followers.
  common::v1::CaseEvent closed = Opened(40, dup, "en");
  closed.set_case_id("case-dup");
  closed.set_type(common::v1::CASE_EVENT_TYPE_STATUS_CHANGED);
  closed.set_from_status(common::v1::CASE_STATUS_NEW);
  closed.set_to_status(common::v1::CASE_STATUS_MERGED);
  closed.set_merged_into_case_id("case-1");
  closed.add_follower_tracking_codes(dup_follower);
  closed.add_follower_tracking_codes(dup_follower);  // listed twice: still one message
  common::v1::CaseEvent joined = Opened(41, master, "vi");
  joined.set_type(common::v1::CASE_EVENT_TYPE_MERGED);
  joined.set_merged_case_id("case-dup");
  joined.add_follower_tracking_codes(dup);
  joined.add_follower_tracking_codes(dup_follower);
  storage::Batch batch(store.get());
  REQUIRE(logic.Apply(closed, batch).ok());
  REQUIRE(logic.Apply(joined, batch).ok());
  REQUIRE(store->Write(batch).ok());

  REQUIRE(logic.List(master)->empty());
  for (const auto& code : {dup, dup_follower}) {
    auto messages = logic.List(code);
    REQUIRE(messages->size() == 1);
    REQUIRE(messages->at(0).template_() == "case_merged");
    REQUIRE(messages->at(0).case_id() == "case-dup");
    REQUIRE(messages->at(0).subject() ==
            "Report " + code + " was joined with another report of the same problem");
    REQUIRE(messages->at(0).body().find("receive that case's updates") != std::string::npos);
  }
  common::v1::CaseEvent vi = closed;
  vi.set_sequence(39);
  vi.set_language("vi");
  vi.clear_follower_tracking_codes();
  const std::string vi_code = NewTrackingCode("PA", clock.Now());
  vi.set_tracking_code(vi_code);  // a reporter writing in Vietnamese
  storage::Batch vi_batch(store.get());
  REQUIRE(logic.Apply(vi, vi_batch).ok());
  REQUIRE(store->Write(vi_batch).ok());
  REQUIRE(logic.List(vi_code)->at(0).subject() ==
          "Phản ánh " + vi_code + " đã được gộp với một phản ánh khác về cùng vấn đề");

  // The master is resolved: its reporter and the merged reporters hear of it.
  common::v1::CaseEvent resolved = Opened(42, master, "vi");
  resolved.set_type(common::v1::CASE_EVENT_TYPE_STATUS_CHANGED);
  resolved.set_from_status(common::v1::CASE_STATUS_IN_PROGRESS);
  resolved.set_to_status(common::v1::CASE_STATUS_RESOLVED);
  resolved.set_public_text("Đã vá ổ gà");
  resolved.add_follower_tracking_codes(dup);
  resolved.add_follower_tracking_codes(dup_follower);
  storage::Batch later(store.get());
  REQUIRE(logic.Apply(resolved, later).ok());
  REQUIRE(store->Write(later).ok());
  for (const auto& code : {master, dup, dup_follower}) {
    auto messages = logic.List(code);
    REQUIRE(messages->back().template_() == "case_resolved");
    REQUIRE(messages->back().case_id() == "case-1");
    REQUIRE(messages->back().body().find("Đã vá ổ gà") != std::string::npos);
  }
  REQUIRE(logic.List(master)->size() == 1);
  REQUIRE(logic.List(dup)->size() == 2);
  REQUIRE(logic.List(dup_follower)->size() == 2);
}

TEST_CASE("deadline warnings and escalations are internal: citizens are told nothing",
          "[notify]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), NotifyKeyspaces()}));
  FakeClock clock;
  NotifyLogic logic(store.get(), &clock);
  const std::string code = NewTrackingCode("PA", clock.Now());
  common::v1::CaseEvent at_risk = Opened(50, code, "vi");
  at_risk.set_type(common::v1::CASE_EVENT_TYPE_AT_RISK);
  at_risk.add_follower_tracking_codes(NewTrackingCode("PA", clock.Now()));
  common::v1::CaseEvent escalated = Opened(51, code, "vi");
  escalated.set_type(common::v1::CASE_EVENT_TYPE_ESCALATED);
  escalated.set_escalated_to_unit_id("hcm.people_committee");
  storage::Batch batch(store.get());
  REQUIRE(logic.Apply(at_risk, batch).ok());
  REQUIRE(logic.Apply(escalated, batch).ok());
  REQUIRE(batch.empty());
}

}  // namespace
}  // namespace civic::notify
