// The gateway's edge end to end, over real HTTP to a real civicd: rate limits answer 429
// with Retry-After per device and per client address (behind a trusted proxy) while
// other clients go on; CORS preflights succeed from the portal's origin only; a report
// with its photos arrives as multipart/form-data and the photos come back as images of
// their own type, location and camera data removed; oversized bodies get 413.
#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/civic_api.h"
#include "tests/support/civicd_process.h"
#include "tests/support/http_client.h"

namespace civic::testing {
namespace {

using nlohmann::json;
using Headers = HttpClient::Headers;

constexpr char kPortal[] = "https://portal.civicdesk.example";

json Body(const HttpResponse& response) {
  return json::parse(response.body, nullptr, /*allow_exceptions=*/false);
}

// A problem+json answer with `status` whose type ends with "/<slug>".
void ExpectProblem(const HttpResponse& response, int status, const std::string& slug) {
  INFO(response.Describe());
  CHECK(response.status == status);
  CHECK(response.MediaType() == "application/problem+json");
  CHECK(absl::EndsWith(JsonString(Body(response), "type"), "/" + slug));
}

// Retry-After as a number of seconds; -1 when absent or not a number.
int64_t RetryAfter(const HttpResponse& response) {
  int64_t seconds = -1;
  if (!absl::SimpleAtoi(response.Header("Retry-After"), &seconds)) return -1;
  return seconds;
}

// ---- Small images with metadata to remove (as libs/photos/photos_test.cc builds them:
// structurally valid, not meant to be decoded).

std::string Be16(uint64_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string Be32(uint64_t v) { return absl::StrCat(Be16((v >> 16) & 0xFFFF), Be16(v & 0xFFFF)); }

// A TIFF header naming the place and the camera: what must never be served.
const std::string kTiff = absl::StrCat(absl::string_view("MM\0\x2a\0\0\0\x08", 8),
                                       "GPSLatitude=10.7725;Model=Canon EOS 5D");

bool HasSecrets(absl::string_view bytes) {
  return absl::StrContains(bytes, "GPS") || absl::StrContains(bytes, "Canon");
}

struct Image {
  std::string bytes;     // as uploaded, with metadata
  std::string expected;  // the public copy
};

std::string JpegSegment(unsigned char marker, absl::string_view payload) {
  return absl::StrCat(std::string{'\xFF', static_cast<char>(marker)}, Be16(payload.size() + 2),
                      payload);
}

// `padding` bytes of entropy-coded data make the photo as large as a test needs.
Image MakeJpeg(size_t padding = 0) {
  const std::string soi = "\xFF\xD8";
  const std::string app0 =
      JpegSegment(0xE0, absl::string_view("JFIF\0\x01\x02\0\0\x01\0\x01\0\0", 14));
  const std::string exif = JpegSegment(0xE1, absl::StrCat(absl::string_view("Exif\0\0", 6), kTiff));
  const std::string comment = JpegSegment(0xFE, "Shot on a Canon");
  const std::string dqt =
      JpegSegment(0xDB, absl::StrCat(std::string(1, '\0'), std::string(64, '\x01')));
  const std::string sof0 =
      JpegSegment(0xC0, absl::string_view("\x08\x00\x08\x00\x08\x01\x01\x11\x00", 9));
  const std::string dht =
      JpegSegment(0xC4, absl::StrCat(std::string(1, '\0'), std::string(1, '\x01'),
                                     std::string(15, '\0'), std::string(1, '\0')));
  const std::string sos = JpegSegment(0xDA, absl::string_view("\x01\x01\x00\x00\x3F\x00", 6));
  // Entropy-coded data with byte stuffing and a restart marker; CRLF and "--" too, as
  // real image bytes may hold anything a multipart body must carry intact.
  const std::string entropy = absl::StrCat(absl::string_view("\x12\x34\xFF\x00\x56\xFF\xD0", 7),
                                           "\r\n--\r\n", std::string(padding, '\x5A'));
  const std::string scan = absl::StrCat(sos, entropy, "\xFF\xD9");
  return {absl::StrCat(soi, app0, exif, comment, dqt, sof0, dht, scan),
          absl::StrCat(soi, app0, dqt, sof0, dht, scan)};
}

uint32_t Crc32(absl::string_view bytes) {
  uint32_t crc = 0xFFFFFFFF;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320 & (0 - (crc & 1)));
  }
  return ~crc;
}

std::string PngChunk(absl::string_view type, absl::string_view data) {
  const std::string typed = absl::StrCat(type, data);
  return absl::StrCat(Be32(data.size()), typed, Be32(Crc32(typed)));
}

Image MakePng() {
  const std::string signature("\x89PNG\r\n\x1a\n", 8);
  const std::string ihdr =
      PngChunk("IHDR", absl::StrCat(Be32(1), Be32(1), absl::string_view("\x08\x02\0\0\0", 5)));
  const std::string exif = PngChunk("eXIf", kTiff);
  const std::string text = PngChunk("tEXt", absl::string_view("Comment\0Canon EOS, GPS on", 25));
  const std::string idat =
      PngChunk("IDAT", absl::string_view("\x78\x9C\x63\x60\x60\x60\x00\x00\x00\x04\x00\x01", 12));
  const std::string iend = PngChunk("IEND", "");
  return {absl::StrCat(signature, ihdr, exif, text, idat, iend),
          absl::StrCat(signature, ihdr, idat, iend)};
}

// ---- multipart/form-data as a phone app sends it.

constexpr char kBoundary[] = "----CivicDeskE2EBoundary7MA4YWxkTrZu0gW";

std::string FormContentType() { return absl::StrCat("multipart/form-data; boundary=", kBoundary); }

struct FilePart {
  std::string filename;
  std::string content_type;
  std::string bytes;
};

std::string Form(const json& report, const std::vector<FilePart>& photos) {
  std::string body = absl::StrCat("--", kBoundary,
                                  "\r\nContent-Disposition: form-data; name=\"report\"\r\n"
                                  "Content-Type: application/json\r\n\r\n",
                                  report.dump(), "\r\n");
  for (const FilePart& photo : photos) {
    absl::StrAppend(&body, "--", kBoundary,
                    "\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"",
                    photo.filename, "\"\r\nContent-Type: ", photo.content_type, "\r\n\r\n",
                    photo.bytes, "\r\n");
  }
  absl::StrAppend(&body, "--", kBoundary, "--\r\n");
  return body;
}

TEST_CASE(
    "Rate limits answer 429 with Retry-After per device and per address, others go on, "
    "and CORS answers the portal's origin only",
    "[e2e][edge]") {
  TempDir dir;
  CivicdProcess civicd(
      dir.path(), {"--set", "gateway.rate_per_device_per_min=3", "--set",
                   "gateway.rate_per_ip_per_min=5", "--set", "gateway.trusted_proxies=127.0.0.1",
                   "--set", absl::StrCat("gateway.cors_allowed_origins=", kPortal)});
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);
  auto get = [&](const std::string& target, const Headers& headers) {
    return gateway.Request("GET", target, "", "", headers);
  };

