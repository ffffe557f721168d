#include "absl/strings/string_view.h"
#include "libs/modules/modules.h"

#include <catch2/catch.hpp>

#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/modules/service_module.h"
#include "libs/rpc/channel.h"
#include "libs/rpc/server.h"

namespace civic::modules {
namespace {

class Recorder : public Module {
 public:
  Recorder(std::string name, std::vector<std::string>* log, bool fail = false)
      : name_(std::move(name)), log_(log), fail_(fail) {}
  absl::Status Start() override {
    if (fail_) return absl::UnavailableError("port taken");
    log_->push_back("start " + name_);
    return absl::OkStatus();
  }
  void BeginShutdown() override { log_->push_back("drain " + name_); }
  void Stop(absl::Duration) override { log_->push_back("stop " + name_); }

 private:
  std::string name_;
  std::vector<std::string>* log_;
  bool fail_;
};

Manager MakeManager(std::vector<std::string>* log, const std::string& failing = "") {
  Manager m;
  auto add = [&](std::string name, std::vector<std::string> deps, bool internal = false) {
    m.Register({name, deps, internal, internal, [=] {
                  return absl::StatusOr<std::unique_ptr<Module>>(
                      std::make_unique<Recorder>(name, log, name == failing));
                }});
  };
  add("metrics", {}, true);
  add("gateway", {"metrics", "intake", "cases"});
  add("intake", {"metrics", "routing", "cases"});
  add("routing", {"metrics"});
  add("cases", {"metrics"});
  return m;
}

TEST_CASE("all starts every target after its dependencies", "[modules]") {
  std::vector<std::string> log;
  Manager m = MakeManager(&log);
  auto order = m.Resolve("all");
  REQUIRE(order.ok());
  REQUIRE(*order ==
          std::vector<std::string>{"metrics", "routing", "cases", "intake", "gateway"});
  REQUIRE(m.StartAll(*order).ok());
  m.StopAll(absl::Seconds(1));
  REQUIRE(log.back() == "stop metrics");
  REQUIRE(log[5] == "drain gateway");
  REQUIRE(log[10] == "stop gateway");
}

TEST_CASE("a single target runs alone with its internal dependencies", "[modules]") {
  std::vector<std::string> log;
  Manager m = MakeManager(&log);
  REQUIRE(*m.Resolve("intake") == std::vector<std::string>{"metrics", "intake"});
  REQUIRE(*m.Resolve("cases, routing") == std::vector<std::string>{"metrics", "routing", "cases"});
  REQUIRE(m.Resolve("metrics").status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(m.Resolve("nope").status().message().find("known: all, gateway") !=
          absl::string_view::npos);
}

TEST_CASE("a failed start stops what already started, in reverse", "[modules]") {
  std::vector<std::string> log;
  Manager m = MakeManager(&log, "intake");
  absl::Status status = m.StartAll(*m.Resolve("all"));
  REQUIRE(status.message() == "intake: port taken");
  REQUIRE(log == std::vector<std::string>{"start metrics", "start routing", "start cases",
                                          "drain cases", "drain routing", "drain metrics",
                                          "stop cases", "stop routing", "stop metrics"});
}

}  // namespace
}  // namespace civic::modules

namespace civic::modules {
namespace {

grpc::StatusCode HealthCheck(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  rpc::SetTimeout(context, absl::Seconds(5));
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response).error_code();
}

TEST_CASE("the address book gives in-process channels to servers of this process, else the "
          "address",
          "[modules]") {
  auto server = rpc::Server::Start({.listen = "127.0.0.1:0", .services = {}, .health_names = {}});
  REQUIRE(server.ok());
  (*server)->SetServing(true);
  AddressBook book;
  // In process: no address needed (the configured one is unreachable).
  book.PublishServer("svc", server->get());
  CHECK(HealthCheck(book.Channel("svc", "127.0.0.1:1")) == grpc::StatusCode::OK);
  // Not in process: the published address wins over the configured one.
  book.ForgetServer("svc");
  book.Publish("svc", (*server)->address());
  CHECK(HealthCheck(book.Channel("svc", "127.0.0.1:1")) == grpc::StatusCode::OK);
  (*server)->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace civic::modules
