// Citizen sign-in by SMS code (see sign_in.h).
#include "services/notify/sign_in.h"

#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/auth/caller.h"
#include "libs/auth/jwt.h"
#include "libs/auth/secrets.h"
#include "libs/core/ids.h"
#include "libs/core/log.h"
#include "libs/core/phone.h"
#include "libs/core/status.h"

namespace civic::notify {
namespace {

constexpr char kDomain[] = "notify.civicdesk";
constexpr int kCodeDigits = 6;
constexpr size_t kSaltBytes = 16;
constexpr int kDefaultSmsPage = 100;
constexpr int kMaxSmsPage = 500;

absl::Status NotConfigured() {
  return WithReason(absl::FailedPreconditionError("citizen sign-in is not configured"),
                    "SIGN_IN_DISABLED", kDomain);
}

// The code is bound to its phone and salted: a leaked store does not list codes
// (6 digits are quickly tried against an unsalted hash, but not per phone and salt).
std::string CodeHash(absl::string_view salt, absl::string_view phone, absl::string_view code) {
  return auth::Sha256(absl::StrCat(salt, "\x1f", phone, "\x1f", code));
}

bool IsCode(absl::string_view code) {
  if (code.size() != static_cast<size_t>(kCodeDigits)) return false;
  for (char c : code) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string SmsBody(absl::string_view code, absl::string_view language, absl::Duration ttl) {
  const int64_t minutes = absl::ToInt64Minutes(ttl);
  if (language == "en") {
    return absl::StrCat("Your CivicDesk sign-in code is ", code, ". It is valid for ", minutes,
                        " minutes. Never share it with anyone.");
  }
  return absl::StrCat("Mã đăng nhập CivicDesk của bạn là ", code, ". Mã có hiệu lực trong ",
                      minutes, " phút. Không chia sẻ mã này với bất kỳ ai.");
}

absl::Status NoLiveCode() {
  return WithReason(
      absl::UnauthenticatedError("no valid sign-in code for this phone; request a new one"),
      "SIGN_IN_CODE_INVALID", kDomain);
}

}  // namespace

std::vector<std::string> SignInKeyspaces() { return {kSignInCodesCf, kSmsOutboxCf}; }

std::mutex& SignIn::LockFor(const std::string& subject) {
  return locks_[std::hash<std::string>{}(subject) % locks_.size()];
}

absl::StatusOr<std::optional<v1::StoredSignInCode>> SignIn::Load(
    const std::string& subject) const {
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(kSignInCodesCf, subject));
  if (!raw) return std::optional<v1::StoredSignInCode>();
  v1::StoredSignInCode stored;
  if (!stored.ParseFromString(*raw)) return absl::DataLossError("unreadable sign-in code");
  return std::optional<v1::StoredSignInCode>(std::move(stored));
}

absl::StatusOr<v1::SendSignInCodeResponse> SignIn::SendCode(
    const v1::SendSignInCodeRequest& request) {
  FieldErrors errors;
  const std::string phone = NormalizePhone(request.phone());
  if (phone.empty()) errors.Add("phone", "is not a Vietnamese phone number (+84… or 0…)");
  const std::string language = request.language().empty() ? "vi" : request.language();
  if (language != "vi" && language != "en") errors.Add("language", "must be \"vi\" or \"en\"");
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));
  if (options_.token_secret.empty()) return NotConfigured();

  const std::string subject = auth::CitizenSubjectForPhone(phone);
  std::lock_guard lock(LockFor(subject));
  const absl::Time now = clock_->Now();
  CIVIC_ASSIGN_OR_RETURN(std::optional<v1::StoredSignInCode> previous, Load(subject));
  if (previous) {
    const absl::Time resend_at = FromTimestamp(previous->created_at()) + options_.resend_interval;
    if (now < resend_at) {
      const absl::Duration wait = resend_at - now;
      return WithRetryDelay(
          WithReason(absl::ResourceExhaustedError(absl::StrCat(
                         "a code was sent to this phone moments ago; ask again in ",
                         absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))), " s")),
                     "SIGN_IN_CODE_RATE_LIMITED", kDomain),
          wait);
    }
  }

  const std::string code = auth::RandomDigits(kCodeDigits);
  v1::StoredSignInCode stored;
  stored.set_salt(auth::RandomBytes(kSaltBytes));
  stored.set_code_sha256(CodeHash(stored.salt(), phone, code));
  *stored.mutable_created_at() = ToTimestamp(now);
  *stored.mutable_expires_at() = ToTimestamp(now + options_.code_ttl);

  // Where an SMS provider's adapter picks it up; there is no provider in the suite.
  v1::OutgoingSms sms;
  sms.set_sms_id(NewSortableId(now));
  sms.set_phone(phone);
  sms.set_body(SmsBody(code, language, options_.code_ttl));
  sms.set_purpose("sign_in_code");
  *sms.mutable_created_at() = stored.created_at();
  *sms.mutable_expires_at() = stored.expires_at();

  storage::Batch batch(store_);
  batch.Put(kSignInCodesCf, subject, stored.SerializeAsString());
  batch.Put(kSmsOutboxCf, sms.sms_id(), sms.SerializeAsString());
  CIVIC_RETURN_IF_ERROR(store_->Write(batch));
  CIVIC_LOG_INFO("sign-in code queued as SMS {} to {}", sms.sms_id(), Pii<std::string>(phone));

  v1::SendSignInCodeResponse response;
  *response.mutable_expires_at() = stored.expires_at();
  *response.mutable_resend_after() = ToTimestamp(now + options_.resend_interval);
  return response;
}

