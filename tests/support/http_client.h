// A small synchronous HTTP/1.1 client for tests talking to a local civicd, and a helper
// to wait, with a deadline, for an asynchronous outcome instead of sleeping blindly.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace civic::testing {

struct HttpResponse {
  // HTTP status; 0 when no response was received (see `error`).
  int status = 0;
  // Header names lower-cased; repeated headers joined with ", ".
  std::map<std::string, std::string> headers;
  std::string body;
  // Why no response was received (connect refused, timeout...); "" otherwise.
  std::string error;

  // The value of a header (name case-insensitive), "" when absent.
  std::string Header(std::string_view name) const;
  // The media type without parameters, lower-cased: "application/problem+json".
  std::string MediaType() const;
  // Status, media type and body (or error), for test failure messages.
  std::string Describe() const;
};

// Speaks HTTP/1.1 to one IPv4 address (normally 127.0.0.1:PORT), one connection per
// request ("Connection: close"), every request bounded by a 10 s timeout. The request
// body is written while the response is read, so early answers (413, 415) arrive even
// when the server stops reading. Thread-compatible; never throws on network errors.
class HttpClient {
 public:
  static constexpr absl::Duration kTimeout = absl::Seconds(10);

  // `host_port` is "127.0.0.1:PORT"; throws std::invalid_argument otherwise.
  explicit HttpClient(std::string host_port);

  HttpResponse Get(std::string_view target) const;
  HttpResponse Post(std::string_view target, std::string body,
                    std::string_view content_type = "application/json") const;
  // Any method; `content_type` is sent only when not empty.
  HttpResponse Request(std::string_view method, std::string_view target, std::string body,
                       std::string_view content_type) const;

  // Extra request headers, e.g. {{"X-Api-Key", key}, {"Authorization", "Bearer ..."}}.
  using Headers = std::vector<std::pair<std::string, std::string>>;
  // The same with `headers` added to the request.
  HttpResponse Request(std::string_view method, std::string_view target, std::string body,
                       std::string_view content_type, const Headers& headers) const;

  const std::string& host_port() const { return host_port_; }

 private:
  std::string host_port_;
  std::string address_;
  unsigned short port_ = 0;
};

// Percent-encodes `text` for a query string or a form (UTF-8 bytes as %XX; only
// letters, digits and "-_.~" stay as they are).
std::string PercentEncode(std::string_view text);

// Evaluates `condition` until it returns true (→ true) or `timeout` has passed
// (→ false), every `interval`. The condition runs at least once, even for a zero or
// negative timeout.
bool Eventually(const std::function<bool()>& condition, absl::Duration timeout,
                absl::Duration interval = absl::Milliseconds(20));

// The same, until an absolute deadline (several waits can share one budget).
bool EventuallyBy(const std::function<bool()>& condition, absl::Time deadline,
                  absl::Duration interval = absl::Milliseconds(20));

}  // namespace civic::testing
