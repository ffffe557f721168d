// Every metric the gateway exports, in one place. Labels are the route template
// ("/v1/reports/{tracking_code}"), never the concrete path, so they stay bounded.
#pragma once

#include <string>

namespace civic::gateway {

// Counts civicdesk_http_requests_total{method, route, code} and observes
// civicdesk_http_request_duration_seconds{method, route}.
void RecordRequest(const std::string& method, const std::string& route, int code,
                   double seconds);

}  // namespace civic::gateway
