#include "libs/metrics/metrics.h"

#include <catch2/catch.hpp>

#include "prometheus/text_serializer.h"

namespace civic::metrics {
namespace {

TEST_CASE("process metrics are collected from /proc", "[metrics]") {
  auto families = MakeProcessCollector()->Collect();
  std::map<std::string, double> values;
  for (const auto& f : families) {
    values[f.name] = f.type == prometheus::MetricType::Counter ? f.metric[0].counter.value
                                                               : f.metric[0].gauge.value;
  }
  REQUIRE(values.at("process_resident_memory_bytes") > 1e6);
  REQUIRE(values.at("process_open_fds") >= 3);
  REQUIRE(values.at("process_start_time_seconds") > 1.5e9);
  REQUIRE(values.count("process_cpu_seconds_total") == 1);
  REQUIRE(values.at("process_max_fds") > 0);
}

TEST_CASE("build info is exported with version and revision", "[metrics]") {
  RegisterBuildInfo("1.2.3", "abc123");
  const std::string text = prometheus::TextSerializer().Serialize(Registry()->Collect());
  REQUIRE(text.find("civicdesk_build_info{") != std::string::npos);
  REQUIRE(text.find("version=\"1.2.3\"") != std::string::npos);
}

TEST_CASE("metrics server binds an ephemeral port", "[metrics]") {
  auto server = MetricsServer::Start("127.0.0.1:0");
  REQUIRE(server.ok());
  REQUIRE((*server)->port() > 0);
  // What it serves is checked over real HTTP by the end-to-end journey test.
}

}  // namespace
}  // namespace civic::metrics
