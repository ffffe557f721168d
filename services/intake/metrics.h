// Every metric intake exports, in one place.
#pragma once

#include "prometheus/counter.h"
#include "prometheus/gauge.h"

namespace civic::intake {

struct IntakeMetrics {
  // Reports by outcome: accepted (of which supporting an earlier report), replayed,
  // invalid, blocked, rate_limited, failed.
  prometheus::Counter& accepted;
  prometheus::Counter& supporting;
  prometheus::Counter& replayed;
  prometheus::Counter& invalid;
  prometheus::Counter& blocked;
  prometheus::Counter& rate_limited;
  prometheus::Counter& failed;
  // Outbox: reports forwarded to cases, failed attempts (retried), parked as undeliverable.
  prometheus::Counter& forwarded;
  prometheus::Counter& forward_retries;
  prometheus::Counter& dead_lettered;
  // Reports stored but not yet forwarded.
  prometheus::Gauge& outbox_pending;

  // The process-wide instance, registered in civic::metrics::Registry().
  static IntakeMetrics& Get();
};

}  // namespace civic::intake
