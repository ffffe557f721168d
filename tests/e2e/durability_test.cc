// An acknowledged report is never lost and never handled twice: not across a graceful
// shutdown, not across a crash (SIGKILL), and not when a client retries a submission.
#include <cstddef>
#include <functional>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "tests/support/civic_api.h"
#include "tests/support/civicd_process.h"
#include "tests/support/http_client.h"

namespace civic::testing {
namespace {

using nlohmann::json;

constexpr std::size_t kReports = 60;

// Submits `samples` in order; every one must be acknowledged. Returns their codes and
// adds the samples that open a case (not a +1 of an earlier one) to `opening`.
std::vector<std::string> SubmitAll(const HttpClient& gateway,
                                   const std::vector<SampleReport>& samples,
                                   std::vector<SampleReport>& opening) {
  std::vector<std::string> codes;
  for (const SampleReport& sample : samples) {
    const SubmitResult submitted = SubmitReport(gateway, sample.request);
    INFO("sample " << sample.id << ": " << submitted.response.Describe());
    REQUIRE(submitted.response.status == 200);
    REQUIRE_FALSE(submitted.tracking_code.empty());
    codes.push_back(submitted.tracking_code);
    if (submitted.supports_tracking_code.empty()) opening.push_back(sample);
  }
  return codes;
}

// After a restart: every acknowledged report is there and gets its case, exactly one
// message and exactly one count. A sentinel report submitted after the restart goes
// through the pipeline behind anything replayed from before it, so once it is counted,
// a report counted or notified twice would show.
void ExpectEachHandledExactlyOnce(const HttpClient& gateway,
                                  const std::vector<SampleReport>& samples,
                                  const std::vector<std::string>& codes,
                                  std::vector<SampleReport> opening,
                                  const SampleReport& sentinel) {
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const std::optional<json> status = GetReportStatus(gateway, codes[i]);
    INFO("acknowledged report " << samples[i].id << " " << codes[i] << " after restart");
    CHECK(status.has_value());
  }

  const PipelineWait cases = WaitForCases(gateway, codes, absl::Seconds(60));
  {
    INFO(cases.DescribePending());
    REQUIRE(cases.ok());
  }
  const PipelineWait messages = WaitForMessages(gateway, codes, absl::Seconds(60));
  {
    INFO(messages.DescribePending());
    REQUIRE(messages.ok());
  }

  const SubmitResult sentinel_submitted = SubmitReport(gateway, sentinel.request);
  {
    INFO("sentinel: " << sentinel_submitted.response.Describe());
    REQUIRE(sentinel_submitted.response.status == 200);
    REQUIRE_FALSE(sentinel_submitted.replayed);
  }
  const PipelineWait sentinel_case =
      WaitForCases(gateway, {sentinel_submitted.tracking_code}, absl::Seconds(30));
  {
    INFO(sentinel_case.DescribePending());
    REQUIRE(sentinel_case.ok());
  }

  if (sentinel_submitted.supports_tracking_code.empty()) opening.push_back(sentinel);
  const std::size_t all = samples.size() + 1;
  const std::optional<CaseCounts> counts =
      WaitForReportsCounted(gateway, all, absl::Seconds(30));
  REQUIRE(counts.has_value());
  CHECK(counts->total_opened == opening.size());
  CHECK(counts->total_supported == all - opening.size());
  CHECK(counts->opened == ExpectedCounts(opening));

