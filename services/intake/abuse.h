// Protection against floods and abuse at intake: per-device and per-phone rate limits
// (token buckets, injectable clock) and an editable blocklist of devices, phone numbers
// and terms, persisted in intake's store.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civic/intake/v1/intake.pb.h"
#include "libs/core/clock.h"
#include "libs/storage/store.h"

namespace civic::intake {

inline constexpr char kBlocklistCf[] = "blocklist";  // kind \x1f value → Block

struct RateLimit {
  int reports = 10;                          // burst: reports allowed at once
  absl::Duration per = absl::Hours(1);       // ... refilled evenly over this period
};

// Token buckets keyed by a string ("device:abc", "phone:+84..."). Thread-safe. In memory:
// with several intake replicas each enforces its own share (documented in the README).
class RateLimiter {
 public:
  RateLimiter(const Clock* clock, size_t max_keys = 100000) : clock_(clock), max_keys_(max_keys) {}

  // Takes a token for `key` under `limit`. RESOURCE_EXHAUSTED with a RetryInfo of the
  // wait until the next token when the bucket is empty (and nothing is taken).
  absl::Status Take(const std::string& key, const RateLimit& limit);

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  const Clock* clock_;
  size_t max_keys_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

class Blocklist {
 public:
  // Loads the entries from `store` (keyspace kBlocklistCf).
  static absl::StatusOr<std::unique_ptr<Blocklist>> Load(storage::Store* store, const Clock* clock);

  // Adds or replaces; INVALID_ARGUMENT for an unknown kind or empty value. Phones are
  // stored in E.164; terms folded.
  absl::StatusOr<v1::Block> Put(v1::Block block);
  absl::Status Delete(v1::BlockKind kind, const std::string& value);
  std::vector<v1::Block> List() const;

  // Why a report from `device` / `phone` (E.164) with `description` is refused, or "".
  std::string Match(const std::string& device, const std::string& phone,
                    const std::string& description) const;

 private:
  Blocklist(storage::Store* store, const Clock* clock) : store_(store), clock_(clock) {}
  static std::string Key(v1::BlockKind kind, const std::string& value);

  storage::Store* store_;
  const Clock* clock_;
  mutable std::mutex mu_;
  std::map<std::string, v1::Block> entries_;
};

}  // namespace civic::intake
