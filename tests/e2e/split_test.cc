// The same binary split across processes, as in production: each service reaches its
// peers over gRPC at configured addresses. And while routing and cases are down, intake
// keeps accepting reports and forwards every one, once, when they return.
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/civic_api.h"
#include "tests/support/civicd_process.h"
#include "tests/support/http_client.h"

namespace civic::testing {
namespace {

constexpr char kBackendTargets[] = "--target=routing,cases,notify,analytics";

// Submits samples[from, to); adds the ones that open a case (no +1) to `opening`.
std::vector<std::string> Submit(const HttpClient& gateway,
                                const std::vector<SampleReport>& samples, size_t from,
                                size_t to, std::vector<SampleReport>& opening) {
  std::vector<std::string> codes;
  for (size_t i = from; i < to; ++i) {
    const SubmitResult submitted = SubmitReport(gateway, samples[i].request);
    INFO("sample " << samples[i].id << ": " << submitted.response.Describe());
    REQUIRE(submitted.response.status == 200);
    codes.push_back(submitted.tracking_code);
    if (submitted.supports_tracking_code.empty()) opening.push_back(samples[i]);
  }
  return codes;
}

TEST_CASE("Services split across processes work over gRPC, and intake keeps accepting "
          "while routing and cases are down",
          "[e2e][split]") {
  TempDir backend_dir;
  TempDir front_dir;
  CivicdProcess backend(backend_dir.path(), {kBackendTargets});
  backend.Start();
  std::map<std::string, std::string> peers = backend.endpoints().grpc;
  REQUIRE(peers.size() == 4);
  REQUIRE(backend.endpoints().gateway_http.empty());

  CivicdProcess front(front_dir.path(),
                      {"--target=intake,gateway",
                       "--set", "intake.routing_address=" + peers["routing"],
                       "--set", "intake.cases_address=" + peers["cases"],
                       "--set", "gateway.routing_address=" + peers["routing"],
                       "--set", "gateway.notify_address=" + peers["notify"],
                       "--set", "gateway.analytics_address=" + peers["analytics"]});
  front.Start();
  REQUIRE(front.endpoints().grpc.count("intake") == 1);
  REQUIRE(front.endpoints().grpc.count("cases") == 0);  // reached over the network
  const HttpClient gateway(front.endpoints().gateway_http);

  const std::vector<SampleReport> samples = LoadSampleReports(40);
  std::vector<SampleReport> opening;
  std::vector<std::string> codes = Submit(gateway, samples, 0, 20, opening);
  {
    const PipelineWait cases = WaitForCases(gateway, codes, absl::Seconds(60));
    INFO(cases.DescribePending());
    REQUIRE(cases.ok());
  }

  // Downstream outage: intake acknowledges, and the reports wait in its outbox.
  REQUIRE(backend.Terminate() == 0);
  const std::vector<std::string> during = Submit(gateway, samples, 20, 40, opening);
  for (const std::string& code : during) {
    const auto status = GetReportStatus(gateway, code);
    REQUIRE(status.has_value());
    CHECK(JsonString(*status, "status") == "received");
  }

  // Back on the same addresses the front end knows.
  std::vector<std::string> pinned = {kBackendTargets};
  for (const auto& [name, address] : peers) {
    pinned.push_back("--set");
    pinned.push_back(name + ".listen=" + address);
  }
  backend.set_extra_args(pinned);
  backend.Restart();

  codes.insert(codes.end(), during.begin(), during.end());
  const PipelineWait cases = WaitForCases(gateway, codes, absl::Seconds(90));
  {
    INFO(cases.DescribePending());
    REQUIRE(cases.ok());
  }
  const PipelineWait messages = WaitForMessages(gateway, codes, absl::Seconds(60));
  {
    INFO(messages.DescribePending());
    REQUIRE(messages.ok());
  }
  const auto counts = WaitForReportsCounted(gateway, codes.size(), absl::Seconds(30));
  REQUIRE(counts.has_value());
  CHECK(counts->total_opened == opening.size());  // no report became two cases
  CHECK(counts->total_supported == codes.size() - opening.size());
  CHECK(counts->opened == ExpectedCounts(opening));
  for (const std::string& code : codes) {
    const auto inbox = ListMessages(gateway, code);
    REQUIRE(inbox.has_value());
    CHECK(inbox->value("messages", nlohmann::json::array()).size() == 1);
  }
  CHECK(front.Terminate() == 0);
  CHECK(backend.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
