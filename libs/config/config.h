// Typed configuration. Each module declares a plain struct whose fields carry their
// defaults, and a Visit() that names each field with a one-line reason:
//
//   struct IntakeConfig {
//     std::string listen = "127.0.0.1:7101";
//     int outbox_batch = 64;
//     template <typename V> void Visit(V& v) {
//       v("listen", listen, "gRPC address; port 0 picks a free one");
//       v("outbox_batch", outbox_batch, "reports forwarded per outbox pass");
//     }
//     absl::Status Validate() const;
//   };
//
// From that one declaration the loader reads JSON (unknown keys and wrong types are
// errors), applies "section.key=value" overrides from flags and CIVIC_<SECTION>_<KEY>
// environment variables, and prints the effective config.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/ascii.h"
#include "nlohmann/json.hpp"

namespace civic::config {

namespace internal {

template <typename T>
absl::Status FromJson(const nlohmann::json& j, absl::string_view path, T& out) {
  auto type_error = [&](absl::string_view want) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", path, ": expected ", want, ", got ", j.type_name()));
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) return type_error("a boolean");
    out = j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!j.is_number_integer()) return type_error("an integer");
    // Range-checked: a value that does not fit must not wrap into a valid-looking one.
    if (j.is_number_unsigned()) {
      const uint64_t v = j.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        return type_error("an integer in range");
      }
      out = static_cast<T>(v);
    } else {
      const int64_t v = j.get<int64_t>();
      if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          (v > 0 && static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<T>::max()))) {
        return type_error("an integer in range");
      }
      out = static_cast<T>(v);
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!j.is_number()) return type_error("a number");
    out = j.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) return type_error("a string");
    out = j.get<std::string>();
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (!j.is_array()) return type_error("an array of strings");
    out.clear();
    for (const auto& e : j) {
      if (!e.is_string()) return type_error("an array of strings");
      out.push_back(e.get<std::string>());
    }
  } else {
    static_assert(sizeof(T) == 0, "unsupported config field type");
  }
  return absl::OkStatus();
}

// Parses an override's text into the field's type ("true", "42", "a,b").
template <typename T>
absl::Status FromText(absl::string_view text, absl::string_view path, T& out) {
  if constexpr (std::is_same_v<T, std::string>) {
    out = std::string(text);
    return absl::OkStatus();
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    out.clear();
    if (!text.empty()) out = absl::StrSplit(text, ',');
    return absl::OkStatus();
  } else if constexpr (std::is_same_v<T, bool>) {
    std::string lower = absl::AsciiStrToLower(text);
    if (lower == "true" || lower == "1") {
      out = true;
    } else if (lower == "false" || lower == "0") {
      out = false;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("config ", path, ": '", text,
                                                     "' is not a boolean"));
    }
    return absl::OkStatus();
  } else {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config ", path, ": '", text, "' is not a number"));
    }
    return FromJson(j, path, out);
  }
}

// Visitor that reads one JSON object into a struct, rejecting unknown keys.
class JsonReader {
 public:
  JsonReader(const nlohmann::json& obj, std::string section)
      : obj_(obj), section_(std::move(section)) {}

  template <typename T>
  void operator()(absl::string_view key, T& field, absl::string_view /*doc*/) {
    known_.emplace_back(key);
    if (!status_.ok()) return;
    auto it = obj_.find(std::string(key));
    if (it == obj_.end()) return;
    status_ = FromJson(*it, absl::StrCat(section_, ".", key), field);
  }

  absl::Status Finish() const {
    if (!status_.ok()) return status_;
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      bool found = false;
      for (const auto& k : known_) found = found || k == it.key();
      if (!found) {
        return absl::InvalidArgumentError(
            absl::StrCat("config ", section_, ".", it.key(), ": unknown key"));
      }
    }
    return absl::OkStatus();
  }

 private:
  const nlohmann::json& obj_;
  std::string section_;
  std::vector<std::string> known_;
  absl::Status status_;
};

// Visitor that applies one "key=value" override; reports whether the key exists.
class TextSetter {
 public:
  TextSetter(absl::string_view section, absl::string_view key, absl::string_view value)
      : section_(section), key_(key), value_(value) {}

  template <typename T>
  void operator()(absl::string_view key, T& field, absl::string_view /*doc*/) {
    if (key != key_) return;
    found_ = true;
    status_ = FromText(value_, absl::StrCat(section_, ".", key), field);
  }
  bool found() const { return found_; }
  const absl::Status& status() const { return status_; }

 private:
  absl::string_view section_, key_, value_;
  bool found_ = false;
  absl::Status status_;
};

// Visitor that writes a struct out as JSON, with each field's doc in a parallel object.
class JsonWriter {
 public:
  template <typename T>
  void operator()(absl::string_view key, T& field, absl::string_view doc) {
    out[std::string(key)] = field;
    docs[std::string(key)] = std::string(doc);
  }
  nlohmann::json out = nlohmann::json::object();
  nlohmann::json docs = nlohmann::json::object();
};

// Visitor that lists field names (to map environment variables back to keys).
class KeyLister {
 public:
  template <typename T>
  void operator()(absl::string_view key, T&, absl::string_view) {
    keys.emplace_back(key);
  }
  std::vector<std::string> keys;
};

}  // namespace internal

// Reads `obj` (a JSON object, or null for "all defaults") into `cfg`.
template <typename Config>
absl::Status ReadSection(const nlohmann::json& obj, absl::string_view section,
                         Config& cfg) {
  if (obj.is_null()) return absl::OkStatus();
  if (!obj.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", section, ": expected an object"));
  }
  internal::JsonReader reader(obj, std::string(section));
  cfg.Visit(reader);
  return reader.Finish();
}

// Applies one override "key=value" to `cfg`; NOT_FOUND-style error for unknown keys.
template <typename Config>
absl::Status SetField(Config& cfg, absl::string_view section, absl::string_view key,
                      absl::string_view value) {
  internal::TextSetter setter(section, key, value);
  cfg.Visit(setter);
  if (!setter.found()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", section, ".", key, ": unknown key"));
  }
  return setter.status();
}

// The effective values of `cfg` as a JSON object.
template <typename Config>
nlohmann::json ToJson(Config& cfg) {
  internal::JsonWriter writer;
  cfg.Visit(writer);
  return writer.out;
}

// Field names of `cfg`.
template <typename Config>
std::vector<std::string> KeysOf(Config& cfg) {
  internal::KeyLister lister;
  cfg.Visit(lister);
  return lister.keys;
}

// Parses "host:port"; INVALID_ARGUMENT naming `what` when malformed. Port 0 is allowed
// (the kernel picks a free port).
absl::Status ValidateHostPort(absl::string_view address, absl::string_view what);

}  // namespace civic::config
