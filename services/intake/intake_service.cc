#include "services/intake/intake_service.h"

#include "absl/strings/str_cat.h"
#include "libs/core/status.h"
#include "libs/rpc/unary.h"
#include "services/intake/metrics.h"

namespace civic::intake {
namespace {

// Bounded: these values are caller-controlled and become map keys.
constexpr size_t kMaxCallerIdBytes = 128;

Caller CallerOf(const grpc::CallbackServerContext& context) {
  Caller caller;
  if (std::string app = auth::MetadataValue(context, auth::kAppIdMetadata, kMaxCallerIdBytes);
      !app.empty()) {
    caller.client_id = absl::StrCat("app:", app);
  } else if (std::string client =
                 auth::MetadataValue(context, kClientIdMetadata, kMaxCallerIdBytes);
             !client.empty()) {
    caller.client_id = std::move(client);
  }
  caller.device_id = auth::MetadataValue(context, auth::kDeviceIdMetadata, kMaxCallerIdBytes);
  return caller;
}

}  // namespace

// The blocklist and API keys are the administrators' (role "admin").
absl::Status IntakeService::RequireAdmin(const grpc::CallbackServerContext& context) const {
  return access_.authorizer.Require(context, {"admin"}, "this administrative call");
}

grpc::ServerUnaryReactor* IntakeService::SubmitReport(grpc::CallbackServerContext* context,
                                                      const v1::SubmitReportRequest* request,
                                                      v1::SubmitReportResponse* response) {
  return rpc::RunUnary(context, pool_, [this, request, response,
                                        caller = CallerOf(*context)]() -> absl::Status {
    auto& metrics = IntakeMetrics::Get();
    absl::StatusOr<v1::SubmitReportResponse> result = logic_->Submit(*request, caller);
    if (!result.ok()) {
      switch (result.status().code()) {
        case absl::StatusCode::kInvalidArgument: metrics.invalid.Increment(); break;
        case absl::StatusCode::kPermissionDenied: metrics.blocked.Increment(); break;
        case absl::StatusCode::kResourceExhausted: metrics.rate_limited.Increment(); break;
        default: metrics.failed.Increment();
      }
      return result.status();
    }
    if (!result->supports_tracking_code().empty()) metrics.supporting.Increment();
    (result->replayed() ? metrics.replayed : metrics.accepted).Increment();
    *response = std::move(*result);
    if (!response->replayed()) outbox_->Wake();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::GetReportStatus(
    grpc::CallbackServerContext* context, const v1::GetReportStatusRequest* request,
    v1::ReportStatus* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->GetStatus(request->tracking_code(), *cases_));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::RateReport(grpc::CallbackServerContext* context,
                                                    const v1::RateReportRequest* request,
                                                    v1::ReportStatus* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->Rate(*request, *cases_));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::GetPhoto(grpc::CallbackServerContext* context,
                                                  const v1::GetPhotoRequest* request,
                                                  common::v1::PhotoContent* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->GetPhoto(request->photo_id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::ListBlocks(grpc::CallbackServerContext* context,
                                                    const v1::ListBlocksRequest*,
                                                    v1::ListBlocksResponse* response) {
  return rpc::RunUnary(context, pool_, [this, response,
                                        allowed = RequireAdmin(*context)]() -> absl::Status {
    CIVIC_RETURN_IF_ERROR(allowed);
    for (auto& block : blocklist_->List()) *response->add_blocks() = std::move(block);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::PutBlock(grpc::CallbackServerContext* context,
                                                  const v1::Block* request,
                                                  v1::Block* response) {
  return rpc::RunUnary(context, pool_, [this, request, response,
                                        allowed = RequireAdmin(*context)]() -> absl::Status {
    CIVIC_RETURN_IF_ERROR(allowed);
    CIVIC_ASSIGN_OR_RETURN(*response, blocklist_->Put(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::DeleteBlock(grpc::CallbackServerContext* context,
                                                     const v1::DeleteBlockRequest* request,
                                                     v1::DeleteBlockResponse*) {
  return rpc::RunUnary(context, pool_, [this, request,
                                        allowed = RequireAdmin(*context)]() -> absl::Status {
    CIVIC_RETURN_IF_ERROR(allowed);
    return blocklist_->Delete(request->kind(), request->value());
  });
}

// ---- The category catalogue.

grpc::ServerUnaryReactor* IntakeService::ListCategories(grpc::CallbackServerContext* context,
                                                        const v1::ListCategoriesRequest*,
                                                        v1::ListCategoriesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  for (const auto& category : logic_->catalog().Published()) {
    *response->add_categories() = category;
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* IntakeService::GetCategory(grpc::CallbackServerContext* context,
                                                     const v1::GetCategoryRequest* request,
                                                     v1::Category* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const v1::Category* category = logic_->catalog().FindPublished(request->code());
  if (category == nullptr) {
    reactor->Finish(rpc::ToGrpcStatus(
        WithReason(absl::NotFoundError("no category has that code"), "CATEGORY_NOT_FOUND",
                   "intake.civicdesk")));
    return reactor;
  }
  *response = *category;
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

// ---- Authentication: API keys and the caller's own reports.

grpc::ServerUnaryReactor* IntakeService::CreateApiKey(grpc::CallbackServerContext* context,
                                                      const v1::CreateApiKeyRequest* request,
                                                      v1::ApiKey* response) {
  return rpc::RunUnary(context, pool_, [this, request, response,
                                        allowed = RequireAdmin(*context)]() -> absl::Status {
    CIVIC_RETURN_IF_ERROR(allowed);
    if (access_.api_keys == nullptr) return absl::UnavailableError("API keys are not set up");
    CIVIC_ASSIGN_OR_RETURN(*response, access_.api_keys->Create(request->app_name()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::ListApiKeys(grpc::CallbackServerContext* context,
                                                     const v1::ListApiKeysRequest*,
                                                     v1::ListApiKeysResponse* response) {
  return rpc::RunUnary(context, pool_, [this, response,
                                        allowed = RequireAdmin(*context)]() -> absl::Status {
    CIVIC_RETURN_IF_ERROR(allowed);
    if (access_.api_keys == nullptr) return absl::UnavailableError("API keys are not set up");
    CIVIC_ASSIGN_OR_RETURN(std::vector<v1::ApiKey> keys, access_.api_keys->List());
    for (auto& key : keys) *response->add_keys() = std::move(key);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::RevokeApiKey(grpc::CallbackServerContext* context,
                                                      const v1::RevokeApiKeyRequest* request,
                                                      v1::ApiKey* response) {
  return rpc::RunUnary(context, pool_, [this, request, response,
                                        allowed = RequireAdmin(*context)]() -> absl::Status {
    CIVIC_RETURN_IF_ERROR(allowed);
    if (access_.api_keys == nullptr) return absl::UnavailableError("API keys are not set up");
    CIVIC_ASSIGN_OR_RETURN(*response, access_.api_keys->Revoke(request->key_id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::CheckApiKey(grpc::CallbackServerContext* context,
                                                     const v1::CheckApiKeyRequest* request,
                                                     v1::ApiKeyCheck* response) {
  // No token needed: the key is the credential, and 256 random bits cannot be guessed.
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    if (access_.api_keys == nullptr) return absl::UnavailableError("API keys are not set up");
    CIVIC_ASSIGN_OR_RETURN(*response, access_.api_keys->Check(request->key()));
    return absl::OkStatus();
  });
}

namespace {

// Whose reports a caller may list as their own: a signed-in citizen's (by the token's
// subject) or an anonymous app's (by its device id). Staff have none.
struct ReportOwner {
  bool citizen = false;
  std::string key;  // the citizen's subject, or the device id
};
absl::StatusOr<ReportOwner> ReportOwnerOf(const absl::StatusOr<auth::Caller>& who,
                                          const std::string& device) {
  if (!who.ok()) return who.status();
  switch (who->kind) {
    case auth::Caller::Kind::kCitizen:
      return ReportOwner{.citizen = true, .key = who->subject};
    case auth::Caller::Kind::kAnonymous:
      if (device.empty()) {
        return absl::UnauthenticatedError(
            "sign in (a citizen bearer token) or send the app's X-Device-Id to list your "
            "reports");
      }
      return ReportOwner{.citizen = false, .key = device};
    case auth::Caller::Kind::kStaff:
      break;
  }
  return absl::PermissionDeniedError("staff have no reports of their own here");
}

// Tracking codes ListMyTrackingCodes gives at most.
constexpr size_t kMaxOwnCodes = 1000;

}  // namespace

grpc::ServerUnaryReactor* IntakeService::ListMyReports(grpc::CallbackServerContext* context,
                                                       const v1::ListMyReportsRequest* request,
                                                       v1::ListMyReportsResponse* response) {
  return rpc::RunUnary(context, pool_, [this, request, response,
                                        who = access_.authorizer.Identify(*context),
                                        device = CallerOf(*context).device_id]()
                                           -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(ReportOwner owner, ReportOwnerOf(who, device));
    if (access_.my_reports == nullptr) return absl::UnavailableError("my reports is not set up");
    CIVIC_ASSIGN_OR_RETURN(*response, owner.citizen
                                          ? access_.my_reports->ForCitizen(owner.key, *request)
                                          : access_.my_reports->ForDevice(owner.key, *request));
    // Where each stands; a report whose case cannot be read now is listed without it.
    for (v1::MyReport& report : *response->mutable_reports()) {
      absl::StatusOr<v1::ReportStatus> status =
          logic_->GetStatus(report.tracking_code(), *cases_);
      if (status.ok()) *report.mutable_status() = *std::move(status);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntakeService::ListMyTrackingCodes(
    grpc::CallbackServerContext* context, const v1::ListMyTrackingCodesRequest*,
    v1::ListMyTrackingCodesResponse* response) {
  return rpc::RunUnary(context, pool_, [this, response,
                                        who = access_.authorizer.Identify(*context),
                                        device = CallerOf(*context).device_id]()
                                           -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(ReportOwner owner, ReportOwnerOf(who, device));
    if (access_.my_reports == nullptr) return absl::UnavailableError("my reports is not set up");
    CIVIC_ASSIGN_OR_RETURN(std::vector<std::string> codes,
                           owner.citizen
                               ? access_.my_reports->CodesForCitizen(owner.key, kMaxOwnCodes)
                               : access_.my_reports->CodesForDevice(owner.key, kMaxOwnCodes));
    for (std::string& code : codes) response->add_tracking_codes(std::move(code));
    return absl::OkStatus();
  });
}

}  // namespace civic::intake
