// A small synchronous HTTP/1.1 client for tests (see http_client.h), on Boost.Beast.
#include "tests/support/http_client.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace civic::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Metrics pages and message lists are small; this only guards against runaway bodies.
constexpr std::uint64_t kMaxResponseBytes = 64 * 1024 * 1024;

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(absl::AsciiStrToLower(std::string(name)));
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpResponse::MediaType() const {
  std::string value = Header("content-type");
  value = value.substr(0, value.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(value));
}

std::string HttpResponse::Describe() const {
  if (status == 0) return absl::StrCat("no response: ", error);
  constexpr size_t kMaxBody = 2000;
  return absl::StrCat("HTTP ", status, " [", Header("content-type"), "] ",
                      body.size() > kMaxBody ? absl::StrCat(body.substr(0, kMaxBody), "...")
                                             : body);
}

HttpClient::HttpClient(std::string host_port) : host_port_(std::move(host_port)) {
  const size_t colon = host_port_.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(host_port_.substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    throw std::invalid_argument(absl::StrCat("not host:port: \"", host_port_, "\""));
  }
  address_ = host_port_.substr(0, colon);
  beast::error_code ec;
  net::ip::make_address_v4(address_, ec);
  if (ec) throw std::invalid_argument(absl::StrCat("not an IPv4 address: \"", address_, "\""));
  port_ = static_cast<unsigned short>(port);
}

HttpResponse HttpClient::Get(std::string_view target) const {
  return Request("GET", target, std::string(), std::string_view());
}

HttpResponse HttpClient::Post(std::string_view target, std::string body,
                              std::string_view content_type) const {
  return Request("POST", target, std::move(body), content_type);
}

HttpResponse HttpClient::Request(std::string_view method, std::string_view target,
                                 std::string body, std::string_view content_type) const {
  return Request(method, target, std::move(body), content_type, {});
}

HttpResponse HttpClient::Request(std::string_view method, std::string_view target,
                                 std::string body, std::string_view content_type,
                                 const Headers& headers) const {
  HttpResponse out;
  const http::verb verb = http::string_to_verb(beast::string_view(method.data(), method.size()));
  if (verb == http::verb::unknown) {
    out.error = "unknown method " + std::string(method);
    return out;
  }

  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  http::request<http::string_body> request{verb, beast::string_view(target.data(), target.size()),
                                           11};
  request.set(http::field::host, host_port_);
  request.set(http::field::user_agent, "civicdesk-e2e-test");
  request.keep_alive(false);
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!content_type.empty()) {
    request.set(http::field::content_type,
                beast::string_view(content_type.data(), content_type.size()));
  }
  if (!body.empty() || verb == http::verb::post || verb == http::verb::put) {
    request.body() = std::move(body);
    request.prepare_payload();
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  beast::error_code connect_ec;
  beast::error_code write_ec;
  beast::error_code read_ec;

  // One deadline for connect, write and read together.
  stream.expires_after(std::chrono::milliseconds(absl::ToInt64Milliseconds(kTimeout)));
  const tcp::endpoint endpoint(net::ip::make_address_v4(address_), port_);
  stream.async_connect(endpoint, [&](beast::error_code ec) {
    if (ec) {
      connect_ec = ec;
      return;
    }
    // Write and read concurrently: a server may answer (413, 415) before it has read
    // the whole body, and may then stop reading.
    http::async_write(stream, request,
                      [&](beast::error_code wec, std::size_t) { write_ec = wec; });
    http::async_read(stream, buffer, parser, [&](beast::error_code rec, std::size_t) {
      read_ec = rec;
      stream.cancel();  // abandons a write still in flight
    });
  });
  ioc.run();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);

  if (connect_ec) {
    out.error = absl::StrCat("connect to ", host_port_, ": ", connect_ec.message());
    return out;
  }
  if (read_ec) {
    out.error = absl::StrCat(std::string(method), " ", std::string(target),
                             ": read: ", read_ec.message());
    if (write_ec) absl::StrAppend(&out.error, "; write: ", write_ec.message());
    return out;
  }
  const auto& response = parser.get();
  out.status = response.result_int();
  for (const auto& field : response) {
    std::string name = absl::AsciiStrToLower(
        std::string(field.name_string().data(), field.name_string().size()));
    std::string value(field.value().data(), field.value().size());
    auto [it, inserted] = out.headers.emplace(std::move(name), value);
    if (!inserted) absl::StrAppend(&it->second, ", ", value);
  }
  out.body = response.body();
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 0xF]};
    }
  }
  return out;
}

bool EventuallyBy(const std::function<bool()>& condition, absl::Time deadline,
                  absl::Duration interval) {
  while (true) {
    if (condition()) return true;
    const absl::Time now = absl::Now();
    if (now >= deadline) return false;
    absl::SleepFor(std::min(interval, deadline - now));
  }
}

bool Eventually(const std::function<bool()>& condition, absl::Duration timeout,
                absl::Duration interval) {
  return EventuallyBy(condition, absl::Now() + timeout, interval);
}

}  // namespace civic::testing
