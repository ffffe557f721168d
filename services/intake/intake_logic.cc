#include "services/intake/intake_logic.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/core/clock.h"
#include "libs/core/ids.h"
#include "libs/core/log.h"
#include "libs/core/phone.h"
#include "libs/core/status.h"
#include "services/cases/case_status.h"
#include "services/intake/api_keys.h"
#include "services/intake/my_reports.h"

namespace civic::intake {
namespace {

constexpr char kDomain[] = "intake.civicdesk";

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

// Links to pictures hosted elsewhere (Open311's media_url): stored and shown, never
// fetched, so only their form is checked: http(s), a host, no spaces or control
// characters, at most 2048 bytes, at most 5 of them.
void CheckMediaUrls(const google::protobuf::RepeatedPtrField<std::string>& urls,
                    FieldErrors& errors) {
  constexpr int kMaxMediaUrls = 5;
  constexpr size_t kMaxMediaUrlBytes = 2048;
  if (urls.size() > kMaxMediaUrls) {
    errors.Add("media_urls", absl::StrCat("at most ", kMaxMediaUrls, " links"));
  }
  for (int i = 0; i < urls.size(); ++i) {
    const std::string& url = urls[i];
    const std::string field = absl::StrCat("media_urls[", i, "]");
    if (url.size() > kMaxMediaUrlBytes) {
      errors.Add(field, absl::StrCat("at most ", kMaxMediaUrlBytes, " bytes"));
      continue;
    }
    absl::string_view rest = url;
    bool scheme = false;
    for (absl::string_view prefix : {"https://", "http://"}) {
      if (!scheme && absl::StartsWithIgnoreCase(rest, prefix)) {
        rest.remove_prefix(prefix.size());
        scheme = true;
      }
    }
    const bool clean = std::all_of(url.begin(), url.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u > 0x20 && u != 0x7F;
    });
    if (!scheme || rest.empty() || rest.front() == '/' || !clean) {
      errors.Add(field, "must be an http or https URL");
    }
  }
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

}  // namespace

std::vector<std::string> IntakeKeyspaces() {
  std::vector<std::string> keyspaces = {kReportsCf,    kByCodeCf,     kByRequestCf,
                                        kOutboxCf,     kDeadLetterCf, kBlocklistCf};
  for (auto& k : photos::PhotoStore::Keyspaces()) keyspaces.push_back(std::move(k));
  // Authentication: apps' API keys and the owners of reports ("my reports").
  for (const char* k : {kApiKeysCf, kByPhoneCf, kByDeviceCf}) keyspaces.emplace_back(k);
  return keyspaces;
}

IntakeLogic::IntakeLogic(storage::Store* store, const Catalog* catalog,
                         const Blocklist* blocklist, const Clock* clock, IntakeLimits limits)
    : store_(store),
      catalog_(catalog),
      blocklist_(blocklist),
      clock_(clock),
      limits_(std::move(limits)),
      photos_(store),
      nearby_(limits_.nearby),
      rate_limiter_(clock) {}

absl::Status IntakeLogic::Recover() {
  // Report ids sort by time: start the scan at the first id of the window.
  const std::string start = SortableIdPrefix(clock_->Now() - limits_.nearby.window);
  absl::Status parse;
  size_t loaded = 0;
  CIVIC_RETURN_IF_ERROR(store_->Scan(kReportsCf, "", start, [&](absl::string_view,
                                                                 absl::string_view value) {
    v1::StoredReport r;
    if (!r.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      parse = absl::DataLossError("unreadable report");
      return false;
    }
    if (!r.request().has_location()) return true;
    const bool supporter = !r.supports_report_id().empty();
    nearby_.Add(r.request().category(), r.request().location().lat(),
                r.request().location().lon(),
                FromTimestamp(r.received_at()),
                supporter ? r.supports_report_id() : r.report_id(),
                supporter ? r.supports_tracking_code() : r.tracking_code());
    ++loaded;
    return true;
  }));
  CIVIC_RETURN_IF_ERROR(parse);
  CIVIC_LOG_INFO("intake: {} recent reports indexed for duplicate detection", loaded);
  return absl::OkStatus();
}

bool IntakeLogic::IsEmergency(const v1::SubmitReportRequest& request) const {
  if (request.emergency()) return true;
  const Category* category = catalog_->Find(request.category());
  return category != nullptr && category->is_emergency;
}

absl::Status IntakeLogic::CheckAbuse(const v1::SubmitReportRequest& r, const Caller& caller) {
  const std::string& phone = r.contact().phone();
  if (std::string why = blocklist_->Match(caller.device_id, phone, r.description());
      !why.empty()) {
    // The reason is for operators' logs; the reporter learns only that it was refused.
    CIVIC_LOG_WARN("report refused by the blocklist: {}", why);
    return WithReason(absl::PermissionDeniedError("this report cannot be accepted"),
                      "BLOCKED", kDomain);
  }
  // Emergencies are never throttled, nor hotline operators (many callers, one device).
  if (IsEmergency(r) || r.channel() == common::v1::CHANNEL_HOTLINE) return absl::OkStatus();
  if (!caller.device_id.empty()) {
    CIVIC_RETURN_IF_ERROR(
        rate_limiter_.Take(absl::StrCat("device:", caller.device_id), limits_.per_device));
  }
  if (!phone.empty()) {
    CIVIC_RETURN_IF_ERROR(rate_limiter_.Take(absl::StrCat("phone:", phone), limits_.per_phone));
  }
  return absl::OkStatus();
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
    // An address alone will do: routing resolves ward and district names.
    if (absl::StripAsciiWhitespace(r.address()).empty()) {
      errors.Add("location", "is required (or an address)");
    }
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
  const bool operator_channel = r.channel() == common::v1::CHANNEL_HOTLINE ||
                                r.channel() == common::v1::CHANNEL_AGENCY;
  if (r.channel() == common::v1::CHANNEL_HOTLINE && r.operator_id().empty()) {
    errors.Add("operator_id", "is required for hotline reports");
  } else if (!r.operator_id().empty() && !operator_channel) {
    errors.Add("operator_id", "is only for hotline and agency reports");
  }
  if (r.language().empty()) r.set_language("vi");
  if (r.language() != "vi" && r.language() != "en") {
    errors.Add("language", "must be \"vi\" or \"en\"");
  }
  if (category != nullptr) catalog_->CheckAttributes(*category, r.attributes(), errors);
  photos::CheckPhotos(r.photos(), limits_.photos, errors);
  CheckMediaUrls(r.media_urls(), errors);
  return errors.ToStatus(kDomain);
}

absl::StatusOr<v1::SubmitReportResponse> IntakeLogic::Submit(
    const v1::SubmitReportRequest& request, const Caller& caller) {
  v1::SubmitReportRequest r = request;
  CIVIC_RETURN_IF_ERROR(Validate(r));

  // A client request id is scoped by the client (app) and the device it came from, so
  // two installations counting from 1 never collide.
  const std::string request_key =
      r.client_request_id().empty()
          ? ""
          : absl::StrCat(caller.client_id, "\x1f", caller.device_id, "\x1f",
                         r.client_request_id());
  std::unique_lock<std::mutex> lock;
  if (!request_key.empty()) {
    lock = std::unique_lock(LockFor(request_key));
    CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> seen,
                           store_->Get(kByRequestCf, request_key));
    if (seen) {
      CIVIC_ASSIGN_OR_RETURN(v1::StoredReport original, Load(*seen));
      // A replay must be the same report: never answer one citizen's submission with
      // another's tracking code.
      v1::SubmitReportRequest same = r;
      same.clear_photos();  // stored apart; compared by the rest of the request
      if (!google::protobuf::util::MessageDifferencer::Equals(same, original.request())) {
        return WithReason(
            absl::AlreadyExistsError(
                "client_request_id was already used for a different report; use a new one"),
            "IDEMPOTENCY_KEY_REUSED", kDomain);
      }
      v1::SubmitReportResponse response;
      response.set_report_id(original.report_id());
      response.set_tracking_code(original.tracking_code());
      *response.mutable_received_at() = original.received_at();
      response.set_replayed(true);
      *response.mutable_photo_ids() = original.photo_ids();
      response.set_supports_tracking_code(original.supports_tracking_code());
      return response;
    }
  }
  CIVIC_RETURN_IF_ERROR(CheckAbuse(r, caller));

