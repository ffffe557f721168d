#include "services/intake/metrics.h"

#include "libs/metrics/metrics.h"

namespace civic::intake {

IntakeMetrics& IntakeMetrics::Get() {
  static IntakeMetrics* m = [] {
    auto& registry = *metrics::Registry();
    auto& reports = prometheus::BuildCounter()
                        .Name("civicdesk_intake_reports_total")
                        .Help("Reports submitted to intake, by outcome.")
                        .Register(registry);
    auto& forward = prometheus::BuildCounter()
                        .Name("civicdesk_intake_outbox_total")
                        .Help("Outbox forwarding attempts, by result.")
                        .Register(registry);
    auto& pending = prometheus::BuildGauge()
                        .Name("civicdesk_intake_outbox_pending")
                        .Help("Reports stored but not yet forwarded to cases.")
                        .Register(registry);
    return new IntakeMetrics{reports.Add({{"outcome", "accepted"}}),
                             prometheus::BuildCounter()
                                 .Name("civicdesk_intake_supporting_reports_total")
                                 .Help("Accepted reports that joined an earlier report's case (+1).")
                                 .Register(registry)
                                 .Add({}),
                             reports.Add({{"outcome", "replayed"}}),
                             reports.Add({{"outcome", "invalid"}}),
                             reports.Add({{"outcome", "blocked"}}),
                             reports.Add({{"outcome", "rate_limited"}}),
                             reports.Add({{"outcome", "failed"}}),
                             forward.Add({{"result", "forwarded"}}),
                             forward.Add({{"result", "retry"}}),
                             forward.Add({{"result", "dead_letter"}}),
                             pending.Add({})};
  }();  // leaked: metrics live until exit
  return *m;
}

}  // namespace civic::intake
