// Authentication end to end, over real HTTP to a real civicd: apps need an API key
// (missing, invalid and revoked keys are refused, a revocation bites within the cache
// time), administrative routes need a staff token with the right role (HS256 or RS256;
// missing, forged, expired and under-privileged tokens are refused, by the gateway or by
// the services themselves), and citizens sign in with an SMS code to see their own
// reports with their contact details, while an app without sign-in sees its device's
// reports without them.
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "civic/intake/v1/intake.grpc.pb.h"
#include "civic/notify/v1/notify.grpc.pb.h"
#include "civic/routing/v1/routing.grpc.pb.h"
#include "libs/auth/jwt.h"
#include "libs/auth/secrets.h"
#include "tests/support/civic_api.h"
#include "tests/support/civicd_process.h"
#include "tests/support/http_client.h"

namespace civic::testing {
namespace {

using nlohmann::json;
using Headers = HttpClient::Headers;

// How long the gateway may reuse an API key check in these tests.
constexpr int kApiKeyCacheMs = 300;

// The suite's keys: an HS256 secret and an RSA pair for staff tokens, the secret notify
// signs citizen tokens with and the key of citizens' phone subjects, written where
// civicd is told to read them.
struct Keys {
  std::string staff_secret;
  std::string citizen_secret;
  std::shared_ptr<const auth::RsaKey> rsa_private;
  std::vector<std::string> civicd_args;

