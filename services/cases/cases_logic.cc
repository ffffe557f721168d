#include "services/cases/cases_logic.h"

#include "absl/strings/str_cat.h"
#include "libs/core/clock.h"
#include "libs/core/ids.h"
#include "libs/core/log.h"
#include "libs/core/status.h"

namespace civic::cases {
namespace {

constexpr char kDomain[] = "cases.civicdesk";

}  // namespace

std::vector<std::string> CasesKeyspaces() {
  std::vector<std::string> keyspaces = {kCasesCf, kByReportCf, kFeedCf, kByUnitCf, kSearchCf};
  // Photos units attach to replies and resolutions (case_merge.cc).
  for (auto& cf : photos::PhotoStore::Keyspaces()) keyspaces.push_back(std::move(cf));
  keyspaces.push_back(kTimersCf);  // SLA timers (sla_timers.h)
  return keyspaces;
}

absl::StatusOr<std::unique_ptr<CasesLogic>> CasesLogic::Create(storage::Store* store,
                                                               const Clock* clock,
                                                               CasesOptions options) {
  std::unique_ptr<CasesLogic> logic(new CasesLogic(store, clock, std::move(options)));
  CIVIC_ASSIGN_OR_RETURN(logic->feed_, storage::ChangeFeed::Open(store, kFeedCf));
  CIVIC_RETURN_IF_ERROR(logic->LoadPublicIndex());
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
  if (!request.supports_report_id().empty()) {
    CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> master_id,
                           store_->Get(kByReportCf, request.supports_report_id()));
    if (master_id) {
      CIVIC_ASSIGN_OR_RETURN(v1::Case master, GetCase(*master_id));
      // The earlier report's case may have been merged into another (which may since
      // have been merged too): its followers follow that one now, and so does this
      // report. Merges only target open cases, so the chain has no cycle; the bound is
      // a guard against a damaged store.
      for (int hops = 0; hops < 16 && master.status() == common::v1::CASE_STATUS_MERGED &&
                         !master.merged_into_case_id().empty();
           ++hops) {
        CIVIC_ASSIGN_OR_RETURN(master, GetCase(master.merged_into_case_id()));
      }
      if (IsOpen(master.status())) return AddSupporter(std::move(master), request, now);
    }
    // The earlier report's case is closed (or, out of order, not opened): this report
    // is a new occurrence and gets a case of its own.
  }
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
  *c.mutable_opened_at() = ToTimestamp(now);
  *c.mutable_updated_at() = ToTimestamp(now);
  // Working hours (Vietnam's week and holidays) for ordinary cases; emergencies run on
  // the wall clock.
  *c.mutable_due_at() = ToTimestamp(calendar_.DueAt(now, request.sla_hours(), WallClock(c)));
  c.set_sla_hours(request.sla_hours());  // a reopened case gets as much again
  c.set_version(1);
  c.set_routing_rule(request.routing_rule());
  c.set_channel(request.channel());
  c.set_language(request.language());
  if (!request.anonymous()) *c.mutable_contact() = request.contact();
  c.set_anonymous(request.anonymous());
  c.set_operator_id(request.operator_id());
  // What the public view needs: a private report is shown coarsened and without its
  // description, address and photos (public_view.h).
  c.set_private_location(request.private_location());
  *c.mutable_photo_ids() = request.photo_ids();
  c.set_address(request.address());
  v1::HistoryEntry* opened = c.add_history();
  *opened->mutable_at() = c.opened_at();
  opened->set_actor("system");
  opened->set_action("open");
  opened->set_to_status(common::v1::CASE_STATUS_NEW);
  opened->set_to_unit_id(c.unit().id());
  opened->set_reason(request.routing_rule());
  opened->set_version(1);

