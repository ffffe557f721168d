// Live updates: the per-code watch that wakes WatchMessages streams once a message is
// written, message ids as resume cursors, and the stream itself over real gRPC.
#include <atomic>
#include <memory>
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
  REQUIRE(watch.Wait("A", watch.version(), [&] { ++woken_a; }) != 0);
  REQUIRE(watch.Wait("B", watch.version(), [&] { ++woken_b; }) != 0);
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

TEST_CASE("a watcher cannot miss a message published between its read and its wait",
          "[notify][watch]") {
  MessageWatch watch;
  const uint64_t seen = watch.version();  // taken before reading the store
  watch.Stage(3, "A");
  watch.Committed(3);  // published while the reader was reading
  CHECK(watch.Wait("A", seen, [] { FAIL("must not be registered"); }) == 0);
  CHECK(watch.waiting() == 0);

  // A cancelled waiter is never called.
  const uint64_t ticket = watch.Wait("A", watch.version(), [] { FAIL("cancelled"); });
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
