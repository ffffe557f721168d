// Bad input gets a clear error and changes nothing: every malformed, invalid, oversized
// or misaddressed request is answered with an RFC 7807 problem naming the bad fields,
// and none of them opens a case.
#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "tests/support/civic_api.h"
#include "tests/support/civicd_process.h"
#include "tests/support/http_client.h"

namespace civic::testing {
namespace {

using nlohmann::json;

// Repeats a UTF-8 string `times` times.
std::string Repeat(const std::string& unit, std::size_t times) {
  std::string out;
  out.reserve(unit.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}

// Checks that `response` is a problem+json answer with `status`, a title, and - when
// `fields` is not empty - exactly one error for each of `fields` and none for others.
void ExpectProblem(const std::string& what, const HttpResponse& response, int status,
                   std::vector<std::string> fields = {}) {
  INFO(what << " → " << response.Describe());
  CHECK(response.status == status);
  CHECK(response.MediaType() == "application/problem+json");
  const json body = json::parse(response.body, nullptr, false);
  CHECK(body.is_object());
  if (!body.is_object()) return;
  CHECK(body.value("status", json()) == json(status));
  CHECK_FALSE(JsonString(body, "title").empty());
  if (fields.empty()) return;

  std::vector<std::string> named;
  if (body.contains("errors") && body["errors"].is_array()) {
    for (const json& error : body["errors"]) {
      named.push_back(JsonString(error, "field"));
      CHECK_FALSE(JsonString(error, "description").empty());
    }
  }
  std::sort(named.begin(), named.end());
  std::sort(fields.begin(), fields.end());
  INFO("fields named: [" << absl::StrJoin(named, ", ") << "], expected: ["
                         << absl::StrJoin(fields, ", ") << "]");
  CHECK(named == fields);
}

TEST_CASE("Bad requests get problem responses naming the bad fields and change nothing",
          "[e2e][bad_input]") {
  TempDir dir;
  CivicdProcess civicd(dir.path());
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);

  // A valid report (no required attributes), the base every bad variant is made from.
  const std::vector<SampleReport> samples = LoadSampleReports(1);
  REQUIRE(samples.size() == 1);
  const json good = samples[0].request;
  int variant = 0;
  // The good report with a change, and a client_request_id of its own.
  auto variant_of = [&](const std::function<void(json&)>& change) {
    json request = good;
    request["client_request_id"] = "bad-input-" + std::to_string(++variant);
    change(request);
    return request;
  };
  auto post = [&](const json& request) {
    return gateway.Post("/v1/reports", request.dump(), "application/json");
  };

  ExpectProblem("malformed JSON",
                gateway.Post("/v1/reports", R"({"category": "traffic.pothole", "descr)",
                             "application/json"),
                400);
  ExpectProblem("lat as a string",
                post(variant_of([](json& r) { r["location"]["lat"] = "abc"; })), 400);
  ExpectProblem("category as a number", post(variant_of([](json& r) { r["category"] = 42; })),
                400);
  ExpectProblem("lat 91", post(variant_of([](json& r) { r["location"]["lat"] = 91; })), 400,
                {"location.lat"});
  ExpectProblem("lon 200", post(variant_of([](json& r) { r["location"]["lon"] = 200; })), 400,
                {"location.lon"});
  ExpectProblem("unknown category", post(variant_of([](json& r) { r["category"] = "x.y"; })),
                400, {"category"});
  ExpectProblem("missing description",
                post(variant_of([](json& r) { r.erase("description"); })), 400,
                {"description"});
  // Characters, not bytes: "ệ" is three bytes in UTF-8.
  ExpectProblem("description of 5001 characters",
                post(variant_of([](json& r) { r["description"] = Repeat("ệ", 5001); })), 400,
                {"description"});
  ExpectProblem("several bad fields",
                post(variant_of([](json& r) {
                  r["category"] = "x.y";
                  r.erase("description");
                  r["location"]["lat"] = 91;
                })),
                400, {"category", "description", "location.lat"});
  ExpectProblem("body over 1 MiB",
                post(variant_of([](json& r) {
                  r["description"] = std::string(1024 * 1024 + 1024, 'a');
                })),
                413);
  ExpectProblem("non-JSON content type",
                gateway.Post("/v1/reports", variant_of([](json&) {}).dump(), "text/plain"), 415);
  ExpectProblem("unknown path", gateway.Get("/v1/no-such-thing"), 404);
  ExpectProblem("unknown tracking code", gateway.Get("/v1/reports/NOPE-0000-00000-00"), 404);

  // The longest description allowed, in multi-byte characters, is accepted.
  std::vector<std::string> good_codes;
  {
    const SubmitResult longest = SubmitReport(
        gateway, variant_of([](json& r) { r["description"] = Repeat("ệ", 5000); }));
    INFO("description of 5000 characters → " << longest.response.Describe());
    CHECK(longest.response.status == 200);
    if (!longest.tracking_code.empty()) good_codes.push_back(longest.tracking_code);
  }

  // Nothing of the above opened a case: once a good report behind them is counted,
  // analytics has seen only the good ones.
  const SubmitResult submitted = SubmitReport(gateway, good);
  {
    INFO("good report → " << submitted.response.Describe());
    REQUIRE(submitted.response.status == 200);
    REQUIRE_FALSE(submitted.tracking_code.empty());
  }
  good_codes.push_back(submitted.tracking_code);
  const PipelineWait cases = WaitForCases(gateway, good_codes, absl::Seconds(30));
  {
    INFO(cases.DescribePending());
    REQUIRE(cases.ok());
  }
  const std::optional<CaseCounts> counts =
      WaitForReportsCounted(gateway, good_codes.size(), absl::Seconds(30));
  REQUIRE(counts.has_value());
  // Exactly the good reports were counted (the second is at the first's place, so it
  // may be a +1 of it rather than a case of its own).
  CHECK(counts->total_opened + counts->total_supported == good_codes.size());

  REQUIRE(civicd.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
