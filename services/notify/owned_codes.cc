#include "services/notify/owned_codes.h"

#include <mutex>

#include "civic/intake/v1/intake.grpc.pb.h"
#include "libs/auth/caller.h"
#include "libs/rpc/channel.h"
#include "libs/rpc/status.h"

namespace civic::notify {
namespace {

class IntakeOwnedCodes final : public OwnedCodes {
 public:
  IntakeOwnedCodes(std::function<std::shared_ptr<grpc::Channel>()> channel,
                   absl::Duration timeout)
      : channel_(std::move(channel)), timeout_(timeout) {}

  absl::StatusOr<std::vector<std::string>> Of(const CitizenCredentials& who) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, timeout_);
    if (!who.authorization.empty()) {
      context.AddMetadata(auth::kAuthorizationMetadata, who.authorization);
    }
    if (!who.device_id.empty()) context.AddMetadata(auth::kDeviceIdMetadata, who.device_id);
    intake::v1::ListMyTrackingCodesResponse response;
    grpc::Status status =
        Stub()->ListMyTrackingCodes(&context, intake::v1::ListMyTrackingCodesRequest(), &response);
    if (!status.ok()) return rpc::FromGrpcStatus(status);
    return std::vector<std::string>(response.tracking_codes().begin(),
                                    response.tracking_codes().end());
  }

 private:
  intake::v1::IntakeService::Stub* Stub() {
    std::call_once(once_, [this] {
      stub_ = intake::v1::IntakeService::NewStub(channel_());
    });
    return stub_.get();
  }

  std::function<std::shared_ptr<grpc::Channel>()> channel_;
  const absl::Duration timeout_;
  std::once_flag once_;
  std::unique_ptr<intake::v1::IntakeService::Stub> stub_;
};

}  // namespace

CitizenCredentials CredentialsOf(const grpc::ServerContextBase& context) {
  return {.authorization = auth::MetadataValue(context, auth::kAuthorizationMetadata),
          .device_id = auth::MetadataValue(context, auth::kDeviceIdMetadata)};
}

std::unique_ptr<OwnedCodes> MakeIntakeOwnedCodes(
    std::function<std::shared_ptr<grpc::Channel>()> channel, absl::Duration timeout) {
  return std::make_unique<IntakeOwnedCodes>(std::move(channel), timeout);
}

}  // namespace civic::notify
