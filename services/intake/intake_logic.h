// Intake's rules: validate a report completely, store it durably with its outbox entry
// before acknowledging, answer retries with the original, and tell a citizen where
// their report stands.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "civic/intake/v1/intake.pb.h"
#include "libs/core/clock.h"
#include "libs/storage/store.h"
#include "services/intake/catalog.h"
#include "services/intake/peers.h"

namespace civic::intake {

// Keyspaces of the intake store.
inline constexpr char kReportsCf[] = "reports";         // report_id → StoredReport
inline constexpr char kByCodeCf[] = "by_code";          // tracking code → report_id
inline constexpr char kByRequestCf[] = "by_request";    // client \x1f request id → report_id
inline constexpr char kOutboxCf[] = "outbox";           // report_id (sortable) → ""
inline constexpr char kDeadLetterCf[] = "outbox_dead";  // report_id → why it was parked
std::vector<std::string> IntakeKeyspaces();

struct IntakeLimits {
  int max_description_chars = 5000;
  int max_address_chars = 500;
  int max_client_request_id_chars = 128;
  std::string tracking_prefix = "PA";
};

class IntakeLogic {
 public:
  // None of the pointers is owned; all must outlive the logic.
  IntakeLogic(storage::Store* store, const Catalog* catalog, const Clock* clock,
              IntakeLimits limits)
      : store_(store), catalog_(catalog), clock_(clock), limits_(std::move(limits)) {}

  // Validates every field (INVALID_ARGUMENT with one field violation per problem; nothing
  // stored), then writes the report, its indexes and its outbox entry in one synced
  // batch. A request with a client_request_id already seen from `client_id` returns the
  // original answer with replayed = true. Text is stored in Unicode NFC.
  absl::StatusOr<v1::SubmitReportResponse> Submit(const v1::SubmitReportRequest& request,
                                                  const std::string& client_id);

  // The citizen-visible state of a report. NOT_FOUND for unknown or malformed codes.
  // Asks cases for the case when the report has been forwarded.
  absl::StatusOr<v1::ReportStatus> GetStatus(const std::string& tracking_code,
                                             CasesClient& cases) const;

  // The stored report, NOT_FOUND when absent.
  absl::StatusOr<v1::StoredReport> Load(const std::string& report_id) const;

 private:
  absl::Status Validate(v1::SubmitReportRequest& request) const;
  std::mutex& LockFor(const std::string& key);

  storage::Store* store_;
  const Catalog* catalog_;
  const Clock* clock_;
  IntakeLimits limits_;
  // Striped locks: two concurrent retries of one request must not both store it.
  std::array<std::mutex, 64> request_locks_;
};

}  // namespace civic::intake
