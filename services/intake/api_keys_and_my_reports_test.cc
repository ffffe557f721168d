// Apps' API keys (issued once, stored hashed, revocable) and the citizen's own reports
// (by verified phone with contact details, by device without).
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "libs/auth/caller.h"
#include "libs/auth/secrets.h"
#include "libs/core/status.h"
#include "libs/storage/test_dir.h"
#include "services/intake/api_keys.h"
#include "services/intake/intake_logic.h"
#include "services/intake/my_reports.h"
#include "services/intake/test_support.h"

namespace civic::intake {
namespace {

// notify's key too, in a deployment.
const auth::PhoneSubjects kPhones("phone-subject-key-for-tests-0123456789ab");

struct Fixture {
  // Without `phones`, intake runs without the phone subject key.
  explicit Fixture(std::optional<auth::PhoneSubjects> phones = kPhones)
      : logic(store.get(), catalog.get(), blocklist.get(), &clock,
              IntakeLimits{.phone_subjects = phones}),
        mine(store.get(), phones) {}

  storage::TestDir dir;
  std::unique_ptr<storage::Store> store =
      std::move(*storage::Store::Open({dir.path(), IntakeKeyspaces()}));
  std::unique_ptr<Catalog> catalog = std::move(*Catalog::Load(SharedData() / "categories.json"));
  FakeClock clock;
  std::unique_ptr<Blocklist> blocklist = std::move(*Blocklist::Load(store.get(), &clock));
  IntakeLogic logic;
  ApiKeyStore keys{store.get(), &clock};
  MyReports mine;
};

v1::SubmitReportRequest Report(const std::string& phone, double lat) {
  v1::SubmitReportRequest r;
  r.set_category("traffic.pothole");
  r.set_description("Ổ gà sâu trước số 12 Lê Lợi");
  r.mutable_location()->set_lat(lat);
  r.mutable_location()->set_lon(106.6980);
  (*r.mutable_attributes())["size"] = "large";
  if (!phone.empty()) {
    r.mutable_contact()->set_name("Nguyễn Văn A");
    r.mutable_contact()->set_phone(phone);
    r.mutable_contact()->set_email("a@example.com");
  }
  return r;
}

TEST_CASE("an API key is shown once, checked by its hash, and refused once revoked",
          "[intake][auth]") {
  Fixture f;
  absl::StatusOr<v1::ApiKey> key = f.keys.Create("  Hue-S (iOS) ");
  REQUIRE(key.ok());
  CHECK(key->app_name() == "Hue-S (iOS)");
  CHECK(absl::StartsWith(key->secret(), "cdk_" + key->key_id() + "_"));
  CHECK(key->secret().size() == 4 + 26 + 1 + 43);

  absl::StatusOr<v1::ApiKeyCheck> check = f.keys.Check(key->secret());
  REQUIRE(check.ok());
  CHECK(check->key_id() == key->key_id());
  CHECK(check->app_name() == "Hue-S (iOS)");

  // The store never holds the secret, and listing never shows it.
  REQUIRE(f.store->Scan(kApiKeysCf, "", "", [&](absl::string_view, absl::string_view value) {
    CHECK(value.find(key->secret().substr(31)) == absl::string_view::npos);
    return true;
  }).ok());
  absl::StatusOr<std::vector<v1::ApiKey>> listed = f.keys.List();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->at(0).secret().empty());
  CHECK_FALSE(listed->at(0).has_revoked_at());

