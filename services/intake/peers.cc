#include "services/intake/peers.h"

#include "civic/cases/v1/cases.grpc.pb.h"
#include "civic/routing/v1/routing.grpc.pb.h"
#include "libs/rpc/channel.h"
#include "libs/rpc/status.h"

namespace civic::intake {
namespace {

class GrpcRoutingClient final : public RoutingClient {
 public:
  GrpcRoutingClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(routing::v1::RoutingService::NewStub(std::move(channel))), timeout_(timeout) {}

  absl::StatusOr<routing::v1::RouteDecision> Route(
      const routing::v1::RouteRequest& request) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, timeout_);
    routing::v1::RouteDecision decision;
    grpc::Status status = stub_->Route(&context, request, &decision);
    if (!status.ok()) return rpc::FromGrpcStatus(status);
    return decision;
  }

 private:
  std::unique_ptr<routing::v1::RoutingService::Stub> stub_;
  absl::Duration timeout_;
};

class GrpcCasesClient final : public CasesClient {
 public:
  GrpcCasesClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(cases::v1::CasesService::NewStub(std::move(channel))), timeout_(timeout) {}

  absl::StatusOr<cases::v1::Case> OpenCase(const cases::v1::OpenCaseRequest& request) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, timeout_);
    cases::v1::Case response;
    grpc::Status status = stub_->OpenCase(&context, request, &response);
    if (!status.ok()) return rpc::FromGrpcStatus(status);
    return response;
  }

  absl::StatusOr<cases::v1::Case> GetCaseByReport(const std::string& report_id) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, timeout_);
    cases::v1::GetCaseByReportRequest request;
    request.set_report_id(report_id);
    cases::v1::Case response;
    grpc::Status status = stub_->GetCaseByReport(&context, request, &response);
    if (!status.ok()) return rpc::FromGrpcStatus(status);
    return response;
  }

  absl::StatusOr<cases::v1::Case> RateResolution(
      const cases::v1::RateResolutionRequest& request) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, timeout_);
    cases::v1::Case response;
    grpc::Status status = stub_->RateResolution(&context, request, &response);
    if (!status.ok()) return rpc::FromGrpcStatus(status);
    return response;
  }

 private:
  std::unique_ptr<cases::v1::CasesService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<RoutingClient> MakeRoutingClient(std::shared_ptr<grpc::Channel> channel,
                                                 absl::Duration timeout) {
  return std::make_unique<GrpcRoutingClient>(std::move(channel), timeout);
}

std::unique_ptr<CasesClient> MakeCasesClient(std::shared_ptr<grpc::Channel> channel,
                                             absl::Duration timeout) {
  return std::make_unique<GrpcCasesClient>(std::move(channel), timeout);
}

}  // namespace civic::intake
