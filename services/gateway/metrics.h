// Every metric the gateway exports, in one place. Labels are the route template
// ("/v1/reports/{tracking_code}"), never the concrete path, so they stay bounded.
#pragma once

#include <string>

namespace civic::gateway {

// Counts civicdesk_http_requests_total{method, route, code} and observes
// civicdesk_http_request_duration_seconds{method, route}.
void RecordRequest(const std::string& method, const std::string& route, int code,
                   double seconds);

// Counts civicdesk_gateway_rate_limited_total{limit}: requests refused with 429 by the
// gateway's own rate limits (edge.h); `limit` is "ip", "device" or "key".
void RecordRateLimited(const std::string& limit);

// Sets the gauge civicdesk_gateway_sse_streams: event streams (server-sent events,
// sse.h) open now.
void SetEventStreamsOpen(int open);

}  // namespace civic::gateway
