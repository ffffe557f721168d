// Intake's view of the services it forwards to. Narrow interfaces so the outbox and the
// status look-up are testable without a network; gRPC implementations in peers.cc.
#pragma once

#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civic/cases/v1/cases.pb.h"
#include "civic/routing/v1/routing.pb.h"

namespace civic::intake {

class RoutingClient {
 public:
  virtual ~RoutingClient() = default;
  // Routing's decision; UNAVAILABLE / DEADLINE_EXCEEDED while routing is unreachable.
  virtual absl::StatusOr<routing::v1::RouteDecision> Route(
      const routing::v1::RouteRequest& request) = 0;
};

class CasesClient {
 public:
  virtual ~CasesClient() = default;
  // Opens (idempotently) the case for a report.
  virtual absl::StatusOr<cases::v1::Case> OpenCase(const cases::v1::OpenCaseRequest& request) = 0;
  // NOT_FOUND until the case exists.
  virtual absl::StatusOr<cases::v1::Case> GetCaseByReport(const std::string& report_id) = 0;
  // The reporter's rating of the case's resolution (cases' RateResolution); its errors
  // as cases reports them (NOT_FOUND, FAILED_PRECONDITION, INVALID_ARGUMENT) or
  // UNAVAILABLE / DEADLINE_EXCEEDED while cases is unreachable.
  virtual absl::StatusOr<cases::v1::Case> RateResolution(
      const cases::v1::RateResolutionRequest& request) = 0;
};

std::unique_ptr<RoutingClient> MakeRoutingClient(std::shared_ptr<grpc::Channel> channel,
                                                 absl::Duration timeout);
std::unique_ptr<CasesClient> MakeCasesClient(std::shared_ptr<grpc::Channel> channel,
                                             absl::Duration timeout);

}  // namespace civic::intake
