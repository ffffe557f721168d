#include "services/cases/cases_logic.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/ids.h"
#include "libs/core/log.h"
#include "libs/core/status.h"

namespace civic::cases {
namespace {

constexpr char kDomain[] = "cases.civicdesk";

google::protobuf::Timestamp ToProto(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

}  // namespace

std::vector<std::string> CasesKeyspaces() { return {kCasesCf, kByReportCf, kFeedCf}; }

absl::StatusOr<std::unique_ptr<CasesLogic>> CasesLogic::Create(storage::Store* store,
                                                               const Clock* clock) {
  std::unique_ptr<CasesLogic> logic(new CasesLogic(store, clock));
  CIVIC_ASSIGN_OR_RETURN(logic->feed_, storage::ChangeFeed::Open(store, kFeedCf));
  return logic;
}

absl::StatusOr<v1::Case> CasesLogic::OpenCase(const v1::OpenCaseRequest& request) {
  FieldErrors errors;
  if (request.report_id().empty()) errors.Add("report_id", "is required");
  if (request.tracking_code().empty()) errors.Add("tracking_code", "is required");
  if (request.category().empty()) errors.Add("category", "is required");
  if (request.unit().id().empty()) errors.Add("unit.id", "is required");
  if (request.sla_hours() < 0) errors.Add("sla_hours", "must not be negative");
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));

  std::lock_guard lock(open_mu_);
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> existing,
                         store_->Get(kByReportCf, request.report_id()));
  if (existing) return GetCase(*existing);

  const absl::Time now = clock_->Now();
  v1::Case c;
  c.set_case_id(NewSortableId(now));
  c.set_report_id(request.report_id());
  c.set_tracking_code(request.tracking_code());
  c.set_category(request.category());
  c.set_description(request.description());
  *c.mutable_location() = request.location();
  *c.mutable_area() = request.area();
  *c.mutable_unit() = request.unit();
  c.set_status(common::v1::CASE_STATUS_NEW);
  c.set_priority(request.priority());
  *c.mutable_opened_at() = ToProto(now);
  *c.mutable_updated_at() = ToProto(now);
  // Working-hours calendars come with the SLA work; for now the wall clock.
  *c.mutable_due_at() =
      ToProto(now + absl::Seconds(static_cast<int64_t>(request.sla_hours() * 3600)));
  c.set_version(1);
  c.set_routing_rule(request.routing_rule());
  c.set_channel(request.channel());
  c.set_language(request.language());
  if (!request.anonymous()) *c.mutable_contact() = request.contact();
  c.set_anonymous(request.anonymous());

  storage::Batch batch(store_);
  batch.Put(kCasesCf, c.case_id(), c.SerializeAsString());
  batch.Put(kByReportCf, c.report_id(), c.case_id());
  CIVIC_RETURN_IF_ERROR(
      feed_->AppendAndWrite(batch, [&](uint64_t sequence) {
              common::v1::CaseEvent event;
              event.set_sequence(sequence);
              event.set_event_id(NewSortableId(now));
              event.set_type(common::v1::CASE_EVENT_TYPE_OPENED);
              *event.mutable_occurred_at() = c.opened_at();
              event.set_case_id(c.case_id());
              event.set_tracking_code(c.tracking_code());
              event.set_category(c.category());
              *event.mutable_area() = c.area();
              *event.mutable_unit() = c.unit();
              event.set_from_status(common::v1::CASE_STATUS_NEW);
              event.set_to_status(common::v1::CASE_STATUS_NEW);
              event.set_priority(c.priority());
              event.set_language(c.language());
              event.set_channel(c.channel());
              return event.SerializeAsString();
            })
          .status());
  CIVIC_LOG_INFO("case {} opened for report {} → unit {}", c.case_id(), c.report_id(),
                 c.unit().id());
  return c;
}

absl::StatusOr<v1::Case> CasesLogic::GetCase(const std::string& case_id) const {
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(kCasesCf, case_id));
  if (!raw) {
    return WithReason(absl::NotFoundError(absl::StrCat("no case ", case_id)), "CASE_NOT_FOUND",
                      kDomain);
  }
  v1::Case c;
  if (!c.ParseFromString(*raw)) {
    return absl::DataLossError(absl::StrCat("case ", case_id, " is unreadable"));
  }
  return c;
}

absl::StatusOr<v1::Case> CasesLogic::GetCaseByReport(const std::string& report_id) const {
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> case_id,
                         store_->Get(kByReportCf, report_id));
  if (!case_id) {
    return WithReason(absl::NotFoundError("no case for that report yet"), "CASE_NOT_FOUND",
                      kDomain);
  }
  return GetCase(*case_id);
}

}  // namespace civic::cases
