// What the end-to-end tests say to civicd's gateway (see civic_api.h).
#include "tests/support/civic_api.h"

#include <openssl/rand.h>

#include <fstream>
#include <functional>
#include <stdexcept>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
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

SubmitResult SubmitReport(const HttpClient& gateway, const json& request) {
  SubmitResult result;
  result.response = gateway.Post("/v1/reports", request.dump(), "application/json");
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

AgencyTokens MakeAgencyTokens(const std::filesystem::path& dir) {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) throw std::runtime_error("RAND_bytes failed");
  AgencyTokens tokens{.secret_file = dir / "token-secret",
                      .secret = auth::Base64UrlEncode(
                          std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes)))};
  std::ofstream out(tokens.secret_file, std::ios::trunc);
  out << tokens.secret << "\n";
  if (!out.flush()) {
    throw std::runtime_error(absl::StrCat("cannot write ", tokens.secret_file.string()));
  }
  return tokens;
}

}  // namespace civic::testing