  const absl::Time now = clock_->Now();
  v1::StoredReport stored;
  stored.set_report_id(NewSortableId(now));
  // 33 million codes a month per prefix: a clash is rare, but never reuse a code. The
  // code's lock is held from the check to the write, so two submissions cannot both
  // take it. (Code locks are always taken after request locks: no lock cycle.)
  std::unique_lock<std::mutex> code_lock;
  for (int attempt = 0;; ++attempt) {
    stored.set_tracking_code(NewTrackingCode(limits_.tracking_prefix, now));
    code_lock = std::unique_lock(
        code_locks_[std::hash<std::string>{}(stored.tracking_code()) % code_locks_.size()]);
    CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> taken,
                           store_->Get(kByCodeCf, stored.tracking_code()));
    if (!taken) break;
    code_lock.unlock();
    if (attempt == 8) return absl::InternalError("could not find a free tracking code");
  }
  // Without a point there is no "nearby": an address-only report opens its own case.
  const std::optional<NearbyReport> near =
      r.has_location()
          ? nearby_.FindNear(r.category(), r.location().lat(), r.location().lon(), now)
          : std::nullopt;
  if (near) {
    stored.set_supports_report_id(near->report_id);
    stored.set_supports_tracking_code(near->tracking_code);
  }
  const char* lane = IsEmergency(r) ? kEmergencyLane : kNormalLane;
  storage::Batch batch(store_);
  CIVIC_ASSIGN_OR_RETURN(std::vector<std::string> photo_ids, photos_.Add(r.photos(), batch, now));
  for (auto& id : photo_ids) stored.add_photo_ids(std::move(id));
  r.clear_photos();  // kept once, in the photo keyspaces
  *stored.mutable_request() = std::move(r);
  *stored.mutable_received_at() = ToTimestamp(now);
  stored.set_client_id(caller.client_id);

  batch.Put(kReportsCf, stored.report_id(), stored.SerializeAsString());
  batch.Put(kByCodeCf, stored.tracking_code(), stored.report_id());
  if (!request_key.empty()) batch.Put(kByRequestCf, request_key, stored.report_id());
  batch.Put(kOutboxCf, absl::StrCat(lane, "\x1f", stored.report_id()), "");
  IndexReportOwners(stored, caller.device_id,  // "my reports" (my_reports.h)
                    limits_.phone_subjects ? &*limits_.phone_subjects : nullptr, batch);
  CIVIC_RETURN_IF_ERROR(store_->Write(batch));
  if (stored.request().has_location()) {
    nearby_.Add(stored.request().category(), stored.request().location().lat(),
                stored.request().location().lon(), now,
                near ? near->report_id : stored.report_id(),
                near ? near->tracking_code : stored.tracking_code());
  }
  if (submissions_.fetch_add(1) % 1024 == 1023) nearby_.Prune(now);
  CIVIC_LOG_INFO("report {} stored as {} ({}{}{})", stored.report_id(), stored.tracking_code(),
                 stored.request().category(), near ? ", supports " : "",
                 near ? near->tracking_code : "");

  v1::SubmitReportResponse response;
  response.set_report_id(stored.report_id());
  response.set_tracking_code(stored.tracking_code());
  *response.mutable_received_at() = stored.received_at();
  response.set_supports_tracking_code(stored.supports_tracking_code());
  *response.mutable_photo_ids() = stored.photo_ids();
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

