// What the end-to-end tests say to civicd's gateway (see civic_api.h).
#include "tests/support/civic_api.h"

#include <openssl/rand.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "civic/notify/v1/notify.grpc.pb.h"
#include "libs/auth/jwt.h"
#include "tests/support/civicd_process.h"

namespace civic::testing {
namespace {

using nlohmann::json;

// An attribute value from the sample as the string the proto map wants.
std::string AttributeString(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_number_unsigned()) return std::to_string(value.get<std::uint64_t>());
  if (value.is_array()) {
    std::vector<std::string> parts;
    for (const json& element : value) parts.push_back(AttributeString(element));
    return absl::StrJoin(parts, ",");
  }
  if (value.is_null()) return "";
  return value.dump();  // floats and anything else in their JSON spelling
}

std::string ChannelEnum(const std::string& channel) {
  if (channel == "app") return "CHANNEL_APP";
  if (channel == "hotline") return "CHANNEL_HOTLINE";
  if (channel == "social") return "CHANNEL_SOCIAL";
  if (channel == "web") return "CHANNEL_WEB";
  return "";
}

std::optional<json> ParseObject(const HttpResponse& response) {
  if (response.status != 200) return std::nullopt;
  json body = json::parse(response.body, nullptr, false);
  if (!body.is_object()) return std::nullopt;
  return body;
}

}  // namespace

std::vector<SampleReport> LoadSampleReports(std::size_t count) {
  const std::filesystem::path path = SharedDataDir() / "reports-sample.jsonl";
  std::ifstream in(path);
  if (!in) throw std::runtime_error(absl::StrCat("cannot read ", path.string()));
  std::vector<SampleReport> samples;
  std::string line;
  while (samples.size() < count && std::getline(in, line)) {
    if (line.empty()) continue;
    const json sample = json::parse(line);
    const json& truth = sample.at("_truth");
    samples.push_back(SampleReport{
        .id = sample.at("id").get<std::string>(),
        .category = sample.at("category").get<std::string>(),
        .ward_code = truth.at("ward_code").get<std::string>(),
        .ward_name = truth.at("ward_name").get<std::string>(),
        .district_code = truth.at("district_code").get<std::string>(),
        .request = ToSubmitRequest(sample),
    });
  }
  return samples;
}

json ToSubmitRequest(const json& sample) {
  json request = json::object();
  request["category"] = sample.at("category");
  request["description"] = sample.at("description");
  request["location"] = {{"lat", sample.at("lat")}, {"lon", sample.at("lon")}};
  if (sample.contains("address_text") && sample["address_text"].is_string() &&
      !sample["address_text"].get<std::string>().empty()) {
    request["address"] = sample["address_text"];
  }
  if (sample.contains("channel") && sample["channel"].is_string()) {
    const std::string channel = ChannelEnum(sample["channel"].get<std::string>());
    if (!channel.empty()) request["channel"] = channel;
    // A hotline report is entered by an operator, who is recorded with it.
    if (channel == "CHANNEL_HOTLINE") request["operator_id"] = "op-sample";
  }
  if (sample.contains("reporter") && sample["reporter"].is_object()) {
    const json& reporter = sample["reporter"];
    json contact = json::object();
    for (const char* field : {"name", "phone", "email"}) {
      if (reporter.contains(field) && reporter[field].is_string()) {
        contact[field] = reporter[field];
      }
    }
    if (!contact.empty()) request["contact"] = contact;
    if (reporter.value("anonymous", false)) request["anonymous"] = true;
  }
  if (sample.contains("attributes") && sample["attributes"].is_object() &&
      !sample["attributes"].empty()) {
    json attributes = json::object();
    for (const auto& [code, value] : sample["attributes"].items()) {
      attributes[code] = AttributeString(value);
    }
    request["attributes"] = attributes;
  }
  if (sample.contains("lang") && sample["lang"].is_string()) request["language"] = sample["lang"];
  request["client_request_id"] = sample.at("id");
  return request;
}