  for (const std::string& code : codes) {
    const std::optional<json> list = ListMessages(gateway, code);
    REQUIRE(list.has_value());
    INFO(code << " messages: " << list->dump());
    const json& items = (*list)["messages"];
    CHECK(items.size() == 1);
    if (!items.empty()) CHECK(absl::StrContains(JsonString(items[0], "body"), code));
  }
}

// Submits reports, stops civicd with `stop` while the pipeline may still be busy with
// them, restarts it on the same data and checks each was handled exactly once.
void SurvivesRestart(const std::function<void(CivicdProcess&)>& stop) {
  TempDir dir;
  CivicdProcess civicd(dir.path());
  civicd.Start();
  std::vector<SampleReport> samples = LoadSampleReports(kReports + 1);
  REQUIRE(samples.size() == kReports + 1);
  const SampleReport sentinel = samples.back();
  samples.pop_back();

  std::vector<SampleReport> opening;
  const std::vector<std::string> codes =
      SubmitAll(HttpClient(civicd.endpoints().gateway_http), samples, opening);
  stop(civicd);
  civicd.Restart();

  ExpectEachHandledExactlyOnce(HttpClient(civicd.endpoints().gateway_http), samples, codes,
                               opening, sentinel);
  REQUIRE(civicd.Terminate() == 0);
}

TEST_CASE("Reports acknowledged before SIGTERM survive a restart and are handled exactly once",
          "[e2e][durability]") {
  // The drain and the outbox must carry the work in progress over.
  SurvivesRestart([](CivicdProcess& civicd) { REQUIRE(civicd.Terminate() == 0); });
}

TEST_CASE("Reports acknowledged before SIGKILL survive a restart and are handled exactly once",
          "[e2e][durability]") {
  // Acknowledged means durable: crash right after the last 200.
  SurvivesRestart([](CivicdProcess& civicd) { civicd.Kill(); });
}

TEST_CASE("A retried client_request_id returns the original tracking code and counts once",
          "[e2e][durability][idempotency]") {
  TempDir dir;
  CivicdProcess civicd(dir.path());
  civicd.Start();
  const std::vector<SampleReport> samples = LoadSampleReports(2);
  REQUIRE(samples.size() == 2);
  const SampleReport& report = samples[0];
  const SampleReport& sentinel = samples[1];

  std::string code;
  {
    const HttpClient gateway(civicd.endpoints().gateway_http);
    const SubmitResult first = SubmitReport(gateway, report.request);
    INFO("first: " << first.response.Describe());
    REQUIRE(first.response.status == 200);
    REQUIRE_FALSE(first.tracking_code.empty());
    CHECK_FALSE(first.replayed);
    code = first.tracking_code;

    const SubmitResult retry = SubmitReport(gateway, report.request);
    INFO("retry: " << retry.response.Describe());
    REQUIRE(retry.response.status == 200);
    CHECK(retry.tracking_code == code);
    CHECK(retry.replayed);

    const PipelineWait cases = WaitForCases(gateway, {code}, absl::Seconds(30));
    INFO(cases.DescribePending());
    REQUIRE(cases.ok());
  }

  REQUIRE(civicd.Terminate() == 0);
  civicd.Restart();
  const HttpClient gateway(civicd.endpoints().gateway_http);

  const SubmitResult after_restart = SubmitReport(gateway, report.request);
  {
    INFO("retry after restart: " << after_restart.response.Describe());
    REQUIRE(after_restart.response.status == 200);
    CHECK(after_restart.tracking_code == code);
    CHECK(after_restart.replayed);
  }

  // A different report behind the retries: once it is counted, so would be any case
  // the retries had opened.
  const SubmitResult other = SubmitReport(gateway, sentinel.request);
  {
    INFO("sentinel: " << other.response.Describe());
    REQUIRE(other.response.status == 200);
    CHECK(other.tracking_code != code);
    CHECK_FALSE(other.replayed);
  }
  const PipelineWait cases = WaitForCases(gateway, {code, other.tracking_code}, absl::Seconds(30));
  {
    INFO(cases.DescribePending());
    REQUIRE(cases.ok());
  }
  const std::optional<CaseCounts> counts = WaitForReportsCounted(gateway, 2, absl::Seconds(30));
  REQUIRE(counts.has_value());
  CHECK(counts->total_opened == 2);
  CHECK(counts->opened == ExpectedCounts(samples));

  const PipelineWait messages =
      WaitForMessages(gateway, {code, other.tracking_code}, absl::Seconds(30));
  {
    INFO(messages.DescribePending());
    REQUIRE(messages.ok());
  }
  const std::optional<json> list = ListMessages(gateway, code);
  REQUIRE(list.has_value());
  INFO(code << " messages: " << list->dump());
  CHECK((*list)["messages"].size() == 1);

  REQUIRE(civicd.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
