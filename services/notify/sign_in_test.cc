// Citizen sign-in by SMS code: one code per phone per minute and a global SMS budget,
// only its salted hash kept, five tries, one use, a token whose subject is a keyed hash
// of the phone number, and an outbox that prunes itself.
#include "services/notify/sign_in.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "google/rpc/error_details.pb.h"
#include "libs/auth/caller.h"
#include "libs/auth/jwt.h"
#include "libs/auth/secrets.h"
#include "libs/core/status.h"
#include "libs/storage/test_dir.h"

namespace civic::notify {
namespace {

const std::string kSecret = "citizen-token-secret-for-tests-0123456789";
const std::string kPhoneKey = "phone-subject-key-for-tests-0123456789ab";
const auth::PhoneSubjects kPhones(kPhoneKey);

SignInOptions Options() { return {.token_secret = kSecret, .phone_subjects = kPhones}; }

struct Fixture {
  explicit Fixture(SignInOptions options = Options()) : sign_in(store.get(), &clock, options) {}

  storage::TestDir dir;
  std::unique_ptr<storage::Store> store =
      std::move(*storage::Store::Open({dir.path(), SignInKeyspaces()}));
  FakeClock clock;
  SignIn sign_in;

  // The code in the newest SMS to `phone` (E.164), as the provider would deliver it.
  std::string LastCodeTo(const std::string& phone) {
    absl::StatusOr<v1::ListOutgoingSmsResponse> outbox = sign_in.ListOutgoing({});
    REQUIRE(outbox.ok());
    std::string code;
    for (const auto& sms : outbox->messages()) {
      if (sms.phone() != phone) continue;
      const size_t at = sms.body().find_first_of("0123456789");
      REQUIRE(at != std::string::npos);
      code = sms.body().substr(at, 6);
    }
    REQUIRE(code.size() == 6);
    return code;
  }

