// Live updates: the per-code watch that wakes WatchMessages streams once a message is
// written, message ids as resume cursors, the streams themselves over real gRPC, and
// the inbox across a citizen's reports.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "libs/core/ids.h"
#include "libs/rpc/channel.h"
#include "libs/rpc/server.h"
#include "libs/storage/test_dir.h"
#include "services/notify/message_watch.h"
#include "services/notify/notify_logic.h"
#include "services/notify/notify_service.h"
#include "services/notify/owned_codes.h"

namespace civic::notify {
namespace {

common::v1::CaseEvent Opened(uint64_t seq, const std::string& code) {
  common::v1::CaseEvent e;
  e.set_sequence(seq);
  e.set_type(common::v1::CASE_EVENT_TYPE_OPENED);
  e.set_case_id("case-1");
  e.set_tracking_code(code);
  e.set_language("en");
  e.mutable_unit()->set_id("hcm.district_pc.760");
  e.mutable_unit()->set_name_en("District 1 People's Committee");
  return e;
}

common::v1::CaseEvent StatusChanged(uint64_t seq, const std::string& code,
                                    common::v1::CaseStatus to) {
  common::v1::CaseEvent e = Opened(seq, code);
  e.set_type(common::v1::CASE_EVENT_TYPE_STATUS_CHANGED);
  e.set_to_status(to);
  return e;
}

// What notify's feed consumer does with one event: apply, write, then publish.
void Consume(NotifyLogic& logic, storage::Store& store, MessageWatch& watch,
             const common::v1::CaseEvent& event) {
  storage::Batch batch(&store);
  REQUIRE(logic.Apply(event, batch).ok());
  REQUIRE(store.Write(batch).ok());
  watch.Committed(event.sequence());
}

TEST_CASE("a committed message wakes the watchers of its code only, once", "[notify][watch]") {
  MessageWatch watch;
  int woken_a = 0;
  int woken_b = 0;
  REQUIRE(watch.Wait({"A"}, watch.version(), [&] { ++woken_a; }) != 0);
  REQUIRE(watch.Wait({"B"}, watch.version(), [&] { ++woken_b; }) != 0);
  REQUIRE(watch.waiting() == 2);

  watch.Stage(7, "A");
  CHECK(woken_a == 0);  // staged is not written: nobody is woken yet
  watch.Committed(6);   // an earlier event, nothing for A
  CHECK(woken_a == 0);
  watch.Committed(7);
  CHECK(woken_a == 1);
  CHECK(woken_b == 0);
  CHECK(watch.waiting() == 1);

  watch.Stage(8, "A");
  watch.Committed(8);
  CHECK(woken_a == 1);  // the waiter was used up: a stream waits again when caught up
}

TEST_CASE("a watcher of several codes is woken once by a message for any of them",
          "[notify][watch]") {
  MessageWatch watch;
  int woken = 0;
  REQUIRE(watch.Wait({"A", "B"}, watch.version(), [&] { ++woken; }) != 0);
  watch.Stage(3, "B");
  watch.Stage(3, "A");  // one event told to both codes
  watch.Committed(3);
  CHECK(woken == 1);
  CHECK(watch.waiting() == 0);  // gone from both codes
  watch.Stage(4, "A");
  watch.Committed(4);
  CHECK(woken == 1);

  // Cancelled, it is gone from every code.
  const uint64_t ticket = watch.Wait({"A", "B"}, watch.version(), [] { FAIL("cancelled"); });
  watch.Cancel(ticket);
  CHECK(watch.waiting() == 0);
  watch.Stage(5, "B");
  watch.Committed(5);
}

TEST_CASE("a watcher cannot miss a message published between its read and its wait",
          "[notify][watch]") {
  MessageWatch watch;
  const uint64_t seen = watch.version();  // taken before reading the store
  watch.Stage(3, "A");
  watch.Committed(3);  // published while the reader was reading
  CHECK(watch.Wait({"A"}, seen, [] { FAIL("must not be registered"); }) == 0);
  CHECK(watch.waiting() == 0);

  // A cancelled waiter is never called.
  const uint64_t ticket = watch.Wait({"A"}, watch.version(), [] { FAIL("cancelled"); });
  REQUIRE(ticket != 0);
  watch.Cancel(ticket);
  CHECK(watch.waiting() == 0);
  watch.Stage(4, "A");
  watch.Committed(4);
  watch.Cancel(ticket);  // harmless once gone
}

TEST_CASE("message ids are resume cursors: only later messages follow", "[notify][watch]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), NotifyKeyspaces()}));
  FakeClock clock;
  MessageWatch watch;
  NotifyLogic logic(store.get(), &clock, &watch);
  const std::string code = NewTrackingCode("PA", clock.Now());
  // Sequences 9 and 10 sort differently as text ("msg-10" < "msg-9"): order is numeric.
  Consume(logic, *store, watch, Opened(9, code));
  Consume(logic, *store, watch, StatusChanged(10, code, common::v1::CASE_STATUS_ACCEPTED));
  Consume(logic, *store, watch, StatusChanged(11, code, common::v1::CASE_STATUS_RESOLVED));

  auto all = logic.ListAfter(code, 0, 100);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  REQUIRE(all->at(0).message_id() == "msg-9");

  const std::optional<uint64_t> cursor = MessageCursor(all->at(0).message_id());
  REQUIRE(cursor == 9u);
  auto later = logic.ListAfter(code, *cursor, 100);
  REQUIRE(later->size() == 2);
  CHECK(later->at(0).template_() == "case_accepted");
  CHECK(later->at(1).template_() == "case_resolved");
  CHECK(logic.ListAfter(code, 11, 100)->empty());
  CHECK(logic.ListAfter(code, 0, 1)->size() == 1);  // a page

  CHECK(MessageCursor("") == 0u);
  CHECK(MessageCursor("msg-18446744073709551615") == UINT64_MAX);
  for (const char* bad : {"9", "msg-", "msg-x", "msg--1", "msg-1 ", "msg-99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(MessageCursor(bad).has_value());
  }
}

TEST_CASE("across codes, messages merge in event order with one per event",
          "[notify][watch]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), NotifyKeyspaces()}));
  FakeClock clock;
  MessageWatch watch;
  NotifyLogic logic(store.get(), &clock, &watch);
  const std::string first = NewTrackingCode("PA", clock.Now());
  const std::string second = NewTrackingCode("PA", clock.Now());
  Consume(logic, *store, watch, Opened(3, first));
  Consume(logic, *store, watch, Opened(4, second));
  // The second report joined the first's case: one event, told to both codes.
  common::v1::CaseEvent accepted = StatusChanged(5, first, common::v1::CASE_STATUS_ACCEPTED);
  accepted.add_follower_tracking_codes(second);
  Consume(logic, *store, watch, accepted);
  Consume(logic, *store, watch, StatusChanged(6, second, common::v1::CASE_STATUS_RESOLVED));

  auto all = logic.ListAfterAny({second, first}, 0, 100);
  REQUIRE(all.ok());
  std::vector<uint64_t> sequences;
  for (const auto& m : *all) sequences.push_back(m.event_sequence());
  CHECK(sequences == std::vector<uint64_t>{3, 4, 5, 6});
  CHECK(logic.ListAfterAny({first, second}, 4, 100)->size() == 2);
  CHECK(logic.ListAfterAny({first, second}, 0, 2)->back().event_sequence() == 4);  // a page

  // The inbox: newest first, the same event once, paged by message id.
  v1::ListMyMessagesRequest request;
  request.set_page_size(3);
  auto page = logic.ListInbox({first, second}, request);
  REQUIRE(page.ok());
  REQUIRE(page->messages_size() == 3);
  CHECK(page->messages(0).message_id() == "msg-6");
  CHECK(page->messages(1).message_id() == "msg-5");
  CHECK(page->messages(2).message_id() == "msg-4");
  REQUIRE(page->next_page_token() == "msg-4");
  request.set_page_token(page->next_page_token());
  auto rest = logic.ListInbox({first, second}, request);
  REQUIRE(rest->messages_size() == 1);
  CHECK(rest->messages(0).message_id() == "msg-3");
  CHECK(rest->next_page_token().empty());
  // Exactly a page left: no token pointing at an empty page.
  request.set_page_token("msg-5");
  request.set_page_size(2);
  CHECK(logic.ListInbox({first, second}, request)->next_page_token().empty());

  CHECK(logic.ListInbox({}, {})->messages().empty());
  request.set_page_token("5");
  CHECK(logic.ListInbox({first}, request).status().code() == absl::StatusCode::kInvalidArgument);
  request.set_page_token("");
  request.set_page_size(101);
  CHECK(logic.ListInbox({first}, request).status().code() == absl::StatusCode::kInvalidArgument);
}

// Intake's answer, as a test sets it.
class FakeOwnedCodes final : public OwnedCodes {
 public:
  absl::StatusOr<std::vector<std::string>> Of(const CitizenCredentials& who) override {
    std::lock_guard lock(mu_);
    ++asked_;
    if (who.device_id.empty() && who.authorization.empty()) {
      return absl::UnauthenticatedError("no credentials");
    }
    if (who.device_id != device_) return std::vector<std::string>{};
    return codes_;
  }
  void Set(std::string device, std::vector<std::string> codes) {
    std::lock_guard lock(mu_);
    device_ = std::move(device);
    codes_ = std::move(codes);
  }
  int asked() {
    std::lock_guard lock(mu_);
    return asked_;
  }

 private:
  std::mutex mu_;
  std::string device_;
  std::vector<std::string> codes_;
  int asked_ = 0;
};

TEST_CASE("WatchMyMessages streams the caller's reports together, and a report sent while "
          "it is open joins at the next refresh",
          "[notify][watch]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), NotifyKeyspaces()}));
  FakeClock clock;
  MessageWatch watch;
  NotifyLogic logic(store.get(), &clock, &watch);
  FakeOwnedCodes owned;
  NotifyService service(&logic, 2, nullptr, {},
                        {.owned_codes = &owned, .refresh = absl::Milliseconds(100)});
  auto server = rpc::Server::Start({.listen = "127.0.0.1:0", .services = {&service},
                                    .health_names = {}});
  REQUIRE(server.ok());
  auto stub = v1::NotifyService::NewStub(rpc::MakeChannel((*server)->address()));

  const std::string first = NewTrackingCode("PA", clock.Now());
  const std::string second = NewTrackingCode("PA", clock.Now());
  const std::string later = NewTrackingCode("PA", clock.Now());
  owned.Set("device-1", {second, first});
  Consume(logic, *store, watch, Opened(1, first));
  Consume(logic, *store, watch, Opened(2, NewTrackingCode("PA", clock.Now())));  // not theirs
  Consume(logic, *store, watch, Opened(3, second));

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  context.AddMetadata("x-civic-device-id", "device-1");
  auto reader = stub->WatchMyMessages(&context, v1::WatchMyMessagesRequest());
  v1::Message m;
  REQUIRE(reader->Read(&m));
  CHECK(m.message_id() == "msg-1");
  REQUIRE(reader->Read(&m));
  CHECK(m.message_id() == "msg-3");

  Consume(logic, *store, watch, StatusChanged(4, first, common::v1::CASE_STATUS_ACCEPTED));
  REQUIRE(reader->Read(&m));  // live, for either code
  CHECK(m.message_id() == "msg-4");

  // A report sent now: intake lists it, and the stream asks again within its interval.
  owned.Set("device-1", {later, second, first});
  Consume(logic, *store, watch, Opened(5, later));
  REQUIRE(reader->Read(&m));
  CHECK(m.message_id() == "msg-5");
  CHECK(m.tracking_code() == later);
  CHECK(owned.asked() >= 2);

  // The listing agrees, newest first.
  {
    grpc::ClientContext list_context;
    list_context.AddMetadata("x-civic-device-id", "device-1");
    v1::ListMyMessagesResponse listed;
    REQUIRE(stub->ListMyMessages(&list_context, {}, &listed).ok());
    REQUIRE(listed.messages_size() == 4);
    CHECK(listed.messages(0).message_id() == "msg-5");
    CHECK(listed.messages(3).message_id() == "msg-1");
  }

  // Refused by intake: the call fails with intake's status, before any message.
  {
    grpc::ClientContext anonymous;
    auto refused = stub->WatchMyMessages(&anonymous, v1::WatchMyMessagesRequest());
    CHECK_FALSE(refused->Read(&m));
    CHECK(refused->Finish().error_code() == grpc::StatusCode::UNAUTHENTICATED);
    grpc::ClientContext list_anonymous;
    v1::ListMyMessagesResponse none;
    CHECK(stub->ListMyMessages(&list_anonymous, {}, &none).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
  }

  service.CloseStreams();
  CHECK_FALSE(reader->Read(&m));
  CHECK(reader->Finish().error_code() == grpc::StatusCode::UNAVAILABLE);
  (*server)->Shutdown(absl::Seconds(2));
  CHECK(watch.waiting() == 0);
}

TEST_CASE("WatchMessages streams the messages after the cursor, then new ones live, and "
          "ends UNAVAILABLE at shutdown",
          "[notify][watch]") {
  storage::TestDir dir;
  auto store = std::move(*storage::Store::Open({dir.path(), NotifyKeyspaces()}));
  FakeClock clock;
  MessageWatch watch;
  NotifyLogic logic(store.get(), &clock, &watch);
  NotifyService service(&logic, 2);
  auto server = rpc::Server::Start({.listen = "127.0.0.1:0", .services = {&service},
                                    .health_names = {}});
  REQUIRE(server.ok());
  auto stub = v1::NotifyService::NewStub(rpc::MakeChannel((*server)->address()));

  const std::string code = NewTrackingCode("PA", clock.Now());
  std::string lower = code;
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  Consume(logic, *store, watch, Opened(5, code));

  auto open = [&](grpc::ClientContext& context, const std::string& after) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::WatchMessagesRequest request;
    request.set_tracking_code(lower);  // normalised as ListMessages does
    request.set_after_message_id(after);
    return stub->WatchMessages(&context, request);
  };

  grpc::ClientContext context;
  auto reader = open(context, "");
  v1::Message m;
  REQUIRE(reader->Read(&m));  // the backlog
  CHECK(m.message_id() == "msg-5");
  CHECK(m.template_() == "case_opened");

  // An event for another code, then one for this code, arrive while the stream waits.
  Consume(logic, *store, watch, Opened(6, NewTrackingCode("PA", clock.Now())));
  Consume(logic, *store, watch, StatusChanged(7, code, common::v1::CASE_STATUS_ACCEPTED));
  REQUIRE(reader->Read(&m));  // live
  CHECK(m.message_id() == "msg-7");
  CHECK(m.template_() == "case_accepted");
  Consume(logic, *store, watch, StatusChanged(8, code, common::v1::CASE_STATUS_RESOLVED));
  REQUIRE(reader->Read(&m));
  CHECK(m.template_() == "case_resolved");

  // Resumed after the first message: only the later ones.
  {
    grpc::ClientContext resumed_context;
    auto resumed = open(resumed_context, "msg-5");
    REQUIRE(resumed->Read(&m));
    CHECK(m.message_id() == "msg-7");
    REQUIRE(resumed->Read(&m));
    CHECK(m.message_id() == "msg-8");
    resumed_context.TryCancel();  // the client goes away: its waiter is dropped
    while (resumed->Read(&m)) {
    }
    CHECK(resumed->Finish().error_code() == grpc::StatusCode::CANCELLED);
  }

  // A malformed cursor is refused.
  {
    grpc::ClientContext bad_context;
    auto bad = open(bad_context, "7");
    CHECK_FALSE(bad->Read(&m));
    CHECK(bad->Finish().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }

  // Shutdown ends the stream at once rather than after the server's grace period.
  service.CloseStreams();
  CHECK_FALSE(reader->Read(&m));
  CHECK(reader->Finish().error_code() == grpc::StatusCode::UNAVAILABLE);
  (*server)->Shutdown(absl::Seconds(2));
  CHECK(watch.waiting() == 0);  // no stream left anything behind
}

}  // namespace
}  // namespace civic::notify
