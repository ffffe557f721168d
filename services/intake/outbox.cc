#include "services/intake/outbox.h"

#include <vector>

#include "libs/core/log.h"
#include "libs/core/status.h"
#include "services/intake/metrics.h"

namespace civic::intake {
namespace {

// Errors of a peer being away or busy: the report waits, in order, however long.
bool IsTransient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

// Outbox keys are "<lane>\x1f<report id>": emergencies sort (and so go) first.
std::string ReportIdOf(const std::string& outbox_key) {
  return outbox_key.substr(outbox_key.find('\x1f') + 1);
}

}  // namespace

Outbox::Outbox(storage::Store* store, const IntakeLogic* logic, RoutingClient* routing,
               CasesClient* cases, OutboxOptions options)
    : store_(store), logic_(logic), routing_(routing), cases_(cases), options_(options) {}

Outbox::~Outbox() { Stop(); }

void Outbox::Start() { thread_ = std::thread([this] { Loop(); }); }

void Outbox::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Outbox::Wake() {
  {
    std::lock_guard lock(mu_);
    work_ = true;
  }
  cv_.notify_all();
}

absl::Status Outbox::Forward(const std::string& outbox_key) {
  CIVIC_ASSIGN_OR_RETURN(v1::StoredReport stored, logic_->Load(ReportIdOf(outbox_key)));
  const v1::SubmitReportRequest& report = stored.request();

  routing::v1::RouteRequest route;
  route.set_category(report.category());
  if (report.has_location()) *route.mutable_location() = report.location();
  route.set_address(report.address());
  // Time-windowed rules (night shifts...) apply at the time of the report, not of the
  // forwarding, which may be later after an outage.
  *route.mutable_reported_at() = stored.received_at();
  CIVIC_ASSIGN_OR_RETURN(routing::v1::RouteDecision decision, routing_->Route(route));

  cases::v1::OpenCaseRequest open;
  open.set_report_id(stored.report_id());
  open.set_tracking_code(stored.tracking_code());
  open.set_category(report.category());
  open.set_description(report.description());
  *open.mutable_location() = report.location();
  open.set_address(report.address());
  open.set_channel(report.channel());
  *open.mutable_contact() = report.contact();
  open.set_anonymous(report.anonymous());
  open.set_language(report.language());
  *open.mutable_attributes() = report.attributes();
  *open.mutable_received_at() = stored.received_at();
  *open.mutable_unit() = decision.unit();
  *open.mutable_area() = decision.area();
  open.set_priority(decision.priority());
  open.set_sla_hours(decision.sla_hours());
  open.set_routing_rule(decision.rule());
  open.set_supports_report_id(stored.supports_report_id());
  open.set_operator_id(report.operator_id());
  // The public view coarsens a private report and shows the report's photos otherwise.
  open.set_private_location(report.private_location());
  *open.mutable_photo_ids() = stored.photo_ids();
  if (logic_->IsEmergency(report)) open.set_priority(common::v1::PRIORITY_CRITICAL);
  CIVIC_ASSIGN_OR_RETURN(cases::v1::Case opened, cases_->OpenCase(open));

  stored.set_case_id(opened.case_id());
  storage::Batch batch(store_);
  batch.Put(kReportsCf, stored.report_id(), stored.SerializeAsString());
  batch.Delete(kOutboxCf, outbox_key);
  return store_->Write(batch);
}

absl::Status Outbox::DrainOnce() {
  auto& metrics = IntakeMetrics::Get();
  for (;;) {
    std::vector<std::string> ids;
    CIVIC_RETURN_IF_ERROR(store_->Scan(kOutboxCf, "", "", [&](absl::string_view key,
                                                              absl::string_view) {
      ids.emplace_back(key);
      return static_cast<int>(ids.size()) < options_.batch;
    }));
    if (ids.empty()) {
      pending_ = 0;
      metrics.outbox_pending.Set(0);
      return absl::OkStatus();
    }
    pending_ = static_cast<int64_t>(ids.size());
    metrics.outbox_pending.Set(static_cast<double>(ids.size()));
    for (const auto& id : ids) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return absl::CancelledError("stopping");
      }
      absl::Status status = Forward(id);
      if (status.ok()) {
        metrics.forwarded.Increment();
        continue;
      }
      metrics.forward_retries.Increment();
      // Anything else is about this report (or a bug downstream): retry it a few times,
      // then park it so that it does not hold up every report behind it.
      const int attempts = IsTransient(status) ? 0 : ++failed_attempts_[id];
      if (attempts < options_.max_attempts) {
        return status;  // keep order: retry this one before any later report
      }
      failed_attempts_.erase(id);
      CIVIC_LOG_ERROR("report {} cannot be forwarded and is parked after {} attempts: {}",
                      ReportIdOf(id), attempts, status.ToString());
      storage::Batch batch(store_);
      batch.Put(kDeadLetterCf, ReportIdOf(id), status.ToString());
      batch.Delete(kOutboxCf, id);
      CIVIC_RETURN_IF_ERROR(store_->Write(batch));
      metrics.dead_lettered.Increment();
    }
  }
}

void Outbox::Loop() {
  absl::Duration backoff = options_.initial_backoff;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // A periodic pass as well as wake-ups, so nothing waits on a lost notification.
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_ || work_; });
      if (stopping_) return;
      work_ = false;
    }
    absl::Status status = DrainOnce();
    if (status.ok()) {
      backoff = options_.initial_backoff;
      continue;
    }
    if (status.code() == absl::StatusCode::kCancelled) return;
    CIVIC_LOG_WARN("outbox: {} reports waiting; downstream: {}; retry in {} ms",
                   pending_.load(), status.ToString(), absl::ToInt64Milliseconds(backoff));
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, absl::ToChronoNanoseconds(backoff), [&] { return stopping_; });
    if (stopping_) return;
    work_ = true;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace civic::intake