  absl::StatusOr<v1::CitizenToken> Verify(const std::string& phone, const std::string& code) {
    v1::VerifySignInCodeRequest request;
    request.set_phone(phone);
    request.set_code(code);
    return sign_in.Verify(request);
  }
};

v1::SendSignInCodeRequest Send(const std::string& phone, const std::string& language = "") {
  v1::SendSignInCodeRequest request;
  request.set_phone(phone);
  request.set_language(language);
  return request;
}

std::string WrongCode(const std::string& code) {
  std::string wrong = code;
  wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
  return wrong;
}

TEST_CASE("a code texted to a phone becomes a one-hour citizen token, once", "[notify][auth]") {
  Fixture f;
  absl::StatusOr<v1::SendSignInCodeResponse> sent = f.sign_in.SendCode(Send("0901 234 567"));
  REQUIRE(sent.ok());
  CHECK(FromTimestamp(sent->expires_at()) == f.clock.Now() + absl::Minutes(5));

  // The SMS waits in the outbox; the store keeps no code in the clear.
  absl::StatusOr<v1::ListOutgoingSmsResponse> outbox = f.sign_in.ListOutgoing({});
  REQUIRE(outbox->messages_size() == 1);
  const v1::OutgoingSms& sms = outbox->messages(0);
  CHECK(sms.phone() == "+84901234567");
  CHECK(sms.purpose() == "sign_in_code");
  CHECK(absl::StrContains(sms.body(), "Mã đăng nhập CivicDesk"));
  const std::string code = f.LastCodeTo("+84901234567");
  REQUIRE(f.store->Scan(kSignInCodesCf, "", "", [&](absl::string_view key,
                                                    absl::string_view value) {
    CHECK(key == kPhones.For("+84901234567"));
    CHECK(value.find(code) == absl::string_view::npos);
    CHECK(value.find("901234567") == absl::string_view::npos);
    return true;
  }).ok());

  f.clock.Advance(absl::Minutes(4));
  absl::StatusOr<v1::CitizenToken> token = f.Verify("+84 90 123 4567", code);
  REQUIRE(token.ok());
  CHECK(token->token_type() == "Bearer");
  CHECK(FromTimestamp(token->expires_at()) == f.clock.Now() + absl::Hours(1));
  CHECK(token->token().find("901234567") == std::string::npos);

  auth::AuthKeys keys{.citizen = {.hs256_secret = kSecret, .issuer = auth::kCitizenTokenIssuer}};
  absl::StatusOr<auth::Caller> caller =
      auth::CallerFromAuthorization("Bearer " + token->token(), keys, f.clock.Now());
  REQUIRE(caller.ok());
  CHECK(caller->kind == auth::Caller::Kind::kCitizen);
  CHECK(caller->subject == kPhones.For("+84901234567"));
  CHECK(caller->roles == std::vector<std::string>{"citizen"});
  CHECK(auth::CallerFromAuthorization("Bearer " + token->token(), keys,
                                      f.clock.Now() + absl::Minutes(61))
            .status()
            .code() == absl::StatusCode::kUnauthenticated);  // expired

  // One use.
  absl::StatusOr<v1::CitizenToken> again = f.Verify("0901234567", code);
  CHECK(again.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(ReasonOf(again.status()) == "SIGN_IN_CODE_INVALID");
}

TEST_CASE("one code per phone per minute", "[notify][auth]") {
  Fixture f;
  REQUIRE(f.sign_in.SendCode(Send("0901234567", "en")).ok());
  CHECK(absl::StrContains(f.sign_in.ListOutgoing({})->messages(0).body(), "sign-in code"));
  f.clock.Advance(absl::Seconds(20));
  absl::StatusOr<v1::SendSignInCodeResponse> refused = f.sign_in.SendCode(Send("+84901234567"));
  CHECK(refused.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(ReasonOf(refused.status()) == "SIGN_IN_CODE_RATE_LIMITED");
  CHECK(refused.status().GetPayload(kRetryInfoUrl).has_value());
  CHECK(f.sign_in.SendCode(Send("0912345678")).ok());  // another phone is not held up
  f.clock.Advance(absl::Seconds(40));
  CHECK(f.sign_in.SendCode(Send("0901234567")).ok());
  CHECK(f.sign_in.ListOutgoing({})->messages_size() == 3);
}

TEST_CASE("a new code replaces the previous one", "[notify][auth]") {
  Fixture f;
  REQUIRE(f.sign_in.SendCode(Send("0901234567")).ok());
  const std::string first = f.LastCodeTo("+84901234567");
  f.clock.Advance(absl::Seconds(61));
  REQUIRE(f.sign_in.SendCode(Send("0901234567")).ok());
  const std::string second = f.LastCodeTo("+84901234567");
  if (first != second) {
    CHECK(f.Verify("0901234567", first).status().code() == absl::StatusCode::kUnauthenticated);
  }
  CHECK(f.Verify("0901234567", second).ok());
}

TEST_CASE("wrong codes count, and the fifth invalidates the code", "[notify][auth]") {
  Fixture f;
  REQUIRE(f.sign_in.SendCode(Send("0901234567")).ok());
  const std::string code = f.LastCodeTo("+84901234567");
  for (int i = 1; i <= 4; ++i) {
    absl::StatusOr<v1::CitizenToken> wrong = f.Verify("0901234567", WrongCode(code));
    CHECK(wrong.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(ReasonOf(wrong.status()) == "SIGN_IN_CODE_WRONG");
  }
  absl::StatusOr<v1::CitizenToken> fifth = f.Verify("0901234567", WrongCode(code));
  CHECK(ReasonOf(fifth.status()) == "SIGN_IN_CODE_EXHAUSTED");
  // Even the right code no longer works.
  CHECK(ReasonOf(f.Verify("0901234567", code).status()) == "SIGN_IN_CODE_INVALID");
}

TEST_CASE("an expired code is refused", "[notify][auth]") {
  Fixture f;
  REQUIRE(f.sign_in.SendCode(Send("0901234567")).ok());
  const std::string code = f.LastCodeTo("+84901234567");
  f.clock.Advance(absl::Minutes(5));
  CHECK(ReasonOf(f.Verify("0901234567", code).status()) == "SIGN_IN_CODE_INVALID");
}

TEST_CASE("bad input is named and does not count as an attempt", "[notify][auth]") {
  Fixture f;
  CHECK(f.sign_in.SendCode(Send("12345")).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.sign_in.SendCode(Send("0901234567", "fr")).status().code() ==
        absl::StatusCode::kInvalidArgument);
  REQUIRE(f.sign_in.SendCode(Send("0901234567")).ok());
  const std::string code = f.LastCodeTo("+84901234567");
  for (int i = 0; i < 10; ++i) {
    CHECK(f.Verify("0901234567", "12ab56").status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(f.Verify("0901234567", code).ok());
  CHECK(f.Verify("nope", code).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("without a token secret, sign-in is refused before anything is sent",
          "[notify][auth]") {
  Fixture f;
  SignIn off(f.store.get(), &f.clock, SignInOptions{});
  CHECK(off.SendCode(Send("0901234567")).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  // A secret without the phone subject key is no better: subjects would be guessable.
  SignIn keyless(f.store.get(), &f.clock, SignInOptions{.token_secret = kSecret});
  CHECK(keyless.SendCode(Send("0901234567")).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(f.sign_in.ListOutgoing({})->messages().empty());
}

TEST_CASE("the SMS outbox pages by cursor", "[notify][auth]") {
  Fixture f;
  for (const char* phone : {"0901000001", "0901000002", "0901000003"}) {
    REQUIRE(f.sign_in.SendCode(Send(phone)).ok());
  }
  v1::ListOutgoingSmsRequest request;
  request.set_page_size(2);
  absl::StatusOr<v1::ListOutgoingSmsResponse> first = f.sign_in.ListOutgoing(request);
  REQUIRE(first->messages_size() == 2);
  CHECK(first->messages(0).phone() == "+84901000001");
  request.set_after(first->next_after());
  absl::StatusOr<v1::ListOutgoingSmsResponse> second = f.sign_in.ListOutgoing(request);
  REQUIRE(second->messages_size() == 1);
  CHECK(second->messages(0).phone() == "+84901000003");
  request.set_after(second->next_after());
  absl::StatusOr<v1::ListOutgoingSmsResponse> none = f.sign_in.ListOutgoing(request);
  CHECK(none->messages().empty());
  CHECK(none->next_after() == second->next_after());
  request.set_page_size(501);
  CHECK(f.sign_in.ListOutgoing(request).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the token's subject is an HMAC of the phone under the server key, not its plain "
          "hash",
          "[notify][auth]") {
  Fixture f;
  REQUIRE(f.sign_in.SendCode(Send("0901234567")).ok());
  absl::StatusOr<v1::CitizenToken> token = f.Verify("0901234567", f.LastCodeTo("+84901234567"));
  REQUIRE(token.ok());
  auth::VerifyKeys keys{.hs256_secret = kSecret, .issuer = auth::kCitizenTokenIssuer};
  absl::StatusOr<auth::Claims> claims = auth::Verify(token->token(), keys, f.clock.Now());
  REQUIRE(claims.ok());
  CHECK(claims->subject ==
        "phone:" + auth::HexEncode(auth::HmacSha256(kPhoneKey, "+84901234567")));
  // Anyone can hash every phone number; only the key's holder can make these.
  CHECK(claims->subject != "phone:" + auth::HexEncode(auth::Sha256("+84901234567")));

  // Another key: another subject for the same phone, in the token and in the store.
  Fixture other(SignInOptions{
      .token_secret = kSecret,
      .phone_subjects = auth::PhoneSubjects("another-phone-key-0123456789abcdef-01")});
  REQUIRE(other.sign_in.SendCode(Send("0901234567")).ok());
  absl::StatusOr<v1::CitizenToken> other_token =
      other.Verify("0901234567", other.LastCodeTo("+84901234567"));
  REQUIRE(other_token.ok());
  absl::StatusOr<auth::Claims> other_claims =
      auth::Verify(other_token->token(), keys, other.clock.Now());
  REQUIRE(other_claims.ok());
  CHECK(other_claims->subject != claims->subject);
  CHECK_FALSE(other.store->Get(kSignInCodesCf, claims->subject)->has_value());
  CHECK(other.store->Get(kSignInCodesCf, other_claims->subject)->has_value());
}

TEST_CASE("a later code prunes outbox entries and codes expired for longer than the grace, "
          "and an outbox cursor taken before still pages on",
          "[notify][auth]") {
  Fixture f;  // codes live 5 minutes, then an hour of grace
  const absl::Time start = f.clock.Now();
  REQUIRE(f.sign_in.SendCode(Send("0901000001")).ok());
  // The provider's adapter has taken the first SMS: its cursor names it.
  absl::StatusOr<v1::ListOutgoingSmsResponse> taken = f.sign_in.ListOutgoing({});
  REQUIRE(taken->messages_size() == 1);
  const std::string cursor = taken->next_after();
  f.clock.Advance(absl::Minutes(30));
  REQUIRE(f.sign_in.SendCode(Send("0901000002")).ok());  // expires at 35 min

  // 66 minutes: the first expired 61 minutes ago, the second 31.
  f.clock.Set(start + absl::Minutes(66));
  REQUIRE(f.sign_in.SendCode(Send("0901000003")).ok());
  absl::StatusOr<v1::ListOutgoingSmsResponse> all = f.sign_in.ListOutgoing({});
  REQUIRE(all->messages_size() == 2);
  CHECK(all->messages(0).phone() == "+84901000002");
  CHECK(all->messages(1).phone() == "+84901000003");
  CHECK_FALSE(f.store->Get(kSmsOutboxCf, cursor)->has_value());
  CHECK_FALSE(f.store->Get(kSignInCodesCf, kPhones.For("+84901000001"))->has_value());
  CHECK(f.store->Get(kSignInCodesCf, kPhones.For("+84901000002"))->has_value());

  // The adapter's cursor names a deleted entry: it still gets everything after it.
  v1::ListOutgoingSmsRequest request;
  request.set_after(cursor);
  absl::StatusOr<v1::ListOutgoingSmsResponse> next = f.sign_in.ListOutgoing(request);
  REQUIRE(next.ok());
  REQUIRE(next->messages_size() == 2);
  CHECK(next->messages(0).phone() == "+84901000002");
  CHECK(next->messages(1).phone() == "+84901000003");

  // And once the second is as old, the next code takes it too; the first phone, long
  // pruned, signs in as ever.
  f.clock.Set(start + absl::Minutes(96));
  REQUIRE(f.sign_in.SendCode(Send("0901000001")).ok());
  all = f.sign_in.ListOutgoing({});
  REQUIRE(all->messages_size() == 2);
  CHECK(all->messages(0).phone() == "+84901000003");
  CHECK(all->messages(1).phone() == "+84901000001");
  CHECK_FALSE(f.store->Get(kSignInCodesCf, kPhones.For("+84901000002"))->has_value());
  CHECK(f.Verify("0901000001", f.LastCodeTo("+84901000001")).ok());
  request.set_after(next->next_after());
  absl::StatusOr<v1::ListOutgoingSmsResponse> last = f.sign_in.ListOutgoing(request);
  REQUIRE(last->messages_size() == 1);
  CHECK(last->messages(0).phone() == "+84901000001");
}

TEST_CASE("pruning goes a few entries per code, oldest first", "[notify][auth]") {
  SignInOptions options = Options();
  options.max_sms_per_minute = 0;  // unlimited
  options.prune_step = 2;
  Fixture f(options);
  const absl::Time start = f.clock.Now();
  for (int i = 0; i < 5; ++i) {
    REQUIRE(f.sign_in.SendCode(Send(absl::StrCat("090100000", i))).ok());
  }
  f.clock.Set(start + absl::Hours(2));
  auto old_codes = [&] {
    int left = 0;
    for (int i = 0; i < 5; ++i) {
      left += f.store->Get(kSignInCodesCf, kPhones.For(absl::StrCat("+8490100000", i)))
                  ->has_value();
    }
    return left;
  };
  REQUIRE(f.sign_in.SendCode(Send("0902000000")).ok());
  absl::StatusOr<v1::ListOutgoingSmsResponse> all = f.sign_in.ListOutgoing({});
  REQUIRE(all->messages_size() == 4);  // 5 old - 2 pruned + 1 new
  CHECK(all->messages(0).phone() == "+84901000002");
  CHECK(old_codes() >= 3);  // two codes examined per send
  REQUIRE(f.sign_in.SendCode(Send("0902000001")).ok());
  REQUIRE(f.sign_in.SendCode(Send("0902000002")).ok());
  all = f.sign_in.ListOutgoing({});
  REQUIRE(all->messages_size() == 3);  // only the new ones are left
  CHECK(all->messages(0).phone() == "+84902000000");

  // Codes are keyed by subject, in no time order: a round over them, two per send,
  // reaches every old one within a bounded number of sends.
  for (int i = 0; i < 17; ++i) {
    REQUIRE(f.sign_in.SendCode(Send(absl::StrCat("09020000", 10 + i))).ok());
  }
  CHECK(old_codes() == 0);
  CHECK(f.store->Get(kSignInCodesCf, kPhones.For("+84902000000"))->has_value());
}

TEST_CASE("at most max_sms_per_minute codes go out in any minute, whatever the phones",
          "[notify][auth]") {
  SignInOptions options = Options();
  options.max_sms_per_minute = 3;
  Fixture f(options);
  const absl::Time start = f.clock.Now();
  REQUIRE(f.sign_in.SendCode(Send("0901000001")).ok());
  f.clock.Advance(absl::Seconds(10));
  REQUIRE(f.sign_in.SendCode(Send("0901000002")).ok());
  // A per-phone refusal sends nothing, so it spends none of the budget.
  CHECK(ReasonOf(f.sign_in.SendCode(Send("0901000002")).status()) ==
        "SIGN_IN_CODE_RATE_LIMITED");
  REQUIRE(f.sign_in.SendCode(Send("0901000003")).ok());

  f.clock.Advance(absl::Seconds(20));  // 30 s after the first
  absl::StatusOr<v1::SendSignInCodeResponse> refused = f.sign_in.SendCode(Send("0901000004"));
  CHECK(refused.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(ReasonOf(refused.status()) == "SIGN_IN_SMS_BUDGET_EXHAUSTED");
  auto payload = refused.status().GetPayload(kRetryInfoUrl);
  REQUIRE(payload.has_value());
  google::rpc::RetryInfo retry;
  REQUIRE(retry.ParseFromString(std::string(*payload)));
  CHECK(retry.retry_delay().seconds() == 30);  // when the first leaves the window
  // Nothing written: no SMS, no code.
  CHECK(f.sign_in.ListOutgoing({})->messages_size() == 3);
  CHECK_FALSE(f.store->Get(kSignInCodesCf, kPhones.For("+84901000004"))->has_value());

  f.clock.Set(start + absl::Seconds(59));
  CHECK(f.sign_in.SendCode(Send("0901000004")).status().code() ==
        absl::StatusCode::kResourceExhausted);
  f.clock.Set(start + absl::Seconds(60));  // the first is a minute old: one place free
  CHECK(f.sign_in.SendCode(Send("0901000004")).ok());
  CHECK(f.sign_in.SendCode(Send("0901000005")).status().code() ==
        absl::StatusCode::kResourceExhausted);
  f.clock.Set(start + absl::Seconds(70));
  CHECK(f.sign_in.SendCode(Send("0901000005")).ok());
  CHECK(f.sign_in.ListOutgoing({})->messages_size() == 5);

  // 0: unlimited.
  options.max_sms_per_minute = 0;
  Fixture unlimited(options);
  for (int i = 0; i < 100; ++i) {
    REQUIRE(unlimited.sign_in.SendCode(Send(absl::StrCat("09020", 10000 + i))).ok());
  }
}

}  // namespace
}  // namespace civic::notify
