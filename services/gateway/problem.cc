// Problem documents for the gateway. Bodies are built with nlohmann's ordered_json so
// the members come out in RFC 9457 order (type, title, status, detail, instance).
#include "services/gateway/problem.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "civic/common/v1/common.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/rpc/status.h"
#include "nlohmann/json.hpp"

namespace civic::gateway {
namespace {

// "UNKNOWN_CATEGORY" -> "unknown-category"; anything outside [a-z0-9-] is dropped, as
// the reason comes from a backend and ends up in a URL.
std::string Slug(absl::string_view name) {
  std::string out;
  for (char c : name) {
    c = absl::ascii_tolower(static_cast<unsigned char>(c));
    if (c == '_') c = '-';
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-') out.push_back(c);
  }
  return out;
}

std::string CodeSlug(grpc::StatusCode code) {
  // absl and gRPC share the canonical code numbering.
  const std::string name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  return name.empty() ? "unknown" : Slug(name);
}

Problem Render(int http_status, absl::string_view slug, absl::string_view detail,
               absl::string_view instance, absl::string_view request_id,
               const google::rpc::BadRequest* bad_request) {
  nlohmann::ordered_json doc;
  doc["type"] = absl::StrCat(kProblemTypeBase, slug);
  doc["title"] = std::string(HttpReasonPhrase(http_status));
  doc["status"] = http_status;
  if (!detail.empty()) doc["detail"] = std::string(detail);
  doc["instance"] = std::string(instance);
  doc["request_id"] = std::string(request_id);
  if (bad_request != nullptr && bad_request->field_violations_size() > 0) {
    nlohmann::ordered_json errors = nlohmann::ordered_json::array();
    for (const auto& v : bad_request->field_violations()) {
      errors.push_back({{"field", v.field()}, {"description", v.description()}});
    }
    doc["errors"] = std::move(errors);
  }
  Problem problem;
  problem.status = http_status;
  // Backend messages are not guaranteed UTF-8; replace bad bytes rather than fail.
  problem.body = doc.dump(-1, ' ', /*ensure_ascii=*/false,
                          nlohmann::ordered_json::error_handler_t::replace);
  return problem;
}

}  // namespace

int HttpStatusForCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::INVALID_ARGUMENT: return 400;
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS: return 409;
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::FAILED_PRECONDITION: return 412;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::CANCELLED: return 499;
    case grpc::StatusCode::UNIMPLEMENTED: return 501;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    default: return 500;
  }
}

absl::string_view HttpReasonPhrase(int http_status) {
  switch (http_status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

// Retry-After for a 503 whose backend gave no RetryInfo.
constexpr int64_t kDefaultRetryAfterSeconds = 1;

Problem ProblemFromGrpcStatus(const grpc::Status& status, absl::string_view instance,
                              absl::string_view request_id) {
  const int http_status = HttpStatusForCode(status.error_code());
  std::string slug = CodeSlug(status.error_code());
  std::string detail = status.error_message();
  if (http_status == 500) detail = "internal error; quote the request_id when reporting it";

  google::rpc::Status rpc_status;
  google::rpc::BadRequest bad_request;
  int64_t retry_after = -1;
  bool reasoned = false;  // the backend said why, on purpose (an ErrorReason)
  if (!status.error_details().empty() && rpc_status.ParseFromString(status.error_details())) {
    for (const auto& any : rpc_status.details()) {
      if (any.Is<google::rpc::BadRequest>()) {
        google::rpc::BadRequest one;
        if (any.UnpackTo(&one)) bad_request.MergeFrom(one);
      } else if (any.Is<google::rpc::RetryInfo>()) {
        google::rpc::RetryInfo info;
        if (any.UnpackTo(&info)) {
          const auto& d = info.retry_delay();
          retry_after = d.seconds() + (d.nanos() > 0 ? 1 : 0);
          if (retry_after < 0) retry_after = 0;
        }
      } else if (any.Is<civic::common::v1::ErrorReason>()) {
        civic::common::v1::ErrorReason reason;
        if (any.UnpackTo(&reason) && !Slug(reason.reason()).empty()) {
          slug = Slug(reason.reason());
          reasoned = true;
        }
      }
    }
  }
  // An unreachable or silent service: gRPC's own message names internal hosts and ports,
  // so the client gets a plain one, and a hint when to retry.
  if (!reasoned && http_status == 503) {
    detail = "a service this request needs is unavailable; try again shortly";
    if (retry_after < 0) retry_after = kDefaultRetryAfterSeconds;
  } else if (!reasoned && http_status == 504) {
    detail = "a service this request needs did not answer in time";
  }
  Problem problem = Render(http_status, slug, detail, instance, request_id, &bad_request);
  if (retry_after >= 0) problem.headers.emplace_back("Retry-After", absl::StrCat(retry_after));
  return problem;
}

Problem ProblemFromStatus(const absl::Status& status, absl::string_view instance,
                          absl::string_view request_id) {
  return ProblemFromGrpcStatus(civic::rpc::ToGrpcStatus(status), instance, request_id);
}

Problem MakeProblem(int http_status, absl::string_view slug, absl::string_view detail,
                    absl::string_view instance, absl::string_view request_id) {
  return Render(http_status, slug, detail, instance, request_id, nullptr);
}

}  // namespace civic::gateway
