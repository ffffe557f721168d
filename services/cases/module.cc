#include "services/cases/module.h"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "civic/routing/v1/routing.grpc.pb.h"
#include "libs/auth/jwt.h"
#include "libs/config/config.h"
#include "libs/core/log.h"
#include "libs/core/status.h"
#include "libs/photos/photos.h"
#include "libs/rpc/channel.h"
#include "libs/rpc/status.h"
#include "libs/rpc/tls.h"
#include "services/cases/cases_logic.h"
#include "services/cases/cases_service.h"
#include "services/cases/sla.h"
#include "services/cases/unit_identity.h"

namespace civic::cases {
namespace {

class CasesModule final : public modules::ServiceModule {
 public:
  CasesModule(const CasesConfig& config, const modules::Context& context)
      : ServiceModule("cases", context), config_(config) {}

  absl::Status Start() override {
    // Reply photos go to blob files: large values kept out of the LSM tree.
    std::map<std::string, rocksdb::ColumnFamilyOptions, std::less<>> photo_options;
    const rocksdb::ColumnFamilyOptions blob = photos::BlobColumnOptions();
    for (const auto& cf : photos::PhotoStore::Keyspaces()) photo_options.emplace(cf, blob);
    CIVIC_RETURN_IF_ERROR(OpenStore(CasesKeyspaces(), std::move(photo_options)));
    CasesOptions options{.triage_unit_id = config_.triage_unit_id,
                         .calendar = SlaCalendarOptions::VietnamDefaults(),
                         .at_risk_fraction = config_.at_risk_fraction,
                         .reopen_window = absl::Hours(config_.reopen_window_hours)};
    // Validate() has checked every date.
    for (const auto& day : config_.extra_holidays) options.calendar.holidays.push_back(*ParseDay(day));
    for (const auto& day : config_.extra_working_days) {
      options.calendar.extra_working_days.push_back(*ParseDay(day));
    }
    for (const auto& entry : config_.triage_units) {
      const size_t eq = entry.find('=');
      options.triage_by_province[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    // Past-due cases escalate to their unit's parent, from routing's directory.
    routing_ = routing::v1::RoutingService::NewStub(context().addresses->Channel(
        "routing", config_.routing_address,
        {.idempotent_methods = {"civic.routing.v1.RoutingService/GetUnit"}}));
    options.parent_of = [stub = routing_.get()](
                            const std::string& unit_id) -> absl::StatusOr<std::string> {
      grpc::ClientContext call;
      rpc::SetTimeout(call, absl::Seconds(2));
      routing::v1::GetUnitRequest request;
      request.set_unit_id(unit_id);
      routing::v1::Unit unit;
      if (grpc::Status status = stub->GetUnit(&call, request, &unit); !status.ok()) {
        return rpc::FromGrpcStatus(status);
      }
      return unit.parent_id();
    };
    CIVIC_ASSIGN_OR_RETURN(logic_, CasesLogic::Create(store(), context().clock, options));
    CIVIC_ASSIGN_OR_RETURN(UnitIdentityOptions identity, ConfigureUnitIdentity());
    service_ = std::make_unique<CasesService>(logic_.get(), config_.workers, std::move(identity));
    // Room for a reply or resolution with every photo it may carry.
    {
      const photos::PhotoLimits limits;
      server_options().max_receive_bytes = static_cast<int>(
          std::min<int64_t>(limits.max_photos * limits.max_bytes + (4 << 20), INT32_MAX));
    }
    CIVIC_RETURN_IF_ERROR(
        Serve(config_.listen, {service_.get()}, {v1::CasesService::service_full_name()}));
    StartTimers();
    return absl::OkStatus();
  }

  ~CasesModule() override { StopTimers(); }

  void BeginShutdown() override {
    ServiceModule::BeginShutdown();
    if (service_) service_->CloseStreams();
  }

  void Stop(absl::Duration grace) override {
    StopTimers();  // before the logic and the store go
    if (service_) service_->CloseStreams();
    StopServer(grace);
    service_.reset();
    logic_.reset();
    CloseStore();
  }

 private:
  // ---- Unit identity: which credentials name a unit, and the agency port (mutual TLS)
  // where a unit's client certificate does. Validate() has checked the files exist.
  absl::StatusOr<UnitIdentityOptions> ConfigureUnitIdentity() {
    UnitIdentityOptions identity{.dev_unit_header = config_.dev_unit_header,
                                 .clock = context().clock};
    absl::StatusOr<auth::VerifyKeys> keys = auth::LoadVerifyKeys(
        config_.staff_token_hs256_secret_file, config_.staff_token_rs256_public_key_file);
    if (!keys.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("config cases: ", keys.status().message()));
    }
    identity.tokens = *std::move(keys);
    if (!identity.tokens.empty()) {
      CIVIC_LOG_INFO("cases: bearer tokens accepted ({}{})",
                     identity.tokens.hs256_secret.empty() ? "" : "HS256 ",
                     identity.tokens.rs256_public_key == nullptr ? "" : "RS256");
    }
    if (!config_.agency_listen.empty()) {
      server_options().tls = rpc::TlsPortOptions{.name = "agency",
                                                 .listen = config_.agency_listen,
                                                 .cert_file = config_.tls_cert_file,
                                                 .key_file = config_.tls_key_file,
                                                 .client_ca_file = config_.tls_client_ca_file};
    }
    if (config_.dev_unit_header) {
      CIVIC_LOG_WARN(
          "cases: dev_unit_header is on: the unsigned x-civic-unit-id header names the "
          "calling unit, so anyone reaching the port can act as any unit (local experiments "
          "only)");
    }
    return identity;
  }
  // ---- End of unit identity.

  CasesConfig config_;
  std::unique_ptr<CasesLogic> logic_;
  std::unique_ptr<CasesService> service_;

  // ---- SLA timers: a thread fires the due ones every timer_interval_ms.
  void StartTimers() {
    timer_thread_ = std::thread([this] {
      const auto interval = std::chrono::milliseconds(config_.timer_interval_ms);
      std::unique_lock lock(timer_mu_);
      while (!timer_stop_) {
        lock.unlock();
        if (absl::StatusOr<int> fired = logic_->FireDueTimers(); !fired.ok()) {
          CIVIC_LOG_WARN("cases: SLA timers not fired: {}", fired.status().ToString());
        }
        lock.lock();
        timer_cv_.wait_for(lock, interval, [this] { return timer_stop_; });
      }
    });
  }

  void StopTimers() {
    {
      std::lock_guard lock(timer_mu_);
      timer_stop_ = true;
    }
    timer_cv_.notify_all();
    if (timer_thread_.joinable()) timer_thread_.join();
  }

  std::unique_ptr<routing::v1::RoutingService::Stub> routing_;
  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  bool timer_stop_ = false;
  std::thread timer_thread_;
};

}  // namespace

// ---- Unit identity: the agency port needs its three TLS files; token key files must
// exist and hold usable keys.
namespace {
absl::Status ValidateUnitIdentity(const CasesConfig& c) {
  auto exists = [](const std::string& path, absl::string_view key) -> absl::Status {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return absl::InvalidArgumentError(
          absl::StrCat("config cases.", key, ": '", path, "' is not a readable file"));
    }
    return absl::OkStatus();
  };
  if (!c.agency_listen.empty()) {
    CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(c.agency_listen, "cases.agency_listen"));
    for (const auto& [path, key] : {std::pair{&c.tls_cert_file, "tls_cert_file"},
                                    std::pair{&c.tls_key_file, "tls_key_file"},
                                    std::pair{&c.tls_client_ca_file, "tls_client_ca_file"}}) {
      if (path->empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("config cases.", key, ": required when cases.agency_listen is set"));
      }
      CIVIC_RETURN_IF_ERROR(exists(*path, key));
    }
  }
  if (!c.staff_token_hs256_secret_file.empty()) {
    CIVIC_RETURN_IF_ERROR(exists(c.staff_token_hs256_secret_file, "staff_token_hs256_secret_file"));
  }
  if (!c.staff_token_rs256_public_key_file.empty()) {
    CIVIC_RETURN_IF_ERROR(exists(c.staff_token_rs256_public_key_file, "staff_token_rs256_public_key_file"));
  }
  if (absl::StatusOr<auth::VerifyKeys> keys =
          auth::LoadVerifyKeys(c.staff_token_hs256_secret_file, c.staff_token_rs256_public_key_file);
      !keys.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config cases: ", keys.status().message()));
  }
  return absl::OkStatus();
}
}  // namespace
// ---- End of unit identity.

