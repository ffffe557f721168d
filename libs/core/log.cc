#include "absl/strings/string_view.h"
#include "libs/core/log.h"

#include "spdlog/sinks/stdout_color_sinks.h"

namespace civic {

void InitLogging(absl::string_view level) {
  auto logger = spdlog::stderr_color_mt("civicd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%t] %v");
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace civic
