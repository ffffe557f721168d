// Live updates of a report as server-sent events through the gateway: the citizen's open
// stream receives each status change as the unit works the case over the agency API,
// a reconnect with Last-Event-ID gets only what came after, and stopping civicd ends
// the stream cleanly and at once.
#include <signal.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
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

// The value of an unlabelled metric in a Prometheus page; -1 when it is absent.
double MetricValue(const std::string& page, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (!absl::ConsumePrefix(&line, name) || !absl::ConsumePrefix(&line, " ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return value;
  }
  return -1;
}

TEST_CASE("A citizen's event stream gets each status change live, resumes after its last "
          "event, and ends cleanly when civicd stops",
          "[e2e][sse]") {
  TempDir dir;
  const AgencyTokens tokens = MakeAgencyTokens(dir.path());
  CivicdProcess civicd(dir.path(), tokens.CivicdArgs());
  civicd.Start();
  const std::string http = civicd.endpoints().gateway_http;
  const HttpClient gateway(http);
  const HttpClient metrics(civicd.endpoints().metrics_http);
  auto stub = CasesService::NewStub(grpc::CreateChannel(civicd.endpoints().grpc.at("cases"),
                                                        grpc::InsecureChannelCredentials()));

  const SubmitResult submitted = SubmitReport(gateway, LoadSampleReports(1)[0].request);
  REQUIRE(submitted.response.status == 200);
  const std::string code = submitted.tracking_code;
  const std::string target = "/v1/reports/" + code + "/events";

  // The stream opens at once, whether or not the first message exists yet.
  SseClient live(http, target);
  INFO(live.error());
  REQUIRE(live.status() == 200);
  CHECK(live.MediaType() == "text/event-stream");
  CHECK(live.Header("Cache-Control") == "no-cache");
  CHECK(live.Header("X-Accel-Buffering") == "no");
  CHECK_FALSE(live.Header("X-Request-Id").empty());
  const SseEvent opened = ExpectMessage(live, "case_opened", code);

  // The unit works the case; each step reaches the open stream as it happens.
  const PipelineWait cases = WaitForCases(gateway, {code}, absl::Seconds(30));
  INFO(cases.DescribePending());
  REQUIRE(cases.ok());
  const json status = cases.last_seen.at(code);
  const std::string unit = status["unit"]["id"].get<std::string>();
  Case c;
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", tokens.BearerFor(unit));
    civic::cases::v1::GetCaseRequest get;
    get.set_case_id(JsonString(status, "case_id"));
    REQUIRE(stub->GetCase(&context, get, &c).ok());
  }
  REQUIRE(ActOnCase(*stub, tokens, unit, &CasesService::Stub::Accept, c, "").ok());
  ExpectMessage(live, "case_accepted", code);
  REQUIRE(ActOnCase(*stub, tokens, unit, &CasesService::Stub::StartWork, c, "").ok());
  ExpectMessage(live, "case_in_progress", code);
  REQUIRE(ActOnCase(*stub, tokens, unit, &CasesService::Stub::Resolve, c,
                    "Đã vá xong, cảm ơn bạn")
              .ok());
  const SseEvent resolved = ExpectMessage(live, "case_resolved", code);
  CHECK(JsonString(json::parse(resolved.data), "body").find("Đã vá xong, cảm ơn bạn") !=
        std::string::npos);

  // The browser tab goes away; it comes back with the id of the first event it saw and
  // gets only the later ones, then waits for more.
  live.Close();
  SseClient resumed(http, target, {{"Last-Event-ID", opened.id}});
  INFO(resumed.error());
  REQUIRE(resumed.status() == 200);
  const SseEvent accepted = ExpectMessage(resumed, "case_accepted", code);
  CHECK(accepted.id != opened.id);
  ExpectMessage(resumed, "case_in_progress", code);
  CHECK(ExpectMessage(resumed, "case_resolved", code).id == resolved.id);
  // The closed stream's backend call was cancelled: one stream is open, not two.
  CHECK(Eventually(
      [&] {
        return MetricValue(metrics.Get("/metrics").body, "civicdesk_gateway_sse_streams") == 1;
      },
      absl::Seconds(10)));

  // A code that cannot be one is refused as an ordinary problem, not as a stream.
  const HttpResponse bad = gateway.Get("/v1/reports/not-a-code/events");
  INFO(bad.Describe());
  CHECK(bad.status == 400);
  CHECK(bad.MediaType() == "application/problem+json");

  // SIGTERM: the gateway drains, and the open stream ends at once, as HTTP says a body
  // ends (the last chunk), after an error event telling why.
  const absl::Time stop = absl::Now();
  REQUIRE(::kill(civicd.endpoints().pid, SIGTERM) == 0);
  std::vector<SseEvent> last_events;
  while (std::optional<SseEvent> event = resumed.Next(stop + absl::Seconds(5) - absl::Now())) {
    last_events.push_back(*event);
  }
  INFO(resumed.error() << "; body:\n" << resumed.body());
  CHECK(resumed.ended_cleanly());
  CHECK(absl::Now() - stop < absl::Seconds(5));
  REQUIRE(last_events.size() == 1);
  CHECK(last_events[0].type == "error");
  const json problem = json::parse(last_events[0].data);
  CHECK(problem.value("status", 0) == 503);
  CHECK(civicd.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
