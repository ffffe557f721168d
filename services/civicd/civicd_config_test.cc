#include "services/civicd/civicd_config.h"

#include <fstream>

#include <catch2/catch.hpp>

#include "libs/storage/test_dir.h"

namespace civic::civicd {
namespace {

TEST_CASE("defaults validate and print every section", "[civicd][config]") {
  CivicdConfig config;
  Flags flags;
  REQUIRE(LoadConfig({}, {}, config, flags).ok());
  REQUIRE(config.Validate().ok());
  REQUIRE(flags.targets == "all");
  nlohmann::json j = config.ToJson();
  REQUIRE(j["intake"]["listen"] == "127.0.0.1:7101");
  REQUIRE(j["gateway"]["http_listen"] == "127.0.0.1:8080");
  REQUIRE(j.size() == 7);
}

TEST_CASE("file, then environment, then flags, later sources win", "[civicd][config]") {
  storage::TestDir dir;
  const std::string file = (dir.path() / "civicd.json").string();
  std::ofstream(file) << R"({"intake": {"workers": 4, "tracking_prefix": "HCM"},
                            "server": {"log_level": "warn"}})";
  CivicdConfig config;
  Flags flags;
  REQUIRE(LoadConfig({"--config=" + file, "--set", "intake.workers=8", "--target=cases,notify",
                      "--data-dir=/tmp/x"},
                     {"CIVIC_INTAKE_WORKERS=6", "CIVIC_SERVER_LOG_LEVEL=debug", "HOME=/root"},
                     config, flags)
              .ok());
  REQUIRE(config.intake.workers == 8);
  REQUIRE(config.intake.tracking_prefix == "HCM");
  REQUIRE(config.server.log_level == "debug");
  REQUIRE(config.server.data_dir == "/tmp/x");
  REQUIRE(flags.targets == "cases,notify");
}

TEST_CASE("unknown sections, keys and flags are errors that name them", "[civicd][config]") {
  storage::TestDir dir;
  const std::string file = (dir.path() / "bad.json").string();
  std::ofstream(file) << R"({"intake": {"wrokers": 4}})";
  CivicdConfig config;
  Flags flags;
  REQUIRE(LoadConfig({"--config=" + file}, {}, config, flags).message() ==
          "config intake.wrokers: unknown key");
  std::ofstream(file) << R"({"intkae": {}})";
  REQUIRE(LoadConfig({"--config=" + file}, {}, config, flags).message().find(
              "unknown config section 'intkae'") != std::string::npos);
  REQUIRE(LoadConfig({"--set", "intake.nope=1"}, {}, config, flags).message() ==
          "config intake.nope: unknown key");
  REQUIRE(LoadConfig({}, {"CIVIC_INTAKE_WORKRS=32"}, config, flags).message() ==
          "environment CIVIC_INTAKE_WORKRS: unknown config key");
  REQUIRE(LoadConfig({}, {"CIVIC_SHARED_DATA=/data"}, config, flags).ok());
  REQUIRE(LoadConfig({"--bogus"}, {}, config, flags).message() ==
          "unknown flag '--bogus' (see --help)");
  REQUIRE(LoadConfig({"--config=/no/such/file"}, {}, config, flags).code() ==
          absl::StatusCode::kNotFound);
}

TEST_CASE("validation catches bad values before anything starts", "[civicd][config]") {
  CivicdConfig config;
  Flags flags;
  REQUIRE(LoadConfig({"--set", "intake.tracking_prefix=pa"}, {}, config, flags).ok());
  REQUIRE(config.Validate().message() ==
          "config intake.tracking_prefix: must be upper-case letters A-Z");
  CivicdConfig other;
  REQUIRE(LoadConfig({"--set", "cases.listen=nowhere"}, {}, other, flags).ok());
  REQUIRE_FALSE(other.Validate().ok());
}

TEST_CASE("the ephemeral-ports flag moves every listener to a free loopback port",
          "[civicd][config]") {
  CivicdConfig config;
  Flags flags;
  REQUIRE(LoadConfig({"--ephemeral-ports"}, {}, config, flags).ok());
  REQUIRE(config.gateway.http_listen == "127.0.0.1:0");
  REQUIRE(config.server.metrics_listen == "127.0.0.1:0");
  REQUIRE(config.analytics.listen == "127.0.0.1:0");

  CivicdConfig pinned;
  REQUIRE(LoadConfig({"--ephemeral-ports", "--set", "cases.listen=127.0.0.1:7203"}, {}, pinned,
                     flags)
              .ok());
  REQUIRE(pinned.cases.listen == "127.0.0.1:7203");
  REQUIRE(pinned.intake.listen == "127.0.0.1:0");
}

}  // namespace
}  // namespace civic::civicd
