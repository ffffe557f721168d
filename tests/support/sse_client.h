// A client of server-sent events (text/event-stream) for tests: one GET on its own
// connection, whose response is read incrementally, event by event, each read bounded by
// a timeout, so a test can act (move a case on) between two events of one stream.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace civic::testing {

struct SseEvent {
  std::string id;    // "" when the event had no id line
  std::string type;  // "message" when the event had no event line
  std::string data;  // data lines joined with "\n"
};

class SseClient {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // Connects to `host_port` ("127.0.0.1:PORT"), sends GET `target` (with `headers`,
  // e.g. {{"Last-Event-ID", "msg-3"}}) and reads the response header, all within
  // `timeout`. Never throws on network errors: status() is 0 and error() says why.
  SseClient(const std::string& host_port, const std::string& target, const Headers& headers = {},
            absl::Duration timeout = absl::Seconds(10));
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // HTTP status, 0 when no response header arrived.
  int status() const;
  // A response header (name case-insensitive), "" when absent.
  std::string Header(std::string_view name) const;
  // The media type without parameters, lower-cased.
  std::string MediaType() const;

  // The next event, waiting up to `timeout`; comment lines (": keep-alive") are counted
  // and skipped. nullopt when the response ended (see ended_cleanly()), broke, or the
  // timeout passed (see error()). For a non-200 answer, the whole body is in body().
  std::optional<SseEvent> Next(absl::Duration timeout);

  // The response body ended as HTTP says a body ends (the last chunk), rather than the
  // connection breaking.
  bool ended_cleanly() const;
  // Why the last Next() returned nullopt without a clean end; "" otherwise.
  const std::string& error() const;
  // Comment lines seen so far.
  int comments() const;
  // The body read so far, decoded (for failure messages, and non-200 answers).
  const std::string& body() const;

  // Closes the connection (as a browser tab that goes away).
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace civic::testing
