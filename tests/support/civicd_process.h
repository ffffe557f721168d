// Runs a real civicd binary for end-to-end tests: starts it on ephemeral ports in a
// private directory, waits for its ready file, and stops it gracefully or by force.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace civic::testing {

// A fresh directory under /tmp (mkdtemp), removed with everything in it on destruction.
// Set CIVIC_KEEP_TEST_DIRS=1 to keep it for a post-mortem; its path is then printed.
// Declare it before any CivicdProcess that uses it, so the process dies first.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The shared reference data (boundaries, categories, sample reports): $CIVIC_SHARED_DATA
// when set (CTest sets it), else <source dir>/../shared/data.
std::filesystem::path SharedDataDir();

// Where a running civicd listens, from its ready file.
struct CivicdEndpoints {
  int pid = 0;
  std::string gateway_http;  // "127.0.0.1:PORT"
  std::string metrics_http;  // "127.0.0.1:PORT"
  // Service short name ("intake", "routing", "cases", "notify", "analytics") to
  // "127.0.0.1:PORT".
  std::map<std::string, std::string> grpc;
};

// One civicd process (all services, --target=all) whose state lives in a directory
// owned by the test:
//   <dir>/data        --data-dir, kept across restarts
//   <dir>/ready.json  --ready-file, removed before every start
//   <dir>/civicd.log  stdout and stderr of every run, appended
// Failures (cannot start, dies before ready, not ready in time, does not stop) throw
// std::runtime_error with the tail of the log in the message.
class CivicdProcess {
 public:
  // How long Start() waits for the ready file.
  static constexpr absl::Duration kReadyTimeout = absl::Seconds(60);
  // How long Terminate() waits for a graceful exit after SIGTERM.
  static constexpr absl::Duration kTerminateTimeout = absl::Seconds(30);

  // Does not start the process; call Start().
  explicit CivicdProcess(std::filesystem::path dir,
                         std::vector<std::string> extra_args = {});
  // Kills the process (SIGKILL) if it still runs.
  ~CivicdProcess();
  CivicdProcess(const CivicdProcess&) = delete;
  CivicdProcess& operator=(const CivicdProcess&) = delete;

  // Starts civicd and blocks until its ready file appears and parses.
  void Start();

  // SIGTERM, then waits for the exit. Returns the exit code (128 + signal number when
  // it died by a signal); a healthy civicd returns 0. On a non-zero status the log tail
  // is printed to stderr.
  int Terminate();

  // SIGKILL, then waits for the process to be gone.
  void Kill();

  // Starts again on the same data directory after Terminate() or Kill(). Throws
  // std::logic_error if the process is still running.
  void Restart();

  bool running() const { return pid_ > 0; }

  // Arguments added after the harness's own from the next Start()/Restart() on (e.g. to
  // pin a restarted service to the ports its peers already know).
  void set_extra_args(std::vector<std::string> extra_args) { extra_args_ = std::move(extra_args); }
  const CivicdEndpoints& endpoints() const { return endpoints_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  const std::filesystem::path& log_path() const { return log_path_; }

  // The last `lines` lines of civicd's log (all runs).
  std::string LogTail(int lines = 60) const;

 private:
  void Spawn();
  void WaitForReady();
  // Waits up to `timeout` for the child to exit; returns false when it is still alive.
  bool WaitForExit(absl::Duration timeout, int* exit_code);
  [[noreturn]] void Fail(const std::string& what) const;

  std::filesystem::path dir_;
  std::filesystem::path data_dir_;
  std::filesystem::path ready_file_;
  std::filesystem::path log_path_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  int starts_ = 0;
  CivicdEndpoints endpoints_;
};

// Converts a status from waitpid() to an exit code, 128 + signal for a signalled death.
int ExitCodeOf(int wait_status);

}  // namespace civic::testing
