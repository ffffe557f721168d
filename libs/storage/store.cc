#include "absl/strings/string_view.h"
#include "libs/storage/store.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"

namespace civic::storage {
namespace {

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::UnavailableError(message);
  }
  if (s.IsCorruption()) return absl::DataLossError(message);
  return absl::InternalError(message);
}

rocksdb::Slice ToSlice(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace

void Batch::Put(absl::string_view cf, absl::string_view key, absl::string_view value) {
  batch_.Put(store_->Family(cf), ToSlice(key), ToSlice(value));
}

void Batch::Delete(absl::string_view cf, absl::string_view key) {
  batch_.Delete(store_->Family(cf), ToSlice(key));
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", options.path.string(), ": ", ec.message()));
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // Small services on a shared machine: keep the footprint modest.
  db_options.IncreaseParallelism(2);
  db_options.keep_log_file_num = 5;
  db_options.max_manifest_file_size = 64 << 20;

  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.OptimizeForPointLookup(16);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  for (const auto& name : options.column_families) {
    auto custom = options.column_options.find(name);
    descriptors.emplace_back(name,
                             custom != options.column_options.end() ? custom->second : cf_options);
  }
  // Refuse to open a store that has keyspaces we would silently ignore.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(db_options, options.path.string(), &existing).ok()) {
    for (const auto& name : existing) {
      bool declared = name == rocksdb::kDefaultColumnFamilyName;
      for (const auto& d : options.column_families) declared = declared || d == name;
      if (!declared) {
        return absl::FailedPreconditionError(
            absl::StrCat(options.path.string(), " has keyspace '", name,
                         "' that this version does not know"));
      }
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options.path.string(), descriptors, &handles, &raw);
  CIVIC_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("open ", options.path.string())));

  std::unique_ptr<Store> store(new Store());
  store->path_ = options.path;
  store->sync_ = options.sync;
  store->db_.reset(raw);
  for (size_t i = 0; i < handles.size(); ++i) {
    store->families_.emplace(descriptors[i].name, handles[i]);
  }
  return store;
}

Store::~Store() {
  if (!db_) return;
  rocksdb::FlushOptions flush;
  flush.wait = true;
  for (auto& [name, handle] : families_) {
    db_->Flush(flush, handle).PermitUncheckedError();
  }
  db_->SyncWAL().PermitUncheckedError();
  for (auto& [name, handle] : families_) {
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
}

absl::StatusOr<std::optional<std::string>> Store::Get(absl::string_view cf,
                                                      absl::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Family(cf), ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  CIVIC_RETURN_IF_ERROR(FromRocks(s, "get"));
  return value;
}

absl::Status Store::Write(Batch& batch) {
  rocksdb::WriteOptions options;
  options.sync = sync_;
  return FromRocks(db_->Write(options, batch.raw()), "write");
}

absl::Status Store::Scan(
    absl::string_view cf, absl::string_view prefix, absl::string_view start,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) const {
  rocksdb::ReadOptions options;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, Family(cf)));
  const absl::string_view seek = start > prefix ? start : prefix;
  for (it->Seek(ToSlice(seek)); it->Valid(); it->Next()) {
    absl::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!fn(key, absl::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromRocks(it->status(), "scan");
}

absl::Status Store::ScanBackward(
    absl::string_view cf, absl::string_view prefix, absl::string_view before,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Family(cf)));
  if (before.empty()) {
    // Just past the prefix: the prefix with its last byte incremented (carrying over
    // 0xFF bytes); an all-0xFF or empty prefix means "from the very end".
    std::string end(prefix);
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) end.pop_back();
    if (end.empty()) {
      it->SeekToLast();
    } else {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      it->SeekForPrev(ToSlice(end));
      if (it->Valid() && it->key() == ToSlice(end)) it->Prev();
    }
  } else {
    it->SeekForPrev(ToSlice(before));
    if (it->Valid() && it->key() == ToSlice(before)) it->Prev();
  }
  for (; it->Valid(); it->Prev()) {
    absl::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!fn(key, absl::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromRocks(it->status(), "scan");
}

absl::StatusOr<std::optional<std::string>> Store::LastKey(absl::string_view cf) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Family(cf)));
  it->SeekToLast();
  CIVIC_RETURN_IF_ERROR(FromRocks(it->status(), "seek"));
  if (!it->Valid()) return std::nullopt;
  return it->key().ToString();
}

rocksdb::ColumnFamilyHandle* Store::Family(absl::string_view cf) const {
  auto it = families_.find(cf);
  if (it == families_.end()) {
    // A keyspace name is a compile-time constant of the calling service: reaching here
    // is a bug, and writing elsewhere would corrupt data.
    CIVIC_LOG_ERROR("undeclared keyspace '{}' in {}", cf, path_.string());
    std::abort();
  }
  return it->second;
}

std::string EncodeUint64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xFF);
    value >>= 8;
  }
  return out;
}

uint64_t DecodeUint64(absl::string_view bytes) {
  if (bytes.size() != 8) return 0;
  uint64_t value = 0;
  for (unsigned char c : bytes) value = (value << 8) | c;
  return value;
}

}  // namespace civic::storage
