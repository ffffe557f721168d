// multipart/form-data bodies (RFC 7578 on RFC 2046's multipart syntax), as apps and
// browsers send a report with its photos. A strict parser: the body is untrusted, so
// every malformation is an error that names it, and nothing is read past the body.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace civic::gateway {

// One part of a form.
struct FormPart {
  // Content-Disposition's name parameter, e.g. "report" or "photos".
  std::string name;
  // The file name, when the part is a file: filename*= (RFC 8187, UTF-8 or ISO-8859-1,
  // decoded) when given and readable, else filename=. Reduced to its last path
  // component (old browsers sent "C:\dir\a.jpg"), control characters removed, at most
  // 255 bytes; "" when what was sent is not valid UTF-8. nullopt when no file name was
  // sent (a plain form field).
  std::optional<std::string> filename;
  // The part's Content-Type as sent, "" when absent.
  std::string content_type;
  // The content, a view into the body given to ParseMultipart.
  absl::string_view data;
};

struct MultipartLimits {
  size_t max_parts = 16;
  // Longest header line of a part, without its CRLF.
  size_t max_header_line = 8 << 10;
  size_t max_header_lines = 16;
};

// True when `content_type` is multipart/form-data (any parameters, any case).
bool IsMultipartFormData(absl::string_view content_type);

// Splits a header value into its lower-cased first token ("form-data", "text/plain")
// and its parameters (names lower-cased; values unquoted: in a quoted string only \"
// and \\ are escapes, other backslashes stay, as browsers do not escape them). Returns
// false when the syntax is broken (an unterminated quoted string, a parameter without
// '=' or name). A repeated parameter keeps its first value.
bool ParseHeaderParameters(absl::string_view value, std::string* token,
                           std::vector<std::pair<std::string, std::string>>* params);

// Parses `body` as multipart/form-data with the boundary of `content_type` (the request's
// Content-Type header). The preamble before the first boundary and the epilogue after
// the closing one are ignored; parts are returned in order, their data views into
// `body`. Fails with INVALID_ARGUMENT (reason MALFORMED_MULTIPART) and a message naming
// the problem: no or an invalid boundary parameter (1..70 characters of RFC 2046's
// bchars, not ending in a space), no boundary line in the body, a boundary line with
// trailing garbage, a body that ends before the closing boundary (truncated), a part
// header line longer than `limits.max_header_line` or without a colon, more than
// `limits.max_header_lines` header lines, a part without Content-Disposition form-data
// and a name, a Content-Transfer-Encoding other than 7bit, 8bit or binary, or more than
// `limits.max_parts` parts.
absl::StatusOr<std::vector<FormPart>> ParseMultipart(absl::string_view content_type,
                                                     absl::string_view body,
                                                     const MultipartLimits& limits = {});

}  // namespace civic::gateway