  storage::Batch batch(store_);
  batch.Put(kCasesCf, c.case_id(), c.SerializeAsString());
  batch.Put(kByReportCf, c.report_id(), c.case_id());
  batch.Put(kByUnitCf, absl::StrCat(c.unit().id(), "\x1f", c.case_id()), "");
  search_.Index(c.case_id(), c.description(), batch);
  // Its at-risk and breach timers, durable with the case (sla_timers.h).
  ScheduleSlaTimers(calendar_, options_.at_risk_fraction, WallClock(c), c, batch);
  CIVIC_RETURN_IF_ERROR(
      feed_->AppendAndWrite(batch, [&](uint64_t sequence) {
              common::v1::CaseEvent event = EventFor(c, sequence, now);
              event.set_type(common::v1::CASE_EVENT_TYPE_OPENED);
              return event.SerializeAsString();
            })
          .status());
  // Only once written: the public never finds a case that does not exist.
  geo_.Add(c);
  CIVIC_LOG_INFO("case {} opened for report {} → unit {}", c.case_id(), c.report_id(),
                 c.unit().id());
  return c;
}

void CasesLogic::StampSla(v1::Case& c) const {
  if (!IsOpen(c.status())) {
    c.set_sla_state(v1::SLA_STATE_STOPPED);
    return;
  }
  // From the start of the current deadline: a reopened case's time restarts then.
  switch (calendar_.StateAt(SlaStartOf(c), FromTimestamp(c.due_at()),
                            clock_->Now(), WallClock(c), options_.at_risk_fraction)) {
    case SlaState::kOnTrack: c.set_sla_state(v1::SLA_STATE_ON_TRACK); break;
    case SlaState::kAtRisk: c.set_sla_state(v1::SLA_STATE_AT_RISK); break;
    case SlaState::kBreached: c.set_sla_state(v1::SLA_STATE_BREACHED); break;
  }
}

bool CasesLogic::IsOpen(common::v1::CaseStatus status) {
  switch (status) {
    case common::v1::CASE_STATUS_RESOLVED:
    case common::v1::CASE_STATUS_CLOSED:
    case common::v1::CASE_STATUS_REJECTED:
    case common::v1::CASE_STATUS_MERGED:
      return false;
    default:
      return true;
  }
}

absl::StatusOr<v1::Case> CasesLogic::AddSupporter(v1::Case master,
                                                  const v1::OpenCaseRequest& request,
                                                  absl::Time now) {
  v1::Supporter* supporter = master.add_supporters();
  supporter->set_report_id(request.report_id());
  supporter->set_tracking_code(request.tracking_code());
  *supporter->mutable_joined_at() = ToTimestamp(now);
  if (!request.anonymous()) *supporter->mutable_contact() = request.contact();
  master.set_version(master.version() + 1);
  *master.mutable_updated_at() = ToTimestamp(now);
  v1::HistoryEntry* entry = master.add_history();
  *entry->mutable_at() = ToTimestamp(now);
  entry->set_actor("citizen");
  entry->set_action("support");
  entry->set_from_status(master.status());
  entry->set_to_status(master.status());
  entry->set_version(master.version());

  storage::Batch batch(store_);
  batch.Put(kCasesCf, master.case_id(), master.SerializeAsString());
  batch.Put(kByReportCf, request.report_id(), master.case_id());
  CIVIC_RETURN_IF_ERROR(
      feed_->AppendAndWrite(batch, [&](uint64_t sequence) {
              common::v1::CaseEvent event = EventFor(master, sequence, now);
              event.set_type(common::v1::CASE_EVENT_TYPE_SUPPORTED);
              event.set_supporter_tracking_code(request.tracking_code());
              event.set_supporter_language(request.language());
              return event.SerializeAsString();
            })
          .status());
  CIVIC_LOG_INFO("report {} supports case {} ({} supporters)", request.report_id(),
                 master.case_id(), master.supporters_size());
  return master;
}

common::v1::CaseEvent CasesLogic::EventFor(const v1::Case& c, uint64_t sequence,
                                           absl::Time now) {
  common::v1::CaseEvent event;
  event.set_sequence(sequence);
  event.set_event_id(NewSortableId(now));
  *event.mutable_occurred_at() = ToTimestamp(now);
  event.set_case_id(c.case_id());
  event.set_tracking_code(c.tracking_code());
  event.set_category(c.category());
  *event.mutable_area() = c.area();
  *event.mutable_unit() = c.unit();
  event.set_from_status(c.status());
  event.set_to_status(c.status());
  event.set_priority(c.priority());
  event.set_language(c.language());
  event.set_channel(c.channel());
  event.set_supporter_count(static_cast<uint32_t>(c.supporters_size()));
  for (const auto& s : c.supporters()) event.add_follower_tracking_codes(s.tracking_code());
  return event;
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
