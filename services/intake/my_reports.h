// "My reports": the reports a citizen may list as their own. A signed-in citizen owns
// the reports whose contact phone is the one they proved by SMS code (indexed by the
// phone's pseudonymous subject, never the number); an app without sign-in owns what its
// device sent, and sees it without contact details. Subjects are keyed
// (auth::PhoneSubjects, notify's key): without the key, intake indexes reports by device
// only and citizens' listings are off (FAILED_PRECONDITION, not an empty list that would
// tell a citizen they have no reports).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "civic/intake/v1/intake.pb.h"
#include "libs/auth/caller.h"
#include "libs/storage/store.h"

namespace civic::intake {

inline constexpr char kByPhoneCf[] = "by_phone";    // citizen subject \x1f report_id → ""
inline constexpr char kByDeviceCf[] = "by_device";  // device id \x1f report_id → ""

// Adds to `batch` the owner indexes of a report being stored: its contact phone's
// citizen subject (phone_subjects->For; none when `phone_subjects` is null), and the
// device it was sent from unless an operator entered it (hotline and agency channels),
// since the device then is the operator's. Call with the batch that stores the report,
// so index and report appear together.
void IndexReportOwners(const v1::StoredReport& stored, const std::string& device_id,
                       const auth::PhoneSubjects* phone_subjects, storage::Batch& batch);

class MyReports {
 public:
  // `store` is not owned and must outlive this. `phone_subjects` must be the subjects
  // IndexReportOwners was given (notify's key); nullopt: citizens' listings are off.
  MyReports(const storage::Store* store, std::optional<auth::PhoneSubjects> phone_subjects)
      : store_(store), phone_subjects_(std::move(phone_subjects)) {}

  // The reports whose contact phone has citizen subject `subject`, newest first, with
  // their contact details. INVALID_ARGUMENT for a bad page_size or page_token;
  // FAILED_PRECONDITION (reason MY_REPORTS_BY_PHONE_OFF) without phone subjects.
  absl::StatusOr<v1::ListMyReportsResponse> ForCitizen(
      const std::string& subject, const v1::ListMyReportsRequest& request) const;

  // The reports sent from `device_id`, newest first, without contact details. The same
  // errors; an empty list for a device id that could not have been indexed.
  absl::StatusOr<v1::ListMyReportsResponse> ForDevice(
      const std::string& device_id, const v1::ListMyReportsRequest& request) const;

  // The tracking codes of the reports ForCitizen / ForDevice list, newest first, at most
  // `limit` of them (what notify's inbox across a citizen's reports reads).
  absl::StatusOr<std::vector<std::string>> CodesForCitizen(const std::string& subject,
                                                           size_t limit) const;
  absl::StatusOr<std::vector<std::string>> CodesForDevice(const std::string& device_id,
                                                          size_t limit) const;

 private:
  absl::StatusOr<std::vector<std::string>> Codes(absl::string_view cf, const std::string& owner,
                                                 bool with_contact, size_t limit) const;
  absl::StatusOr<v1::ListMyReportsResponse> List(absl::string_view cf, const std::string& owner,
                                                 const v1::ListMyReportsRequest& request,
                                                 bool with_contact) const;

  const storage::Store* store_;
  const std::optional<auth::PhoneSubjects> phone_subjects_;
};

}  // namespace civic::intake
