#include "services/routing/routing_service.h"

#include <cmath>

#include "libs/core/status.h"
#include "libs/rpc/status.h"

namespace civic::routing {

grpc::ServerUnaryReactor* RoutingService::Route(grpc::CallbackServerContext* context,
                                                const v1::RouteRequest* request,
                                                v1::RouteDecision* response) {
  auto* reactor = context->DefaultReactor();
  absl::StatusOr<v1::RouteDecision> decision = logic_->Route(*request);
  if (decision.ok()) *response = std::move(*decision);
  reactor->Finish(rpc::ToGrpcStatus(decision.status()));
  return reactor;
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

}  // namespace civic::routing
