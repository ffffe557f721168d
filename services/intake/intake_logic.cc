#include "services/intake/intake_logic.h"

#include <cmath>
#include <functional>

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/ids.h"
#include "libs/core/log.h"
#include "libs/core/status.h"

namespace civic::intake {
namespace {

constexpr char kDomain[] = "intake.civicdesk";

google::protobuf::Timestamp ToProto(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

// Text in NFC (a keyboard may send "đường" decomposed), and its length in code points.
struct NormalizedText {
  std::string text;
  int32_t chars = 0;
};

NormalizedText Normalize(const std::string& utf8) {
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(error);
  icu::UnicodeString source = icu::UnicodeString::fromUTF8(utf8);
  icu::UnicodeString normalized = U_SUCCESS(error) ? nfc->normalize(source, error) : source;
  if (U_FAILURE(error)) normalized = source;
  NormalizedText out;
  normalized.toUTF8String(out.text);
  out.chars = normalized.countChar32();
  return out;
}

// A Vietnamese phone number in E.164 ("+84" and 9-10 national digits), from the forms
// people type: "0901 234 567", "+84 90 123 4567", "84901234567". "" when it is not one.
std::string NormalizePhone(absl::string_view raw) {
  std::string digits;
  bool plus = false;
  for (char c : raw) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digits.push_back(c);
    } else if (c == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (c != ' ' && c != '.' && c != '-' && c != '(' && c != ')') {
      return "";
    }
  }
  std::string national;
  if (plus || (digits.size() >= 11 && digits.rfind("84", 0) == 0)) {
    if (digits.rfind("84", 0) != 0) return "";  // other countries: later, with real rules
    national = digits.substr(2);
  } else if (digits.rfind("0", 0) == 0) {
    national = digits.substr(1);
  } else {
    return "";
  }
  if (national.size() < 9 || national.size() > 10 || national[0] == '0') return "";
  return absl::StrCat("+84", national);
}

bool LooksLikeEmail(absl::string_view email) {
  const size_t at = email.find('@');
  if (at == absl::string_view::npos || at == 0 || email.find('@', at + 1) != absl::string_view::npos) {
    return false;
  }
  const absl::string_view domain = email.substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == absl::string_view::npos || domain.front() == '.' ||
      domain.back() == '.') {
    return false;
  }
  for (char c : email) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return email.size() <= 254;
}

std::string StatusWord(common::v1::CaseStatus status) {
  std::string name = common::v1::CaseStatus_Name(status);
  absl::string_view word = name;
  constexpr absl::string_view kPrefix = "CASE_STATUS_";
  if (word.substr(0, kPrefix.size()) == kPrefix) word.remove_prefix(kPrefix.size());
  return absl::AsciiStrToLower(word);
}

}  // namespace

std::vector<std::string> IntakeKeyspaces() {
  return {kReportsCf, kByCodeCf, kByRequestCf, kOutboxCf, kDeadLetterCf};
}

std::mutex& IntakeLogic::LockFor(const std::string& key) {
  return request_locks_[std::hash<std::string>{}(key) % request_locks_.size()];
}

absl::Status IntakeLogic::Validate(v1::SubmitReportRequest& r) const {
  FieldErrors errors;
  const Category* category = nullptr;
  if (r.category().empty()) {
    errors.Add("category", "is required");
  } else if ((category = catalog_->Find(r.category())) == nullptr) {
    errors.Add("category", absl::StrCat("'", r.category(), "' is not a known category"));
  }

  NormalizedText description = Normalize(r.description());
  if (absl::StripAsciiWhitespace(description.text).empty()) {
    errors.Add("description", "is required");
  } else if (description.chars > limits_.max_description_chars) {
    errors.Add("description", absl::StrCat("has ", description.chars, " characters; at most ",
                                           limits_.max_description_chars, " are allowed"));
  }
  r.set_description(std::move(description.text));

  NormalizedText address = Normalize(r.address());
  if (address.chars > limits_.max_address_chars) {
    errors.Add("address", absl::StrCat("at most ", limits_.max_address_chars, " characters"));
  }
  r.set_address(std::move(address.text));

  if (!r.has_location()) {
    errors.Add("location", "is required");
  } else {
    // !(x <= bound) also catches NaN.
    if (!(std::abs(r.location().lat()) <= 90)) {
      errors.Add("location.lat", "must be between -90 and 90");
    }
    if (!(std::abs(r.location().lon()) <= 180)) {
      errors.Add("location.lon", "must be between -180 and 180");
    }
  }

  if (r.channel() == common::v1::CHANNEL_UNSPECIFIED) r.set_channel(common::v1::CHANNEL_APP);
  if (!common::v1::Channel_IsValid(r.channel())) errors.Add("channel", "is not a known channel");

  if (r.anonymous()) {
    r.clear_contact();  // the citizen asked not to be identified: keep nothing
  } else if (r.has_contact()) {
    auto* contact = r.mutable_contact();
    contact->set_name(Normalize(contact->name()).text);
    if (!contact->phone().empty()) {
      std::string phone = NormalizePhone(contact->phone());
      if (phone.empty()) {
        errors.Add("contact.phone", "is not a Vietnamese phone number (+84… or 0…)");
      }
      contact->set_phone(phone);
    }
    if (!contact->email().empty() && !LooksLikeEmail(contact->email())) {
      errors.Add("contact.email", "is not an e-mail address");
    }
  }

  if (static_cast<int>(r.client_request_id().size()) > limits_.max_client_request_id_chars) {
    errors.Add("client_request_id",
               absl::StrCat("at most ", limits_.max_client_request_id_chars, " characters"));
  }
  if (r.language().empty()) r.set_language("vi");
  if (r.language() != "vi" && r.language() != "en") {
    errors.Add("language", "must be \"vi\" or \"en\"");
  }
  if (category != nullptr) catalog_->CheckAttributes(*category, r.attributes(), errors);
  return errors.ToStatus(kDomain);
}

