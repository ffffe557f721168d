#include "services/analytics/module.h"

#include "services/analytics/analytics_logic.h"
#include "services/analytics/analytics_service.h"

namespace civic::analytics {

modules::ModuleSpec AnalyticsModuleSpec(const AnalyticsConfig& config,
                                        const modules::Context& context) {
  const int workers = config.workers;
  return cases::FeedServiceModuleSpec(
      {.name = "analytics",
       .keyspaces = AnalyticsKeyspaces(),
       .cursor_keyspace = kMetaCf,
       .make = [workers](storage::Store* store, const Clock*, std::function<uint64_t()> position)
           -> absl::StatusOr<cases::FeedServiceParts> {
         auto logic = std::make_shared<AnalyticsLogic>(store);
         return cases::FeedServiceParts{
             .apply = [logic](const common::v1::CaseEvent& event,
                              storage::Batch& batch) { return logic->Apply(event, batch); },
             .service = std::make_unique<AnalyticsService>(logic.get(), std::move(position),
                                                           workers),
             .service_name = v1::AnalyticsService::service_full_name(),
             .state = logic};
       }},
      config, context);
}

}  // namespace civic::analytics
