#include "absl/strings/string_view.h"
#include "libs/config/config.h"

namespace civic::config {

absl::Status ValidateHostPort(absl::string_view address, absl::string_view what) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", what, ": '", address, "' is not host:port"));
  }
  return absl::OkStatus();
}

}  // namespace civic::config