absl::StatusOr<v1::SubmitReportResponse> IntakeLogic::Submit(
    const v1::SubmitReportRequest& request, const std::string& client_id) {
  v1::SubmitReportRequest r = request;
  CIVIC_RETURN_IF_ERROR(Validate(r));

  const std::string request_key =
      r.client_request_id().empty() ? "" : absl::StrCat(client_id, "\x1f", r.client_request_id());
  std::unique_lock<std::mutex> lock;
  if (!request_key.empty()) {
    lock = std::unique_lock(LockFor(request_key));
    CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> seen,
                           store_->Get(kByRequestCf, request_key));
    if (seen) {
      CIVIC_ASSIGN_OR_RETURN(v1::StoredReport original, Load(*seen));
      v1::SubmitReportResponse response;
      response.set_report_id(original.report_id());
      response.set_tracking_code(original.tracking_code());
      *response.mutable_received_at() = original.received_at();
      response.set_replayed(true);
      return response;
    }
  }

  const absl::Time now = clock_->Now();
  v1::StoredReport stored;
  stored.set_report_id(NewSortableId(now));
  // 33 million codes a month per prefix: a clash is rare, but never reuse a code.
  for (int attempt = 0;; ++attempt) {
    stored.set_tracking_code(NewTrackingCode(limits_.tracking_prefix, now));
    CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> taken,
                           store_->Get(kByCodeCf, stored.tracking_code()));
    if (!taken) break;
    if (attempt == 8) return absl::InternalError("could not find a free tracking code");
  }
  *stored.mutable_request() = std::move(r);
  *stored.mutable_received_at() = ToProto(now);
  stored.set_client_id(client_id);

  storage::Batch batch(store_);
  batch.Put(kReportsCf, stored.report_id(), stored.SerializeAsString());
  batch.Put(kByCodeCf, stored.tracking_code(), stored.report_id());
  if (!request_key.empty()) batch.Put(kByRequestCf, request_key, stored.report_id());
  batch.Put(kOutboxCf, stored.report_id(), "");
  CIVIC_RETURN_IF_ERROR(store_->Write(batch));
  CIVIC_LOG_INFO("report {} stored as {} ({})", stored.report_id(), stored.tracking_code(),
                 stored.request().category());

  v1::SubmitReportResponse response;
  response.set_report_id(stored.report_id());
  response.set_tracking_code(stored.tracking_code());
  *response.mutable_received_at() = stored.received_at();
  return response;
}

absl::StatusOr<v1::StoredReport> IntakeLogic::Load(const std::string& report_id) const {
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(kReportsCf, report_id));
  if (!raw) return absl::NotFoundError(absl::StrCat("no report ", report_id));
  v1::StoredReport stored;
  if (!stored.ParseFromString(*raw)) {
    return absl::DataLossError(absl::StrCat("report ", report_id, " is unreadable"));
  }
  return stored;
}

absl::StatusOr<v1::ReportStatus> IntakeLogic::GetStatus(const std::string& tracking_code,
                                                        CasesClient& cases) const {
  const std::string code = NormalizeTrackingCode(tracking_code);
  auto not_found = [&] {
    return WithReason(absl::NotFoundError("no report has that tracking code"),
                      "REPORT_NOT_FOUND", kDomain);
  };
  if (code.empty()) return not_found();
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> report_id, store_->Get(kByCodeCf, code));
  if (!report_id) return not_found();
  CIVIC_ASSIGN_OR_RETURN(v1::StoredReport stored, Load(*report_id));

  v1::ReportStatus status;
  status.set_tracking_code(stored.tracking_code());
  status.set_category(stored.request().category());
  *status.mutable_received_at() = stored.received_at();
  status.set_status("received");
  absl::StatusOr<cases::v1::Case> c = cases.GetCaseByReport(stored.report_id());
  if (c.ok()) {
    status.set_status(StatusWord(c->status()));
    status.set_case_id(c->case_id());
    *status.mutable_unit() = c->unit();
    *status.mutable_area() = c->area();
    *status.mutable_opened_at() = c->opened_at();
    *status.mutable_due_at() = c->due_at();
    *status.mutable_updated_at() = c->updated_at();
  } else if (c.status().code() != absl::StatusCode::kNotFound) {
    // The report is safe with us; say what we know rather than fail the citizen.
    CIVIC_LOG_WARN("status of {}: cases unavailable: {}", stored.report_id(),
                   c.status().ToString());
  }
  return status;
}

}  // namespace civic::intake
