// "My reports": the reports a citizen may list as their own. A signed-in citizen owns
// the reports whose contact phone is the one they proved by SMS code (indexed by the
// phone's pseudonymous subject, never the number); an app without sign-in owns what its
// device sent, and sees it without contact details.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "civic/intake/v1/intake.pb.h"
#include "libs/storage/store.h"

namespace civic::intake {

inline constexpr char kByPhoneCf[] = "by_phone";    // citizen subject \x1f report_id → ""
inline constexpr char kByDeviceCf[] = "by_device";  // device id \x1f report_id → ""

// Adds to `batch` the owner indexes of a report being stored: its contact phone's
// citizen subject (auth::CitizenSubjectForPhone), and the device it was sent from
// unless an operator entered it (hotline and agency channels), since the device then
// is the operator's. Call with the batch that stores the report, so index and report
// appear together.
void IndexReportOwners(const v1::StoredReport& stored, const std::string& device_id,
                       storage::Batch& batch);

class MyReports {
 public:
  // `store` is not owned and must outlive this.
  explicit MyReports(const storage::Store* store) : store_(store) {}

  // The reports whose contact phone has citizen subject `subject`, newest first, with
  // their contact details. INVALID_ARGUMENT for a bad page_size or page_token.
  absl::StatusOr<v1::ListMyReportsResponse> ForCitizen(
      const std::string& subject, const v1::ListMyReportsRequest& request) const;

  // The reports sent from `device_id`, newest first, without contact details. The same
  // errors; an empty list for a device id that could not have been indexed.
  absl::StatusOr<v1::ListMyReportsResponse> ForDevice(
      const std::string& device_id, const v1::ListMyReportsRequest& request) const;

 private:
  absl::StatusOr<v1::ListMyReportsResponse> List(absl::string_view cf, const std::string& owner,
                                                 const v1::ListMyReportsRequest& request,
                                                 bool with_contact) const;

  const storage::Store* store_;
};

}  // namespace civic::intake