namespace {

// The citizen-visible part of a report: its own fields, then its case's when there is
// one. Never the contact, notes or other reporters' codes.
v1::ReportStatus StatusOf(const v1::StoredReport& stored, const cases::v1::Case* c) {
  v1::ReportStatus status;
  status.set_tracking_code(stored.tracking_code());
  status.set_category(stored.request().category());
  *status.mutable_received_at() = stored.received_at();
  status.set_status("received");
  status.set_supports_tracking_code(stored.supports_tracking_code());
  if (c == nullptr) return status;
  status.set_status(cases::CaseStatusWord(c->status()));
  status.set_case_id(c->case_id());
  *status.mutable_unit() = c->unit();
  *status.mutable_area() = c->area();
  *status.mutable_opened_at() = c->opened_at();
  *status.mutable_due_at() = c->due_at();
  *status.mutable_updated_at() = c->updated_at();
  status.set_supporter_count(static_cast<uint32_t>(c->supporters_size()));
  status.set_merged_into_case_id(c->merged_into_case_id());
  // The unit's last words to the public (a reply, a resolution, a rejection); internal
  // notes are never public_comment.
  for (auto it = c->history().rbegin(); it != c->history().rend(); ++it) {
    if (it->public_comment() && !it->comment().empty()) {
      status.set_latest_public_text(it->comment());
      break;
    }
  }
  status.set_rating(c->satisfaction().rating());
  return status;
}

}  // namespace

