// The gateway's error table end to end, for the mappings no other end-to-end test reaches:
// a backend's refusal keeps its meaning over real HTTP (409 for a reused client_request_id,
// 412 for rating a case that is not resolved), and a backend that is down (503) or that
// never answers (504) gets a problem document instead of a hung or dropped request.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/support/civic_api.h"
#include "tests/support/civicd_process.h"
#include "tests/support/http_client.h"

namespace civic::testing {
namespace {

using nlohmann::json;

// Checks that `response` is an RFC 9457 problem for `status`: problem+json, a type ending
// in "/<slug>", `title` as title, the same status in the body, a detail saying why, and
// the X-Request-Id the test sent (`request_id`) in the header and in the body. Returns
// the body (null when it is not JSON).
json ExpectProblem(const HttpResponse& response, int status, const std::string& title,
                   const std::string& slug, const std::string& request_id) {
  INFO(response.Describe());
  CHECK(response.status == status);
  CHECK(response.MediaType() == "application/problem+json");
  CHECK(response.Header("X-Request-Id") == request_id);
  const json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  CHECK(body.is_object());
  if (!body.is_object()) return body;
  CHECK(absl::EndsWith(JsonString(body, "type"), "/" + slug));
  CHECK(JsonString(body, "title") == title);
  CHECK(body.value("status", json()) == json(status));
  CHECK_FALSE(JsonString(body, "detail").empty());
  CHECK(JsonString(body, "request_id") == request_id);
  return body;
}

// `GET target` with our own X-Request-Id, plus `headers`.
HttpResponse GetWithId(const HttpClient& gateway, const std::string& target,
                       const std::string& request_id, HttpClient::Headers headers = {}) {
  headers.emplace_back("X-Request-Id", request_id);
  return gateway.Request("GET", target, "", "", headers);
}

// `POST target` of a JSON body with our own X-Request-Id.
HttpResponse PostWithId(const HttpClient& gateway, const std::string& target, const json& body,
                        const std::string& request_id) {
  return gateway.Request("POST", target, body.dump(), "application/json",
                         {{"X-Request-Id", request_id}});
}

[[noreturn]] void ThrowErrno(const std::string& what) {
  throw std::runtime_error(absl::StrCat(what, ": ", std::strerror(errno)));
}

// An IPv4 TCP socket bound to 127.0.0.1 on a port the kernel picks; close-on-exec, so
// civicd (a child of the test) never holds it.
int BindLoopback(uint16_t* port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowErrno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int saved = errno;
    close(fd);
    errno = saved;
    ThrowErrno("bind 127.0.0.1:0");
  }
  *port = ntohs(address.sin_port);
  return fd;
}

// A loopback address where nothing listens: connections are refused. The port stays
// bound (never listening) while this lives, so no other socket, civicd's own ephemeral
// ones included, can take it meanwhile.
class RefusingAddress {
 public:
  RefusingAddress() : fd_(BindLoopback(&port_)) {}
  ~RefusingAddress() { close(fd_); }
  RefusingAddress(const RefusingAddress&) = delete;
  RefusingAddress& operator=(const RefusingAddress&) = delete;

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  uint16_t port_ = 0;
  int fd_ = -1;
};

// A backend that accepts TCP connections and never writes a byte: to a gRPC client the
// connection stays in its HTTP/2 handshake (the server's SETTINGS frame never comes), so
// calls wait for it until their deadline. Connections are held open until destruction.
class SilentBackend {
 public:
  SilentBackend() : listener_(BindLoopback(&port_)) {
    if (listen(listener_, 16) != 0 || pipe2(wake_, O_CLOEXEC) != 0) {
      const int saved = errno;
      close(listener_);
      errno = saved;
      ThrowErrno("silent backend");
    }
    thread_ = std::thread([this] { Run(); });
  }

  ~SilentBackend() {
    const char stop = 0;
    const ssize_t written = write(wake_[1], &stop, 1);
    (void)written;  // a full pipe still wakes the thread
    thread_.join();
    for (const int fd : held_) close(fd);
    close(listener_);
    close(wake_[0]);
    close(wake_[1]);
  }
  SilentBackend(const SilentBackend&) = delete;
  SilentBackend& operator=(const SilentBackend&) = delete;

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  // Connections accepted so far.
  int accepted() const { return accepted_.load(); }