  // ---- Per device: three a minute, in a burst.
  const Headers device_a = {{"X-Device-Id", "e2e-edge-device-a"}};
  for (int i = 0; i < 3; ++i) {
    const HttpResponse ok = get("/v1/categories", device_a);
    INFO(ok.Describe().substr(0, 500));
    REQUIRE(ok.status == 200);
  }
  const HttpResponse limited = get("/v1/categories", device_a);
  ExpectProblem(limited, 429, "device-rate-limited");
  CHECK(RetryAfter(limited) >= 1);
  CHECK(RetryAfter(limited) <= 20);  // one request every 20 s
  CHECK_FALSE(limited.Header("X-Request-Id").empty());
  // Another device is not affected; neither are health and the API's description.
  CHECK(get("/v1/categories", {{"X-Device-Id", "e2e-edge-device-b"}}).status == 200);
  CHECK(get("/healthz", device_a).status == 200);
  CHECK(get("/openapi.json", device_a).status == 200);
  // A browser on the portal can read the refusal.
  const HttpResponse limited_cors =
      get("/v1/categories", {{"X-Device-Id", "e2e-edge-device-a"}, {"Origin", kPortal}});
  CHECK(limited_cors.status == 429);
  CHECK(limited_cors.Header("Access-Control-Allow-Origin") == kPortal);
  CHECK(absl::StrContains(limited_cors.Header("Access-Control-Expose-Headers"), "Retry-After"));

