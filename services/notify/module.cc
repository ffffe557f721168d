#include "services/notify/module.h"

#include <algorithm>

#include "libs/core/status.h"
#include "libs/rpc/channel.h"
#include "services/notify/notify_logic.h"
#include "services/notify/notify_service.h"
#include "services/notify/owned_codes.h"
#include "services/notify/sign_in.h"

namespace civic::notify {
namespace {

// What the service uses, kept alive by the module until it stops.
struct NotifyState {
  std::shared_ptr<MessageWatch> watch;  // live updates (WatchMessages)
  std::shared_ptr<NotifyLogic> logic;
  std::unique_ptr<SignIn> sign_in;
  std::unique_ptr<OwnedCodes> owned_codes;  // intake, for the inbox across reports
};

}  // namespace

modules::ModuleSpec NotifyModuleSpec(const NotifyConfig& config, const modules::Context& context) {
  const int workers = config.workers;
  // Made at first use: in one process intake may start after notify.
  auto intake_channel = [addresses = context.addresses, configured = config.intake_address] {
    const rpc::ChannelOptions options{
        .idempotent_methods = {"civic.intake.v1.IntakeService/ListMyTrackingCodes"}};
    return addresses == nullptr ? rpc::MakeChannel(configured, options)
                                : addresses->Channel("intake", configured, options);
  };
  const absl::Duration inbox_refresh = absl::Seconds(std::max(1, config.inbox_refresh_seconds));
  std::vector<std::string> keyspaces = NotifyKeyspaces();
  for (auto& k : SignInKeyspaces()) keyspaces.push_back(std::move(k));
  return cases::FeedServiceModuleSpec(
      {.name = "notify",
       .keyspaces = std::move(keyspaces),
       .cursor_keyspace = kMetaCf,
       .make = [workers, files = config.auth, intake_channel, inbox_refresh,
                phone_key_file = config.phone_subject_key_file,
                max_sms_per_minute = config.max_sms_per_minute](
                   storage::Store* store, const Clock* clock, std::function<uint64_t()>)
           -> absl::StatusOr<cases::FeedServiceParts> {
         CIVIC_ASSIGN_OR_RETURN(auth::AuthKeys keys, auth::LoadAuthKeys(files));
         auto state = std::make_shared<NotifyState>();
         state->watch = std::make_shared<MessageWatch>();
         state->logic = std::make_shared<NotifyLogic>(store, clock, state->watch.get());
         // Citizens' subjects are keyed, with intake's key (auth::PhoneSubjects).
         CIVIC_ASSIGN_OR_RETURN(std::optional<auth::PhoneSubjects> phone_subjects,
                                auth::LoadPhoneSubjects(phone_key_file));
         state->sign_in = std::make_unique<SignIn>(
             store, clock, SignInOptions{.token_secret = keys.citizen.hs256_secret,
                                         .phone_subjects = std::move(phone_subjects),
                                         .max_sms_per_minute = max_sms_per_minute});
         state->owned_codes = MakeIntakeOwnedCodes(intake_channel, absl::Seconds(5));
         auto service = std::make_unique<NotifyService>(
             state->logic.get(), workers, state->sign_in.get(),
             auth::Authorizer(std::move(keys), clock),
             InboxOptions{.owned_codes = state->owned_codes.get(), .refresh = inbox_refresh});
         NotifyService* streams = service.get();  // lives until after close_streams
         return cases::FeedServiceParts{
             .apply = [logic = state->logic](const common::v1::CaseEvent& event,
                                             storage::Batch& batch) {
               return logic->Apply(event, batch);
             },
             .service = std::move(service),
             .service_name = v1::NotifyService::service_full_name(),
             .state = state,
             // Live updates: woken once the messages are written; closed at shutdown.
             .committed = [watch = state->watch](uint64_t sequence) {
               watch->Committed(sequence);
             },
             .close_streams = [streams] { streams->CloseStreams(); }};
       }},
      config, context);
}

}  // namespace civic::notify