absl::Status CasesConfig::Validate() const {
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(listen, "cases.listen"));
  if (workers < 1 || workers > 256) {
    return absl::InvalidArgumentError("config cases.workers: must be 1..256");
  }
  for (const auto& entry : triage_units) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config cases.triage_units: '", entry, "' is not province=unit"));
    }
  }
  for (const auto* days : {&extra_holidays, &extra_working_days}) {
    for (const auto& day : *days) {
      if (absl::StatusOr<absl::CivilDay> parsed = ParseDay(day); !parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("config cases: ", parsed.status().message()));
      }
    }
  }
  if (reopen_window_hours < 0 || reopen_window_hours > 24 * 365) {
    return absl::InvalidArgumentError("config cases.reopen_window_hours: must be 0..8760");
  }
  if (!(at_risk_fraction > 0 && at_risk_fraction <= 1)) {
    return absl::InvalidArgumentError("config cases.at_risk_fraction: must be in (0, 1]");
  }
  CIVIC_RETURN_IF_ERROR(config::ValidateHostPort(routing_address, "cases.routing_address"));
  if (timer_interval_ms < 10 || timer_interval_ms > 60000) {
    return absl::InvalidArgumentError("config cases.timer_interval_ms: must be 10..60000");
  }
  if (triage_unit_id.empty()) {
    return absl::InvalidArgumentError("config cases.triage_unit_id: must not be empty");
  }
  CIVIC_RETURN_IF_ERROR(ValidateUnitIdentity(*this));
  return absl::OkStatus();
}

modules::ModuleSpec CasesModuleSpec(const CasesConfig& config, const modules::Context& context) {
  return {.name = "cases",
          .deps = {"metrics", "routing"},  // routing first: escalations ask it for parents
          .factory = [config, &context]() -> absl::StatusOr<std::unique_ptr<modules::Module>> {
            return std::make_unique<CasesModule>(config, context);
          }};
}

}  // namespace civic::cases