  // ---- Per client address, named by the trusted proxy (127.0.0.1) in X-Forwarded-For.
  const Headers client_1 = {{"X-Forwarded-For", "203.0.113.7"}};
  for (int i = 0; i < 5; ++i) {
    const HttpResponse ok = get("/v1/categories", client_1);
    INFO(ok.Describe().substr(0, 500));
    REQUIRE(ok.status == 200);
  }
  const HttpResponse address_limited = get("/v1/categories", client_1);
  ExpectProblem(address_limited, 429, "ip-rate-limited");
  CHECK(RetryAfter(address_limited) >= 1);
  CHECK(RetryAfter(address_limited) <= 12);
  // A client cannot escape by claiming another address left of the proxy's entry.
  ExpectProblem(get("/v1/categories", {{"X-Forwarded-For", "198.51.100.1, 203.0.113.7"}}), 429,
                "ip-rate-limited");
  CHECK(get("/v1/categories", {{"X-Forwarded-For", "203.0.113.8"}}).status == 200);
  // The proxy itself (loopback, without X-Forwarded-For) is not limited by address.
  for (int i = 0; i < 8; ++i) CHECK(gateway.Get("/v1/categories").status == 200);

  // ---- The refusals are counted.
  const HttpClient metrics(civicd.endpoints().metrics_http);
  const HttpResponse scraped = metrics.Get("/metrics");
  REQUIRE(scraped.status == 200);
  CHECK(absl::StrContains(scraped.body, "civicdesk_gateway_rate_limited_total{limit=\"device\"}"));
  CHECK(absl::StrContains(scraped.body, "civicdesk_gateway_rate_limited_total{limit=\"ip\"}"));

  // ---- CORS preflight from the portal: allowed, with the path's methods.
  const HttpResponse preflight =
      gateway.Request("OPTIONS", "/v1/reports", "", "",
                      {{"Origin", kPortal},
                       {"Access-Control-Request-Method", "POST"},
                       {"Access-Control-Request-Headers", "content-type, x-device-id"}});
  INFO(preflight.Describe());
  CHECK(preflight.status == 204);
  CHECK(preflight.Header("Access-Control-Allow-Origin") == kPortal);
  CHECK(absl::StrContains(preflight.Header("Access-Control-Allow-Methods"), "POST"));
  CHECK(absl::StrContains(preflight.Header("Access-Control-Allow-Headers"), "X-Device-Id"));
  CHECK(absl::StrContains(preflight.Header("Access-Control-Allow-Headers"), "Content-Type"));
  CHECK(preflight.Header("Access-Control-Max-Age") == "600");
  CHECK(absl::StrContains(preflight.Header("Vary"), "Origin"));
  const HttpResponse preflight_get =
      gateway.Request("OPTIONS", "/v1/reports/HCM-XXXX", "", "",
                      {{"Origin", kPortal}, {"Access-Control-Request-Method", "GET"}});
  CHECK(preflight_get.status == 204);
  CHECK(preflight_get.Header("Access-Control-Allow-Methods") == "GET");

