// Open311 GeoReport v2 under /open311/v2: the façade existing 311 clients (FixMyStreet,
// city apps, agency adapters) speak, mapped onto intake's catalogue and submissions and
// cases' public view. Parsing, mapping and rendering are plain functions (tested without
// a network); Open311Handler strings the backend calls together through a small
// asynchronous Backend interface that the gateway's sessions implement.
//
// The rules followed are shared/OPEN311.md (a paraphrase of the public spec):
//   - every resource as .xml and .json; XML through pugixml with a UTF-8 declaration,
//     JSON as the spec's "Spark convention" (lists are arrays, empty elements null,
//     ids and codes strings);
//   - errors as <errors><error><code/><description/></error></errors> or
//     [{"code", "description"}], HTTP 404 for a missing resource, 403 for a missing or
//     bad api_key, 400 for everything else (the body's code may be more specific, e.g.
//     503 when a backend is down);
//   - date-times in the W3C profile with an explicit offset, emitted in Vietnam time
//     (+07:00);
//   - an empty parameter is the same as an absent one.
#pragma once

#include <grpcpp/support/status.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "civic/cases/v1/cases.pb.h"
#include "civic/intake/v1/intake.pb.h"
#include "google/protobuf/message.h"
#include "libs/core/clock.h"

namespace civic::gateway {

// Checks an api_key presented on an Open311 POST. Returns the id of the client
// application the key belongs to (sent to intake as x-civic-client-id, the scope of its
// retries and quotas); PERMISSION_DENIED (or UNAUTHENTICATED) for an unknown or revoked
// key, answered 403; any other error (e.g. UNAVAILABLE: the key store cannot answer) is
// answered 400 with the more specific code (503) in the body.
// Called on the gateway's I/O threads: must be thread-safe and must not block.
using ApiKeyChecker = std::function<absl::StatusOr<std::string>(absl::string_view api_key)>;

// Lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(absl::string_view data);

// A checker accepting the keys whose SHA-256 (64 hex digits, either case) is listed in
// the file at `path`, one per line; blank lines and lines starting with '#' are skipped,
// and a line may carry a label after the hash ("<hash> fixmystreet"; ignored). The file
// holds no key itself, only hashes. The client id of a key is "open311-" followed by the
// first 16 hex digits of its hash. NOT_FOUND when the file cannot be read;
// INVALID_ARGUMENT naming the line when one is not a hash.
absl::StatusOr<ApiKeyChecker> LoadApiKeyFile(const std::string& path);

// A checker refusing every key: POSTs are closed until keys are configured.
ApiKeyChecker RejectAllApiKeys();

namespace open311 {

// The prefix every Open311 path starts with.
inline constexpr absl::string_view kBasePath = "/open311/v2";
inline constexpr absl::string_view kSpecification = "http://wiki.open311.org/GeoReport_v2";
inline constexpr absl::string_view kXmlContentType = "text/xml; charset=utf-8";
inline constexpr absl::string_view kJsonContentType = "application/json; charset=utf-8";

enum class Format { kXml, kJson };
// The language of names and descriptions in answers.
enum class Language { kVi, kEn };

// ---------------------------------------------------------------------------------
// Parameters.

// Form or query parameters in their order; names and values percent-decoded ('+' is a
// space) and valid UTF-8.
using Params = std::vector<std::pair<std::string, std::string>>;

// Parses application/x-www-form-urlencoded text (a POST body or a query string).
// "a=1&b" gives {a:"1"}, {b:""}; empty pieces ("a=1&&b=2") are skipped. INVALID_ARGUMENT
// for a malformed %-escape or text that is not UTF-8 once decoded.
absl::StatusOr<Params> ParseForm(absl::string_view text);

// The first non-empty value of `name` ("" when none: an empty parameter is absent).
std::string Param(const Params& params, absl::string_view name);

// The values of attribute[CODE]=v and attribute[CODE][]=v (multivaluelist), by code, in
// order; empty values are dropped, and so are codes left with none.
std::map<std::string, std::vector<std::string>> AttributeParams(const Params& params);

// The answer language: the `locale` parameter when given ("vi", "vi_VN", "en-GB"...),
// else the first tag of Accept-Language; Vietnamese when it starts with "vi", else
// English.
Language PickLanguage(absl::string_view locale, absl::string_view accept_language);

// ---------------------------------------------------------------------------------
// Date-times.

// Parses the W3C profile strictly: YYYY-MM-DDThh:mm[:ss[.s…]] then "Z" or ±hh:mm. One
// leniency: a space in place of the offset's '+' (an unencoded '+' in a query string
// arrives as a space) is read as '+'. INVALID_ARGUMENT otherwise, and for impossible
// dates (2010-02-30).
absl::StatusOr<absl::Time> ParseW3cDateTime(absl::string_view text);

// "2026-01-01T07:00:00+07:00": whole seconds, Vietnam time, explicit offset.
std::string FormatW3cDateTime(absl::Time time);

// ---------------------------------------------------------------------------------
// Responses.

struct Error {
  int code = 400;           // usually the HTTP status; may be more specific
  std::string description;  // for people; may be shown to end users
};

// An answer ready to send.
struct Response {
  int http_status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // The route template, for logs and metrics ("/open311/v2/requests/{id}").
  std::string route;
};

// <errors> / [{code, description}] with the given HTTP status.
Response RenderErrors(Format format, int http_status, const std::vector<Error>& errors);

// The discovery document.
struct Discovery {
  std::string changeset;  // sortable: when the services last changed
  std::string contact;
  std::string key_service;
  std::string url;  // the API base, e.g. "https://api.example.vn/open311/v2"
  std::string type = "production";
};
Response RenderDiscovery(Format format, const Discovery& discovery);

// GET services: service_code, service_name, description, metadata (true when the
// category has attributes), type, keywords (comma-separated), group (the group's name).
Response RenderServices(Format format, const std::vector<intake::v1::Category>& categories,
                        Language language);

// GET services/{code}: <service_definition> with service_code and every attribute
// (variable, code, datatype, required, datatype_description, order, description and,
// for the list datatypes, values with key and name).
Response RenderServiceDefinition(Format format, const intake::v1::Category& category,
                                 Language language);

// One <request> of a service_requests answer. Empty fields render as empty elements
// (JSON null); has_location false leaves lat/long empty.
struct ServiceRequest {
  std::string service_request_id;
  std::string token;   // only in POST and tokens answers
  std::string status;  // "open" or "closed"
  std::string status_notes;
  std::string service_name;
  std::string service_code;
  std::string description;
  std::string agency_responsible;
  std::string service_notice;
  std::string requested_datetime;
  std::string updated_datetime;
  std::string expected_datetime;
  std::string address;
  std::string address_id;
  std::string zipcode;
  bool has_location = false;
  double lat = 0;
  double lon = 0;
  std::string media_url;
};

// GET requests and requests/{id}: every field of the spec, in its order.
Response RenderServiceRequests(Format format, const std::vector<ServiceRequest>& requests);

// POST requests: service_request_id or token (never both; the id when set) and
// service_notice when set.
Response RenderPostResult(Format format, const ServiceRequest& request);

// GET tokens/{token}: service_request_id (empty while the case is not open) and token.
Response RenderTokenResult(Format format, const ServiceRequest& request);

// ---------------------------------------------------------------------------------
// Mapping.

// "open" for new, accepted, assigned, in progress, transferred, reopened (and unset);
// "closed" for resolved, closed, rejected, merged.
absl::string_view Open311Status(common::v1::CaseStatus status);

// The case statuses an Open311 status word stands for (case-insensitive); empty for an
// unknown word.
std::vector<common::v1::CaseStatus> CaseStatusesFor(absl::string_view open311_status);

// A public case as a <request>. `category` names the service (nullptr: the code is the
// name); `origin` ("https://host", or "" for relative URLs) prefixes media_url, which is
// the first public photo at /v1/photos/{id}. status_notes is the latest public text of
// the case's updates; agency_responsible the unit's name.
ServiceRequest ToServiceRequest(const cases::v1::PublicCase& c,
                                const intake::v1::Category* category, Language language,
                                absl::string_view origin);

// What a POST becomes.
struct Submission {
  intake::v1::SubmitReportRequest request;
  std::string device_id;  // the device_id parameter when well-formed, else ""
  // attribute[...] keys the category does not define (FixMyStreet sends several, e.g.
  // fixmystreet_id, easting): accepted and left out, as intake refuses unknown ones.
  std::vector<std::string> dropped_attributes;
};

// Maps POST parameters onto a SubmitReportRequest for `category` (channel OPEN311):
// lat/long → location, address_string → address, description, attribute[code] →
// attributes (multivaluelist values joined with ','), email/phone/first_name/last_name
// → contact, locale → language, media_url (repeatable) → media_urls. A missing
// description becomes the FixMyStreet attribute[title]/attribute[description] text,
// else the service's name, as intake requires one. Appends Open311 errors to `errors` and fails (INVALID_ARGUMENT) when the
// location is missing or half-given, lat/long are not numbers, only address_id is given
// (we keep no address registry), a single-value attribute has several values, or a
// media_url is not an http(s) URL. Everything else (required attributes, value lists,
// lengths, phone and e-mail forms) is intake's to check.
absl::StatusOr<Submission> BuildSubmission(const Params& params,
                                           const intake::v1::Category& category,
                                           std::vector<Error>* errors);

// A failed backend call as Open311 errors: NOT_FOUND → HTTP 404; everything else → HTTP
// 400, the body's code being the gateway's HTTP status for the gRPC code (400, 403, 429,
// 503, 504, 500...). A google.rpc.BadRequest becomes one error per field violation, with
// intake's field names translated back to the POST's (category → service_code,
// location.lat → lat, attributes[x] → attribute[x], contact.phone → phone...). Internal
// errors never show the backend's message.
std::pair<int, std::vector<Error>> ErrorsFromGrpcStatus(const grpc::Status& status);

// ---------------------------------------------------------------------------------
// The handler.

// How the handler reaches the backends. Implemented by a gateway session: calls are
// asynchronous, and every completion (and timer) runs on the session's strand, never
// inline from Call/After, so the steps of a flow never overlap.
class Backend {
 public:
  using Metadata = std::vector<std::pair<std::string, std::string>>;
  virtual ~Backend() = default;