std::uint64_t JsonUint64(const json& object, const std::string& key) {
  if (!object.is_object() || !object.contains(key)) return 0;
  const json& value = object[key];
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer()) {
    const std::int64_t v = value.get<std::int64_t>();
    return v < 0 ? 0 : static_cast<std::uint64_t>(v);
  }
  std::uint64_t parsed = 0;
  if (value.is_string() && absl::SimpleAtoi(value.get<std::string>(), &parsed)) return parsed;
  return 0;
}

std::string JsonString(const json& object, const std::string& key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
  return object[key].get<std::string>();
}

SubmitResult SubmitReport(const HttpClient& gateway, const json& request,
                          const HttpClient::Headers& headers) {
  SubmitResult result;
  result.response =
      gateway.Request("POST", "/v1/reports", request.dump(), "application/json", headers);
  if (std::optional<json> body = ParseObject(result.response)) {
    result.tracking_code = JsonString(*body, "tracking_code");
    result.replayed = body->value("replayed", false);
    result.supports_tracking_code = JsonString(*body, "supports_tracking_code");
  }
  return result;
}

std::optional<json> GetReportStatus(const HttpClient& gateway,
                                    const std::string& tracking_code) {
  return ParseObject(gateway.Get(absl::StrCat("/v1/reports/", tracking_code)));
}

std::optional<json> ListMessages(const HttpClient& gateway, const std::string& tracking_code) {
  std::optional<json> body =
      ParseObject(gateway.Get(absl::StrCat("/v1/reports/", tracking_code, "/messages")));
  if (body && !body->contains("messages")) (*body)["messages"] = json::array();
  return body;
}

std::optional<CaseCounts> GetCaseCounts(const HttpClient& gateway) {
  std::optional<json> body = ParseObject(gateway.Get("/v1/analytics/case-counts"));
  if (!body) return std::nullopt;
  CaseCounts counts;
  counts.total_opened = JsonUint64(*body, "total_opened");
  counts.feed_sequence = JsonUint64(*body, "feed_sequence");
  counts.total_supported = JsonUint64(*body, "total_supported");
  if (body->contains("counts") && (*body)["counts"].is_array()) {
    for (const json& row : (*body)["counts"]) {
      const std::uint64_t opened = JsonUint64(row, "opened");
      if (opened == 0) continue;
      counts.opened[{JsonString(row, "category"), JsonString(row, "district_code")}] += opened;
    }
  }
  return counts;
}

std::map<std::pair<std::string, std::string>, std::uint64_t> ExpectedCounts(
    const std::vector<SampleReport>& samples) {
  std::map<std::pair<std::string, std::string>, std::uint64_t> expected;
  for (const SampleReport& sample : samples) ++expected[{sample.category, sample.district_code}];
  return expected;
}

std::string PipelineWait::DescribePending() const {
  std::string out = absl::StrCat(pending.size(), " pending");
  constexpr std::size_t kShown = 10;
  for (std::size_t i = 0; i < pending.size() && i < kShown; ++i) {
    auto it = last_seen.find(pending[i]);
    absl::StrAppend(&out, "\n  ", pending[i], ": ",
                    it == last_seen.end() ? std::string("(no answer)") : it->second.dump());
  }
  if (pending.size() > kShown) absl::StrAppend(&out, "\n  ...");
  return out;
}

namespace {

// Checks the codes in order, each until `done` holds or the shared deadline passes.
// Reports flow through the pipeline roughly in submission order, so this mostly waits
// on the first unfinished one and sweeps through the rest.
PipelineWait WaitForEach(const std::vector<std::string>& codes, absl::Duration timeout,
                         const std::function<std::optional<json>(const std::string&)>& fetch,
                         const std::function<bool(const json&)>& done) {
  PipelineWait wait;
  const absl::Time deadline = absl::Now() + timeout;
  for (const std::string& code : codes) {
    const bool ok = EventuallyBy(
        [&] {
          std::optional<json> seen = fetch(code);
          if (!seen) return false;
          wait.last_seen[code] = *seen;
          return done(*seen);
        },
        deadline);
    if (!ok) wait.pending.push_back(code);
  }
  return wait;
}

}  // namespace

