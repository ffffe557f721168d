// Runs a real civicd binary for end-to-end tests (see civicd_process.h).
#include "tests/support/civicd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#ifndef CIVICD_BINARY
#error "CIVICD_BINARY must name the civicd executable (set by tests/CMakeLists.txt)"
#endif
#ifndef CIVIC_SOURCE_DIR
#error "CIVIC_SOURCE_DIR must name the source tree (set by tests/CMakeLists.txt)"
#endif

namespace civic::testing {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(20);
constexpr absl::Duration kKillTimeout = absl::Seconds(10);

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// Reads a whole file; "" when it cannot be read.
std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// ---------------------------------------------------------------------------------
// TempDir

TempDir::TempDir() {
  std::string pattern = "/tmp/civicd-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(absl::StrCat("mkdtemp failed: ", ErrnoText(errno)));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  const char* keep = std::getenv("CIVIC_KEEP_TEST_DIRS");
  if (keep != nullptr && *keep != '\0' && std::string(keep) != "0") {
    std::cerr << "keeping test directory " << path_ << "\n";
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path SharedDataDir() {
  const char* env = std::getenv("CIVIC_SHARED_DATA");
  if (env != nullptr && *env != '\0') return std::filesystem::path(env);
  return std::filesystem::path(CIVIC_SOURCE_DIR "/../shared/data");
}

// ---------------------------------------------------------------------------------
// CivicdProcess

CivicdProcess::CivicdProcess(std::filesystem::path dir, std::vector<std::string> extra_args)
    : dir_(std::move(dir)),
      data_dir_(dir_ / "data"),
      ready_file_(dir_ / "ready.json"),
      log_path_(dir_ / "civicd.log"),
      extra_args_(std::move(extra_args)) {}

CivicdProcess::~CivicdProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

void CivicdProcess::Start() {
  if (running()) throw std::logic_error("civicd is already running");
  std::error_code ec;
  std::filesystem::create_directories(data_dir_, ec);
  if (ec) Fail(absl::StrCat("cannot create ", data_dir_.string(), ": ", ec.message()));
  // A ready file left by an earlier run would make us talk to dead ports.
  std::filesystem::remove(ready_file_, ec);
  endpoints_ = CivicdEndpoints{};
  Spawn();
  WaitForReady();
}

void CivicdProcess::Restart() {
  if (running()) throw std::logic_error("Restart() needs civicd stopped first");
  Start();
}

void CivicdProcess::Spawn() {
  std::vector<std::string> args = {
      CIVICD_BINARY,
      absl::StrCat("--data-dir=", data_dir_.string()),
      "--ephemeral-ports",
      absl::StrCat("--ready-file=", ready_file_.string()),
      absl::StrCat("--shared-data=", SharedDataDir().string()),
  };
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  ++starts_;
  {
    std::ofstream log(log_path_, std::ios::app);
    log << "=== civicd-test: start #" << starts_ << ":";
    for (const std::string& arg : args) log << " " << arg;
    log << "\n";
  }
  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) Fail(absl::StrCat("cannot open ", log_path_.string(), ": ", ErrnoText(errno)));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    ::close(log_fd);
    Fail(absl::StrCat("cannot open /dev/null: ", ErrnoText(errno)));
  }

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. Die with the test process, so a
    // crashed or timed-out test never leaves a civicd behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    static constexpr char kExecFailed[] = "civicd-test: execv of civicd failed\n";
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) Fail(absl::StrCat("fork failed: ", ErrnoText(fork_errno)));
  pid_ = pid;
}

void CivicdProcess::WaitForReady() {
  const absl::Time deadline = absl::Now() + kReadyTimeout;
  std::string last_parse_error;
  while (true) {
    int exit_code = 0;
    if (WaitForExit(absl::ZeroDuration(), &exit_code)) {
      Fail(absl::StrCat("civicd exited with status ", exit_code, " before it was ready"));
    }
    std::error_code ec;
    if (std::filesystem::exists(ready_file_, ec)) {
      // The file is written atomically, but tolerate a partial one: keep polling.
      nlohmann::json ready = nlohmann::json::parse(ReadFile(ready_file_), nullptr, false);
      if (ready.is_object()) {
        try {
          CivicdEndpoints endpoints;
          endpoints.pid = ready.value("pid", 0);
          // Absent when the gateway is not among the process's targets.
          endpoints.gateway_http = ready.value("gateway_http", "");
          endpoints.metrics_http = ready.at("metrics_http").get<std::string>();
          for (const auto& [name, address] : ready.at("grpc").items()) {
            endpoints.grpc[name] = address.get<std::string>();
          }
          endpoints_ = std::move(endpoints);
          return;
        } catch (const nlohmann::json::exception& e) {
          last_parse_error = e.what();
        }
      } else {
        last_parse_error = "not a JSON object";
      }
    }
    if (absl::Now() >= deadline) {
      int ignored = 0;
      ::kill(pid_, SIGKILL);
      WaitForExit(kKillTimeout, &ignored);
      Fail(absl::StrCat("civicd was not ready within ", absl::FormatDuration(kReadyTimeout),
                        last_parse_error.empty()
                            ? std::string(" (no ready file)")
                            : absl::StrCat(" (ready file unusable: ", last_parse_error, ")")));
    }
    absl::SleepFor(kPollInterval);
  }
}

bool CivicdProcess::WaitForExit(absl::Duration timeout, int* exit_code) {
  if (pid_ <= 0) {
    *exit_code = 0;
    return true;
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      *exit_code = ExitCodeOf(status);
      pid_ = -1;
      return true;
    }
    if (r < 0 && errno != EINTR) {
      // Not our child any more (should not happen): treat as gone.
      *exit_code = -1;
      pid_ = -1;
      return true;
    }
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(kPollInterval);
  }
}

int CivicdProcess::Terminate() {
  if (!running()) throw std::logic_error("Terminate(): civicd is not running");
  ::kill(pid_, SIGTERM);
  int exit_code = 0;
  if (!WaitForExit(kTerminateTimeout, &exit_code)) {
    ::kill(pid_, SIGKILL);
    WaitForExit(kKillTimeout, &exit_code);
    Fail(absl::StrCat("civicd did not exit within ", absl::FormatDuration(kTerminateTimeout),
                      " of SIGTERM"));
  }
  if (exit_code != 0) {
    std::cerr << "civicd exited with status " << exit_code << " after SIGTERM; log tail ("
              << log_path_.string() << "):\n"
              << LogTail() << "\n";
  }
  return exit_code;
}

void CivicdProcess::Kill() {
  if (!running()) throw std::logic_error("Kill(): civicd is not running");
  ::kill(pid_, SIGKILL);
  int exit_code = 0;
  if (!WaitForExit(kKillTimeout, &exit_code)) {
    Fail("civicd did not die within 10 s of SIGKILL");
  }
}

std::string CivicdProcess::LogTail(int lines) const {
  std::ifstream in(log_path_);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(std::move(line));
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out;
  for (const std::string& l : tail) absl::StrAppend(&out, l, "\n");
  return out;
}

void CivicdProcess::Fail(const std::string& what) const {
  throw std::runtime_error(absl::StrCat(what, "\n--- tail of ", log_path_.string(), " ---\n",
                                        LogTail(), "--- end of log ---"));
}

}  // namespace civic::testing
