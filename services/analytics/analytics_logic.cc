#include "services/analytics/analytics_logic.h"

#include "absl/strings/str_cat.h"
#include "libs/core/status.h"

namespace civic::analytics {

std::vector<std::string> AnalyticsKeyspaces() { return {kCountsCf, kMetaCf}; }

absl::Status AnalyticsLogic::Apply(const common::v1::CaseEvent& event, storage::Batch& batch) {
  const bool opened = event.type() == common::v1::CASE_EVENT_TYPE_OPENED;
  const bool supported = event.type() == common::v1::CASE_EVENT_TYPE_SUPPORTED;
  if (!opened && !supported) return absl::OkStatus();
  const std::string key =
      absl::StrCat(event.category(), "\x1f", event.area().district_code());
  v1::CaseCount count;
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(kCountsCf, key));
  if (raw && !count.ParseFromString(*raw)) {
    return absl::DataLossError(absl::StrCat("unreadable count ", event.category()));
  }
  count.set_category(event.category());
  count.set_district_code(event.area().district_code());
  count.set_district_name(event.area().district_name());
  count.set_opened(count.opened() + (opened ? 1 : 0));
  count.set_supported(count.supported() + (supported ? 1 : 0));
  batch.Put(kCountsCf, key, count.SerializeAsString());
  return absl::OkStatus();
}

absl::StatusOr<v1::GetCaseCountsResponse> AnalyticsLogic::Counts(
    const v1::GetCaseCountsRequest& request) const {
  v1::GetCaseCountsResponse response;
  const std::string prefix =
      request.category().empty() ? "" : absl::StrCat(request.category(), "\x1f");
  absl::Status parse;
  CIVIC_RETURN_IF_ERROR(store_->Scan(
      kCountsCf, prefix, "", [&](absl::string_view, absl::string_view value) {
        v1::CaseCount count;
        if (!count.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parse = absl::DataLossError("unreadable count");
          return false;
        }
        if (!request.district_code().empty() &&
            count.district_code() != request.district_code()) {
          return true;
        }
        response.set_total_opened(response.total_opened() + count.opened());
        response.set_total_supported(response.total_supported() + count.supported());
        *response.add_counts() = std::move(count);
        return true;
      }));
  CIVIC_RETURN_IF_ERROR(parse);
  return response;
}

}  // namespace civic::analytics
