// What the end-to-end tests say to civicd's gateway, and with which data: sample
// reports turned into SubmitReportRequest JSON, typed calls to the public HTTP API,
// and waits for the asynchronous pipeline (routing, cases, notify, analytics).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "civic/cases/v1/cases.grpc.pb.h"
#include "tests/support/http_client.h"
#include "tests/support/sse_client.h"

namespace civic::testing {

// One line of shared/data/reports-sample.jsonl.
struct SampleReport {
  std::string id;             // "RPT-190902-00001"
  std::string category;       // "traffic.pothole"
  std::string ward_code;      // _truth.ward_code
  std::string ward_name;      // _truth.ward_name
  std::string district_code;  // _truth.district_code
  nlohmann::json request;     // the civic.intake.v1.SubmitReportRequest, proto3 JSON
};

// The first `count` sample reports (all when count is larger). Throws
// std::runtime_error when the file cannot be read.
std::vector<SampleReport> LoadSampleReports(std::size_t count);

// Maps a sample line to SubmitReportRequest JSON: category, description, lat/lon →
// location, address_text → address, channel "app" → "CHANNEL_APP" (etc.),
// reporter → contact + anonymous, attributes stringified (arrays joined with ","),
// lang → language, id → client_request_id.
nlohmann::json ToSubmitRequest(const nlohmann::json& sample);

// A proto3-JSON uint64/int64 field (a string such as "150", or a number); 0 when the
// field is absent (proto3 omits default values) or unparsable.
std::uint64_t JsonUint64(const nlohmann::json& object, const std::string& key);

// A string field, "" when absent.
std::string JsonString(const nlohmann::json& object, const std::string& key);

struct SubmitResult {
  HttpResponse response;
  std::string tracking_code;  // "" unless 200 with a tracking code
  bool replayed = false;
  // Set when intake found the same problem reported nearby: the report joins that case.
  std::string supports_tracking_code;
};

// POST /v1/reports, with `headers` (e.g. {{"X-Device-Id", "..."}}).
SubmitResult SubmitReport(const HttpClient& gateway, const nlohmann::json& request,
                          const HttpClient::Headers& headers = {});

// GET /v1/reports/{code}: the ReportStatus, or nullopt unless 200 with a JSON object.
std::optional<nlohmann::json> GetReportStatus(const HttpClient& gateway,
                                              const std::string& tracking_code);

// GET /v1/reports/{code}/messages: the messages (possibly empty), or nullopt unless
// 200 with a JSON object.
std::optional<nlohmann::json> ListMessages(const HttpClient& gateway,
                                           const std::string& tracking_code);

struct CaseCounts {
  std::uint64_t total_opened = 0;
  std::uint64_t feed_sequence = 0;
  std::uint64_t total_supported = 0;  // reports that joined an existing case (+1)
  // (category, district_code) → opened; rows with zero counts are left out.
  std::map<std::pair<std::string, std::string>, std::uint64_t> opened;
};

// GET /v1/analytics/case-counts (no filters), or nullopt unless 200 with JSON.
std::optional<CaseCounts> GetCaseCounts(const HttpClient& gateway);

// (category, _truth.district_code) → how many of `samples` there are. Pass the samples
// that opened cases (those whose submission had no supports_tracking_code).
std::map<std::pair<std::string, std::string>, std::uint64_t> ExpectedCounts(
    const std::vector<SampleReport>& samples);

// Result of waiting for many reports at once.
struct PipelineWait {
  // Last answer seen per tracking code (status object, or messages object).
  std::map<std::string, nlohmann::json> last_seen;
  // Codes whose condition did not hold by the deadline, in submission order.
  std::vector<std::string> pending;