PipelineWait WaitForCases(const HttpClient& gateway, const std::vector<std::string>& codes,
                          absl::Duration timeout, const std::string& status) {
  return WaitForEach(
      codes, timeout,
      [&](const std::string& code) { return GetReportStatus(gateway, code); },
      [&](const json& report) {
        const json unit = report.value("unit", json::object());
        return JsonString(report, "status") == status &&
               !JsonString(report, "case_id").empty() && !JsonString(unit, "id").empty();
      });
}

PipelineWait WaitForMessages(const HttpClient& gateway, const std::vector<std::string>& codes,
                             absl::Duration timeout) {
  return WaitForEach(
      codes, timeout, [&](const std::string& code) { return ListMessages(gateway, code); },
      [](const json& messages) {
        return messages["messages"].is_array() && !messages["messages"].empty();
      });
}

std::optional<CaseCounts> WaitForReportsCounted(const HttpClient& gateway,
                                                std::uint64_t at_least, absl::Duration timeout) {
  std::optional<CaseCounts> last;
  Eventually(
      [&] {
        if (std::optional<CaseCounts> counts = GetCaseCounts(gateway)) last = std::move(counts);
        return last && last->total_opened + last->total_supported >= at_least;
      },
      timeout);
  return last;
}

// ---- Unit identity for the agency API in tests

std::vector<std::string> AgencyTokens::CivicdArgs() const {
  return {"--set", absl::StrCat("cases.staff_token_hs256_secret_file=", secret_file.string())};
}

std::string AgencyTokens::BearerFor(const std::string& unit) const {
  const std::int64_t now = absl::ToUnixSeconds(absl::Now());
  return absl::StrCat("Bearer ", auth::SignHs256({{"sub", "e2e-agency-system"},
                                                  {"unit", unit},
                                                  {"iat", now},
                                                  {"exp", now + 3600}},
                                                 secret));
}

std::string AgencyTokens::StaffBearer(const std::vector<std::string>& roles) const {
  const std::int64_t now = absl::ToUnixSeconds(absl::Now());
  return absl::StrCat("Bearer ", auth::SignHs256({{"sub", "e2e-operator"},
                                                  {"roles", roles},
                                                  {"iat", now},
                                                  {"exp", now + 3600}},
                                                 secret));
}

namespace {

// 32 random bytes, base64url: a secret or key as civicd's key files hold them.
std::string RandomSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) throw std::runtime_error("RAND_bytes failed");
  return auth::Base64UrlEncode(std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

void WriteSecretFile(const std::filesystem::path& path, const std::string& secret) {
  std::ofstream out(path, std::ios::trunc);
  out << secret << "\n";
  if (!out.flush()) throw std::runtime_error(absl::StrCat("cannot write ", path.string()));
}

}  // namespace

AgencyTokens MakeAgencyTokens(const std::filesystem::path& dir) {
  AgencyTokens tokens{.secret_file = dir / "token-secret", .secret = RandomSecret()};
  WriteSecretFile(tokens.secret_file, tokens.secret);
  return tokens;
}

grpc::Status ActOnCase(civic::cases::v1::CasesService::Stub& stub, const AgencyTokens& tokens,
                       const std::string& unit, CaseAction action, civic::cases::v1::Case& c,
                       const std::string& comment) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("authorization", tokens.BearerFor(unit));
  civic::cases::v1::CaseActionRequest request;
  request.set_case_id(c.case_id());
  request.set_expected_version(c.version());
  request.set_comment(comment);
  return (stub.*action)(&context, request, &c);
}

