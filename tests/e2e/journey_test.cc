// The journey of a report through a real civicd, end to end: submitted over HTTP,
// routed to its ward and unit, opened as a case, answered with a message, counted by
// analytics; and the process is observable (gRPC health, Prometheus metrics).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/support/civic_api.h"
#include "tests/support/civicd_process.h"
#include "tests/support/http_client.h"

namespace civic::testing {
namespace {

using nlohmann::json;

constexpr std::size_t kReports = 150;
// Points within ~10-30 m of a ward border may be placed on the wrong side by the
// simplified polygons; allow that for at most 2% of the reports.
constexpr std::size_t kMaxWardMismatches = kReports * 2 / 100;

// The gRPC service each ready-file address serves.
const std::map<std::string, std::string>& GrpcServiceNames() {
  static const auto* names = new std::map<std::string, std::string>{
      {"intake", "civic.intake.v1.IntakeService"},
      {"routing", "civic.routing.v1.RoutingService"},
      {"cases", "civic.cases.v1.CasesService"},
      {"notify", "civic.notify.v1.NotifyService"},
      {"analytics", "civic.analytics.v1.AnalyticsService"},
  };
  return *names;
}

// The grpc.health.v1 answer of `service` at `address`, or a description of the failure.
std::string HealthOf(const std::string& address, const std::string& service) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    return "rpc failed: code " + std::to_string(status.error_code()) + " " +
           status.error_message();
  }
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

// True when the Prometheus text has a grpc_server_handled_total sample with code OK.
bool HasHandledOk(const std::string& metrics) {
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (absl::StartsWith(line, "grpc_server_handled_total{") &&
        absl::StrContains(line, "grpc_code=\"OK\"")) {
      return true;
    }
  }
  return false;
}

std::string DescribeCounts(const std::map<std::pair<std::string, std::string>, std::uint64_t>& c) {
  std::ostringstream out;
  for (const auto& [key, opened] : c) {
    out << "  " << key.first << " @ " << key.second << ": " << opened << "\n";
  }
  return out.str();
}

TEST_CASE("Submitted reports are routed to their ward and unit, opened, answered once and counted",
          "[e2e][journey]") {
  TempDir dir;
  CivicdProcess civicd(dir.path());
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);

  const std::vector<SampleReport> samples = LoadSampleReports(kReports);
  REQUIRE(samples.size() == kReports);

  // Submit, in sample order. The descriptions are Vietnamese with diacritics (some with
  // none, some mixed with English): every one must be accepted.
  // A sample within 50 m of an earlier one of its category joins that case (+1).
  std::vector<std::string> codes;
  std::vector<bool> supporting;
  std::vector<SampleReport> opening;
  for (const SampleReport& sample : samples) {
    const SubmitResult submitted = SubmitReport(gateway, sample.request);
    INFO("sample " << sample.id << ": " << submitted.response.Describe());
    REQUIRE(submitted.response.status == 200);
    REQUIRE_FALSE(submitted.tracking_code.empty());
    CHECK_FALSE(submitted.replayed);
    codes.push_back(submitted.tracking_code);
    supporting.push_back(!submitted.supports_tracking_code.empty());
    if (!supporting.back()) opening.push_back(sample);
  }
  const std::size_t supporters = samples.size() - opening.size();
  CHECK(supporters > 0);  // the sample's near-duplicates exercise +1s end to end

  // Every report gets a case in status "new", a unit and a ward.
  const PipelineWait cases = WaitForCases(gateway, codes, absl::Seconds(90));
  {
    INFO(cases.DescribePending());
    REQUIRE(cases.ok());
  }

  std::vector<std::string> ward_mismatches;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const json& report = cases.last_seen.at(codes[i]);
    INFO("sample " << samples[i].id << " → " << report.dump());
    CHECK(JsonString(report, "tracking_code") == codes[i]);
    CHECK(JsonString(report, "category") == samples[i].category);
    // A +1 follows the case it joined, whose place is the first report's.
    if (supporting[i]) {
      CHECK_FALSE(JsonString(report, "supports_tracking_code").empty());
      continue;
    }
    const json area = report.value("area", json::object());
    if (JsonString(area, "ward_code") != samples[i].ward_code) {
      ward_mismatches.push_back(samples[i].id + ": expected ward " + samples[i].ward_code +
                                " (" + samples[i].ward_name + "), got " + area.dump());
      continue;
    }
    // Names travel through gRPC and JSON with their diacritics intact.
    CHECK(JsonString(area, "ward_name") == samples[i].ward_name);
    CHECK(JsonString(area, "district_code") == samples[i].district_code);
  }
  for (const std::string& mismatch : ward_mismatches) WARN("ward mismatch: " << mismatch);
  CHECK(ward_mismatches.size() <= kMaxWardMismatches);

  // Every report gets exactly one message, which names its tracking code.
  const PipelineWait messages = WaitForMessages(gateway, codes, absl::Seconds(60));
  {
    INFO(messages.DescribePending());
    REQUIRE(messages.ok());
  }

  // Analytics counts each case once, per category and district.
  const std::optional<CaseCounts> counts =
      WaitForReportsCounted(gateway, kReports, absl::Seconds(60));
  REQUIRE(counts.has_value());
  CHECK(counts->total_opened == opening.size());
  CHECK(counts->total_supported == supporters);
  const auto expected = ExpectedCounts(opening);
  {
    INFO("expected:\n" << DescribeCounts(expected) << "got:\n" << DescribeCounts(counts->opened));
    CHECK(counts->opened == expected);
  }

  // Checked after analytics has caught up, so a late duplicate would show.
  for (const std::string& code : codes) {
    const std::optional<json> list = ListMessages(gateway, code);
    REQUIRE(list.has_value());
    INFO(code << " messages: " << list->dump());
    const json& items = (*list)["messages"];
    REQUIRE(items.size() == 1);
    CHECK(absl::StrContains(JsonString(items[0], "body"), code));
    CHECK(JsonString(items[0], "tracking_code") == code);
  }

  // Every gRPC service, and each server as a whole, reports SERVING.
  const auto& grpc_addresses = civicd.endpoints().grpc;
  for (const auto& [short_name, service] : GrpcServiceNames()) {
    INFO("gRPC service " << short_name);
    REQUIRE(grpc_addresses.count(short_name) == 1);
    const std::string& address = grpc_addresses.at(short_name);
    CHECK(HealthOf(address, service) == "SERVING");
    CHECK(HealthOf(address, "") == "SERVING");
  }

  // The metrics endpoint exports process, build and gRPC server metrics.
  const HttpClient metrics_http(civicd.endpoints().metrics_http);
  HttpResponse metrics;
  const bool handled_ok = Eventually(
      [&] {
        metrics = metrics_http.Get("/metrics");
        return metrics.status == 200 && HasHandledOk(metrics.body);
      },
      absl::Seconds(10));
  INFO(metrics.Describe());
  REQUIRE(metrics.status == 200);
  CHECK(absl::StrContains(metrics.body, "process_resident_memory_bytes"));
  CHECK(absl::StrContains(metrics.body, "civicdesk_build_info"));
  CHECK(absl::StrContains(metrics.body, "grpc_server_handled_total{"));
  CHECK(absl::StrContains(metrics.body, "civicdesk_http_requests_total{code=\"200\",method=\"POST\",route=\"/v1/reports\"}"));
  CHECK(absl::StrContains(metrics.body, "civicdesk_intake_reports_total{outcome=\"accepted\"}"));
  CHECK(handled_ok);

  REQUIRE(civicd.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
