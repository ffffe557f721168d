#include "services/gateway/metrics.h"

#include "libs/metrics/metrics.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"

namespace civic::gateway {
namespace {

struct Families {
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& duration;
};

Families& Get() {
  static Families* f = new Families{  // leaked: metrics live until exit
      prometheus::BuildCounter()
          .Name("civicdesk_http_requests_total")
          .Help("HTTP requests answered by the gateway, by method, route template and status.")
          .Register(*metrics::Registry()),
      prometheus::BuildHistogram()
          .Name("civicdesk_http_request_duration_seconds")
          .Help("Time from reading an HTTP request to sending its response.")
          .Register(*metrics::Registry())};
  return *f;
}

}  // namespace

void RecordRequest(const std::string& method, const std::string& route, int code,
                   double seconds) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  // Unmatched paths share one label value, so a scanner cannot blow up the series.
  const std::string& r = route.empty() ? std::string("unmatched") : route;
  Get().requests.Add({{"method", method}, {"route", r}, {"code", std::to_string(code)}})
      .Increment();
  Get().duration.Add({{"method", method}, {"route", r}}, kBuckets).Observe(seconds);
}

void RecordRateLimited(const std::string& limit) {
  static prometheus::Family<prometheus::Counter>* const family =  // leaked, as above
      &prometheus::BuildCounter()
           .Name("civicdesk_gateway_rate_limited_total")
           .Help("Requests the gateway refused with 429, by the limit they hit (ip, device, key).")
           .Register(*metrics::Registry());
  family->Add({{"limit", limit}}).Increment();
}

void SetEventStreamsOpen(int open) {
  static prometheus::Gauge* const gauge =  // leaked, as above
      &prometheus::BuildGauge()
           .Name("civicdesk_gateway_sse_streams")
           .Help("Event streams (text/event-stream responses) the gateway has open.")
           .Register(*metrics::Registry())
           .Add({});
  gauge->Set(open);
}

}  // namespace civic::gateway