  // A staff token signed with the HS256 secret (or `secret`), valid for `valid_for`
  // (negative: expired that long ago).
  std::string Staff(const std::vector<std::string>& roles,
                    absl::Duration valid_for = absl::Minutes(10),
                    const std::string& secret = "") const {
    return auth::SignHs256(Claims(roles, valid_for), secret.empty() ? staff_secret : secret);
  }
  std::string StaffRs256(const std::vector<std::string>& roles) const {
    return *auth::SignRs256(Claims(roles, absl::Minutes(10)), *rsa_private);
  }
  static json Claims(const std::vector<std::string>& roles, absl::Duration valid_for) {
    const absl::Time now = absl::Now();
    return {{"sub", "e2e-operator"},
            {"roles", roles},
            {"iat", absl::ToUnixSeconds(now - absl::Hours(2))},
            {"exp", absl::ToUnixSeconds(now + valid_for)}};
  }
};

std::string WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  REQUIRE(out.flush());
  return path.string();
}

Keys MakeKeys(const std::filesystem::path& dir) {
  Keys keys;
  keys.staff_secret = auth::Base64UrlEncode(auth::RandomBytes(32));
  keys.citizen_secret = auth::Base64UrlEncode(auth::RandomBytes(32));
  EVP_PKEY* pkey = EVP_RSA_gen(2048);
  REQUIRE(pkey != nullptr);
  BIO* pub = BIO_new(BIO_s_mem());
  BIO* priv = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PUBKEY(pub, pkey) == 1);
  REQUIRE(PEM_write_bio_PrivateKey(priv, pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  auto text = [](BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(bio);
    return out;
  };
  const std::string public_pem = text(pub);
  keys.rsa_private = *auth::RsaKey::PrivateFromPem(text(priv));
  EVP_PKEY_free(pkey);

  const std::string staff_file = WriteFile(dir / "staff.secret", keys.staff_secret + "\n");
  const std::string rsa_file = WriteFile(dir / "staff.pub.pem", public_pem);
  const std::string citizen_file = WriteFile(dir / "citizen.secret", keys.citizen_secret);
  // Citizens' phone subjects: one key, shared by notify (tokens) and intake (my reports).
  const std::string phone_subject_file =
      WriteFile(dir / "phone-subject.key", auth::Base64UrlEncode(auth::RandomBytes(32)));
  for (const char* section : {"intake", "notify"}) {
    keys.civicd_args.push_back("--set");
    keys.civicd_args.push_back(
        absl::StrCat(section, ".phone_subject_key_file=", phone_subject_file));
  }
  for (const char* section : {"gateway", "intake", "routing", "notify"}) {
    for (const auto& [key, file] :
         {std::pair{"staff_token_hs256_secret_file", staff_file},
          std::pair{"staff_token_rs256_public_key_file", rsa_file},
          std::pair{"citizen_token_secret_file", citizen_file}}) {
      keys.civicd_args.push_back("--set");
      keys.civicd_args.push_back(absl::StrCat(section, ".", key, "=", file));
    }
  }
  for (const std::string& set : {std::string("gateway.require_api_key=true"),
                                 absl::StrCat("gateway.api_key_cache_ms=", kApiKeyCacheMs)}) {
    keys.civicd_args.push_back("--set");
    keys.civicd_args.push_back(set);
  }
  return keys;
}

HttpResponse Send(const HttpClient& gateway, const std::string& method,
                  const std::string& target, const Headers& headers,
                  const std::string& body = "") {
  return gateway.Request(method, target, body, body.empty() ? "" : "application/json",
                         headers);
}

json Body(const HttpResponse& response) {
  return json::parse(response.body, nullptr, /*allow_exceptions=*/false);
}

// A problem+json answer with `status` whose type ends with `slug` (when given).
void ExpectProblem(const HttpResponse& response, int status, const std::string& slug = "") {
  INFO(response.Describe());
  CHECK(response.status == status);
  CHECK(response.MediaType() == "application/problem+json");
  if (!slug.empty()) CHECK(absl::EndsWith(JsonString(Body(response), "type"), "/" + slug));
}

template <typename Service>
std::unique_ptr<typename Service::Stub> StubTo(const CivicdProcess& civicd,
                                               const std::string& service) {
  return Service::NewStub(grpc::CreateChannel(civicd.endpoints().grpc.at(service),
                                           grpc::InsecureChannelCredentials()));
}

// A client context carrying `token` (none when empty).
std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

// The first API key, made over intake's gRPC API as an operator's tool would (the HTTP
// admin routes need a key themselves once keys are required).
intake::v1::ApiKey BootstrapApiKey(const CivicdProcess& civicd, const Keys& keys) {
  auto intake = StubTo<intake::v1::IntakeService>(civicd, "intake");
  intake::v1::CreateApiKeyRequest request;
  request.set_app_name("e2e app");
  intake::v1::ApiKey key;
  const grpc::Status status =
      intake->CreateApiKey(Context(keys.Staff({"admin"})).get(), request, &key);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE_FALSE(key.secret().empty());
  return key;
}

TEST_CASE("Apps need a valid, unrevoked API key, and admin routes need a staff token with the "
          "admin role",
          "[e2e][auth]") {
  TempDir dir;
  const Keys keys = MakeKeys(dir.path());
  CivicdProcess civicd(dir.path(), keys.civicd_args);
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);
  const intake::v1::ApiKey app = BootstrapApiKey(civicd, keys);
  const Headers with_key = {{"X-Api-Key", app.secret()}};

  // The gateway's own endpoints are open; every /v1 route needs a key.
  CHECK(gateway.Get("/healthz").status == 200);
  CHECK(gateway.Get("/openapi.json").status != 401);
  HttpResponse response = Send(gateway, "GET", "/v1/categories", {});
  ExpectProblem(response, 401, "api-key-required");
  CHECK(absl::StrContains(response.Header("WWW-Authenticate"), "X-Api-Key"));
  ExpectProblem(Send(gateway, "GET", "/v1/categories", {{"X-Api-Key", "cdk_nope_nope"}}), 401,
                "invalid-api-key");
  std::string forged = app.secret();
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  ExpectProblem(Send(gateway, "GET", "/v1/categories", {{"X-Api-Key", forged}}), 401,
                "invalid-api-key");
  response = Send(gateway, "GET", "/v1/categories", with_key);
  INFO(response.Describe());
  CHECK(response.status == 200);

  // Admin routes: no token, a forged one, an expired one, the wrong role.
  const std::string admin_route = "/v1/admin/api-keys";
  response = Send(gateway, "GET", admin_route, with_key);
  ExpectProblem(response, 401);
  CHECK(absl::StartsWith(response.Header("WWW-Authenticate"), "Bearer"));
  Headers forged_token = with_key;
  forged_token.emplace_back(
      "Authorization",
      "Bearer " + keys.Staff({"admin"}, absl::Minutes(10), std::string(43, 'x')));
  response = Send(gateway, "GET", admin_route, forged_token);
  ExpectProblem(response, 401, "invalid-token");
  CHECK(absl::StrContains(response.Header("WWW-Authenticate"), "error=\"invalid_token\""));
  Headers expired = with_key;
  expired.emplace_back("Authorization", "Bearer " + keys.Staff({"admin"}, -absl::Hours(1)));
  response = Send(gateway, "GET", admin_route, expired);
  ExpectProblem(response, 401, "invalid-token");
  CHECK(absl::StrContains(JsonString(Body(response), "detail"), "expired"));
  Headers operator_only = with_key;
  operator_only.emplace_back("Authorization", "Bearer " + keys.Staff({"ops"}));
  ExpectProblem(Send(gateway, "GET", admin_route, operator_only), 403);

  // An administrator, with an HS256 or an RS256 token.
  Headers admin = with_key;
  admin.emplace_back("Authorization", "Bearer " + keys.Staff({"admin"}));
  response = Send(gateway, "GET", admin_route, admin);
  REQUIRE(response.status == 200);
  const json listed = Body(response);
  REQUIRE(listed["keys"].size() == 1);
  CHECK(JsonString(listed["keys"][0], "key_id") == app.key_id());
  CHECK_FALSE(listed["keys"][0].contains("secret"));
  Headers admin_rs256 = with_key;
  admin_rs256.emplace_back("Authorization", "Bearer " + keys.StaffRs256({"admin"}));
  CHECK(Send(gateway, "GET", admin_route, admin_rs256).status == 200);

  // A key issued over HTTP works until revoked, then stops within the cache time.
  response = Send(gateway, "POST", admin_route, admin, R"({"app_name": "e2e web portal"})");
  REQUIRE(response.status == 200);
  const json issued = Body(response);
  const Headers second_key = {{"X-Api-Key", JsonString(issued, "secret")}};
  REQUIRE(Send(gateway, "GET", "/v1/categories", second_key).status == 200);
  response = Send(gateway, "DELETE", admin_route + "/" + JsonString(issued, "key_id"), admin);
  REQUIRE(response.status == 200);
  CHECK(Body(response).contains("revoked_at"));
  const absl::Time revoked_at = absl::Now();
  HttpResponse refused;
  REQUIRE(Eventually(
      [&] {
        refused = Send(gateway, "GET", "/v1/categories", second_key);
        return refused.status == 401;
      },
      absl::Seconds(5)));
  CHECK(absl::Now() - revoked_at < absl::Milliseconds(kApiKeyCacheMs) + absl::Seconds(1));
  ExpectProblem(refused, 401, "api-key-revoked");
  CHECK(Send(gateway, "GET", "/v1/categories", with_key).status == 200);  // the other one

  // The services check tokens themselves, whoever calls them.
  auto intake = StubTo<intake::v1::IntakeService>(civicd, "intake");
  intake::v1::ListBlocksResponse blocks;
  CHECK(intake->ListBlocks(Context("").get(), {}, &blocks).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(intake->ListBlocks(Context(keys.Staff({"ops"})).get(), {}, &blocks).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  CHECK(intake->ListBlocks(Context(keys.Staff({"admin"})).get(), {}, &blocks).ok());
  {
    // x-civic-* metadata without a token proves nothing.
    auto context = Context("");
    context->AddMetadata("x-civic-subject", "e2e-operator");
    context->AddMetadata("x-civic-roles", "admin");
    CHECK(intake->ListBlocks(context.get(), {}, &blocks).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
  }
  auto routing = StubTo<routing::v1::RoutingService>(civicd, "routing");
  routing::v1::DeleteUnitRequest delete_unit;
  delete_unit.set_unit_id("no.such.unit");
  routing::v1::DeleteUnitResponse deleted;
  CHECK(routing->DeleteUnit(Context("").get(), delete_unit, &deleted).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(routing->DeleteUnit(Context(keys.Staff({"ops"})).get(), delete_unit, &deleted)
            .error_code() == grpc::StatusCode::PERMISSION_DENIED);
  // Past the role check, the unit is simply unknown.
  CHECK(routing->DeleteUnit(Context(keys.StaffRs256({"routing_admin"})).get(), delete_unit,
                            &deleted)
            .error_code() == grpc::StatusCode::NOT_FOUND);
  REQUIRE(civicd.Terminate() == 0);
}

json ReportFrom(const SampleReport& sample, const std::string& phone, const std::string& id) {
  json request = sample.request;
  request["contact"] = {{"name", "Trần Thị B"}, {"phone", phone}};
  request.erase("anonymous");
  request["channel"] = "CHANNEL_APP";
  request.erase("operator_id");
  request["client_request_id"] = id;
  return request;
}

std::vector<std::string> TrackingCodes(const json& listed) {
  std::vector<std::string> codes;
  for (const json& report : listed.value("reports", json::array())) {
    codes.push_back(JsonString(report, "tracking_code"));
  }
  return codes;
}

TEST_CASE("A citizen signs in by SMS code and sees their own reports with contact details, "
          "others do not, and an app's device sees its reports without them",
          "[e2e][auth]") {
  TempDir dir;
  const Keys keys = MakeKeys(dir.path());
  CivicdProcess civicd(dir.path(), keys.civicd_args);
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);
  const Headers with_key = {{"X-Api-Key", BootstrapApiKey(civicd, keys).secret()}};
  // The SMS provider adapter's identity, to read sign-in codes from notify's outbox.
  const std::string sms_sender = "Bearer " + keys.Staff({"sms_sender"});

  // Two reports from two people on two devices.
  const std::vector<SampleReport> samples = LoadSampleReports(2);
  Headers device_a = with_key, device_b = with_key;
  device_a.emplace_back("X-Device-Id", "e2e-device-a");
  device_b.emplace_back("X-Device-Id", "e2e-device-b");
  HttpResponse response = Send(gateway, "POST", "/v1/reports", device_a,
                               ReportFrom(samples[0], "0901 234 567", "auth-e2e-1").dump());
  INFO(response.Describe());
  REQUIRE(response.status == 200);
  const std::string mine = JsonString(Body(response), "tracking_code");
  response = Send(gateway, "POST", "/v1/reports", device_b,
                  ReportFrom(samples[1], "0912 345 678", "auth-e2e-2").dump());
  REQUIRE(response.status == 200);
  const std::string theirs = JsonString(Body(response), "tracking_code");

  // The SMS outbox is the provider adapter's alone.
  {
    auto notify = StubTo<notify::v1::NotifyService>(civicd, "notify");
    notify::v1::ListOutgoingSmsResponse outbox;
    CHECK(notify->ListOutgoingSms(Context("").get(), {}, &outbox).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(notify->ListOutgoingSms(Context(keys.Staff({"admin"})).get(), {}, &outbox)
              .error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }

  const std::string token =
      SignInCitizen(civicd, gateway, sms_sender, with_key, "0901234567", "+84901234567");
  // One code a minute per phone.
  response = Send(gateway, "POST", "/v1/auth/code", with_key, R"({"phone": "+84 90 123 4567"})");
  ExpectProblem(response, 429, "sign-in-code-rate-limited");
  CHECK_FALSE(response.Header("Retry-After").empty());

  Headers signed_in = with_key;
  signed_in.emplace_back("Authorization", "Bearer " + token);
  response = Send(gateway, "GET", "/v1/me/reports", signed_in);
  INFO(response.Describe());
  REQUIRE(response.status == 200);
  json listed = Body(response);
  REQUIRE(TrackingCodes(listed) == std::vector<std::string>{mine});
  CHECK(JsonString(listed["reports"][0]["contact"], "phone") == "+84901234567");
  CHECK(JsonString(listed["reports"][0]["contact"], "name") == "Trần Thị B");

  // Another citizen sees only theirs.
  const std::string other =
      SignInCitizen(civicd, gateway, sms_sender, with_key, "0912345678", "+84912345678");
  Headers other_signed_in = with_key;
  other_signed_in.emplace_back("Authorization", "Bearer " + other);
  listed = Body(Send(gateway, "GET", "/v1/me/reports", other_signed_in));
  CHECK(TrackingCodes(listed) == std::vector<std::string>{theirs});

  // The public status of a report holds no contact data, whoever asks.
  response = Send(gateway, "GET", "/v1/reports/" + mine, other_signed_in);
  REQUIRE(response.status == 200);
  CHECK(response.body.find("contact") == std::string::npos);
  CHECK(response.body.find("901234567") == std::string::npos);
  CHECK(response.body.find("Trần Thị B") == std::string::npos);

  // An app without sign-in: its device's reports, without contact details.
  response = Send(gateway, "GET", "/v1/me/reports", device_a);
  REQUIRE(response.status == 200);
  listed = Body(response);
  REQUIRE(TrackingCodes(listed) == std::vector<std::string>{mine});
  CHECK_FALSE(listed["reports"][0].contains("contact"));
  CHECK(response.body.find("901234567") == std::string::npos);
  ExpectProblem(Send(gateway, "GET", "/v1/me/reports", with_key), 401);
  // Citizens are not administrators.
  ExpectProblem(Send(gateway, "GET", "/v1/admin/api-keys", signed_in), 403);

  // Five wrong codes invalidate the code; even the right one fails after.
  REQUIRE(Send(gateway, "POST", "/v1/auth/code", with_key, R"({"phone": "0987654321"})")
              .status == 200);
  const std::string code = SignInCodeSentTo(civicd, sms_sender, "+84987654321");
  const std::string wrong = code == "000000" ? "111111" : "000000";
  for (int attempt = 1; attempt <= 5; ++attempt) {
    INFO("attempt " << attempt);
    ExpectProblem(Send(gateway, "POST", "/v1/auth/token", with_key,
                       json{{"phone", "0987654321"}, {"code", wrong}}.dump()),
                  401, attempt < 5 ? "sign-in-code-wrong" : "sign-in-code-exhausted");
  }
  ExpectProblem(Send(gateway, "POST", "/v1/auth/token", with_key,
                     json{{"phone", "0987654321"}, {"code", code}}.dump()),
                401, "sign-in-code-invalid");
  REQUIRE(civicd.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
