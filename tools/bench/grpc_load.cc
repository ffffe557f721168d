// A closed-loop gRPC load generator for the calls the gateway benchmark also makes over
// HTTP, so the two paths can be compared in one run (tools/bench/gateway_bench.sh).
//
//   grpc_load --target=127.0.0.1:7101 --call=status --code=ABCD-1234 --concurrency=32
//   grpc_load --target=127.0.0.1:7101 --call=status --code=ABCD-1234 --seconds=10
//   grpc_load --target=127.0.0.1:7101 --call=submit --concurrency=32 --seconds=10
//
// Keeps `concurrency` calls in flight on one channel per 8 callers (as wrk keeps one
// connection per caller, and the gateway keeps warm channels), each caller issuing its
// next call when the previous one completes. Prints one JSON line: calls, errors,
// seconds, calls_per_s and latency percentiles.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "civic/intake/v1/intake.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using civic::intake::v1::IntakeService;

struct Options {
  std::string target = "127.0.0.1:7101";
  std::string call = "status";
  std::string code;
  int concurrency = 32;
  double seconds = 10;
};

bool ParseFlag(const std::string& arg, const char* name, std::string& out) {
  const std::string prefix = std::string("--") + name + "=";
  if (arg.rfind(prefix, 0) != 0) return false;
  out = arg.substr(prefix.size());
  return true;
}

// What every caller shares: the stop time, counters and latency samples.
struct Run {
  Clock::time_point stop;
  std::atomic<long> calls{0};
  std::atomic<long> errors{0};
  // Numbers this run's reports. Starts at a random point, so that every run sends new
  // reports (a client_request_id already used would be answered as a replay, without
  // the write being measured) spread over new places.
  std::atomic<long> sequence{static_cast<long>(std::random_device()() % 1000000000)};
  std::mutex mu;
  std::condition_variable done_cv;
  int active = 0;
  std::vector<double> latencies_ms;  // guarded by mu
};

// One closed-loop caller: issues a call, records it, issues the next until time is up.
class Caller {
 public:
  Caller(IntakeService::Stub* stub, const Options& options, Run* run, int id)
      : stub_(stub), options_(options), run_(run), id_(id) {}

  void Next() {
    if (Clock::now() >= run_->stop) {
      Finish();
      return;
    }
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    started_ = Clock::now();
    if (options_.call == "submit") {
      context_->AddMetadata("x-civic-device-id", "bench-device-" + std::to_string(id_));
      submit_.Clear();
      submit_.set_category("environment.blocked_drain");
      submit_.set_description("Cống nghẹt, nước tràn ra đường (benchmark)");
      // Spread the points so reports do not all join one case as "+1"s.
      const long n = run_->sequence.fetch_add(1);
      submit_.mutable_location()->set_lat(10.76 + (n % 1000) * 0.0007);
      submit_.mutable_location()->set_lon(106.66 + (n / 1000 % 100) * 0.0007);
      submit_.set_client_request_id("bench-grpc-" + std::to_string(n));
      stub_->async()->SubmitReport(context_.get(), &submit_, &submitted_,
                                   [this](grpc::Status s) { Completed(s); });
    } else {
      status_request_.set_tracking_code(options_.code);
      stub_->async()->GetReportStatus(context_.get(), &status_request_, &status_,
                                      [this](grpc::Status s) { Completed(s); });
    }
  }

 private:
  void Completed(const grpc::Status& status) {
    const double ms =
        std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    if (status.ok()) {
      run_->calls.fetch_add(1);
    } else {
      run_->errors.fetch_add(1);
    }
    samples_.push_back(ms);
    Next();
  }

  void Finish() {
    std::lock_guard lock(run_->mu);
    run_->latencies_ms.insert(run_->latencies_ms.end(), samples_.begin(), samples_.end());
    if (--run_->active == 0) run_->done_cv.notify_all();
  }

  IntakeService::Stub* stub_;
  const Options& options_;
  Run* run_;
  int id_;
  std::unique_ptr<grpc::ClientContext> context_;
  Clock::time_point started_;
  civic::intake::v1::SubmitReportRequest submit_;
  civic::intake::v1::SubmitReportResponse submitted_;
  civic::intake::v1::GetReportStatusRequest status_request_;
  civic::intake::v1::ReportStatus status_;
  std::vector<double> samples_;
};

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
  return sorted[i];
}

}  // namespace

int main(int argc, char** argv) {
  // As civicd does (services/civicd/main.cc): Debian's Abseil keeps absl::Mutex deadlock
  // detection on, which would tax this client's gRPC locks and skew the comparison.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string value;
    if (ParseFlag(arg, "target", options.target) || ParseFlag(arg, "call", options.call) ||
        ParseFlag(arg, "code", options.code)) {
      continue;
    }
    if (ParseFlag(arg, "concurrency", value)) {
      options.concurrency = std::max(1, std::stoi(value));
    } else if (ParseFlag(arg, "seconds", value)) {
      options.seconds = std::stod(value);
    } else {
      std::fprintf(stderr, "grpc_load: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  if (options.call != "status" && options.call != "submit") {
    std::fprintf(stderr, "grpc_load: --call must be status or submit\n");
    return 2;
  }
  if (options.call == "status" && options.code.empty()) {
    std::fprintf(stderr, "grpc_load: --call=status needs --code\n");
    return 2;
  }

  // A channel per 8 callers, as separate HTTP/2 connections spread the work the way
  // wrk's connections do; each gets its own channel arguments so gRPC does not share
  // one subchannel between them.
  std::vector<std::unique_ptr<IntakeService::Stub>> stubs;
  const int channels = std::max(1, options.concurrency / 8);
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("civic.bench.channel", i);
    stubs.push_back(IntakeService::NewStub(grpc::CreateCustomChannel(
        options.target, grpc::InsecureChannelCredentials(), args)));
  }

  Run run;
  run.active = options.concurrency;
  const auto start = Clock::now();
  run.stop = start + std::chrono::microseconds(static_cast<long>(options.seconds * 1e6));
  std::vector<std::unique_ptr<Caller>> callers;
  for (int i = 0; i < options.concurrency; ++i) {
    callers.push_back(
        std::make_unique<Caller>(stubs[i % channels].get(), options, &run, i));
  }
  for (auto& caller : callers) caller->Next();
  {
    std::unique_lock lock(run.mu);
    run.done_cv.wait(lock, [&] { return run.active == 0; });
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(run.latencies_ms.begin(), run.latencies_ms.end());
  std::printf(
      "{\"call\":\"%s\",\"concurrency\":%d,\"calls\":%ld,\"errors\":%ld,\"seconds\":%.2f,"
      "\"calls_per_s\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
      options.call.c_str(), options.concurrency, run.calls.load(), run.errors.load(), elapsed,
      run.calls.load() / elapsed, Percentile(run.latencies_ms, 0.5),
      Percentile(run.latencies_ms, 0.99));
  return run.errors.load() > 0 && run.calls.load() == 0 ? 1 : 0;
}
