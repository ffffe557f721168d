// Citizens sign in with their phone: notify texts a one-time code and exchanges it for a
// short-lived signed token (JWT) whose subject is a keyed hash of the number
// (auth::PhoneSubjects). Only the code's salted hash is stored, with its expiry and a
// count of wrong attempts; the SMS waits in an outbox that the SMS provider's adapter
// pulls from (ListOutgoingSms). Sending is bounded per phone and across all phones, and
// each send prunes a few outbox entries and codes that ended long enough ago.
#pragma once

#include <array>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civic/notify/v1/notify.pb.h"
#include "libs/auth/caller.h"
#include "libs/core/clock.h"
#include "libs/storage/store.h"

namespace civic::notify {

inline constexpr char kSignInCodesCf[] = "sign_in_codes";  // citizen subject → StoredSignInCode
inline constexpr char kSmsOutboxCf[] = "sms_outbox";        // sms_id → OutgoingSms
std::vector<std::string> SignInKeyspaces();

struct SignInOptions {
  // HS256 secret citizen tokens are signed with; empty: sign-in is off.
  std::string token_secret;
  // Makes citizens' subjects (the tokens' "sub", the sign_in_codes keys); intake must
  // use the same key for "my reports". Unset: sign-in is off, as without a secret.
  std::optional<auth::PhoneSubjects> phone_subjects;
  absl::Duration code_ttl = absl::Minutes(5);
  // Wrong codes tolerated: the last one invalidates the code.
  int max_attempts = 5;
  // At most one code per phone in this time (SMS cost, and guessing).
  absl::Duration resend_interval = absl::Seconds(60);
  absl::Duration token_ttl = absl::Hours(1);
  // At most this many sign-in SMS in any 60 s, all phones together (SMS cost, and a
  // flood of texts to numbers that never asked); 0: unlimited. Counted in this process's
  // memory, so it restarts empty and split deployments count per notify instance.
  int max_sms_per_minute = 60;
  // Outbox entries are deleted once they have been expired this long (time for a slow
  // provider adapter to see them), and so are codes (spent or not).
  absl::Duration prune_grace = absl::Hours(1);
  // How much each SendCode prunes: outbox entries deleted, and codes examined (0: none).
  int prune_step = 16;
};

// Thread-safe; calls about one phone run one at a time.
class SignIn {
 public:
  // Neither pointer is owned.
  SignIn(storage::Store* store, const Clock* clock, SignInOptions options)
      : store_(store), clock_(clock), options_(std::move(options)) {}

  // Creates a 6-digit code for the phone, replacing any earlier one, and queues the SMS
  // carrying it, both in one synced batch. The same batch deletes up to prune_step
  // outbox entries expired for longer than prune_grace (oldest first), and the codes,
  // among the next prune_step in a round over sign_in_codes, that expired that long ago.
  // INVALID_ARGUMENT for a phone that does not normalise (field "phone") or a language
  // other than "vi"/"en"; RESOURCE_EXHAUSTED with RetryInfo within resend_interval of
  // the phone's previous code (reason SIGN_IN_CODE_RATE_LIMITED) or when
  // max_sms_per_minute codes went out in the last 60 s (SIGN_IN_SMS_BUDGET_EXHAUSTED),
  // writing nothing; FAILED_PRECONDITION without a token secret or phone subject key.
  absl::StatusOr<v1::SendSignInCodeResponse> SendCode(const v1::SendSignInCodeRequest& request);

  // Exchanges the phone's current code for a citizen token (subject
  // options.phone_subjects->For(phone), role "citizen", issuer auth::kCitizenTokenIssuer).
  // UNAUTHENTICATED when there is no live code (none, expired, spent) or the code is
  // wrong; the max_attempts-th wrong one spends it. INVALID_ARGUMENT for a malformed
  // phone or code (not counted as an attempt); FAILED_PRECONDITION without a secret or
  // phone subject key.
  absl::StatusOr<v1::CitizenToken> Verify(const v1::VerifySignInCodeRequest& request);

  // The SMS outbox after `request.after`, oldest first. A cursor stays valid when its
  // entry has been pruned (paging goes on from the next id). INVALID_ARGUMENT for a
  // page_size outside 0..500.
  absl::StatusOr<v1::ListOutgoingSmsResponse> ListOutgoing(
      const v1::ListOutgoingSmsRequest& request) const;

 private:
  // Where a prune left off: the next one starts there (after a successful write only,
  // so a failed batch is retried).
  struct PruneCursors {
    std::optional<std::string> outbox;  // the last outbox key deleted
    std::optional<std::string> codes;   // the last code key examined ("": wrap around)
  };

  absl::StatusOr<std::optional<v1::StoredSignInCode>> Load(const std::string& subject) const;
  std::mutex& LockFor(const std::string& subject);
  bool Configured() const;
  // Takes one SMS of the one-minute budget at `now`; RESOURCE_EXHAUSTED with RetryInfo
  // (nothing taken) when it is spent.
  absl::Status TakeSmsBudget(absl::Time now);
  // Adds to `batch` the deletion of outbox entries expired for longer than the grace.
  absl::Status PruneOutbox(absl::Time now, storage::Batch& batch, PruneCursors& cursors);
  // Adds to `batch` the deletion of codes ended longer than the grace ago, among the next
  // prune_step after the cursor. The caller holds `held` (its own subject's lock); the
  // locks of other codes' subjects are only tried (never waited for: no lock cycle) and
  // kept in `locked` until the batch is written, so no code is deleted as it is renewed.
  absl::Status PruneCodes(absl::Time now, const std::mutex* held, storage::Batch& batch,
                          std::vector<std::unique_lock<std::mutex>>& locked,
                          PruneCursors& cursors);

  storage::Store* store_;
  const Clock* clock_;
  const SignInOptions options_;
  std::array<std::mutex, 32> locks_;

  std::mutex budget_mu_;
  std::deque<absl::Time> sms_sent_;  // in the last minute, oldest first (guarded)
  std::mutex prune_mu_;
  // Guarded by prune_mu_; "" is the start. New entries sort after it (ids follow the
  // clock); should the clock step back a long way, a restart sweeps from the start.
  std::string outbox_prune_from_;
  std::string codes_prune_from_;   // guarded by prune_mu_; "" is the start
};

}  // namespace civic::notify
