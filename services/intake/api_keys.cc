// API keys (see api_keys.h).
#include "services/intake/api_keys.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/auth/jwt.h"
#include "libs/auth/secrets.h"
#include "libs/core/ids.h"
#include "libs/core/log.h"
#include "libs/core/status.h"

namespace civic::intake {
namespace {

constexpr char kDomain[] = "intake.civicdesk";
constexpr size_t kSecretBytes = 32;
constexpr size_t kMaxAppNameChars = 100;
// Longer "keys" are refused before any work: no real key comes near.
constexpr size_t kMaxKeyChars = 256;

absl::Status InvalidKey() {
  return WithReason(absl::UnauthenticatedError("the API key is not valid"), "INVALID_API_KEY",
                    kDomain);
}

}  // namespace

absl::StatusOr<v1::StoredApiKey> ApiKeyStore::Load(const std::string& key_id) const {
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(kApiKeysCf, key_id));
  if (!raw) return absl::NotFoundError(absl::StrCat("no API key ", key_id));
  v1::StoredApiKey stored;
  if (!stored.ParseFromString(*raw)) {
    return absl::DataLossError(absl::StrCat("API key ", key_id, " is unreadable"));
  }
  return stored;
}

absl::StatusOr<v1::ApiKey> ApiKeyStore::Create(const std::string& app_name) {
  const std::string name(absl::StripAsciiWhitespace(app_name));
  FieldErrors errors;
  if (name.empty()) {
    errors.Add("app_name", "is required");
  } else if (name.size() > kMaxAppNameChars) {
    errors.Add("app_name", absl::StrCat("at most ", kMaxAppNameChars, " characters"));
  }
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));

  const absl::Time now = clock_->Now();
  v1::StoredApiKey stored;
  v1::ApiKey* key = stored.mutable_key();
  key->set_key_id(NewSortableId(now));
  key->set_app_name(name);
  *key->mutable_created_at() = ToTimestamp(now);
  const std::string secret = absl::StrCat(kApiKeyPrefix, key->key_id(), "_",
                                          auth::Base64UrlEncode(auth::RandomBytes(kSecretBytes)));
  stored.set_secret_sha256(auth::Sha256(secret));
  storage::Batch batch(store_);
  batch.Put(kApiKeysCf, key->key_id(), stored.SerializeAsString());
  CIVIC_RETURN_IF_ERROR(store_->Write(batch));
  CIVIC_LOG_INFO("API key {} issued to app '{}'", key->key_id(), name);

  v1::ApiKey answer = *key;
  answer.set_secret(secret);
  return answer;
}

absl::StatusOr<std::vector<v1::ApiKey>> ApiKeyStore::List() const {
  std::vector<v1::ApiKey> out;
  absl::Status parse;
  CIVIC_RETURN_IF_ERROR(store_->Scan(kApiKeysCf, "", "", [&](absl::string_view,
                                                             absl::string_view value) {
    v1::StoredApiKey stored;
    if (!stored.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      parse = absl::DataLossError("unreadable API key");
      return false;
    }
    out.push_back(stored.key());
    return true;
  }));
  CIVIC_RETURN_IF_ERROR(parse);
  return out;
}

absl::StatusOr<v1::ApiKey> ApiKeyStore::Revoke(const std::string& key_id) {
  if (key_id.empty()) {
    FieldErrors errors;
    errors.Add("key_id", "is required");
    return errors.ToStatus(kDomain);
  }
  CIVIC_ASSIGN_OR_RETURN(v1::StoredApiKey stored, Load(key_id));
  if (!stored.key().has_revoked_at()) {
    *stored.mutable_key()->mutable_revoked_at() = ToTimestamp(clock_->Now());
    storage::Batch batch(store_);
    batch.Put(kApiKeysCf, key_id, stored.SerializeAsString());
    CIVIC_RETURN_IF_ERROR(store_->Write(batch));
    CIVIC_LOG_INFO("API key {} of app '{}' revoked", key_id, stored.key().app_name());
  }
  return stored.key();
}

absl::StatusOr<v1::ApiKeyCheck> ApiKeyStore::Check(const std::string& key) const {
  absl::string_view rest = key;
  if (rest.size() > kMaxKeyChars || !absl::ConsumePrefix(&rest, kApiKeyPrefix)) {
    return InvalidKey();
  }
  const size_t underscore = rest.find('_');
  if (underscore == absl::string_view::npos || underscore == 0) return InvalidKey();
  const std::string key_id(rest.substr(0, underscore));
  absl::StatusOr<v1::StoredApiKey> stored = Load(key_id);
  if (absl::IsNotFound(stored.status())) return InvalidKey();
  if (!stored.ok()) return stored.status();
  if (!auth::ConstantTimeEquals(auth::Sha256(key), stored->secret_sha256())) return InvalidKey();
  if (stored->key().has_revoked_at()) {
    return WithReason(absl::UnauthenticatedError("the API key has been revoked"),
                      "API_KEY_REVOKED", kDomain);
  }
  v1::ApiKeyCheck check;
  check.set_key_id(stored->key().key_id());
  check.set_app_name(stored->key().app_name());
  return check;
}

}  // namespace civic::intake
