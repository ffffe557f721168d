// The citizen's own reports (see my_reports.h).
#include "services/intake/my_reports.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/auth/caller.h"
#include "libs/core/status.h"
#include "services/intake/intake_logic.h"

namespace civic::intake {
namespace {

constexpr char kDomain[] = "intake.civicdesk";
constexpr int kDefaultPageSize = 20;
constexpr int kMaxPageSize = 100;
constexpr size_t kReportIdChars = 26;  // NewSortableId

// An owner key must not contain the separator, or one owner's prefix could reach into
// another's keys.
bool IsIndexableOwner(absl::string_view owner) {
  return !owner.empty() && owner.size() <= 128 &&
         std::none_of(owner.begin(), owner.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

bool IsReportId(absl::string_view id) {
  return id.size() == kReportIdChars &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
         });
}

v1::MyReport ToMyReport(const v1::StoredReport& stored, bool with_contact) {
  const v1::SubmitReportRequest& r = stored.request();
  v1::MyReport out;
  out.set_report_id(stored.report_id());
  out.set_tracking_code(stored.tracking_code());
  out.set_category(r.category());
  out.set_description(r.description());
  out.set_address(r.address());
  if (r.has_location()) *out.mutable_location() = r.location();
  *out.mutable_received_at() = stored.received_at();
  out.set_language(r.language());
  *out.mutable_photo_ids() = stored.photo_ids();
  out.set_supports_tracking_code(stored.supports_tracking_code());
  if (with_contact && r.has_contact()) *out.mutable_contact() = r.contact();
  return out;
}

}  // namespace

void IndexReportOwners(const v1::StoredReport& stored, const std::string& device_id,
                       const auth::PhoneSubjects* phone_subjects, storage::Batch& batch) {
  const v1::SubmitReportRequest& r = stored.request();
  // The phone is in E.164 by now (Validate normalised it).
  if (phone_subjects != nullptr && !r.anonymous() && !r.contact().phone().empty()) {
    batch.Put(kByPhoneCf,
              absl::StrCat(phone_subjects->For(r.contact().phone()), "\x1f",
                           stored.report_id()),
              "");
  }
  const bool entered_by_operator = r.channel() == common::v1::CHANNEL_HOTLINE ||
                                   r.channel() == common::v1::CHANNEL_AGENCY;
  if (!entered_by_operator && IsIndexableOwner(device_id)) {
    batch.Put(kByDeviceCf, absl::StrCat(device_id, "\x1f", stored.report_id()), "");
  }
}

absl::StatusOr<v1::ListMyReportsResponse> MyReports::ForCitizen(
    const std::string& subject, const v1::ListMyReportsRequest& request) const {
  return List(kByPhoneCf, subject, request, /*with_contact=*/true);
}

absl::StatusOr<v1::ListMyReportsResponse> MyReports::ForDevice(
    const std::string& device_id, const v1::ListMyReportsRequest& request) const {
  return List(kByDeviceCf, device_id, request, /*with_contact=*/false);
}

absl::StatusOr<v1::ListMyReportsResponse> MyReports::List(
    absl::string_view cf, const std::string& owner, const v1::ListMyReportsRequest& request,
    bool with_contact) const {
  FieldErrors errors;
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    errors.Add("page_size", absl::StrCat("must be 0..", kMaxPageSize));
  }
  if (!request.page_token().empty() && !IsReportId(request.page_token())) {
    errors.Add("page_token", "is not a token this API gave out");
  }
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));
  if ((cf == kByPhoneCf || with_contact) && !phone_subjects_) {
    // An empty list would tell the citizen they have no reports.
    return WithReason(absl::FailedPreconditionError(
                          "listing reports by signed-in phone is not configured "
                          "(intake.phone_subject_key_file)"),
                      "MY_REPORTS_BY_PHONE_OFF", kDomain);
  }
  v1::ListMyReportsResponse response;
  if (!IsIndexableOwner(owner)) return response;
  const int page_size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();

  // Report ids sort by time: walking the owner's keys backwards is newest first.
  const std::string prefix = absl::StrCat(owner, "\x1f");
  const std::string before =
      request.page_token().empty() ? "" : absl::StrCat(prefix, request.page_token());
  std::vector<std::string> ids;
  CIVIC_RETURN_IF_ERROR(store_->ScanBackward(
      cf, prefix, before, [&](absl::string_view key, absl::string_view) {
        ids.emplace_back(key.substr(prefix.size()));
        return static_cast<int>(ids.size()) <= page_size;  // one more: is there a next page?
      }));
  const bool more = static_cast<int>(ids.size()) > page_size;
  if (more) ids.resize(static_cast<size_t>(page_size));

  for (const std::string& id : ids) {
    CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(kReportsCf, id));
    if (!raw) continue;  // an index entry outliving its report: nothing to show
    v1::StoredReport stored;
    if (!stored.ParseFromString(*raw)) {
      return absl::DataLossError(absl::StrCat("report ", id, " is unreadable"));
    }
    // The index is only a shortcut: personal data goes out only when the report's own
    // phone is the citizen's.
    if (with_contact && phone_subjects_->For(stored.request().contact().phone()) != owner) {
      continue;
    }
    *response.add_reports() = ToMyReport(stored, with_contact);
  }
  if (more && !ids.empty()) response.set_next_page_token(ids.back());
  return response;
}

absl::StatusOr<std::vector<std::string>> MyReports::CodesForCitizen(const std::string& subject,
                                                                  size_t limit) const {
  return Codes(kByPhoneCf, subject, /*with_contact=*/true, limit);
}

absl::StatusOr<std::vector<std::string>> MyReports::CodesForDevice(const std::string& device_id,
                                                                 size_t limit) const {
  return Codes(kByDeviceCf, device_id, /*with_contact=*/false, limit);
}

absl::StatusOr<std::vector<std::string>> MyReports::Codes(absl::string_view cf,
                                                          const std::string& owner,
                                                          bool with_contact,
                                                          size_t limit) const {
  // Page by page through List, so the owner checks are the same as the listing's.
  std::vector<std::string> codes;
  v1::ListMyReportsRequest page;
  page.set_page_size(kMaxPageSize);
  while (codes.size() < limit) {
    CIVIC_ASSIGN_OR_RETURN(v1::ListMyReportsResponse listed, List(cf, owner, page, with_contact));
    for (const v1::MyReport& report : listed.reports()) {
      if (codes.size() < limit) codes.push_back(report.tracking_code());
    }
    if (listed.next_page_token().empty()) break;
    page.set_page_token(listed.next_page_token());
  }
  return codes;
}

}  // namespace civic::intake
