// Citizen sign-in by SMS code: one code per phone per minute, only its salted hash kept,
// five tries, one use, and a token whose subject is never the phone number.
#include "services/notify/sign_in.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "libs/auth/caller.h"
#include "libs/auth/jwt.h"
#include "libs/core/status.h"
#include "libs/storage/test_dir.h"

namespace civic::notify {
namespace {

const std::string kSecret = "citizen-token-secret-for-tests-0123456789";

struct Fixture {
  storage::TestDir dir;
  std::unique_ptr<storage::Store> store =
      std::move(*storage::Store::Open({dir.path(), SignInKeyspaces()}));
  FakeClock clock;
  SignIn sign_in{store.get(), &clock, SignInOptions{.token_secret = kSecret}};

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
    CHECK(key == auth::CitizenSubjectForPhone("+84901234567"));
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
  CHECK(caller->subject == auth::CitizenSubjectForPhone("+84901234567"));
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

}  // namespace
}  // namespace civic::notify
