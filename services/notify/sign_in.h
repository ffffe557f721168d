// Citizens sign in with their phone: notify texts a one-time code and exchanges it for a
// short-lived signed token (JWT) whose subject is a hash of the number. Only the code's
// salted hash is stored, with its expiry and a count of wrong attempts; the SMS waits in
// an outbox that the SMS provider's adapter pulls from (ListOutgoingSms).
#pragma once

#include <array>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civic/notify/v1/notify.pb.h"
#include "libs/core/clock.h"
#include "libs/storage/store.h"

namespace civic::notify {

inline constexpr char kSignInCodesCf[] = "sign_in_codes";  // citizen subject → StoredSignInCode
inline constexpr char kSmsOutboxCf[] = "sms_outbox";        // sms_id → OutgoingSms
std::vector<std::string> SignInKeyspaces();

struct SignInOptions {
  // HS256 secret citizen tokens are signed with; empty: sign-in is off.
  std::string token_secret;
  absl::Duration code_ttl = absl::Minutes(5);
  // Wrong codes tolerated: the last one invalidates the code.
  int max_attempts = 5;
  // At most one code per phone in this time (SMS cost, and guessing).
  absl::Duration resend_interval = absl::Seconds(60);
  absl::Duration token_ttl = absl::Hours(1);
};

// Thread-safe; calls about one phone run one at a time.
class SignIn {
 public:
  // Neither pointer is owned.
  SignIn(storage::Store* store, const Clock* clock, SignInOptions options)
      : store_(store), clock_(clock), options_(std::move(options)) {}

  // Creates a 6-digit code for the phone, replacing any earlier one, and queues the SMS
  // carrying it, both in one synced batch. INVALID_ARGUMENT for a phone that does not
  // normalise (field "phone") or a language other than "vi"/"en"; RESOURCE_EXHAUSTED
  // with RetryInfo within resend_interval of the previous code; FAILED_PRECONDITION
  // without a token secret.
  absl::StatusOr<v1::SendSignInCodeResponse> SendCode(const v1::SendSignInCodeRequest& request);

  // Exchanges the phone's current code for a citizen token (subject
  // auth::CitizenSubjectForPhone, role "citizen", issuer auth::kCitizenTokenIssuer).
  // UNAUTHENTICATED when there is no live code (none, expired, spent) or the code is
  // wrong; the max_attempts-th wrong one spends it. INVALID_ARGUMENT for a malformed
  // phone or code (not counted as an attempt); FAILED_PRECONDITION without a secret.
  absl::StatusOr<v1::CitizenToken> Verify(const v1::VerifySignInCodeRequest& request);

  // The SMS outbox after `request.after`, oldest first. INVALID_ARGUMENT for a page_size
  // outside 0..500.
  absl::StatusOr<v1::ListOutgoingSmsResponse> ListOutgoing(
      const v1::ListOutgoingSmsRequest& request) const;

 private:
  absl::StatusOr<std::optional<v1::StoredSignInCode>> Load(const std::string& subject) const;
  std::mutex& LockFor(const std::string& subject);

  storage::Store* store_;
  const Clock* clock_;
  const SignInOptions options_;
  std::array<std::mutex, 32> locks_;
};

}  // namespace civic::notify
