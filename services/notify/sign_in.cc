// Citizen sign-in by SMS code (see sign_in.h).
#include "services/notify/sign_in.h"

#include <algorithm>
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

// RESOURCE_EXHAUSTED with RetryInfo: `what` has happened too often; ask again after `wait`.
absl::Status RetryLater(absl::string_view what, absl::string_view reason, absl::Duration wait) {
  return WithRetryDelay(
      WithReason(absl::ResourceExhaustedError(absl::StrCat(
                     what, "; ask again in ",
                     absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))), " s")),
                 reason, kDomain),
      wait);
}

// A code's record may go once it has ended longer than `grace` ago (spent or not: a
// spent one is as dead), and no longer holds back a resend.
bool CodeEnded(const v1::StoredSignInCode& stored, absl::Time now, absl::Duration grace,
               absl::Duration resend_interval) {
  return now >= FromTimestamp(stored.expires_at()) + grace &&
         now >= FromTimestamp(stored.created_at()) + resend_interval;
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

bool SignIn::Configured() const {
  return !options_.token_secret.empty() && options_.phone_subjects.has_value();
}

absl::Status SignIn::TakeSmsBudget(absl::Time now) {
  if (options_.max_sms_per_minute <= 0) return absl::OkStatus();
  // A sliding window: the SMS of the last 60 s, whatever the phone.
  constexpr absl::Duration kWindow = absl::Minutes(1);
  std::lock_guard lock(budget_mu_);
  while (!sms_sent_.empty() && sms_sent_.front() <= now - kWindow) sms_sent_.pop_front();
  if (sms_sent_.size() >= static_cast<size_t>(options_.max_sms_per_minute)) {
    return RetryLater("too many sign-in codes are being sent right now",
                      "SIGN_IN_SMS_BUDGET_EXHAUSTED", sms_sent_.front() + kWindow - now);
  }
  sms_sent_.push_back(now);
  return absl::OkStatus();
}

absl::Status SignIn::PruneOutbox(absl::Time now, storage::Batch& batch, PruneCursors& cursors) {
  if (options_.prune_step <= 0) return absl::OkStatus();
  std::string from;
  {
    std::lock_guard lock(prune_mu_);
    from = outbox_prune_from_;  // past the tombstones of earlier prunes
  }
  const absl::Time cutoff = now - options_.prune_grace;
  int deleted = 0;
  // Ids sort by creation time and every code lives code_ttl: the oldest entries expire
  // first, so the walk stops at the first one still within the grace. (An entry made
  // with a longer ttl before a config change only holds the others back a while.)
  CIVIC_RETURN_IF_ERROR(store_->Scan(
      kSmsOutboxCf, "", from, [&](absl::string_view key, absl::string_view value) {
        v1::OutgoingSms sms;
        if (!sms.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return true;  // left for an operator: ListOutgoing reports it as DATA_LOSS
        }
        if (FromTimestamp(sms.expires_at()) > cutoff) return false;
        batch.Delete(kSmsOutboxCf, key);
        cursors.outbox = std::string(key);
        return ++deleted < options_.prune_step;
      }));
  return absl::OkStatus();
}

absl::Status SignIn::PruneCodes(absl::Time now, const std::mutex* held, storage::Batch& batch,
                                std::vector<std::unique_lock<std::mutex>>& locked,
                                PruneCursors& cursors) {
  if (options_.prune_step <= 0) return absl::OkStatus();
  std::string from;
  {
    std::lock_guard lock(prune_mu_);
    from = codes_prune_from_;
  }
  // Keys are subjects, in no useful order: a round over the keyspace, a few per call.
  std::vector<std::string> candidates;
  int examined = 0;
  CIVIC_RETURN_IF_ERROR(store_->Scan(
      kSignInCodesCf, "", from, [&](absl::string_view key, absl::string_view value) {
        if (key == from && !from.empty()) return true;  // examined by the previous round
        v1::StoredSignInCode stored;
        if (stored.ParseFromArray(value.data(), static_cast<int>(value.size())) &&
            CodeEnded(stored, now, options_.prune_grace, options_.resend_interval)) {
          candidates.emplace_back(key);
        }
        cursors.codes = std::string(key);
        return ++examined < options_.prune_step;
      }));
  if (examined < options_.prune_step) cursors.codes = "";  // the end: start over next time

  std::vector<const std::mutex*> mine = {held};
  for (const std::string& subject : candidates) {
    std::mutex& lock = LockFor(subject);
    if (std::find(mine.begin(), mine.end(), &lock) == mine.end()) {
      std::unique_lock<std::mutex> taken(lock, std::try_to_lock);
      if (!taken.owns_lock()) continue;  // in use: the next round will see it again
      mine.push_back(&lock);
      locked.push_back(std::move(taken));
    }
    // Read again under the lock: the scan's copy may predate a new code.
    CIVIC_ASSIGN_OR_RETURN(std::optional<v1::StoredSignInCode> stored, Load(subject));
    if (stored && CodeEnded(*stored, now, options_.prune_grace, options_.resend_interval)) {
      batch.Delete(kSignInCodesCf, subject);
    }
  }
  return absl::OkStatus();
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
  if (!Configured()) return NotConfigured();

  const std::string subject = options_.phone_subjects->For(phone);
  std::mutex& subject_lock = LockFor(subject);
  std::lock_guard lock(subject_lock);
  const absl::Time now = clock_->Now();
  CIVIC_ASSIGN_OR_RETURN(std::optional<v1::StoredSignInCode> previous, Load(subject));
  if (previous) {
    const absl::Time resend_at = FromTimestamp(previous->created_at()) + options_.resend_interval;
    if (now < resend_at) {
      return RetryLater("a code was sent to this phone moments ago", "SIGN_IN_CODE_RATE_LIMITED",
                        resend_at - now);
    }
  }
  // Last of the checks, so that a refused request spends none of the budget. (A send
  // whose write then fails still counts: the budget errs on the side of fewer SMS.)
  CIVIC_RETURN_IF_ERROR(TakeSmsBudget(now));

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

  // Housekeeping rides along in the same batch: no thread of its own, and the keyspaces
  // shrink as fast as sending grows them.
  storage::Batch batch(store_);
  PruneCursors cursors;
  std::vector<std::unique_lock<std::mutex>> locked;  // other subjects', until written
  CIVIC_RETURN_IF_ERROR(PruneOutbox(now, batch, cursors));
  CIVIC_RETURN_IF_ERROR(PruneCodes(now, &subject_lock, batch, locked, cursors));
  batch.Put(kSignInCodesCf, subject, stored.SerializeAsString());
  batch.Put(kSmsOutboxCf, sms.sms_id(), sms.SerializeAsString());
  CIVIC_RETURN_IF_ERROR(store_->Write(batch));
  locked.clear();
  {
    std::lock_guard prune_lock(prune_mu_);
    // Never backwards: a concurrent send may have got further.
    if (cursors.outbox && *cursors.outbox > outbox_prune_from_) {
      outbox_prune_from_ = *cursors.outbox;
    }
    if (cursors.codes) codes_prune_from_ = *cursors.codes;
  }
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
  if (!Configured()) return NotConfigured();

  const std::string subject = options_.phone_subjects->For(phone);
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
