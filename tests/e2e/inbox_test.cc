// The inbox across a caller's reports, over real HTTP to a real civicd: GET
// /v1/me/messages lists the messages of every report the caller owns (those their app's
// device sent, or those giving their signed-in phone), newest first a page at a time, and
// GET /v1/me/events streams them: first those after the client's last event, oldest
// first, then each new one live, including those of reports sent while the stream is
// open. Other callers see none of them; callers without credentials, and staff, are
// refused as HTTP errors, not as streams.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "civic/cases/v1/cases.grpc.pb.h"
#include "tests/support/civic_api.h"
#include "tests/support/civicd_process.h"
#include "tests/support/http_client.h"
#include "tests/support/sse_client.h"

namespace civic::testing {
namespace {

using civic::cases::v1::Case;
using civic::cases::v1::CasesService;
using nlohmann::json;
using Headers = HttpClient::Headers;

// How long the pipeline (routing, cases, notify) may take to turn a step into a message.
constexpr absl::Duration kPipeline = absl::Seconds(30);
// Between two looks at the inbox.
constexpr absl::Duration kPoll = absl::Milliseconds(50);

// The reporter's phone a sample gives (E.164 in the data); "" when none or anonymous.
std::string PhoneOf(const SampleReport& sample) {
  if (sample.request.value("anonymous", false)) return "";
  return JsonString(sample.request.value("contact", json::object()), "phone");
}

// `count` reports one app installation sends, from the sample data: sent from the app (a
// hotline report is entered on the operator's device, so it is not the caller's), each
// of a category of its own so that none joins another's case as a +1. The first gives
// its reporter's phone; the others do not give that phone.
std::vector<SampleReport> DeviceReports(size_t count) {
  const std::vector<SampleReport> samples = LoadSampleReports(200);
  auto from_app = [](const SampleReport& s) {
    return JsonString(s.request, "channel") == "CHANNEL_APP";
  };
  std::vector<SampleReport> picked;
  for (const SampleReport& s : samples) {
    if (from_app(s) && !PhoneOf(s).empty()) {
      picked.push_back(s);
      break;
    }
  }
  REQUIRE(picked.size() == 1);
  const std::string phone = PhoneOf(picked[0]);
  std::set<std::string> categories = {picked[0].category};
  for (const SampleReport& s : samples) {
    if (picked.size() == count) break;
    if (!from_app(s) || PhoneOf(s) == phone || categories.count(s.category) > 0) continue;
    categories.insert(s.category);
    picked.push_back(s);
  }
  REQUIRE(picked.size() == count);
  return picked;
}

// Sends `sample` as the app `who`; its tracking code. Fails unless the report opens a
// case of its own.
std::string Send(const HttpClient& gateway, const Headers& who, const SampleReport& sample) {
  const SubmitResult submitted = SubmitReport(gateway, sample.request, who);
  INFO(submitted.response.Describe());
  REQUIRE(submitted.response.status == 200);
  REQUIRE_FALSE(submitted.tracking_code.empty());
  REQUIRE(submitted.supports_tracking_code.empty());
  return submitted.tracking_code;
}

HttpResponse MyMessages(const HttpClient& gateway, const Headers& who,
                        const std::string& query = "") {
  return gateway.Request("GET", "/v1/me/messages" + query, "", "", who);
}

json BodyOf(const HttpResponse& response) {
  return json::parse(response.body, nullptr, /*allow_exceptions=*/false);
}

// The messages of a ListMyMessages answer; [] when there are none (proto3 JSON leaves an
// empty list out).
json MessagesOf(const HttpResponse& response) {
  const json body = BodyOf(response);
  return body.is_object() ? body.value("messages", json::array()) : json::array();
}

std::vector<std::string> Ids(const json& messages) {
  std::vector<std::string> ids;
  for (const json& m : messages) ids.push_back(JsonString(m, "message_id"));
  return ids;
}

bool Has(const json& messages, const std::string& template_name, const std::string& code) {
  return std::any_of(messages.begin(), messages.end(), [&](const json& m) {
    return JsonString(m, "template") == template_name && JsonString(m, "tracking_code") == code;
  });
}

// Polls the inbox of `who` until `done` holds for its messages (or kPipeline passes);
// the messages last seen are in `messages`, the last answer in `last`.
bool InboxSoon(const HttpClient& gateway, const Headers& who,
               const std::function<bool(const json&)>& done, json& messages, HttpResponse& last) {
  return Eventually(
      [&] {
        last = MyMessages(gateway, who);
        if (last.status != 200) return false;
        messages = MessagesOf(last);
        return done(messages);
      },
      kPipeline, kPoll);
}

// A refusal as the contract says: `status` with a problem+json body.
void CheckProblem(const HttpResponse& response, int status) {
  INFO(response.Describe());
  CHECK(response.status == status);
  CHECK(response.MediaType() == "application/problem+json");
}

// The same for an event stream that was refused before it began.
void CheckRefusedStream(SseClient& stream, int status) {
  INFO(stream.error() << "; body: " << stream.body());
  CHECK(stream.status() == status);
  CHECK(stream.MediaType() == "application/problem+json");
  CHECK_FALSE(stream.Next(absl::Seconds(10)).has_value());  // reads the problem, no event
  const json problem = json::parse(stream.body(), nullptr, /*allow_exceptions=*/false);
  CHECK(problem.is_object());
  if (problem.is_object()) CHECK(problem.value("status", 0) == status);
}

// The unit a report's status names.
std::string UnitOf(const json& status) {
  return JsonString(status.value("unit", json::object()), "id");
}

// The case behind a report's status, read as its unit.
Case CaseAsItsUnit(CasesService::Stub& stub, const AgencyTokens& tokens, const json& status) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("authorization", tokens.BearerFor(UnitOf(status)));
  civic::cases::v1::GetCaseRequest get;
  get.set_case_id(JsonString(status, "case_id"));
  Case c;
  const grpc::Status got = stub.GetCase(&context, get, &c);
  INFO(got.error_message());
  REQUIRE(got.ok());
  return c;
}

// The next event of `stream` must repeat `earlier` (same message, same id).
void ExpectAgain(SseClient& stream, const SseEvent& earlier) {
  const json message = json::parse(earlier.data);
  const SseEvent again =
      ExpectMessage(stream, JsonString(message, "template"), JsonString(message, "tracking_code"));
  CHECK(again.id == earlier.id);
}

TEST_CASE(
    "The inbox across a caller's reports lists their messages newest first in pages "
    "and streams them live with reports sent meanwhile, for the reports of the "
    "caller's device or signed-in phone only",
    "[e2e][inbox]") {
  TempDir dir;
  const AgencyTokens tokens = MakeAgencyTokens(dir.path());
  std::vector<std::string> args = StaffAndCitizenArgs(dir.path(), tokens);
  // A stream looks for the caller's new reports every second, and the test polls faster
  // than an app would.
  for (const char* set : {"notify.inbox_refresh_seconds=1", "gateway.rate_per_device_per_min=0",
                          "gateway.rate_per_ip_per_min=0"}) {
    args.push_back("--set");
    args.push_back(set);
  }
  CivicdProcess civicd(dir.path(), args);
  civicd.Start();
  const std::string http = civicd.endpoints().gateway_http;
  const HttpClient gateway(http);
  auto stub = CasesService::NewStub(
      grpc::CreateChannel(civicd.endpoints().grpc.at("cases"), grpc::InsecureChannelCredentials()));

  const std::vector<SampleReport> samples = DeviceReports(3);
  const Headers device = {{"X-Device-Id", "e2e-inbox-device"}};

  // ---- An app without sign-in: the reports its device sent.
  const std::string a = Send(gateway, device, samples[0]);
  const std::string b = Send(gateway, device, samples[1]);
  json inbox;
  HttpResponse last;
  {
    const bool ready = InboxSoon(
        gateway, device,
        [&](const json& m) { return Has(m, "case_opened", a) && Has(m, "case_opened", b); }, inbox,
        last);
    INFO("inbox: " << last.Describe());
    REQUIRE(ready);
  }
  const PipelineWait opened = WaitForCases(gateway, {a, b}, kPipeline);
  {
    INFO(opened.DescribePending());
    REQUIRE(opened.ok());
  }
  const json status_a = opened.last_seen.at(a);
  const json status_b = opened.last_seen.at(b);

  // The unit accepts A's case: three messages, the acceptance first.
  Case case_a = CaseAsItsUnit(*stub, tokens, status_a);
  REQUIRE(ActOnCase(*stub, tokens, UnitOf(status_a), &CasesService::Stub::Accept, case_a, "").ok());
  {
    const bool ready = InboxSoon(
        gateway, device, [&](const json& m) { return Has(m, "case_accepted", a); }, inbox, last);
    INFO("inbox: " << last.Describe());
    REQUIRE(ready);
    REQUIRE(inbox.size() == 3);
  }
  CHECK(JsonString(inbox[0], "template") == "case_accepted");
  CHECK(JsonString(inbox[0], "tracking_code") == a);
  CHECK(Has(inbox, "case_opened", a));
  CHECK(Has(inbox, "case_opened", b));
  CHECK(JsonString(BodyOf(last), "next_page_token").empty());
  for (size_t i = 0; i < inbox.size(); ++i) {
    const json& m = inbox[i];
    INFO(m.dump());
    const std::string code = JsonString(m, "tracking_code");
    CHECK(JsonString(m, "case_id") == JsonString(code == a ? status_a : status_b, "case_id"));
    CHECK(JsonString(m, "message_id") == absl::StrCat("msg-", JsonUint64(m, "event_sequence")));
    if (i > 0) CHECK(JsonUint64(m, "event_sequence") < JsonUint64(inbox[i - 1], "event_sequence"));
    CHECK((JsonString(m, "language") == "vi" || JsonString(m, "language") == "en"));
    CHECK_FALSE(JsonString(m, "subject").empty());
    CHECK_FALSE(JsonString(m, "body").empty());
    CHECK_FALSE(JsonString(m, "created_at").empty());
  }

  // A page at a time.
  const std::vector<std::string> ids = Ids(inbox);
  std::string token;
  {
    const HttpResponse page = MyMessages(gateway, device, "?page_size=2");
    INFO(page.Describe());
    REQUIRE(page.status == 200);
    CHECK(Ids(MessagesOf(page)) == std::vector<std::string>{ids[0], ids[1]});
    token = JsonString(BodyOf(page), "next_page_token");
    REQUIRE_FALSE(token.empty());
  }
  {
    const HttpResponse page =
        MyMessages(gateway, device, "?page_size=2&page_token=" + PercentEncode(token));
    INFO(page.Describe());
    REQUIRE(page.status == 200);
    CHECK(Ids(MessagesOf(page)) == std::vector<std::string>{ids[2]});
    CHECK(JsonString(BodyOf(page), "next_page_token").empty());
  }
  CheckProblem(MyMessages(gateway, device, "?page_token=not-a-token"), 400);
  CheckProblem(MyMessages(gateway, device, "?page_size=101"), 400);

  // Another installation sees none of them; nobody at all is refused.
  {
    const HttpResponse other = MyMessages(gateway, {{"X-Device-Id", "e2e-inbox-other-device"}});
    INFO(other.Describe());
    CHECK(other.status == 200);
    CHECK(MessagesOf(other).empty());
  }
  CheckProblem(MyMessages(gateway, {}), 401);

  // ---- The same inbox live.
  std::vector<SseEvent> seen;
  {
    SseClient live(http, "/v1/me/events", device);
    INFO(live.error());
    REQUIRE(live.status() == 200);
    CHECK(live.MediaType() == "text/event-stream");
    // First what the inbox already holds, oldest first.
    for (size_t i = inbox.size(); i-- > 0;) {
      seen.push_back(ExpectMessage(live, JsonString(inbox[i], "template"),
                                   JsonString(inbox[i], "tracking_code")));
      CHECK(seen.back().id == JsonString(inbox[i], "message_id"));
    }
    // Then B's case moves on, as it happens.
    Case case_b = CaseAsItsUnit(*stub, tokens, status_b);
    REQUIRE(
        ActOnCase(*stub, tokens, UnitOf(status_b), &CasesService::Stub::Accept, case_b, "").ok());
    seen.push_back(ExpectMessage(live, "case_accepted", b));
    // A report the device sends now joins the open stream.
    const std::string c = Send(gateway, device, samples[2]);
    seen.push_back(ExpectMessage(live, "case_opened", c));
    live.Close();
  }
  // The list tells the same, newest first.
  {
    const HttpResponse listed = MyMessages(gateway, device);
    INFO(listed.Describe());
    REQUIRE(listed.status == 200);
    std::vector<std::string> streamed;
    for (const SseEvent& event : seen) streamed.push_back(event.id);
    std::reverse(streamed.begin(), streamed.end());
    CHECK(Ids(MessagesOf(listed)) == streamed);
  }

  // Back after a disconnection: only what came after the last event received, by
  // Last-Event-ID as a browser sends it, or by the query parameter.
  {
    Headers resume = device;
    resume.emplace_back("Last-Event-ID", seen[1].id);
    SseClient resumed(http, "/v1/me/events", resume);
    INFO(resumed.error());
    REQUIRE(resumed.status() == 200);
    for (size_t i = 2; i < seen.size(); ++i) ExpectAgain(resumed, seen[i]);
  }
  {
    SseClient resumed(http, "/v1/me/events?after_message_id=" + PercentEncode(seen[3].id), device);
    INFO(resumed.error());
    REQUIRE(resumed.status() == 200);
    ExpectAgain(resumed, seen[4]);
  }
  {
    SseClient nobody(http, "/v1/me/events");
    CheckRefusedStream(nobody, 401);
  }

  // ---- A citizen signed in with the phone A's report gives: A's messages, whichever
  // device sent it, and not B's or C's.
  const std::string phone = PhoneOf(samples[0]);
  const std::string citizen_token =
      SignInCitizen(civicd, gateway, tokens.StaffBearer({"sms_sender"}), {}, phone, phone);
  const Headers citizen = {{"Authorization", "Bearer " + citizen_token}};
  const std::optional<json> of_a = ListMessages(gateway, a);  // oldest first
  REQUIRE(of_a.has_value());
  std::vector<std::string> expected = Ids((*of_a)["messages"]);
  REQUIRE(expected.size() == 2);  // opened, accepted
  {
    SseClient citizen_stream(http, "/v1/me/events", citizen);
    INFO(citizen_stream.error());
    REQUIRE(citizen_stream.status() == 200);
    CHECK(ExpectMessage(citizen_stream, "case_opened", a).id == expected[0]);
    CHECK(ExpectMessage(citizen_stream, "case_accepted", a).id == expected[1]);
  }
  {
    std::reverse(expected.begin(), expected.end());  // newest first
    const HttpResponse mine = MyMessages(gateway, citizen);
    INFO(mine.Describe());
    REQUIRE(mine.status == 200);
    CHECK(Ids(MessagesOf(mine)) == expected);
  }

  // Staff have no reports of their own.
  const Headers staff = {{"Authorization", tokens.StaffBearer({"ops"})}};
  CheckProblem(MyMessages(gateway, staff), 403);
  {
    SseClient staff_stream(http, "/v1/me/events", staff);
    CheckRefusedStream(staff_stream, 403);
  }
  REQUIRE(civicd.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