  bool ok() const { return pending.empty(); }
  // The pending codes with their last answers, for failure messages.
  std::string DescribePending() const;
};

// Waits until every code's ReportStatus has a case (case_id set), status `status`
// and a unit id. All codes share one deadline `timeout` from now.
PipelineWait WaitForCases(const HttpClient& gateway, const std::vector<std::string>& codes,
                          absl::Duration timeout, const std::string& status = "new");

// Waits until every code has at least one message. Shares one deadline.
PipelineWait WaitForMessages(const HttpClient& gateway, const std::vector<std::string>& codes,
                             absl::Duration timeout);

// Waits until analytics has counted at least `at_least` reports, opened cases and +1s
// together; returns the last counts seen (nullopt when analytics never answered).
std::optional<CaseCounts> WaitForReportsCounted(const HttpClient& gateway,
                                                std::uint64_t at_least, absl::Duration timeout);

// ---- Unit identity for the agency API in tests: a development HS256 secret in a file
// civicd is pointed at, and bearer tokens naming a unit. (Agency systems proper use
// their client certificate on the mutual-TLS port; see tests/e2e/node_agency_test.cc.)
struct AgencyTokens {
  std::filesystem::path secret_file;
  std::string secret;

  // Arguments for CivicdProcess: --set cases.staff_token_hs256_secret_file=<secret_file>.
  std::vector<std::string> CivicdArgs() const;
  // "Bearer <JWT>" with "unit": `unit`, valid for an hour; for the "authorization"
  // metadata of a call.
  std::string BearerFor(const std::string& unit) const;
  // "Bearer <JWT>" of a staff member (operations centre) with `roles` and no unit, valid
  // for an hour, signed with the same secret; for an Authorization header or metadata.
  // Services other than cases accept it only with StaffAndCitizenArgs.
  std::string StaffBearer(const std::vector<std::string>& roles) const;
};

// Writes a fresh random secret to <dir>/token-secret. Throws std::runtime_error when it
// cannot.
AgencyTokens MakeAgencyTokens(const std::filesystem::path& dir);

// One step of the agency API on `c` (Accept, StartWork, Resolve...), as `unit` with a
// token from `tokens`, at c's version and with `comment`; on success `c` is the case
// after the step. The call's status otherwise.
using CaseAction = grpc::Status (civic::cases::v1::CasesService::Stub::*)(
    grpc::ClientContext*, const civic::cases::v1::CaseActionRequest&,
    civic::cases::v1::Case*);
grpc::Status ActOnCase(civic::cases::v1::CasesService::Stub& stub, const AgencyTokens& tokens,
                       const std::string& unit, CaseAction action, civic::cases::v1::Case& c,
                       const std::string& comment);

// The next event of `stream`, which must be a message (event type "message", one data
// line, id = message_id) made from template `name` for `tracking_code`; waits up to 30 s.
// Fails the test case (Catch2 REQUIRE) when no event comes.
SseEvent ExpectMessage(SseClient& stream, const std::string& name,
                       const std::string& tracking_code);

// ---- Staff and citizens beyond the agency API, for tests of sign-in and of what is
// the caller's own.

// Arguments for CivicdProcess: tokens.CivicdArgs(), and staff tokens signed with
// `tokens`' secret accepted by gateway, intake, routing and notify too; citizen sign-in
// by SMS code on, with a fresh citizen-token secret and a fresh phone-subject key (the
// one intake and notify share) written under `dir`. Throws std::runtime_error when a
// file cannot be written.
std::vector<std::string> StaffAndCitizenArgs(const std::filesystem::path& dir,
                                             const AgencyTokens& tokens);

class CivicdProcess;

// The code of the newest sign-in SMS to `e164_phone`, read from notify's outbox over
// gRPC as the SMS provider's adapter would, with `sms_sender` as "authorization" ("Bearer
// <staff token with role sms_sender>"). Fails the test case when there is none.
std::string SignInCodeSentTo(const CivicdProcess& civicd, const std::string& sms_sender,
                             const std::string& e164_phone);

// Signs a citizen in over HTTP: POST /v1/auth/code for `typed_phone`, the code read
// with SignInCodeSentTo(civicd, sms_sender, e164_phone), POST /v1/auth/token; `headers`
// go with both requests (e.g. X-Api-Key). Returns the citizen token (without
// "Bearer "); fails the test case when a step fails.
std::string SignInCitizen(const CivicdProcess& civicd, const HttpClient& gateway,
                          const std::string& sms_sender, const HttpClient::Headers& headers,
                          const std::string& typed_phone, const std::string& e164_phone);

}  // namespace civic::testing