absl::StatusOr<v1::CitizenToken> SignIn::Verify(const v1::VerifySignInCodeRequest& request) {
  FieldErrors errors;
  const std::string phone = NormalizePhone(request.phone());
  if (phone.empty()) errors.Add("phone", "is not a Vietnamese phone number (+84… or 0…)");
  const std::string code(absl::StripAsciiWhitespace(request.code()));
  if (!IsCode(code)) errors.Add("code", absl::StrCat("must be the ", kCodeDigits, " digits sent"));
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));
  if (options_.token_secret.empty()) return NotConfigured();

  const std::string subject = auth::CitizenSubjectForPhone(phone);
  std::lock_guard lock(LockFor(subject));
  const absl::Time now = clock_->Now();
  CIVIC_ASSIGN_OR_RETURN(std::optional<v1::StoredSignInCode> stored, Load(subject));
  if (!stored || stored->spent() || now >= FromTimestamp(stored->expires_at())) {
    return NoLiveCode();
  }
  // Spent or not, the record stays: its created_at keeps the resend interval.
  const bool right = auth::ConstantTimeEquals(CodeHash(stored->salt(), phone, code),
                                              stored->code_sha256());
  absl::Status refusal;
  if (right) {
    stored->set_spent(true);  // one use
  } else {
    stored->set_failed_attempts(stored->failed_attempts() + 1);
    const int left = options_.max_attempts - stored->failed_attempts();
    if (left <= 0) {
      stored->set_spent(true);
      refusal = WithReason(
          absl::UnauthenticatedError("too many wrong codes: this code no longer works; request "
                                     "a new one"),
          "SIGN_IN_CODE_EXHAUSTED", kDomain);
    } else {
      refusal = WithReason(absl::UnauthenticatedError(absl::StrCat(
                               "wrong code; ", left, left == 1 ? " attempt" : " attempts",
                               " left")),
                           "SIGN_IN_CODE_WRONG", kDomain);
    }
  }
  storage::Batch batch(store_);
  batch.Put(kSignInCodesCf, subject, stored->SerializeAsString());
  CIVIC_RETURN_IF_ERROR(store_->Write(batch));
  if (!refusal.ok()) return refusal;

  const absl::Time expires = now + options_.token_ttl;
  v1::CitizenToken token;
  token.set_token(auth::SignHs256({{"sub", subject},
                                   {"roles", {auth::kCitizenRole}},
                                   {"iss", auth::kCitizenTokenIssuer},
                                   {"iat", absl::ToUnixSeconds(now)},
                                   {"exp", absl::ToUnixSeconds(expires)}},
                                  options_.token_secret));
  *token.mutable_expires_at() = ToTimestamp(expires);
  token.set_token_type("Bearer");
  return token;
}

absl::StatusOr<v1::ListOutgoingSmsResponse> SignIn::ListOutgoing(
    const v1::ListOutgoingSmsRequest& request) const {
  if (request.page_size() < 0 || request.page_size() > kMaxSmsPage) {
    FieldErrors errors;
    errors.Add("page_size", absl::StrCat("must be 0..", kMaxSmsPage));
    return errors.ToStatus(kDomain);
  }
  const int page_size = request.page_size() == 0 ? kDefaultSmsPage : request.page_size();
  v1::ListOutgoingSmsResponse response;
  response.set_next_after(request.after());
  absl::Status parse;
  auto take = [&](absl::string_view key, absl::string_view value) {
    if (key == request.after()) return true;  // the cursor is the last one taken
    v1::OutgoingSms sms;
    if (!sms.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      parse = absl::DataLossError("unreadable outgoing SMS");
      return false;
    }
    response.set_next_after(sms.sms_id());
    *response.add_messages() = std::move(sms);
    return response.messages_size() < page_size;
  };
  CIVIC_RETURN_IF_ERROR(store_->Scan(kSmsOutboxCf, "", request.after(), take));
  CIVIC_RETURN_IF_ERROR(parse);
  return response;
}

}  // namespace civic::notify
