// A client not written in C++ works the agency API as a government unit's own system
// would: tests/js/agency_client.js (Node.js, @grpc/grpc-js) connects to the mutual-TLS
// agency port with its unit's client certificate, watches its queue, accepts, starts and
// resolves its case, and is refused another unit's. Beside it, C++ checks that a
// certificate from another CA is refused at the handshake and that a unit's certificate
// cannot reach the internal RPCs.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "civic/cases/v1/cases.grpc.pb.h"
#include "libs/rpc/test_pki.h"
#include "tests/support/civic_api.h"
#include "tests/support/civicd_process.h"
#include "tests/support/http_client.h"

extern char** environ;

#ifndef CIVIC_GOOGLEAPIS_DIR
#error "CIVIC_GOOGLEAPIS_DIR must name the googleapis protos (set by tests/CMakeLists.txt)"
#endif

namespace civic::testing {
namespace {

using civic::cases::v1::CasesService;
using nlohmann::json;
using rpc::testing::IssuedCert;
using rpc::testing::TestPki;

constexpr char kSetupHint[] =
    "run `bash tools/setup.sh` (it installs Node.js and npm and "
    "runs `npm ci` in tests/js)";

// The first executable called `name` on the PATH; "" when there is none.
std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `argv` with stdout and stderr captured in files under `dir`; kills it after
// `timeout` (the client has its own, shorter, hard timeout: this one guards the test).
ProcessResult Run(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                  absl::Duration timeout) {
  const std::filesystem::path out_path = dir / "node.out";
  const std::filesystem::path err_path = dir / "node.err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ProcessResult result;
  if (spawned != 0) {
    result.err = absl::StrCat("posix_spawn of ", argv[0], " failed: ", spawned);
    return result;
  }
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) break;
    if (absl::Now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  result.exit_code = ExitCodeOf(status);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

// A cases stub on the agency port, presenting `client` and trusting `ca_pem` for the
// server's certificate.
std::unique_ptr<CasesService::Stub> AgencyStub(const std::string& address,
                                               const std::string& ca_pem,
                                               const IssuedCert& client) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca_pem;
  ssl.pem_private_key = client.key_pem;
  ssl.pem_cert_chain = client.cert_pem;
  return CasesService::NewStub(grpc::CreateChannel(address, grpc::SslCredentials(ssl)));
}

struct OpenedCase {
  std::string tracking_code;
  std::string case_id;
  std::string unit_id;
};

TEST_CASE(
    "A Node.js agency system with its unit's client certificate works its own case and "
    "is refused another unit's, a foreign certificate and the internal RPCs are refused",
    "[e2e][agency][mtls][node]") {
  // Missing tools fail the test: a skipped test would hide that the suite no longer
  // proves a non-C++ client works.
  const std::string node = FindInPath("node");
  if (node.empty()) FAIL("node is not on the PATH: " << kSetupHint);
  const std::filesystem::path js_dir = std::filesystem::path(CIVIC_SOURCE_DIR) / "tests" / "js";
  for (const char* package : {"grpc-js", "proto-loader"}) {
    if (!std::filesystem::exists(js_dir / "node_modules" / "@grpc" / package)) {
      FAIL("tests/js/node_modules/@grpc/" << package << " is missing: " << kSetupHint);
    }
  }

  TempDir dir;
  const std::filesystem::path pki_dir = dir.path() / "pki";
  std::filesystem::create_directories(pki_dir);
  const TestPki pki("CivicDesk e2e agency CA");
  const std::filesystem::path ca_file = pki.WriteCa(pki_dir);
  const rpc::testing::CertFiles server_files =
      pki.IssueServer("localhost", {"IP:127.0.0.1", "DNS:localhost"}).WriteTo(pki_dir, "server");

  CivicdProcess civicd(dir.path(),
                       {"--set", "cases.agency_listen=127.0.0.1:0", "--set",
                        absl::StrCat("cases.tls_cert_file=", server_files.cert.string()), "--set",
                        absl::StrCat("cases.tls_key_file=", server_files.key.string()), "--set",
                        absl::StrCat("cases.tls_client_ca_file=", ca_file.string())});
  civicd.Start();
  REQUIRE(civicd.endpoints().grpc.count("cases_agency") == 1);
  const std::string agency_address = civicd.endpoints().grpc.at("cases_agency");
  REQUIRE(agency_address != civicd.endpoints().grpc.at("cases"));
  const HttpClient gateway(civicd.endpoints().gateway_http);

  // Two cases routed to different units: submit a few samples and take the first
  // case and the first later one handled by another unit.
  std::vector<std::string> codes;
  for (const SampleReport& sample : LoadSampleReports(6)) {
    const SubmitResult submitted = SubmitReport(gateway, sample.request);
    INFO(submitted.response.Describe());
    REQUIRE(submitted.response.status == 200);
    if (submitted.supports_tracking_code.empty()) codes.push_back(submitted.tracking_code);
  }
  const PipelineWait opened = WaitForCases(gateway, codes, absl::Seconds(60));
  INFO(opened.DescribePending());
  REQUIRE(opened.ok());
  std::vector<OpenedCase> cases;
  for (const std::string& code : codes) {
    const json& status = opened.last_seen.at(code);
    OpenedCase c{.tracking_code = code,
                 .case_id = JsonString(status, "case_id"),
                 .unit_id = JsonString(status.value("unit", json::object()), "id")};
    if (cases.empty() || c.unit_id != cases[0].unit_id) cases.push_back(c);
    if (cases.size() == 2) break;
  }
  REQUIRE(cases.size() == 2);
  const OpenedCase& mine = cases[0];
  const OpenedCase& theirs = cases[1];
  INFO("unit " << mine.unit_id << " case " << mine.case_id << "; other unit " << theirs.unit_id
               << " case " << theirs.case_id);

  const IssuedCert my_cert = pki.IssueClient(mine.unit_id);
  const rpc::testing::CertFiles my_files = my_cert.WriteTo(pki_dir, "unit");

  // A certificate for the same unit from another CA: refused at the handshake.
  {
    const TestPki rogue("Rogue CA");
    auto stub = AgencyStub(agency_address, pki.ca_pem(), rogue.IssueClient(mine.unit_id));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    civic::cases::v1::GetCaseRequest request;
    request.set_case_id(mine.case_id);
    civic::cases::v1::Case c;
    const grpc::Status status = stub->GetCase(&context, request, &c);
    INFO(status.error_code() << ": " << status.error_message());
    CHECK_FALSE(status.ok());
    // Refused by TLS, never answered by the service (which would say NOT_FOUND or OK).
    CHECK((status.error_code() == grpc::StatusCode::UNAVAILABLE ||
           status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED));
  }
  // The unit's own certificate cannot reach the internal RPCs.
  {
    auto stub = AgencyStub(agency_address, pki.ca_pem(), my_cert);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    civic::cases::v1::OpenCaseRequest request;
    request.set_report_id("forged-report");
    request.set_tracking_code("PA-0000-FORGE-00");
    request.set_category("traffic.pothole");
    request.mutable_unit()->set_id(mine.unit_id);
    civic::cases::v1::Case c;
    const grpc::Status status = stub->OpenCase(&context, request, &c);
    INFO(status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }

  // The Node.js agency system.
  ::setenv("CIVIC_GOOGLEAPIS_DIR", CIVIC_GOOGLEAPIS_DIR, /*overwrite=*/0);
  const ProcessResult client =
      Run({node, (js_dir / "agency_client.js").string(), agency_address, ca_file.string(),
           my_files.cert.string(), my_files.key.string(), mine.case_id, theirs.case_id},
          dir.path(), absl::Seconds(60));
  INFO("agency_client.js exit " << client.exit_code << "\nstdout:\n"
                                << client.out << "\nstderr:\n"
                                << client.err);
  REQUIRE(client.exit_code == 0);
  const json summary = json::parse(client.out, nullptr, false);
  REQUIRE(summary.is_object());
  CHECK(summary.value("ok", false));
  CHECK(summary.value("unit", "") == mine.unit_id);

  // The citizen sees the resolution; the other unit's case is untouched.
  const PipelineWait resolved =
      WaitForCases(gateway, {mine.tracking_code}, absl::Seconds(30), "resolved");
  INFO(resolved.DescribePending());
  CHECK(resolved.ok());
  const std::optional<json> other = GetReportStatus(gateway, theirs.tracking_code);
  REQUIRE(other.has_value());
  CHECK(JsonString(*other, "status") == "new");

  REQUIRE(civicd.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
