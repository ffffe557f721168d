// The routing gRPC API over RoutingLogic. Routing decisions, resolutions, dry runs and
// listings are computation over in-memory snapshots, answered on gRPC's callback
// threads; administrative changes (synced store writes) and reads of past rule set
// versions run on a small worker pool.
#pragma once

#include "civic/routing/v1/routing.grpc.pb.h"
#include "libs/auth/caller.h"
#include "libs/core/worker_pool.h"
#include "services/routing/routing_logic.h"

namespace civic::routing {

class RoutingService final : public v1::RoutingService::CallbackService {
 public:
  // `logic` must outlive the service. `admin_workers` threads run the store writes.
  // `authorizer` checks the staff token of directory and rule changes (role "admin" or
  // "routing_admin"); without keys those changes are refused.
  RoutingService(RoutingLogic* logic, int admin_workers, auth::Authorizer authorizer = {})
      : logic_(logic), authorizer_(std::move(authorizer)), pool_(admin_workers) {}

  grpc::ServerUnaryReactor* Route(grpc::CallbackServerContext* context,
                                  const v1::RouteRequest* request,
                                  v1::RouteDecision* response) override;
  grpc::ServerUnaryReactor* ResolveLocation(grpc::CallbackServerContext* context,
                                            const v1::ResolveLocationRequest* request,
                                            common::v1::AdminArea* response) override;
  grpc::ServerUnaryReactor* ResolveAddress(grpc::CallbackServerContext* context,
                                           const v1::ResolveAddressRequest* request,
                                           common::v1::AdminArea* response) override;
  grpc::ServerUnaryReactor* ListUnits(grpc::CallbackServerContext* context,
                                      const v1::ListUnitsRequest* request,
                                      v1::ListUnitsResponse* response) override;
  grpc::ServerUnaryReactor* GetUnit(grpc::CallbackServerContext* context,
                                    const v1::GetUnitRequest* request,
                                    v1::Unit* response) override;
  grpc::ServerUnaryReactor* PutUnit(grpc::CallbackServerContext* context,
                                    const v1::PutUnitRequest* request,
                                    v1::Unit* response) override;
  grpc::ServerUnaryReactor* DeleteUnit(grpc::CallbackServerContext* context,
                                       const v1::DeleteUnitRequest* request,
                                       v1::DeleteUnitResponse* response) override;
  grpc::ServerUnaryReactor* ListRules(grpc::CallbackServerContext* context,
                                      const v1::ListRulesRequest* request,
                                      v1::RuleSet* response) override;
  grpc::ServerUnaryReactor* PutRule(grpc::CallbackServerContext* context,
                                    const v1::PutRuleRequest* request,
                                    v1::RuleChange* response) override;
  grpc::ServerUnaryReactor* DeleteRule(grpc::CallbackServerContext* context,
                                       const v1::DeleteRuleRequest* request,
                                       v1::RuleChange* response) override;
  grpc::ServerUnaryReactor* DryRun(grpc::CallbackServerContext* context,
                                   const v1::DryRunRequest* request,
                                   v1::RouteDecision* response) override;

 private:
  // OK for staff with role "admin" or "routing_admin".
  absl::Status RequireAdmin(const grpc::CallbackServerContext& context) const;

  RoutingLogic* logic_;
  auth::Authorizer authorizer_;
  WorkerPool pool_;
};

}  // namespace civic::routing