  // Calls `rpc_path` ("/civic.intake.v1.IntakeService/GetCategory") on `service`'s
  // channel with `request` and `metadata` (besides the gateway's own: request id,
  // deadline); then parses the answer into *response and runs `done`. A response that
  // cannot be parsed is reported as INTERNAL; a gateway that is stopping as
  // UNAVAILABLE.
  virtual void Call(const std::string& service, const std::string& rpc_path,
                    const google::protobuf::Message& request,
                    std::shared_ptr<google::protobuf::Message> response, Metadata metadata,
                    std::function<void(const grpc::Status&)> done) = 0;

  // Runs `fn` after `delay`.
  virtual void After(absl::Duration delay, std::function<void()> fn) = 0;
};

// One HTTP request under /open311/v2.
struct HttpRequest {
  std::string method;  // "GET", "POST"...
  std::string target;  // path and query, as received
  std::string body;
  std::string content_type;  // Content-Type header
  std::string accept_language;
  std::string host;  // Host header
};

struct HandlerOptions {
  // Accepted jurisdiction_id values. The parameter is optional (this endpoint serves
  // one jurisdiction, and these are its names); any other value is answered 404.
  std::vector<std::string> jurisdiction_ids = {"civicdesk.vn"};
  // Origin for absolute URLs (discovery's url, media_url), e.g. "https://api.city.vn";
  // empty: "http://" + the request's Host header (when well-formed), else relative.
  std::string public_url;
  std::string contact = "CivicDesk";
  std::string key_service = "Ask the city's operations centre for an API key.";
  // How long a POST waits for the case to open before answering with a token.
  absl::Duration case_wait = absl::Milliseconds(1500);
  const Clock* clock = SystemClock::Get();
};

// Serves the GeoReport v2 resources:
//   GET  discovery.{fmt}
//   GET  services.{fmt}                    intake.ListCategories
//   GET  services/{service_code}.{fmt}     intake.GetCategory
//   POST requests.{fmt}                    api_key, intake.GetCategory, SubmitReport, then
//                                          GetReportStatus until the case opens (up to
//                                          case_wait): service_request_id, else token
//   GET  requests.{fmt}                    cases.ListPublicCases (+ ListCategories: names)
//   GET  requests/{id}.{fmt}               cases.GetPublicCase (+ GetCategory)
//   GET  tokens/{token}.{fmt}              intake.GetReportStatus
// GET requests filters: service_request_id (comma-separated, overrides the rest),
// service_code (comma-separated), start_date/end_date (W3C, at most 90 days apart; the
// last 90 days by default), status (open, closed, comma-separated), and the common
// page/page_size extension (page_size at most 1000, the default). Anything else under
// the prefix is answered 400 in the requested format (XML when it is unknown).
// Thread-safe; holds no per-request state.
class Open311Handler {
 public:
  // `api_keys`: a checker for POST's api_key (e.g. LoadApiKeyFile); when empty, intake's
  // key store checks it (CheckApiKey), the same keys the REST API takes.
  Open311Handler(HandlerOptions options, ApiKeyChecker api_keys);

  // Serves `request`; runs `done` exactly once with the answer (possibly before Serve
  // returns). `backend` must stay usable until then.
  void Serve(const HttpRequest& request, Backend& backend,
             std::function<void(Response)> done) const;

  const HandlerOptions& options() const { return options_; }

 private:
  HandlerOptions options_;
  ApiKeyChecker api_keys_;
  std::string changeset_;  // the handler's start: the catalogue is loaded at start too
};

// Whether `path` (without the query) is one for the Open311 handler.
bool IsOpen311Path(absl::string_view path);

}  // namespace open311
}  // namespace civic::gateway
