// The event format of the gateway's event streams, the Last-Event-ID cursor, and the
// registry that ends open streams at shutdown. (The streams themselves run end to end
// in tests/e2e/sse_test.cc.)
#include "services/gateway/sse.h"

#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "civic/notify/v1/notify.pb.h"

namespace civic::gateway {
namespace {

TEST_CASE("an event is its id, type and data lines, then a blank line", "[gateway][sse]") {
  CHECK(FormatSseEvent("msg-7", "message", "{\"a\":1}") ==
        "id: msg-7\nevent: message\ndata: {\"a\":1}\n\n");
  CHECK(FormatSseEvent("", "error", "x") == "event: error\ndata: x\n\n");
  // Every line break of the data starts a data line; none can end the event early.
  CHECK(FormatSseEvent("", "message", "a\nb\r\nc\rd") ==
        "event: message\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  // An id or type cannot smuggle in a field of its own.
  CHECK(FormatSseEvent("1\n\nevent: x", "m\r\nessage", "") ==
        "id: 1event: x\nevent: message\ndata: \n\n");
}

TEST_CASE("a backend message becomes a message event: its id and proto3 JSON on one line",
          "[gateway][sse]") {
  notify::v1::Message m;
  m.set_message_id("msg-42");
  m.set_tracking_code("PA-2611-K7Q3M-9X");
  m.set_template_("case_resolved");
  m.set_body("Phản ánh đã được xử lý xong.\nNội dung từ đơn vị: Đã vá");
  m.set_event_sequence(42);
  const absl::StatusOr<std::string> event = SseMessageEvent(m);
  REQUIRE(event.ok());
  REQUIRE(absl::StartsWith(*event, "id: msg-42\nevent: message\ndata: {"));
  REQUIRE(absl::EndsWith(*event, "}\n\n"));
  const std::string data = event->substr(event->find("data: ") + 6);
  CHECK(data.find('\n') == data.size() - 2);  // one line: the body's line break is escaped
  const nlohmann::json json = nlohmann::json::parse(data);
  CHECK(json["template"] == "case_resolved");  // proto field names, as the JSON answers
  CHECK(json["event_sequence"] == "42");       // 64-bit integers as strings
  CHECK(json["body"] == m.body());

  // A message without a message_id field has events without ids.
  notify::v1::ListMessagesResponse list;
  CHECK(absl::StartsWith(*SseMessageEvent(list), "event: message\ndata: {}"));
}

TEST_CASE("Last-Event-ID sets the request's resume cursor when it has one", "[gateway][sse]") {
  notify::v1::WatchMessagesRequest watch;
  watch.set_after_message_id("msg-1");  // from the query: the header wins
  CHECK(ApplyLastEventId("msg-9", &watch));
  CHECK(watch.after_message_id() == "msg-9");
  CHECK_FALSE(ApplyLastEventId("", &watch));
  CHECK(watch.after_message_id() == "msg-9");
  notify::v1::ListMessagesRequest list;
  CHECK_FALSE(ApplyLastEventId("msg-9", &list));
}

TEST_CASE("an error event carries the problem document", "[gateway][sse]") {
  const Problem problem = MakeProblem(503, "shutting-down", "the gateway is shutting down",
                                      "/v1/reports/X/events", "req-1");
  const std::string event = SseErrorEvent(problem);
  REQUIRE(absl::StartsWith(event, "event: error\ndata: "));
  const nlohmann::json json = nlohmann::json::parse(event.substr(event.find("data: ") + 6));
  CHECK(json["status"] == 503);
  CHECK(json["request_id"] == "req-1");
}

class FakeStream final : public OpenEventStream {
 public:
  explicit FakeStream(EventStreams* streams) : streams_(streams) {}
  // As a real stream: its backend call ends soon after, on another thread.
  void Shutdown() override {
    ++shutdowns;
    ended = std::thread([this] { streams_->Remove(this); });
  }
  ~FakeStream() override {
    if (ended.joinable()) ended.join();
  }
  int shutdowns = 0;
  std::thread ended;

 private:
  EventStreams* streams_;
};

TEST_CASE("closing the event streams shuts every open one down and refuses new ones",
          "[gateway][sse]") {
  EventStreams streams;
  auto a = std::make_shared<FakeStream>(&streams);
  auto b = std::make_shared<FakeStream>(&streams);
  auto done = std::make_shared<FakeStream>(&streams);
  REQUIRE(streams.Add(a));
  REQUIRE(streams.Add(b));
  REQUIRE(streams.Add(done));
  streams.Remove(done.get());  // ended on its own
  CHECK(streams.open() == 2);

  streams.CloseAll();
  CHECK(a->shutdowns == 1);
  CHECK(b->shutdowns == 1);
  CHECK(done->shutdowns == 0);
  CHECK_FALSE(streams.Add(std::make_shared<FakeStream>(&streams)));
  streams.WaitAll();  // returns once both have ended
  CHECK(streams.open() == 0);
  streams.CloseAll();  // idempotent
  CHECK(a->shutdowns == 1);
}

}  // namespace
}  // namespace civic::gateway