 private:
  void Run() {
    pollfd fds[2] = {{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    while (true) {
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      if ((fds[0].revents & POLLIN) != 0) {
        const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          held_.push_back(fd);  // only this thread touches held_ until join()
          ++accepted_;
        }
      }
    }
  }

  uint16_t port_ = 0;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::vector<int> held_;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// civicd running the gateway alone, with intake expected at `intake_address`. The other
// backends keep their configured addresses: these tests only call intake's routes.
std::vector<std::string> GatewayOnlyArgs(const std::string& intake_address) {
  return {"--target=gateway", "--set", "gateway.intake_address=" + intake_address};
}

TEST_CASE("Backend errors over HTTP: a client_request_id reused for a different report is "
          "409 Conflict and changes nothing",
          "[e2e][errors]") {
  TempDir dir;
  CivicdProcess civicd(dir.path());
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);

  const std::vector<SampleReport> samples = LoadSampleReports(1);
  REQUIRE(samples.size() == 1);
  json original = samples[0].request;
  original["client_request_id"] = "errors-idempotency-1";
  const SubmitResult first = SubmitReport(gateway, original);
  {
    INFO("original → " << first.response.Describe());
    REQUIRE(first.response.status == 200);
    REQUIRE_FALSE(first.tracking_code.empty());
    REQUIRE_FALSE(first.replayed);
  }
  const std::optional<json> before = GetReportStatus(gateway, first.tracking_code);
  REQUIRE(before.has_value());

  // The same key for another report: answering with the original's tracking code would
  // hand one citizen's report to another.
  json changed = original;
  changed["description"] = JsonString(original, "description") + " (edited)";
  const HttpResponse reused = PostWithId(gateway, "/v1/reports", changed, "errors-409");
  ExpectProblem(reused, 409, "Conflict", "idempotency-key-reused", "errors-409");
  CHECK_FALSE(absl::StrContains(reused.body, first.tracking_code));

  // Nothing changed: the original request still replays to the original report (it would
  // be a conflict too had the edit been stored), which answers as before.
  const SubmitResult replay = SubmitReport(gateway, original);
  {
    INFO("original again → " << replay.response.Describe());
    REQUIRE(replay.response.status == 200);
    CHECK(replay.replayed);
    CHECK(replay.tracking_code == first.tracking_code);
  }
  const std::optional<json> after = GetReportStatus(gateway, first.tracking_code);
  REQUIRE(after.has_value());
  for (const char* field : {"tracking_code", "category", "received_at"}) {
    INFO(field);
    CHECK(after->value(field, json()) == before->value(field, json()));
  }
  CHECK(civicd.Terminate() == 0);
}

TEST_CASE("Backend errors over HTTP: rating a report whose case is not resolved is "
          "412 Precondition Failed and leaves the case as it was",
          "[e2e][errors]") {
  TempDir dir;
  CivicdProcess civicd(dir.path());
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);

  const std::vector<SampleReport> samples = LoadSampleReports(1);
  REQUIRE(samples.size() == 1);
  const SubmitResult submitted = SubmitReport(gateway, samples[0].request);
  {
    INFO(submitted.response.Describe());
    REQUIRE(submitted.response.status == 200);
    REQUIRE_FALSE(submitted.tracking_code.empty());
  }
  const std::string code = submitted.tracking_code;
  // Once the case is open, the refusal comes from cases itself (through intake), the
  // same whatever the timing of the pipeline.
  const PipelineWait opened = WaitForCases(gateway, {code}, absl::Seconds(30));
  {
    INFO(opened.DescribePending());
    REQUIRE(opened.ok());
  }
  const json open_status = opened.last_seen.at(code);

  const json rating = {{"rating", 5}, {"comment", "Thank you"}};
  ExpectProblem(PostWithId(gateway, "/v1/reports/" + code + "/rating", rating, "errors-412"), 412,
                "Precondition Failed", "action-not-allowed", "errors-412");

  // Still open and unrated: the refused rating neither closed nor rated the case.
  const std::optional<json> after = GetReportStatus(gateway, code);
  REQUIRE(after.has_value());
  INFO(after->dump());
  CHECK(JsonString(*after, "case_id") == JsonString(open_status, "case_id"));
  CHECK(JsonString(*after, "status") == JsonString(open_status, "status"));
  CHECK_FALSE(after->contains("rating"));
  CHECK(civicd.Terminate() == 0);
}

TEST_CASE("Backend errors over HTTP: a backend that cannot be reached is "
          "503 Service Unavailable",
          "[e2e][errors]") {
  const RefusingAddress nowhere;
  TempDir dir;
  CivicdProcess civicd(dir.path(), GatewayOnlyArgs(nowhere.address()));
  civicd.Start();
  REQUIRE(civicd.endpoints().grpc.count("intake") == 0);  // reached over the network
  const HttpClient gateway(civicd.endpoints().gateway_http);

  const HttpResponse response = GetWithId(gateway, "/v1/categories", "errors-503");
  ExpectProblem(response, 503, "Service Unavailable", "unavailable", "errors-503");
  // A refused connection carries no RetryInfo: the gateway's default hint, and nothing
  // of the backend's address (problem.h).
  CHECK(response.Header("Retry-After") == "1");
  CHECK(response.body.find(nowhere.address()) == std::string::npos);
  CHECK(civicd.Terminate() == 0);
}

TEST_CASE("Backend errors over HTTP: a backend that never answers is 504 Gateway Timeout "
          "within the X-Timeout-Ms the client set",
          "[e2e][errors]") {
  const SilentBackend silent;  // declared first: outlives civicd's connections to it
  TempDir dir;
  CivicdProcess civicd(dir.path(), GatewayOnlyArgs(silent.address()));
  civicd.Start();
  REQUIRE(civicd.endpoints().grpc.count("intake") == 0);
  const HttpClient gateway(civicd.endpoints().gateway_http);

  const HttpResponse response =
      GetWithId(gateway, "/v1/categories", "errors-504", {{"X-Timeout-Ms", "300"}});
  ExpectProblem(response, 504, "Gateway Timeout", "deadline-exceeded", "errors-504");
  // The gateway did reach the backend: the time ran out, not the connection.
  CHECK(Eventually([&] { return silent.accepted() >= 1; }, absl::Seconds(10)));
  CHECK(civicd.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
