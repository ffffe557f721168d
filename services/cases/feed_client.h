// The client side of the cases change feed: a storage::FeedSource reading
// CasesService.Subscribe, for consumers such as notify and analytics.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/grpcpp.h>

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

}  // namespace civic::cases
