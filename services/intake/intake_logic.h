// Intake's rules: validate a report completely, store it durably with its outbox entry
// before acknowledging, answer retries with the original, and tell a citizen where
// their report stands.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "civic/intake/v1/intake.pb.h"
#include "libs/auth/caller.h"
#include "libs/core/clock.h"
#include "libs/storage/store.h"
#include "services/intake/abuse.h"
#include "services/intake/catalog.h"
#include "services/intake/nearby.h"
#include "services/intake/peers.h"
#include "libs/photos/photos.h"

namespace civic::intake {

// Keyspaces of the intake store.
inline constexpr char kReportsCf[] = "reports";         // report_id → StoredReport
inline constexpr char kByCodeCf[] = "by_code";          // tracking code → report_id
inline constexpr char kByRequestCf[] = "by_request";    // client \x1f request id → report_id
inline constexpr char kOutboxCf[] = "outbox";           // lane \x1f report_id → ""
inline constexpr char kDeadLetterCf[] = "outbox_dead";  // report_id → why it was parked
std::vector<std::string> IntakeKeyspaces();

struct IntakeLimits {
  int max_description_chars = 5000;
  int max_address_chars = 500;
  int max_client_request_id_chars = 128;
  std::string tracking_prefix = "PA";
  NearbyOptions nearby;
  RateLimit per_device{.reports = 10, .per = absl::Hours(1)};
  RateLimit per_phone{.reports = 20, .per = absl::Hours(24)};
  photos::PhotoLimits photos;
  // Keys the by-phone "my reports" index (my_reports.h), with notify's key; unset:
  // reports are indexed by device only.
  std::optional<auth::PhoneSubjects> phone_subjects;
};

// Who is calling, from the request's metadata (set by the gateway from credentials).
struct Caller {
  std::string client_id = "public";  // the app or system; scope of client_request_id
  std::string device_id;             // the citizen's device, when known
};

// Outbox lanes: emergencies are forwarded before everything else.
inline constexpr char kEmergencyLane[] = "0";
inline constexpr char kNormalLane[] = "1";

class IntakeLogic {
 public:
  // None of the pointers is owned; all must outlive the logic.
  IntakeLogic(storage::Store* store, const Catalog* catalog, const Blocklist* blocklist,
              const Clock* clock, IntakeLimits limits);

  // Loads the reports of the duplicate window into the nearby index (call once, before
  // serving).
  absl::Status Recover();

  // Validates every field (INVALID_ARGUMENT with one field violation per problem; nothing
  // stored). A client_request_id already seen from this caller's client returns the
  // original answer with replayed = true. Refuses blocked devices, phones and terms
  // (PERMISSION_DENIED) and callers over their rate (RESOURCE_EXHAUSTED with RetryInfo).
  // A report of the same category within the nearby radius and window of an earlier
  // one supports that report's case (+1). Then writes the report, its indexes and its
  // outbox entry (emergencies in the first lane) in one synced batch. Text is stored in
  // Unicode NFC.
  absl::StatusOr<v1::SubmitReportResponse> Submit(const v1::SubmitReportRequest& request,
                                                  const Caller& caller);

  // The citizen-visible state of a report. NOT_FOUND for unknown or malformed codes.
  // Asks cases for the case when the report has been forwarded.
  absl::StatusOr<v1::ReportStatus> GetStatus(const std::string& tracking_code,
                                             CasesClient& cases) const;

  // The reporter rates the resolution of their report's case (cases' RateResolution),
  // proving who they are by the tracking code; returns the report's refreshed status.
  // INVALID_ARGUMENT (checked here, before any look-up) for a rating outside 1-5 or an
  // over-long comment; NOT_FOUND for unknown or malformed codes; FAILED_PRECONDITION
  // when the report has no case yet, when it joined a case another report opened (+1:
  // only that reporter rates), or, from cases, unless the case is resolved and not yet
  // rated; cases' other errors (UNAVAILABLE...) as they come.
  absl::StatusOr<v1::ReportStatus> Rate(const v1::RateReportRequest& request,
                                        CasesClient& cases) const;

  // A photo's public copy (metadata removed). NOT_FOUND when unknown.
  absl::StatusOr<common::v1::PhotoContent> GetPhoto(const std::string& photo_id) const {
    return photos_.GetPublic(photo_id);
  }

  // The stored report, NOT_FOUND when absent.
  absl::StatusOr<v1::StoredReport> Load(const std::string& report_id) const;

  // True for reports forwarded in the emergency lane: the operator's flag, or a
  // category of the emergency group.
  bool IsEmergency(const v1::SubmitReportRequest& request) const;

  // The category catalogue reports are checked against (ListCategories, GetCategory).
  const Catalog& catalog() const { return *catalog_; }

 private:
  absl::Status Validate(v1::SubmitReportRequest& request) const;
  // The report with this tracking code (normalised first); NOT_FOUND when none.
  absl::StatusOr<v1::StoredReport> FindByCode(const std::string& tracking_code) const;
  absl::Status CheckAbuse(const v1::SubmitReportRequest& request, const Caller& caller);
  std::mutex& LockFor(const std::string& key);

  storage::Store* store_;
  const Catalog* catalog_;
  const Blocklist* blocklist_;
  const Clock* clock_;
  IntakeLimits limits_;
  photos::PhotoStore photos_;
  NearbyIndex nearby_;
  RateLimiter rate_limiter_;
  std::atomic<uint64_t> submissions_{0};
  // Striped locks: two concurrent retries of one request must not both store it.
  std::array<std::mutex, 64> request_locks_;
  // Striped locks over tracking codes: allocation is check-then-write.
  std::array<std::mutex, 64> code_locks_;
};

}  // namespace civic::intake
