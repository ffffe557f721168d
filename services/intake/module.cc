#include "services/intake/module.h"

#include "libs/config/config.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "libs/rpc/channel.h"
#include "services/intake/catalog.h"
#include "services/intake/intake_service.h"
#include "services/intake/outbox.h"

namespace civic::intake {
namespace {

class IntakeModule final : public modules::ServiceModule {
 public:
  IntakeModule(const IntakeConfig& config, const modules::Context& context)
      : ServiceModule("intake", context), config_(config) {}

  absl::Status Start() override {
    // The token keys first: a missing key file must fail before anything starts.
    CIVIC_ASSIGN_OR_RETURN(auth::AuthKeys keys, auth::LoadAuthKeys(config_.auth));
    // Citizens' subjects, keyed as notify keys them (the "my reports" index by phone).
    CIVIC_ASSIGN_OR_RETURN(std::optional<auth::PhoneSubjects> phone_subjects,
                           auth::LoadPhoneSubjects(config_.phone_subject_key_file));
    if (!phone_subjects && !keys.citizen.empty()) {
      CIVIC_LOG_WARN("intake: citizen tokens are accepted but intake.phone_subject_key_file is "
                     "not set: new reports are not indexed by phone, and citizens cannot list "
                     "their reports");
    }
    CIVIC_ASSIGN_OR_RETURN(catalog_, Catalog::Load(context().shared_data / "categories.json"));
    // Photos go to blob files: large values kept out of the LSM tree.
    std::map<std::string, rocksdb::ColumnFamilyOptions, std::less<>> photo_options;
    const rocksdb::ColumnFamilyOptions blob = photos::BlobColumnOptions();
    for (const auto& cf : photos::PhotoStore::Keyspaces()) photo_options.emplace(cf, blob);
    CIVIC_RETURN_IF_ERROR(OpenStore(IntakeKeyspaces(), std::move(photo_options)));
    CIVIC_ASSIGN_OR_RETURN(blocklist_, Blocklist::Load(store(), context().clock));
    logic_ = std::make_unique<IntakeLogic>(
        store(), catalog_.get(), blocklist_.get(), context().clock,
        IntakeLimits{
            .max_description_chars = config_.max_description_chars,
            .tracking_prefix = config_.tracking_prefix,
            .nearby = {.radius_m = config_.duplicate_radius_m,
                       .window = absl::Hours(config_.duplicate_window_hours)},
            .per_device = {.reports = config_.device_reports_per_hour, .per = absl::Hours(1)},
            .per_phone = {.reports = config_.phone_reports_per_day, .per = absl::Hours(24)},
            .photos = {.max_photos = config_.max_photos, .max_bytes = config_.max_photo_bytes},
            .phone_subjects = phone_subjects});
    CIVIC_RETURN_IF_ERROR(logic_->Recover());

    const absl::Duration timeout = absl::Milliseconds(config_.peer_timeout_ms);
    routing_ = MakeRoutingClient(
        context().addresses->Channel(
            "routing", config_.routing_address,
            {.idempotent_methods = {"civic.routing.v1.RoutingService/Route"}}),
        timeout);
    cases_ = MakeCasesClient(
        context().addresses->Channel(
            "cases", config_.cases_address,
            {.idempotent_methods = {"civic.cases.v1.CasesService/OpenCase",
                                    "civic.cases.v1.CasesService/GetCaseByReport"}}),
        timeout);
    outbox_ = std::make_unique<Outbox>(store(), logic_.get(), routing_.get(), cases_.get(),
                                       OutboxOptions{});
    outbox_->Start();
    // Authentication: API keys and report owners (the token keys were read first).
    api_keys_ = std::make_unique<ApiKeyStore>(store(), context().clock);
    my_reports_ = std::make_unique<MyReports>(store(), std::move(phone_subjects));
    service_ = std::make_unique<IntakeService>(
        logic_.get(), blocklist_.get(), outbox_.get(), cases_.get(), config_.workers,
        IntakeAccess{.authorizer = auth::Authorizer(std::move(keys), context().clock),
                     .api_keys = api_keys_.get(),
                     .my_reports = my_reports_.get()});
    // Room for every photo of a report in one request.
    server_options().max_receive_bytes = static_cast<int>(
        std::min<int64_t>(config_.max_photos * config_.max_photo_bytes + (4 << 20), INT32_MAX));
    return Serve(config_.listen, {service_.get()}, {v1::IntakeService::service_full_name()});
  }

  void Stop(absl::Duration grace) override {
    StopServer(grace);
    if (outbox_) outbox_->Stop();
    service_.reset();
    api_keys_.reset();
    my_reports_.reset();
    outbox_.reset();
    logic_.reset();
    blocklist_.reset();
    CloseStore();
  }

 private:
  IntakeConfig config_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<Blocklist> blocklist_;
  std::unique_ptr<IntakeLogic> logic_;
  std::unique_ptr<RoutingClient> routing_;
  std::unique_ptr<CasesClient> cases_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<ApiKeyStore> api_keys_;
  std::unique_ptr<MyReports> my_reports_;
  std::unique_ptr<IntakeService> service_;
};

}  // namespace

absl::Status IntakeConfig::Validate() const {
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(listen, "intake.listen"));
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(routing_address, "intake.routing_address"));
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(cases_address, "intake.cases_address"));
  if (workers < 1 || workers > 256) {
    return absl::InvalidArgumentError("config intake.workers: must be 1..256");
  }
  if (peer_timeout_ms < 10) {
    return absl::InvalidArgumentError("config intake.peer_timeout_ms: must be at least 10");
  }
  if (max_description_chars < 1) {
    return absl::InvalidArgumentError("config intake.max_description_chars: must be positive");
  }
  if (tracking_prefix.size() < 2 || tracking_prefix.size() > 4) {
    return absl::InvalidArgumentError("config intake.tracking_prefix: must be 2-4 letters");
  }
  if (!(duplicate_radius_m >= 0 && duplicate_radius_m <= 1000)) {
    return absl::InvalidArgumentError("config intake.duplicate_radius_m: must be 0..1000");
  }
  if (duplicate_window_hours < 0 || duplicate_window_hours > 24 * 90) {
    return absl::InvalidArgumentError("config intake.duplicate_window_hours: must be 0..2160");
  }
  if (max_photos < 0 || max_photos > 20 || max_photo_bytes < 1024 ||
      max_photo_bytes > (64 << 20)) {
    return absl::InvalidArgumentError(
        "config intake: max_photos must be 0..20 and max_photo_bytes 1 KiB..64 MiB");
  }
  if (device_reports_per_hour < 1 || phone_reports_per_day < 1) {
    return absl::InvalidArgumentError("config intake: rate limits must be at least 1");
  }
  for (char c : tracking_prefix) {
    if (c < 'A' || c > 'Z') {
      return absl::InvalidArgumentError(
          "config intake.tracking_prefix: must be upper-case letters A-Z");
    }
  }
  return absl::OkStatus();
}

modules::ModuleSpec IntakeModuleSpec(const IntakeConfig& config, const modules::Context& context) {
  return {.name = "intake",
          .deps = {"metrics", "routing", "cases"},
          .factory = [config, &context]() -> absl::StatusOr<std::unique_ptr<modules::Module>> {
            return std::make_unique<IntakeModule>(config, context);
          }};
}

}  // namespace civic::intake
