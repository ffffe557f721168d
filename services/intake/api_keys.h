// Apps' API keys, owned by intake (which already scopes retries by client): issued to
// an app by an administrator, shown once, stored only as a SHA-256 hash, revocable.
// The gateway asks CheckApiKey which app a presented key belongs to.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "civic/intake/v1/intake.pb.h"
#include "libs/core/clock.h"
#include "libs/storage/store.h"

namespace civic::intake {

inline constexpr char kApiKeysCf[] = "api_keys";  // key_id → StoredApiKey

// Keys look like "cdk_<key_id>_<secret>": key_id is a 26-character sortable id (no '_'),
// the secret 32 random bytes in base64url (43 characters).
inline constexpr char kApiKeyPrefix[] = "cdk_";

// Thread-safe: every method reads or writes the store directly (point look-ups).
class ApiKeyStore {
 public:
  // Neither pointer is owned; both must outlive the store.
  ApiKeyStore(storage::Store* store, const Clock* clock) : store_(store), clock_(clock) {}

  // A new key for `app_name` (whitespace trimmed, 1..100 characters; INVALID_ARGUMENT
  // otherwise). The answer alone carries the secret.
  absl::StatusOr<v1::ApiKey> Create(const std::string& app_name);

  // Every key, oldest first, without secrets.
  absl::StatusOr<std::vector<v1::ApiKey>> List() const;

  // Marks the key revoked (keeping the first revocation time when it already was).
  // NOT_FOUND when unknown.
  absl::StatusOr<v1::ApiKey> Revoke(const std::string& key_id);

  // The app of a presented key. UNAUTHENTICATED (reason INVALID_API_KEY, or
  // API_KEY_REVOKED) when it is malformed, unknown, does not match, or is revoked; the
  // hashes are compared in constant time.
  absl::StatusOr<v1::ApiKeyCheck> Check(const std::string& key) const;

 private:
  absl::StatusOr<v1::StoredApiKey> Load(const std::string& key_id) const;

  storage::Store* store_;
  const Clock* clock_;
};

}  // namespace civic::intake
