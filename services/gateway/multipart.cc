// multipart/form-data parsing (see multipart.h).
#include "services/gateway/multipart.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/core/text.h"
#include "libs/core/status.h"

namespace civic::gateway {
namespace {

constexpr char kDomain[] = "gateway.civicdesk";
constexpr size_t kMaxFilenameBytes = 255;

absl::Status Malformed(absl::string_view what) {
  return WithReason(absl::InvalidArgumentError(absl::StrCat("malformed multipart body: ", what)),
                    "MALFORMED_MULTIPART", kDomain);
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// Untrusted text quoted in an error (problem documents must be valid UTF-8).
std::string Printable(absl::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  return out;
}

absl::string_view TrimSpaces(absl::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 2046 §5.1.1: bchars := bcharsnospace / " ".
bool IsBoundaryChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("'()+_,-./:=? ").find(c) != absl::string_view::npos;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 8187 ext-value: charset "'" [ language ] "'" pct-encoded value, in UTF-8 or
// ISO-8859-1. nullopt when it is neither or the escapes are broken.
std::optional<std::string> DecodeExtValue(absl::string_view value) {
  const size_t first = value.find('\'');
  if (first == absl::string_view::npos) return std::nullopt;
  const size_t second = value.find('\'', first + 1);
  if (second == absl::string_view::npos) return std::nullopt;
  const absl::string_view charset = value.substr(0, first);
  const bool utf8 = absl::EqualsIgnoreCase(charset, "utf-8");
  const bool latin1 = absl::EqualsIgnoreCase(charset, "iso-8859-1");
  if (!utf8 && !latin1) return std::nullopt;
  std::string bytes;
  const absl::string_view encoded = value.substr(second + 1);
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      bytes.push_back(encoded[i]);
      continue;
    }
    if (i + 2 >= encoded.size()) return std::nullopt;
    const int hi = HexValue(encoded[i + 1]);
    const int lo = HexValue(encoded[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (utf8) return bytes;
  std::string out;  // ISO-8859-1 is the first 256 code points
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

// The file name as the gateway passes it on (see FormPart::filename).
std::string CleanFilename(absl::string_view raw) {
  const size_t slash = raw.find_last_of("/\\");
  if (slash != absl::string_view::npos) raw.remove_prefix(slash + 1);
  if (!IsValidUtf8(raw)) return "";
  std::string out;
  for (char c : raw) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) continue;
    out.push_back(c);
  }
  if (out.size() > kMaxFilenameBytes) {
    size_t cut = kMaxFilenameBytes;
    // Never split a UTF-8 sequence: back up over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

// One part's headers, as the parser needs them.
struct PartHeaders {
  std::string disposition;
  std::string content_type;
  std::string transfer_encoding;
};

// Reads the header lines starting at `*pos` up to and including the blank line.
absl::Status ReadPartHeaders(absl::string_view body, size_t* pos, const MultipartLimits& limits,
                             PartHeaders* out) {
  std::string* last = nullptr;  // the value a folded line continues
  for (size_t lines = 0;; ++lines) {
    const absl::string_view window = body.substr(*pos, limits.max_header_line + 2);
    const size_t eol = window.find("\r\n");
    if (eol == absl::string_view::npos) {
      if (window.size() < limits.max_header_line + 2) {
        return Malformed("the body ends inside a part's headers");
      }
      return Malformed(
          absl::StrCat("a part header line is longer than ", limits.max_header_line, " bytes"));
    }
    if (eol > limits.max_header_line) {
      return Malformed(
          absl::StrCat("a part header line is longer than ", limits.max_header_line, " bytes"));
    }
    const absl::string_view line = window.substr(0, eol);
    *pos += eol + 2;
    if (line.empty()) return absl::OkStatus();
    if (lines >= limits.max_header_lines) {
      return Malformed(
          absl::StrCat("a part has more than ", limits.max_header_lines, " header lines"));
    }
    if (IsSpace(line.front())) {  // obsolete folding: continues the previous value
      if (last == nullptr) return Malformed("a part's first header line starts with a space");
      absl::StrAppend(last, " ", TrimSpaces(line));
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0) {
      return Malformed("a part header line has no name and colon");
    }
    const absl::string_view name = TrimSpaces(line.substr(0, colon));
    const absl::string_view value = TrimSpaces(line.substr(colon + 1));
    last = nullptr;
    if (absl::EqualsIgnoreCase(name, "Content-Disposition")) {
      last = &out->disposition;
    } else if (absl::EqualsIgnoreCase(name, "Content-Type")) {
      last = &out->content_type;
    } else if (absl::EqualsIgnoreCase(name, "Content-Transfer-Encoding")) {
      last = &out->transfer_encoding;
    }
    if (last != nullptr) {
      if (!last->empty()) {
        return Malformed(absl::StrCat("a part has two ", name, " headers"));
      }
      *last = std::string(value);
    }
  }
}

absl::StatusOr<FormPart> MakePart(const PartHeaders& headers, absl::string_view data) {
  if (headers.disposition.empty()) return Malformed("a part has no Content-Disposition");
  std::string type;
  std::vector<std::pair<std::string, std::string>> params;
  if (!ParseHeaderParameters(headers.disposition, &type, &params)) {
    return Malformed("a part's Content-Disposition cannot be parsed");
  }
  if (type != "form-data") {
    return Malformed(
        absl::StrCat("a part's Content-Disposition is \"", Printable(type), "\", not form-data"));
  }
  if (!headers.transfer_encoding.empty()) {
    const std::string encoding = absl::AsciiStrToLower(headers.transfer_encoding);
    if (encoding != "binary" && encoding != "8bit" && encoding != "7bit") {
      return Malformed("parts must be sent as they are (Content-Transfer-Encoding binary)");
    }
  }
  FormPart part;
  bool named = false;
  std::optional<std::string> filename;
  std::optional<std::string> filename_ext;
  for (const auto& [key, value] : params) {
    if (key == "name") {
      part.name = value;
      named = true;
    } else if (key == "filename") {
      filename = value;
    } else if (key == "filename*") {
      filename_ext = DecodeExtValue(value);
    }
  }
  if (!named || part.name.empty()) return Malformed("a part has no name");
  if (filename_ext) {
    part.filename = CleanFilename(*filename_ext);
  } else if (filename) {
    part.filename = CleanFilename(*filename);
  }
  part.content_type = headers.content_type;
  part.data = data;
  return part;
}

}  // namespace


bool IsMultipartFormData(absl::string_view content_type) {
  const absl::string_view media = TrimSpaces(content_type.substr(0, content_type.find(';')));
  return absl::EqualsIgnoreCase(media, "multipart/form-data");
}

bool ParseHeaderParameters(absl::string_view value, std::string* token,
                           std::vector<std::pair<std::string, std::string>>* params) {
  token->clear();
  params->clear();
  size_t pos = value.find(';');
  *token = absl::AsciiStrToLower(TrimSpaces(value.substr(0, pos)));
  while (pos != absl::string_view::npos && pos < value.size()) {
    ++pos;  // past ';'
    while (pos < value.size() && IsSpace(value[pos])) ++pos;
    if (pos == value.size()) break;  // a trailing ';'
    const size_t eq = value.find_first_of("=;", pos);
    if (eq == absl::string_view::npos || value[eq] != '=') return false;
    const std::string name = absl::AsciiStrToLower(TrimSpaces(value.substr(pos, eq - pos)));
    if (name.empty()) return false;
    pos = eq + 1;
    while (pos < value.size() && IsSpace(value[pos])) ++pos;
    std::string parsed;
    if (pos < value.size() && value[pos] == '"') {
      ++pos;
      bool closed = false;
      while (pos < value.size()) {
        const char c = value[pos];
        if (c == '"') {
          closed = true;
          ++pos;
          break;
        }
        if (c == '\\' && pos + 1 < value.size() &&
            (value[pos + 1] == '"' || value[pos + 1] == '\\')) {
          parsed.push_back(value[pos + 1]);
          pos += 2;
          continue;
        }
        parsed.push_back(c);
        ++pos;
      }
      if (!closed) return false;
      while (pos < value.size() && IsSpace(value[pos])) ++pos;
      if (pos < value.size() && value[pos] != ';') return false;  // garbage after the quote
    } else {
      const size_t end = value.find(';', pos);
      parsed = std::string(TrimSpaces(value.substr(pos, end - pos)));
      pos = end;
    }
    const bool seen =
        std::any_of(params->begin(), params->end(), [&](const auto& p) { return p.first == name; });
    if (!seen) params->emplace_back(name, std::move(parsed));
  }
  return true;
}

absl::StatusOr<std::vector<FormPart>> ParseMultipart(absl::string_view content_type,
                                                     absl::string_view body,
                                                     const MultipartLimits& limits) {
  std::string media;
  std::vector<std::pair<std::string, std::string>> params;
  if (!ParseHeaderParameters(content_type, &media, &params) || media != "multipart/form-data") {
    return Malformed("the Content-Type is not multipart/form-data");
  }
  std::string boundary;
  for (const auto& [key, value] : params) {
    if (key == "boundary") boundary = value;
  }
  if (boundary.empty()) return Malformed("the Content-Type has no boundary parameter");
  if (boundary.size() > 70 || boundary.back() == ' ' ||
      !std::all_of(boundary.begin(), boundary.end(), IsBoundaryChar)) {
    return Malformed("the boundary parameter is not 1..70 characters allowed by RFC 2046");
  }

  // A boundary line is "--boundary" at the very start of the body or after a CRLF; the
  // CRLF before it belongs to the boundary, not to the preceding part's content.
  const std::string dash_boundary = absl::StrCat("--", boundary);
  const std::string delimiter = absl::StrCat("\r\n", dash_boundary);
  size_t pos;
  if (absl::StartsWith(body, dash_boundary)) {
    pos = dash_boundary.size();
  } else {
    const size_t found = body.find(delimiter);
    if (found == absl::string_view::npos) {
      return Malformed("the body has no boundary line of the Content-Type's boundary");
    }
    pos = found + delimiter.size();
  }

  std::vector<FormPart> parts;
  for (;;) {
    // After "--boundary": "--" closes the body; otherwise optional spaces and CRLF.
    const absl::string_view rest = body.substr(pos);
    if (absl::StartsWith(rest, "--")) break;  // the epilogue, if any, is ignored
    size_t after = 0;
    while (after < rest.size() && IsSpace(rest[after])) ++after;
    const absl::string_view tail = rest.substr(after);
    if (!absl::StartsWith(tail, "\r\n")) {
      if (tail.empty() || tail == "\r" || rest == "-") {
        return Malformed("the body ends before the closing boundary");
      }
      return Malformed("a boundary line has trailing characters");
    }
    pos += after + 2;

    if (parts.size() >= limits.max_parts) {
      return Malformed(absl::StrCat("the body has more than ", limits.max_parts, " parts"));
    }
    PartHeaders headers;
    CIVIC_RETURN_IF_ERROR(ReadPartHeaders(body, &pos, limits, &headers));
    const size_t end = body.find(delimiter, pos);
    if (end == absl::string_view::npos) {
      return Malformed("the body ends before the closing boundary");
    }
    CIVIC_ASSIGN_OR_RETURN(FormPart part, MakePart(headers, body.substr(pos, end - pos)));
    parts.push_back(std::move(part));
    pos = end + delimiter.size();
  }
  return parts;
}

}  // namespace civic::gateway
