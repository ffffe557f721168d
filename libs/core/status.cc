#include "absl/strings/string_view.h"
#include "libs/core/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "civic/common/v1/common.pb.h"
#include "google/rpc/error_details.pb.h"

namespace civic {

absl::Status FieldErrors::ToStatus(absl::string_view domain) const {
  if (violations_.empty()) return absl::OkStatus();
  google::rpc::BadRequest bad_request;
  for (const auto& v : violations_) {
    auto* fv = bad_request.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
  }
  std::string message = absl::StrCat(violations_.front().field, ": ",
                                     violations_.front().description);
  if (violations_.size() > 1) {
    absl::StrAppend(&message, " (and ", violations_.size() - 1, " more)");
  }
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kBadRequestUrl, absl::Cord(bad_request.SerializeAsString()));
  return WithReason(std::move(status), "INVALID_FIELDS", domain);
}

absl::Status WithReason(absl::Status status, absl::string_view reason,
                        absl::string_view domain) {
  if (status.ok()) return status;
  civic::common::v1::ErrorReason info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(domain));
  status.SetPayload(kErrorReasonUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  if (status.ok()) return status;
  google::rpc::RetryInfo info;
  const int64_t nanos = absl::ToInt64Nanoseconds(delay);
  info.mutable_retry_delay()->set_seconds(nanos / 1000000000);
  info.mutable_retry_delay()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  status.SetPayload(kRetryInfoUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status) {
  std::vector<FieldViolation> out;
  auto payload = status.GetPayload(kBadRequestUrl);
  if (!payload) return out;
  google::rpc::BadRequest bad_request;
  if (!bad_request.ParseFromString(std::string(*payload))) return out;
  for (const auto& fv : bad_request.field_violations()) {
    out.push_back({fv.field(), fv.description()});
  }
  return out;
}

std::string ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorReasonUrl);
  if (!payload) return "";
  civic::common::v1::ErrorReason info;
  if (!info.ParseFromString(std::string(*payload))) return "";
  return info.reason();
}

}  // namespace civic