  // ---- ... and from another origin: no CORS headers, so the browser blocks the call.
  const HttpResponse refused = gateway.Request(
      "OPTIONS", "/v1/reports", "", "",
      {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  INFO(refused.Describe());
  CHECK(refused.status == 204);
  CHECK(refused.Header("Access-Control-Allow-Origin").empty());
  CHECK(refused.Header("Access-Control-Allow-Methods").empty());
  CHECK(refused.Header("Access-Control-Allow-Headers").empty());

  // ---- Actual answers: the portal may read them, another origin may not.
  const HttpResponse portal = get("/v1/categories", {{"Origin", kPortal}});
  CHECK(portal.status == 200);
  CHECK(portal.Header("Access-Control-Allow-Origin") == kPortal);
  CHECK(absl::StrContains(portal.Header("Access-Control-Expose-Headers"), "X-Request-Id"));
  const HttpResponse other = get("/v1/categories", {{"Origin", "https://evil.example"}});
  CHECK(other.status == 200);
  CHECK(other.Header("Access-Control-Allow-Origin").empty());
  // An unknown path is still a 404, preflight or not.
  CHECK(gateway.Request("OPTIONS", "/v1/no-such-thing", "", "", {{"Origin", kPortal}}).status ==
        404);

  REQUIRE(civicd.Terminate() == 0);
}

TEST_CASE(
    "A report with photos arrives as multipart/form-data, the photos come back as "
    "images without location or camera data, oversized bodies get 413",
    "[e2e][edge]") {
  TempDir dir;
  constexpr int64_t kMaxUpload = 3000000;
  CivicdProcess civicd(dir.path(),
                       {"--set", absl::StrCat("gateway.max_upload_bytes=", kMaxUpload)});
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);
  const std::vector<SampleReport> samples = LoadSampleReports(1);
  REQUIRE(samples.size() == 1);
  int variant = 0;
  auto report = [&] {
    json request = samples[0].request;
    request["client_request_id"] = absl::StrCat("e2e-edge-", ++variant);
    return request;
  };

  // ---- A JPEG and a PNG, both carrying GPS and camera metadata.
  const Image jpeg = MakeJpeg();
  const Image png = MakePng();
  REQUIRE(HasSecrets(jpeg.bytes));
  REQUIRE(HasSecrets(png.bytes));
  const HttpResponse submitted =
      gateway.Post("/v1/reports",
                   Form(report(), {{"ảnh ổ gà.jpg", "image/jpeg", jpeg.bytes},
                                   {"IMG_0001.PNG", "application/octet-stream", png.bytes}}),
                   FormContentType());
  INFO(submitted.Describe());
  REQUIRE(submitted.status == 200);
  const json answer = Body(submitted);
  CHECK_FALSE(JsonString(answer, "tracking_code").empty());
  REQUIRE(answer.contains("photo_ids"));
  REQUIRE(answer["photo_ids"].size() == 2);

  const std::vector<std::pair<std::string, const Image*>> expected = {{"image/jpeg", &jpeg},
                                                                      {"image/png", &png}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::string id = answer["photo_ids"][i].get<std::string>();
    const HttpResponse photo = gateway.Get("/v1/photos/" + id);
    INFO("photo " << i << " " << id << ": " << photo.status << " " << photo.Header("Content-Type"));
    REQUIRE(photo.status == 200);
    CHECK(photo.Header("Content-Type") == expected[i].first);
    CHECK(photo.body == expected[i].second->expected);
    CHECK_FALSE(HasSecrets(photo.body));
    CHECK(photo.Header("Cache-Control") == "public, max-age=86400, immutable");
    CHECK(photo.Header("X-Content-Type-Options") == "nosniff");
    CHECK_FALSE(photo.Header("X-Request-Id").empty());
  }
  ExpectProblem(gateway.Get("/v1/photos/no-such-photo"), 404, "photo-not-found");

  // ---- Larger than a JSON body may be, within the upload limit: accepted.
  const Image big = MakeJpeg(2 << 20);
  const HttpResponse big_submitted = gateway.Post(
      "/v1/reports", Form(report(), {{"big.jpg", "image/jpeg", big.bytes}}), FormContentType());
  INFO(big_submitted.Describe().substr(0, 1000));
  REQUIRE(big_submitted.status == 200);
  const json big_answer = Body(big_submitted);
  REQUIRE(big_answer["photo_ids"].size() == 1);
  const HttpResponse big_photo =
      gateway.Get("/v1/photos/" + big_answer["photo_ids"][0].get<std::string>());
  CHECK(big_photo.status == 200);
  CHECK(big_photo.body == big.expected);

  // ---- Broken or misdirected uploads.
  const std::string form = Form(report(), {{"a.jpg", "image/jpeg", jpeg.bytes}});
  ExpectProblem(gateway.Post("/v1/reports", form.substr(0, form.size() - 30), FormContentType()),
                400, "malformed-multipart");
  ExpectProblem(gateway.Post("/v1/reports", form, "multipart/form-data"), 400,
                "malformed-multipart");
  ExpectProblem(gateway.Post("/v1/reports/HCM-XXXX/rating", form, FormContentType()), 415,
                "unsupported-media-type");

  // ---- Too large: a JSON body over max_body_bytes (1 MiB), an upload over max_upload_bytes.
  json huge = report();
  huge["description"] = std::string((1 << 20) + 1024, 'a');
  const HttpResponse json_too_large = gateway.Post("/v1/reports", huge.dump());
  ExpectProblem(json_too_large, 413, "body-too-large");
  CHECK(absl::StrContains(JsonString(Body(json_too_large), "detail"), std::to_string(1 << 20)));
  const Image too_big = MakeJpeg(kMaxUpload);
  const HttpResponse upload_too_large =
      gateway.Post("/v1/reports", Form(report(), {{"huge.jpg", "image/jpeg", too_big.bytes}}),
                   FormContentType());
  ExpectProblem(upload_too_large, 413, "body-too-large");
  CHECK(
      absl::StrContains(JsonString(Body(upload_too_large), "detail"), std::to_string(kMaxUpload)));

  REQUIRE(civicd.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
