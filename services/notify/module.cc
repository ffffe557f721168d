#include "services/notify/module.h"

#include "services/notify/notify_logic.h"
#include "services/notify/notify_service.h"

namespace civic::notify {

modules::ModuleSpec NotifyModuleSpec(const NotifyConfig& config, const modules::Context& context) {
  const int workers = config.workers;
  return cases::FeedServiceModuleSpec(
      {.name = "notify",
       .keyspaces = NotifyKeyspaces(),
       .cursor_keyspace = kMetaCf,
       .make = [workers](storage::Store* store, const Clock* clock, std::function<uint64_t()>)
           -> absl::StatusOr<cases::FeedServiceParts> {
         auto logic = std::make_shared<NotifyLogic>(store, clock);
         return cases::FeedServiceParts{
             .apply = [logic](const common::v1::CaseEvent& event,
                              storage::Batch& batch) { return logic->Apply(event, batch); },
             .service = std::make_unique<NotifyService>(logic.get(), workers),
             .service_name = v1::NotifyService::service_full_name(),
             .state = logic};
       }},
      config, context);
}

}  // namespace civic::notify