  // Wrong secret, unknown id, wrong shape: all the same refusal.
  std::string altered = key->secret();
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {altered, std::string("cdk_01ARZ3NDEKTSV4RRFFQ69G5FAV_abc"), std::string("nope"),
        std::string(""), std::string("cdk__x"), std::string(300, 'a')}) {
    INFO(bad);
    absl::StatusOr<v1::ApiKeyCheck> refused = f.keys.Check(bad);
    CHECK(refused.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(ReasonOf(refused.status()) == "INVALID_API_KEY");
  }

  f.clock.Advance(absl::Minutes(1));
  absl::StatusOr<v1::ApiKey> revoked = f.keys.Revoke(key->key_id());
  REQUIRE(revoked.ok());
  REQUIRE(revoked->has_revoked_at());
  const google::protobuf::Timestamp first = revoked->revoked_at();
  f.clock.Advance(absl::Minutes(1));
  CHECK(f.keys.Revoke(key->key_id())->revoked_at().seconds() == first.seconds());  // once
  check = f.keys.Check(key->secret());
  CHECK(check.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(ReasonOf(check.status()) == "API_KEY_REVOKED");
  CHECK(f.keys.Revoke("01ARZ3NDEKTSV4RRFFQ69G5FAV").status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("an API key needs an app name", "[intake][auth]") {
  Fixture f;
  CHECK(f.keys.Create("   ").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.keys.Create(std::string(101, 'x')).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.keys.List()->empty());
}

TEST_CASE("a signed-in citizen lists the reports giving their phone, newest first, with "
          "contact details, and nobody else sees them",
          "[intake][auth]") {
  Fixture f;
  const std::string citizen = kPhones.For("+84901234567");
  std::vector<std::string> codes;
  for (int i = 0; i < 3; ++i) {
    // The same phone typed three ways, far enough apart not to be one case.
    const char* typed[] = {"0901 234 567", "+84901234567", "84 901 234 567"};
    auto submitted = f.logic.Submit(Report(typed[i], 10.70 + 0.01 * i), {.device_id = "dev-a"});
    REQUIRE(submitted.ok());
    codes.push_back(submitted->tracking_code());
    f.clock.Advance(absl::Seconds(1));
  }
  REQUIRE(f.logic.Submit(Report("0912 345 678", 10.80), {.device_id = "dev-b"}).ok());
  v1::SubmitReportRequest anonymous = Report("0901234567", 10.85);
  anonymous.set_anonymous(true);  // asked not to be identified: not theirs to list by phone
  REQUIRE(f.logic.Submit(anonymous, {.device_id = "dev-a"}).ok());

  v1::ListMyReportsRequest page;
  page.set_page_size(2);
  absl::StatusOr<v1::ListMyReportsResponse> first = f.mine.ForCitizen(citizen, page);
  REQUIRE(first.ok());
  REQUIRE(first->reports_size() == 2);
  CHECK(first->reports(0).tracking_code() == codes[2]);
  CHECK(first->reports(1).tracking_code() == codes[1]);
  CHECK(first->reports(0).contact().phone() == "+84901234567");
  CHECK(first->reports(0).contact().name() == "Nguyễn Văn A");
  REQUIRE_FALSE(first->next_page_token().empty());
  page.set_page_token(first->next_page_token());
  absl::StatusOr<v1::ListMyReportsResponse> second = f.mine.ForCitizen(citizen, page);
  REQUIRE(second.ok());
  REQUIRE(second->reports_size() == 1);
  CHECK(second->reports(0).tracking_code() == codes[0]);
  CHECK(second->next_page_token().empty());

  // The tracking codes alone (notify's inbox), newest first, as many as asked for.
  CHECK(*f.mine.CodesForCitizen(citizen, 10) ==
        std::vector<std::string>{codes[2], codes[1], codes[0]});
  CHECK(*f.mine.CodesForCitizen(citizen, 2) == std::vector<std::string>{codes[2], codes[1]});

  // Another citizen sees only their own.
  absl::StatusOr<v1::ListMyReportsResponse> other =
      f.mine.ForCitizen(kPhones.For("+84912345678"), {});
  REQUIRE(other.ok());
  REQUIRE(other->reports_size() == 1);
  CHECK(other->reports(0).contact().phone() == "+84912345678");
  CHECK(f.mine.ForCitizen(kPhones.For("+84987654321"), {})->reports().empty());

  v1::ListMyReportsRequest bad;
  bad.set_page_token("../../etc");
  CHECK(f.mine.ForCitizen(citizen, bad).status().code() == absl::StatusCode::kInvalidArgument);
  bad.set_page_token("");
  bad.set_page_size(101);
  CHECK(f.mine.ForCitizen(citizen, bad).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("an app without sign-in lists what its device sent, without contact details",
          "[intake][auth]") {
  Fixture f;
  auto mine = f.logic.Submit(Report("0901 234 567", 10.70), {.device_id = "dev-a"});
  REQUIRE(mine.ok());
  REQUIRE(f.logic.Submit(Report("0912 345 678", 10.80), {.device_id = "dev-b"}).ok());
  v1::SubmitReportRequest hotline = Report("0901 234 567", 10.90);
  hotline.set_channel(common::v1::CHANNEL_HOTLINE);
  hotline.set_operator_id("op-7");
  // An operator's device is not the reporter's: hotline reports are not its "own".
  REQUIRE(f.logic.Submit(hotline, {.device_id = "dev-a"}).ok());

  absl::StatusOr<v1::ListMyReportsResponse> listed = f.mine.ForDevice("dev-a", {});
  REQUIRE(listed.ok());
  REQUIRE(listed->reports_size() == 1);
  CHECK(listed->reports(0).tracking_code() == mine->tracking_code());
  CHECK(listed->reports(0).description() == "Ổ gà sâu trước số 12 Lê Lợi");
  CHECK_FALSE(listed->reports(0).has_contact());
  CHECK(f.mine.ForDevice("dev-c", {})->reports().empty());
  CHECK(f.mine.ForDevice("", {})->reports().empty());
  CHECK(f.mine.ForDevice(std::string("dev-a\x1f", 6), {})->reports().empty());
  CHECK(*f.mine.CodesForDevice("dev-a", 10) == std::vector<std::string>{mine->tracking_code()});
  CHECK(f.mine.CodesForDevice("dev-c", 10)->empty());
}

TEST_CASE("without the phone subject key, reports are indexed by device only and citizens' "
          "listings are off",
          "[intake][auth]") {
  Fixture f(std::nullopt);
  auto sent = f.logic.Submit(Report("0901 234 567", 10.70), {.device_id = "dev-a"});
  REQUIRE(sent.ok());
  int by_phone = 0;
  REQUIRE(f.store->Scan(kByPhoneCf, "", "", [&](absl::string_view, absl::string_view) {
    ++by_phone;
    return true;
  }).ok());
  CHECK(by_phone == 0);
  absl::StatusOr<v1::ListMyReportsResponse> citizen =
      f.mine.ForCitizen(kPhones.For("+84901234567"), {});
  CHECK(citizen.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(citizen.status()) == "MY_REPORTS_BY_PHONE_OFF");
  absl::StatusOr<v1::ListMyReportsResponse> device = f.mine.ForDevice("dev-a", {});
  REQUIRE(device.ok());
  REQUIRE(device->reports_size() == 1);
  CHECK(device->reports(0).tracking_code() == sent->tracking_code());
}

TEST_CASE("the by-phone index is keyed: another key finds nothing", "[intake][auth]") {
  Fixture f;
  REQUIRE(f.logic.Submit(Report("0901 234 567", 10.70), {.device_id = "dev-a"}).ok());
  CHECK(f.mine.ForCitizen(kPhones.For("+84901234567"), {})->reports_size() == 1);
  const auth::PhoneSubjects other("another-phone-key-0123456789abcdef-01");
  CHECK(f.mine.ForCitizen(other.For("+84901234567"), {})->reports().empty());
  // Nor does the phone's plain hash, which anyone could compute.
  CHECK(f.mine.ForCitizen("phone:" + auth::HexEncode(auth::Sha256("+84901234567")), {})
            ->reports()
            .empty());
}

TEST_CASE("a report's public status has no field that could carry contact data",
          "[intake][auth]") {
  // GetReportStatus answers anyone holding a tracking code.
  const google::protobuf::Descriptor* status = v1::ReportStatus::descriptor();
  for (int i = 0; i < status->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = status->field(i);
    INFO(field->name());
    CHECK(field->name().find("contact") == std::string::npos);
    CHECK(field->name().find("phone") == std::string::npos);
    CHECK(field->name().find("email") == std::string::npos);
    if (field->message_type() != nullptr) {
      CHECK(field->message_type() != common::v1::Contact::descriptor());
    }
  }
}

}  // namespace
}  // namespace civic::intake
