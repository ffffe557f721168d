#include "libs/config/config.h"

#include <catch2/catch.hpp>

namespace civic::config {
namespace {

struct Sample {
  std::string listen = "127.0.0.1:7000";
  int workers = 4;
  bool sync = true;
  double ratio = 0.5;
  std::vector<std::string> names = {"a"};
  template <typename V>
  void Visit(V& v) {
    v("listen", listen, "address");
    v("workers", workers, "threads");
    v("sync", sync, "fsync writes");
    v("ratio", ratio, "a ratio");
    v("names", names, "some names");
  }
};

TEST_CASE("config keeps defaults and reads what the file sets", "[config]") {
  Sample s;
  REQUIRE(ReadSection(nlohmann::json::parse(R"({"workers": 8, "names": ["x","y"]})"),
                      "sample", s)
              .ok());
  REQUIRE(s.workers == 8);
  REQUIRE(s.listen == "127.0.0.1:7000");
  REQUIRE(s.names == std::vector<std::string>{"x", "y"});
  REQUIRE(ReadSection(nlohmann::json(), "sample", s).ok());
}

TEST_CASE("config rejects unknown keys and wrong types, naming them", "[config]") {
  Sample s;
  absl::Status unknown = ReadSection(nlohmann::json::parse(R"({"wrokers": 8})"), "sample", s);
  REQUIRE(unknown.code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(unknown.message() == "config sample.wrokers: unknown key");
  absl::Status wrong = ReadSection(nlohmann::json::parse(R"({"workers": "8"})"), "sample", s);
  REQUIRE(wrong.message() == "config sample.workers: expected an integer, got string");
  REQUIRE_FALSE(ReadSection(nlohmann::json::parse("[1]"), "sample", s).ok());
  // Out of range never wraps into a valid-looking value.
  REQUIRE(ReadSection(nlohmann::json::parse(R"({"workers": 4294967297})"), "sample", s)
              .message() == "config sample.workers: expected an integer in range, got number");
  REQUIRE_FALSE(SetField(s, "sample", "workers", "-9999999999").ok());
}

TEST_CASE("config overrides parse text into the field's type", "[config]") {
  Sample s;
  REQUIRE(SetField(s, "sample", "workers", "12").ok());
  REQUIRE(s.workers == 12);
  REQUIRE(SetField(s, "sample", "sync", "false").ok());
  REQUIRE_FALSE(s.sync);
  REQUIRE(SetField(s, "sample", "names", "p,q").ok());
  REQUIRE(s.names.size() == 2);
  REQUIRE_FALSE(SetField(s, "sample", "workers", "many").ok());
  REQUIRE_FALSE(SetField(s, "sample", "sync", "perhaps").ok());
  REQUIRE(SetField(s, "sample", "nope", "1").message() == "config sample.nope: unknown key");
}

TEST_CASE("config prints the effective values", "[config]") {
  Sample s;
  s.workers = 2;
  nlohmann::json j = ToJson(s);
  REQUIRE(j["workers"] == 2);
  REQUIRE(j["listen"] == "127.0.0.1:7000");
  REQUIRE(KeysOf(s).size() == 5);
}

TEST_CASE("host:port validation", "[config]") {
  REQUIRE(ValidateHostPort("127.0.0.1:0", "x").ok());
  REQUIRE(ValidateHostPort("[::1]:8080", "x").ok());
  REQUIRE_FALSE(ValidateHostPort("localhost", "x").ok());
  REQUIRE_FALSE(ValidateHostPort("h:70000", "x").ok());
}

}  // namespace
}  // namespace civic::config
