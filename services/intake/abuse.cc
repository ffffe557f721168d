#include "services/intake/abuse.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/core/clock.h"
#include "libs/core/phone.h"
#include "libs/core/status.h"
#include "libs/core/text.h"

namespace civic::intake {
namespace {

constexpr char kDomain[] = "intake.civicdesk";

}  // namespace

absl::Status RateLimiter::Take(const std::string& key, const RateLimit& limit) {
  const absl::Time now = clock_->Now();
  const double capacity = std::max(1, limit.reports);
  const double refill_per_second = capacity / absl::ToDoubleSeconds(limit.per);
  std::lock_guard lock(mu_);
  if (buckets_.size() >= max_keys_ && !buckets_.count(key)) {
    // Forget buckets that have refilled completely: they hold no information.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      const double elapsed = absl::ToDoubleSeconds(now - it->second.updated);
      it = it->second.tokens + elapsed * refill_per_second >= capacity ? buckets_.erase(it)
                                                                      : std::next(it);
    }
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{capacity, now});
  Bucket& b = it->second;
  b.tokens = std::min(capacity,
                      b.tokens + absl::ToDoubleSeconds(now - b.updated) * refill_per_second);
  b.updated = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return absl::OkStatus();
  }
  const absl::Duration wait = absl::Seconds((1 - b.tokens) / refill_per_second);
  return WithRetryDelay(
      WithReason(absl::ResourceExhaustedError(absl::StrCat(
                     "too many reports; try again in ", absl::ToInt64Seconds(wait) + 1, " s")),
                 "RATE_LIMITED", kDomain),
      wait);
}

std::string Blocklist::Key(v1::BlockKind kind, const std::string& value) {
  return absl::StrCat(static_cast<int>(kind), "\x1f", value);
}

absl::StatusOr<std::unique_ptr<Blocklist>> Blocklist::Load(storage::Store* store,
                                                           const Clock* clock) {
  std::unique_ptr<Blocklist> list(new Blocklist(store, clock));
  absl::Status parse;
  CIVIC_RETURN_IF_ERROR(store->Scan(kBlocklistCf, "", "", [&](absl::string_view key,
                                                             absl::string_view value) {
    v1::Block block;
    if (!block.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      parse = absl::DataLossError("unreadable blocklist entry");
      return false;
    }
    list->entries_.emplace(std::string(key), std::move(block));
    return true;
  }));
  CIVIC_RETURN_IF_ERROR(parse);
  return list;
}

absl::StatusOr<v1::Block> Blocklist::Put(v1::Block block) {
  FieldErrors errors;
  switch (block.kind()) {
    case v1::BLOCK_KIND_DEVICE:
      break;
    case v1::BLOCK_KIND_PHONE: {
      std::string phone = NormalizePhone(block.value());
      if (phone.empty() && !block.value().empty()) {
        errors.Add("value", "is not a Vietnamese phone number");
      }
      block.set_value(phone);
      break;
    }
    case v1::BLOCK_KIND_TERM:
      block.set_value(FoldForMatch(block.value()));
      break;
    default:
      errors.Add("kind", "must be DEVICE, PHONE or TERM");
  }
  if (block.value().empty()) errors.Add("value", "is required");
  CIVIC_RETURN_IF_ERROR(errors.ToStatus(kDomain));
  *block.mutable_created_at() = ToTimestamp(clock_->Now());
  const std::string key = Key(block.kind(), block.value());
  storage::Batch batch(store_);
  batch.Put(kBlocklistCf, key, block.SerializeAsString());
  std::lock_guard lock(mu_);  // held across the write: the cache follows the store's order
  CIVIC_RETURN_IF_ERROR(store_->Write(batch));
  entries_[key] = block;
  return block;
}

absl::Status Blocklist::Delete(v1::BlockKind kind, const std::string& value) {
  std::string normalized = value;
  if (kind == v1::BLOCK_KIND_PHONE) normalized = NormalizePhone(value);
  if (kind == v1::BLOCK_KIND_TERM) normalized = FoldForMatch(value);
  const std::string key = Key(kind, normalized);
  std::lock_guard lock(mu_);
  if (!entries_.count(key)) return absl::NotFoundError("no such blocklist entry");
  storage::Batch batch(store_);
  batch.Delete(kBlocklistCf, key);
  CIVIC_RETURN_IF_ERROR(store_->Write(batch));
  entries_.erase(key);
  return absl::OkStatus();
}

std::vector<v1::Block> Blocklist::List() const {
  std::lock_guard lock(mu_);
  std::vector<v1::Block> out;
  for (const auto& [key, block] : entries_) out.push_back(block);
  return out;
}

std::string Blocklist::Match(const std::string& device, const std::string& phone,
                             const std::string& description) const {
  std::lock_guard lock(mu_);
  if (!device.empty() && entries_.count(Key(v1::BLOCK_KIND_DEVICE, device))) {
    return "device is blocked";
  }
  if (!phone.empty() && entries_.count(Key(v1::BLOCK_KIND_PHONE, phone))) {
    return "phone number is blocked";
  }
  bool any_term = false;
  for (const auto& [key, block] : entries_) any_term = any_term || block.kind() == v1::BLOCK_KIND_TERM;
  if (!any_term) return "";
  const std::string folded = " " + FoldForMatch(description) + " ";
  for (const auto& [key, block] : entries_) {
    if (block.kind() == v1::BLOCK_KIND_TERM &&
        folded.find(" " + block.value() + " ") != std::string::npos) {
      return "description contains a blocked term";
    }
  }
  return "";
}

}  // namespace civic::intake
