// The one storage abstraction every service uses: a RocksDB database with named column
// families (one per keyspace), synced writes for anything acknowledged to a caller, and
// atomic multi-key batches.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace civic::storage {

struct StoreOptions {
  // Directory of the database; created when missing.
  std::filesystem::path path;
  // Keyspaces besides "default". Opening an existing store with fewer is an error.
  std::vector<std::string> column_families;
  // Sync the WAL on every write. Only tests that measure nothing durable turn it off.
  bool sync = true;
  // Options for particular keyspaces (e.g. blob files for large values); the others get
  // the defaults, tuned for point look-ups.
  std::map<std::string, rocksdb::ColumnFamilyOptions, std::less<>> column_options;
};

class Store;

// An atomic group of puts and deletes across column families. Nothing is visible or
// durable until Store::Write returns OK.
class Batch {
 public:
  explicit Batch(Store* store) : store_(store) {}
  void Put(absl::string_view cf, absl::string_view key, absl::string_view value);
  void Delete(absl::string_view cf, absl::string_view key);
  bool empty() const { return batch_.Count() == 0; }
  rocksdb::WriteBatch* raw() { return &batch_; }

 private:
  Store* store_;
  rocksdb::WriteBatch batch_;
};

class Store {
 public:
  // Opens (creating if needed) the database. Errors: INTERNAL / UNAVAILABLE with
  // RocksDB's message (e.g. the directory is locked by another process).
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  // Flushes and closes. Everything written with OK is already in the synced WAL.
  ~Store();

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The value under `key`, std::nullopt when absent; error on I/O failure.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view cf,
                                                 absl::string_view key) const;

  // Applies `batch` atomically; with the store's sync option, the WAL is fsynced before
  // returning, so an OK means the change survives a crash.
  absl::Status Write(Batch& batch);

  // Visits keys >= `start` that begin with `prefix`, in key order, until `fn` returns
  // false. The view is a consistent snapshot.
  absl::Status Scan(absl::string_view cf, absl::string_view prefix, absl::string_view start,
                    const std::function<bool(absl::string_view key,
                                             absl::string_view value)>& fn) const;

  // Visits keys < `before` (all keys when `before` is empty) that begin with `prefix`, in
  // descending key order, until `fn` returns false. The view is a consistent snapshot.
  absl::Status ScanBackward(
      absl::string_view cf, absl::string_view prefix, absl::string_view before,
      const std::function<bool(absl::string_view key, absl::string_view value)>& fn) const;

  // The greatest key in `cf`, std::nullopt when it is empty.
  absl::StatusOr<std::optional<std::string>> LastKey(absl::string_view cf) const;

  // Handle for a declared column family. Asking for an undeclared one is a programming
  // error and aborts.
  rocksdb::ColumnFamilyHandle* Family(absl::string_view cf) const;

  const std::filesystem::path& path() const { return path_; }

 private:
  Store() = default;

  std::filesystem::path path_;
  bool sync_ = true;
  std::unique_ptr<rocksdb::DB> db_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> families_;
};

// Big-endian fixed-width encoding, so numeric keys sort as numbers.
std::string EncodeUint64(uint64_t value);
// Decodes EncodeUint64's output; 0 when `bytes` is not 8 bytes long.
uint64_t DecodeUint64(absl::string_view bytes);

}  // namespace civic::storage
