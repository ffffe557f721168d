// RoutingService: each RPC validated and answered by RoutingLogic; only the calls that
// write to (or read history from) the store leave gRPC's threads.
#include "services/routing/routing_service.h"

#include <cmath>
#include <utility>

#include "libs/core/status.h"
#include "libs/rpc/status.h"
#include "libs/rpc/unary.h"

namespace civic::routing {
namespace {

// Finishes a call answered inline from a StatusOr.
template <typename T>
grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context,
                                     absl::StatusOr<T> result, T* response) {
  auto* reactor = context->DefaultReactor();
  if (result.ok()) *response = *std::move(result);
  reactor->Finish(rpc::ToGrpcStatus(result.status()));
  return reactor;
}

}  // namespace

absl::Status RoutingService::RequireAdmin(const grpc::CallbackServerContext& context) const {
  return authorizer_.Require(context, {"admin", "routing_admin"},
                             "changing the unit directory or the routing rules");
}

grpc::ServerUnaryReactor* RoutingService::Route(grpc::CallbackServerContext* context,
                                                const v1::RouteRequest* request,
                                                v1::RouteDecision* response) {
  return FinishWith(context, logic_->Route(*request), response);
}

grpc::ServerUnaryReactor* RoutingService::ResolveLocation(
    grpc::CallbackServerContext* context, const v1::ResolveLocationRequest* request,
    common::v1::AdminArea* response) {
  auto* reactor = context->DefaultReactor();
  FieldErrors errors;
  if (!(std::abs(request->lat()) <= 90)) errors.Add("lat", "must be between -90 and 90");
  if (!(std::abs(request->lon()) <= 180)) errors.Add("lon", "must be between -180 and 180");
  absl::Status status = errors.ToStatus("routing.civicdesk");
  if (status.ok()) *response = logic_->Resolve(request->lat(), request->lon());
  reactor->Finish(rpc::ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* RoutingService::ResolveAddress(
    grpc::CallbackServerContext* context, const v1::ResolveAddressRequest* request,
    common::v1::AdminArea* response) {
  return FinishWith(context, logic_->ResolveAddress(*request), response);
}

grpc::ServerUnaryReactor* RoutingService::ListUnits(grpc::CallbackServerContext* context,
                                                    const v1::ListUnitsRequest* request,
                                                    v1::ListUnitsResponse* response) {
  return FinishWith(context, logic_->ListUnits(*request), response);
}

grpc::ServerUnaryReactor* RoutingService::GetUnit(grpc::CallbackServerContext* context,
                                                  const v1::GetUnitRequest* request,
                                                  v1::Unit* response) {
  return FinishWith(context, logic_->GetUnit(*request), response);
}

grpc::ServerUnaryReactor* RoutingService::PutUnit(grpc::CallbackServerContext* context,
                                                  const v1::PutUnitRequest* request,
                                                  v1::Unit* response) {
  return rpc::RunUnary(context, pool_, [this, request, response,
                                        allowed = RequireAdmin(*context)]() -> absl::Status {
    CIVIC_RETURN_IF_ERROR(allowed);
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->PutUnit(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RoutingService::DeleteUnit(grpc::CallbackServerContext* context,
                                                     const v1::DeleteUnitRequest* request,
                                                     v1::DeleteUnitResponse* /*response*/) {
  return rpc::RunUnary(context, pool_,
                       [this, request, allowed = RequireAdmin(*context)]() -> absl::Status {
                         CIVIC_RETURN_IF_ERROR(allowed);
                         return logic_->DeleteUnit(*request);
                       });
}

grpc::ServerUnaryReactor* RoutingService::ListRules(grpc::CallbackServerContext* context,
                                                    const v1::ListRulesRequest* request,
                                                    v1::RuleSet* response) {
  return rpc::RunUnary(context, pool_, [this, request, response]() -> absl::Status {
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->ListRules(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RoutingService::PutRule(grpc::CallbackServerContext* context,
                                                  const v1::PutRuleRequest* request,
                                                  v1::RuleChange* response) {
  return rpc::RunUnary(context, pool_, [this, request, response,
                                        allowed = RequireAdmin(*context)]() -> absl::Status {
    CIVIC_RETURN_IF_ERROR(allowed);
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->PutRule(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RoutingService::DeleteRule(grpc::CallbackServerContext* context,
                                                     const v1::DeleteRuleRequest* request,
                                                     v1::RuleChange* response) {
  return rpc::RunUnary(context, pool_, [this, request, response,
                                        allowed = RequireAdmin(*context)]() -> absl::Status {
    CIVIC_RETURN_IF_ERROR(allowed);
    CIVIC_ASSIGN_OR_RETURN(*response, logic_->DeleteRule(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RoutingService::DryRun(grpc::CallbackServerContext* context,
                                                 const v1::DryRunRequest* request,
                                                 v1::RouteDecision* response) {
  return FinishWith(context, logic_->DryRun(*request), response);
}

}  // namespace civic::routing
