// The routing gRPC API over RoutingLogic. Routing is pure computation over in-memory
// indexes, so calls are answered on gRPC's callback threads without a pool.
#pragma once

#include "civic/routing/v1/routing.grpc.pb.h"
#include "services/routing/routing_logic.h"

namespace civic::routing {

class RoutingService final : public v1::RoutingService::CallbackService {
 public:
  explicit RoutingService(const RoutingLogic* logic) : logic_(logic) {}

  grpc::ServerUnaryReactor* Route(grpc::CallbackServerContext* context,
                                  const v1::RouteRequest* request,
                                  v1::RouteDecision* response) override;
  grpc::ServerUnaryReactor* ResolveLocation(grpc::CallbackServerContext* context,
                                            const v1::ResolveLocationRequest* request,
                                            common::v1::AdminArea* response) override;

 private:
  const RoutingLogic* logic_;
};

}  // namespace civic::routing