SseEvent ExpectMessage(SseClient& stream, const std::string& name,
                       const std::string& tracking_code) {
  const std::optional<SseEvent> event = stream.Next(absl::Seconds(30));
  INFO("waiting for " << name << ": " << stream.error() << "; body so far:\n" << stream.body());
  REQUIRE(event.has_value());
  CHECK(event->type == "message");
  CHECK(event->data.find('\n') == std::string::npos);  // one data line
  const json message = json::parse(event->data);
  CHECK(JsonString(message, "template") == name);
  CHECK(JsonString(message, "tracking_code") == tracking_code);
  CHECK(event->id == JsonString(message, "message_id"));
  return *event;
}

// ---- Staff and citizens beyond the agency API

std::vector<std::string> StaffAndCitizenArgs(const std::filesystem::path& dir,
                                             const AgencyTokens& tokens) {
  std::vector<std::string> args = tokens.CivicdArgs();
  const std::filesystem::path citizen_file = dir / "citizen-token-secret";
  WriteSecretFile(citizen_file, RandomSecret());
  const std::filesystem::path phone_subject_file = dir / "phone-subject-key";
  WriteSecretFile(phone_subject_file, RandomSecret());
  for (const char* section : {"gateway", "intake", "routing", "notify"}) {
    args.push_back("--set");
    args.push_back(
        absl::StrCat(section, ".staff_token_hs256_secret_file=", tokens.secret_file.string()));
    args.push_back("--set");
    args.push_back(absl::StrCat(section, ".citizen_token_secret_file=", citizen_file.string()));
  }
  // Citizens' phone subjects: notify's tokens name them, intake's index finds them.
  for (const char* section : {"intake", "notify"}) {
    args.push_back("--set");
    args.push_back(
        absl::StrCat(section, ".phone_subject_key_file=", phone_subject_file.string()));
  }
  return args;
}

std::string SignInCodeSentTo(const CivicdProcess& civicd, const std::string& sms_sender,
                             const std::string& e164_phone) {
  auto notify = civic::notify::v1::NotifyService::NewStub(grpc::CreateChannel(
      civicd.endpoints().grpc.at("notify"), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("authorization", sms_sender);
  civic::notify::v1::ListOutgoingSmsResponse outbox;
  const grpc::Status status = notify->ListOutgoingSms(&context, {}, &outbox);
  INFO(status.error_message());
  REQUIRE(status.ok());
  std::string code;
  for (const auto& sms : outbox.messages()) {
    if (sms.phone() != e164_phone) continue;
    const size_t at = sms.body().find_first_of("0123456789");
    REQUIRE(at != std::string::npos);
    code = sms.body().substr(at, 6);
  }
  REQUIRE(code.size() == 6);
  return code;
}

std::string SignInCitizen(const CivicdProcess& civicd, const HttpClient& gateway,
                          const std::string& sms_sender, const HttpClient::Headers& headers,
                          const std::string& typed_phone, const std::string& e164_phone) {
  const HttpResponse sent = gateway.Request(
      "POST", "/v1/auth/code", json{{"phone", typed_phone}}.dump(), "application/json", headers);
  INFO(sent.Describe());
  REQUIRE(sent.status == 200);
  const std::string code = SignInCodeSentTo(civicd, sms_sender, e164_phone);
  const HttpResponse token =
      gateway.Request("POST", "/v1/auth/token", json{{"phone", typed_phone}, {"code", code}}.dump(),
                      "application/json", headers);
  INFO(token.Describe());
  REQUIRE(token.status == 200);
  const json body = json::parse(token.body, nullptr, /*allow_exceptions=*/false);
  CHECK(JsonString(body, "token_type") == "Bearer");
  REQUIRE_FALSE(JsonString(body, "token").empty());
  return JsonString(body, "token");
}

}  // namespace civic::testing
