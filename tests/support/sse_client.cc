// The test SSE client (see sse_client.h), on Boost.Beast: a response parser with a
// buffer body decodes the chunked transfer encoding as bytes arrive, and an io_context
// run with a deadline bounds every wait.
#include "tests/support/sse_client.h"

#include <chrono>
#include <limits>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace civic::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct SseClient::Impl {
  net::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  bool header_read = false;
  bool done = false;    // the body ended as HTTP says
  bool broken = false;  // the connection failed
  std::string error;
  std::string body;     // decoded so far
  size_t consumed = 0;  // of `body`, already turned into events
  int comments = 0;

  // Runs the io_context until `finished` or `deadline`; on time-out, cancels the pending
  // operation and waits for its handler. True when finished in time.
  bool RunUntil(const bool& finished, absl::Time deadline) {
    ioc.restart();
    while (!finished) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      ioc.run_one_for(absl::ToChronoNanoseconds(left));
    }
    if (finished) return true;
    beast::error_code ignored;
    socket.cancel(ignored);
    ioc.restart();
    while (!finished) ioc.run_one();
    return false;
  }

  // Reads more of the body; false when nothing more came (see done, broken, error).
  bool ReadSome(absl::Time deadline) {
    char chunk[4096];
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    bool finished = false;
    beast::error_code result;
    http::async_read_some(socket, buffer, parser, [&](beast::error_code ec, std::size_t) {
      result = ec;
      finished = true;
    });
    const bool in_time = RunUntil(finished, deadline);
    const size_t n = sizeof chunk - parser.get().body().size;
    body.append(chunk, n);
    if (parser.is_done()) {
      done = true;
      return n > 0;
    }
    if (!in_time) {
      error = "timed out";  // a later Next may still read on
      return n > 0;
    }
    if (result == http::error::need_buffer) result = {};
    if (result) {
      broken = true;
      error = absl::StrCat("read failed: ", result.message());
      return n > 0;
    }
    return true;
  }

  // The next complete event in body[consumed..], skipping comment-only blocks.
  std::optional<SseEvent> ParseEvent() {
    for (;;) {
      const size_t end = body.find("\n\n", consumed);
      if (end == std::string::npos) return std::nullopt;
      const absl::string_view block(body.data() + consumed, end - consumed);
      consumed = end + 2;
      SseEvent event;
      bool any = false;
      std::vector<std::string> data;
      for (absl::string_view line : absl::StrSplit(block, '\n')) {
        if (absl::StartsWith(line, ":")) {
          ++comments;
          continue;
        }
        const size_t colon = line.find(':');
        const absl::string_view field = line.substr(0, colon);
        absl::string_view value =
            colon == absl::string_view::npos ? absl::string_view() : line.substr(colon + 1);
        absl::ConsumePrefix(&value, " ");
        if (field == "id") {
          event.id = std::string(value);
        } else if (field == "event") {
          event.type = std::string(value);
        } else if (field == "data") {
          data.emplace_back(value);
        } else {
          continue;  // unknown fields (retry) are ignored, as EventSource does
        }
        any = true;
      }
      if (!any) continue;
      if (event.type.empty()) event.type = "message";
      event.data = absl::StrJoin(data, "\n");
      return event;
    }
  }
};

SseClient::SseClient(const std::string& host_port, const std::string& target,
                     const Headers& headers, absl::Duration timeout)
    : impl_(std::make_unique<Impl>()) {
  const absl::Time deadline = absl::Now() + timeout;
  const size_t colon = host_port.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(host_port.substr(colon + 1), &port)) {
    throw std::invalid_argument(absl::StrCat("not host:port: \"", host_port, "\""));
  }
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(host_port.substr(0, colon), ec);
  if (ec) throw std::invalid_argument(absl::StrCat("not an IP address: \"", host_port, "\""));
  impl_->socket.connect(tcp::endpoint(address, static_cast<unsigned short>(port)), ec);
  if (ec) {
    impl_->error = absl::StrCat("connect: ", ec.message());
    impl_->broken = true;
    return;
  }
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, host_port);
  request.set(http::field::accept, "text/event-stream");
  for (const auto& [name, value] : headers) request.set(name, value);
  http::write(impl_->socket, request, ec);
  if (ec) {
    impl_->error = absl::StrCat("write: ", ec.message());
    impl_->broken = true;
    return;
  }
  // A stream has no length. Not boost::none: Boost 1.74 compares a Content-Length with
  // an empty optional limit as exceeding it, which would refuse every non-stream answer.
  impl_->parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  bool finished = false;
  beast::error_code result;
  http::async_read_header(impl_->socket, impl_->buffer, impl_->parser,
                          [&](beast::error_code e, std::size_t) {
                            result = e;
                            finished = true;
                          });
  if (!impl_->RunUntil(finished, deadline)) {
    impl_->error = "timed out waiting for the response header";
    impl_->broken = true;
    return;
  }
  if (result) {
    impl_->error = absl::StrCat("reading the header: ", result.message());
    impl_->broken = true;
    return;
  }
  impl_->header_read = true;
  if (impl_->parser.is_done()) impl_->done = true;  // no body
}

SseClient::~SseClient() { Close(); }

int SseClient::status() const {
  return impl_->header_read ? static_cast<int>(impl_->parser.get().result_int()) : 0;
}

std::string SseClient::Header(std::string_view name) const {
  if (!impl_->header_read) return "";
  const auto& fields = impl_->parser.get();
  auto it = fields.find(beast::string_view(name.data(), name.size()));
  return it == fields.end() ? std::string() : std::string(it->value());
}

std::string SseClient::MediaType() const {
  std::string value = Header("content-type");
  value = value.substr(0, value.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(value));
}

std::optional<SseEvent> SseClient::Next(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  impl_->error.clear();
  if (!impl_->header_read) {
    impl_->error = "no response";
    return std::nullopt;
  }
  const bool stream = status() == 200;
  for (;;) {
    if (stream) {
      if (std::optional<SseEvent> event = impl_->ParseEvent()) return event;
    }
    if (impl_->done || impl_->broken) return std::nullopt;
    if (!impl_->ReadSome(deadline) && !impl_->done && !impl_->broken) return std::nullopt;
  }
}

bool SseClient::ended_cleanly() const { return impl_->done; }

const std::string& SseClient::error() const { return impl_->error; }

int SseClient::comments() const { return impl_->comments; }

const std::string& SseClient::body() const { return impl_->body; }

void SseClient::Close() {
  if (!impl_->socket.is_open()) return;
  beast::error_code ignored;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ignored);
  impl_->socket.close(ignored);
}

}  // namespace civic::testing
