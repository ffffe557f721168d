// The client side of the cases change feed: a storage::FeedSource reading
// CasesService.Subscribe, for consumers such as notify and analytics.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/grpcpp.h>

#include "civic/common/v1/events.pb.h"
#include "libs/storage/feed_consumer.h"

namespace civic::cases {

class CaseFeedSource final : public storage::FeedSource {
 public:
  // `consumer` names the subscriber in the cases service's logs.
  CaseFeedSource(std::shared_ptr<grpc::Channel> channel, std::string consumer);

  // Streams serialized civic.common.v1.CaseEvent payloads. Returns UNAVAILABLE and the
  // like when the stream breaks; the consumer reconnects from its cursor.
  absl::Status Run(uint64_t after, const Sink& sink) override;
  void Cancel() override;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string consumer_;
  std::mutex mu_;
  grpc::ClientContext* active_ = nullptr;
  bool cancelled_ = false;
};

// A consumer applying the cases feed to `store` exactly once, keeping its cursor in
// `cursor_cf`: `apply` adds one event's effects to the batch (see FeedConsumer::Apply).
// An unreadable event is DATA_LOSS and is retried, never skipped.
std::unique_ptr<storage::FeedConsumer> MakeCaseFeedConsumer(
    std::string name, storage::Store* store, std::string cursor_cf,
    std::shared_ptr<grpc::Channel> cases_channel,
    std::function<absl::Status(const common::v1::CaseEvent&, storage::Batch&)> apply);

}  // namespace civic::cases