absl::StatusOr<v1::StoredReport> IntakeLogic::FindByCode(const std::string& tracking_code) const {
  const std::string code = NormalizeTrackingCode(tracking_code);
  auto not_found = [&] {
    return WithReason(absl::NotFoundError("no report has that tracking code"),
                      "REPORT_NOT_FOUND", kDomain);
  };
  if (code.empty()) return not_found();
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> report_id, store_->Get(kByCodeCf, code));
  if (!report_id) return not_found();
  return Load(*report_id);
}

absl::StatusOr<v1::ReportStatus> IntakeLogic::GetStatus(const std::string& tracking_code,
                                                        CasesClient& cases) const {
  CIVIC_ASSIGN_OR_RETURN(v1::StoredReport stored, FindByCode(tracking_code));
  absl::StatusOr<cases::v1::Case> c = cases.GetCaseByReport(stored.report_id());
  if (c.ok()) return StatusOf(stored, &*c);
  if (c.status().code() != absl::StatusCode::kNotFound) {
    // The report is safe with us; say what we know rather than fail the citizen.
    CIVIC_LOG_WARN("status of {}: cases unavailable: {}", stored.report_id(),
                   c.status().ToString());
  }
  return StatusOf(stored, nullptr);
}

absl::StatusOr<v1::ReportStatus> IntakeLogic::Rate(const v1::RateReportRequest& request,
                                                   CasesClient& cases) const {
  // The same limits as cases', checked here so that a bad rating costs no look-up.
  FieldErrors errors;
  if (request.rating() < 1 || request.rating() > 5) errors.Add("rating", "must be 1 to 5");
  NormalizedText comment = Normalize(request.comment());
  if (comment.text.size() > 2000) errors.Add("comment", "at most 2,000 bytes");
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));

  CIVIC_ASSIGN_OR_RETURN(v1::StoredReport stored, FindByCode(request.tracking_code()));
  // The outbox records the case once it is opened; until then (or for a report stored
  // before the case id was recorded) ask cases.
  std::string case_id = stored.case_id();
  if (case_id.empty()) {
    absl::StatusOr<cases::v1::Case> c = cases.GetCaseByReport(stored.report_id());
    if (c.status().code() == absl::StatusCode::kNotFound) {
      return WithReason(absl::FailedPreconditionError(
                            "the report has no case yet; it can be rated once resolved"),
                        "NOT_RESOLVED", kDomain);
    }
    if (!c.ok()) return c.status();
    case_id = c->case_id();
  }

  cases::v1::RateResolutionRequest rate;
  rate.set_case_id(case_id);
  rate.set_tracking_code(stored.tracking_code());
  rate.set_rating(request.rating());
  rate.set_comment(std::move(comment.text));
  absl::StatusOr<cases::v1::Case> rated = cases.RateResolution(rate);
  if (rated.status().code() == absl::StatusCode::kNotFound) {
    // The case exists (we have its id), so cases refused the code: this report joined
    // a case another report opened (+1), whose reporter alone rates it.
    return WithReason(absl::FailedPreconditionError(
                          "this report joined a case opened by an earlier report; only "
                          "that report's code can rate it"),
                      "NOT_CASE_REPORTER", kDomain);
  }
  if (!rated.ok()) return rated.status();
  // The rating alone: the comment is the citizen's text and stays out of the log.
  CIVIC_LOG_INFO("report {} rated {} (case {} now {})", stored.report_id(), request.rating(),
                 rated->case_id(), cases::CaseStatusWord(rated->status()));
  return StatusOf(stored, &*rated);
}

}  // namespace civic::intake
