#include "services/cases/feed_client.h"

#include "civic/cases/v1/cases.grpc.pb.h"
#include "libs/rpc/status.h"

namespace civic::cases {

CaseFeedSource::CaseFeedSource(std::shared_ptr<grpc::Channel> channel, std::string consumer)
    : channel_(std::move(channel)), consumer_(std::move(consumer)) {}

absl::Status CaseFeedSource::Run(uint64_t after, const Sink& sink) {
  auto stub = v1::CasesService::NewStub(channel_);
  grpc::ClientContext context;
  // A feed stream lives until cancelled; no deadline, but wait for cases to come up.
  context.set_wait_for_ready(true);
  {
    std::lock_guard lock(mu_);
    if (cancelled_) return absl::CancelledError("cancelled");
    active_ = &context;
  }
  common::v1::SubscribeRequest request;
  request.set_after_sequence(after);
  request.set_consumer(consumer_);
  std::unique_ptr<grpc::ClientReader<common::v1::CaseEvent>> reader =
      stub->Subscribe(&context, request);
  common::v1::CaseEvent event;
  absl::Status sink_status;
  while (reader->Read(&event)) {
    sink_status = sink(event.sequence(), event.SerializeAsString());
    if (!sink_status.ok()) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  {
    std::lock_guard lock(mu_);
    active_ = nullptr;
  }
  if (!sink_status.ok()) return sink_status;
  if (status.ok()) return absl::UnavailableError("feed stream ended");
  return rpc::FromGrpcStatus(status);
}

void CaseFeedSource::Cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  if (active_ != nullptr) active_->TryCancel();
}

std::unique_ptr<storage::FeedConsumer> MakeCaseFeedConsumer(
    std::string name, storage::Store* store, std::string cursor_cf,
    std::shared_ptr<grpc::Channel> cases_channel,
    std::function<absl::Status(const common::v1::CaseEvent&, storage::Batch&)> apply) {
  auto source = std::make_unique<CaseFeedSource>(std::move(cases_channel), name);
  return std::make_unique<storage::FeedConsumer>(
      std::move(name), store, std::move(cursor_cf), std::move(source),
      [apply = std::move(apply)](uint64_t, const std::string& payload, storage::Batch& batch) {
        common::v1::CaseEvent event;
        if (!event.ParseFromString(payload)) return absl::DataLossError("unreadable case event");
        return apply(event, batch);
      });
}

}  // namespace civic::cases
