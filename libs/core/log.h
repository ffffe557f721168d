// Logging. One logger for the process (spdlog), and the rule that personal data never
// reaches it: values that may identify a person are wrapped in Pii<>, which formats as
// a redaction marker, so a careless log line cannot leak a phone number or a name.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "spdlog/fmt/fmt.h"
#include "spdlog/spdlog.h"

namespace civic {

// Configures the process logger: level ("debug", "info", "warn", "error") and format.
// Logs go to stderr; each line carries time, level and the emitting module.
void InitLogging(absl::string_view level);

// Wraps personal data (names, phones, e-mails, exact locations of private reports).
// Formatting it always yields "<redacted>"; the value is reachable only through value().
template <typename T>
class Pii {
 public:
  explicit Pii(T value) : value_(std::move(value)) {}
  const T& value() const { return value_; }

 private:
  T value_;
};

}  // namespace civic

// Debian's Abseil has its own string_view (not std's): let log lines format it.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(absl::string_view s, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(std::string_view(s.data(), s.size()), ctx);
  }
};

template <typename T>
struct fmt::formatter<civic::Pii<T>> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(const civic::Pii<T>&, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format("<redacted>", ctx);
  }
};

#define CIVIC_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define CIVIC_LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define CIVIC_LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define CIVIC_LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
