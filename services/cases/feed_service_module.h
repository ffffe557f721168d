// Wiring shared by the services whose state is folded from the cases feed (notify,
// analytics): their config, their store, an exactly-once feed consumer and a gRPC
// service, started and stopped in the right order.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include "absl/status/status.h"
#include "civic/common/v1/events.pb.h"
#include "libs/core/clock.h"
#include "libs/modules/service_module.h"
#include "libs/storage/store.h"

namespace civic::cases {

struct FeedServiceConfig {
  std::string listen;  // each service sets its own default port
  std::string cases_address = "127.0.0.1:7103";
  int workers = 4;

  template <typename V>
  void Visit(V& v) {
    v("listen", listen, "gRPC address; port 0 picks a free one");
    v("cases_address", cases_address, "cases' gRPC address (its change feed) when elsewhere");
    v("workers", workers, "threads answering queries");
  }
  // INVALID_ARGUMENT naming "<section>.<key>".
  absl::Status ValidateAs(absl::string_view section) const;
};

// What a folded service is made of, built once its store is open.
struct FeedServiceParts {
  // Adds one event's effects to the batch (see storage::FeedConsumer::Apply).
  std::function<absl::Status(const common::v1::CaseEvent&, storage::Batch&)> apply;
  std::unique_ptr<grpc::Service> service;
  std::string service_name;  // full gRPC name, for health
  std::shared_ptr<void> state;  // the logic `apply` and `service` use; kept alive until Stop
  // ---- Optional hooks for services with live streams (notify's WatchMessages).
  // Called on the consumer's thread once an event's effects are written (see
  // storage::FeedConsumer::OnCommitted).
  std::function<void(uint64_t sequence)> committed;
  // Ends the service's open streams and refuses new ones; called when shutdown begins
  // and again before the server stops, so streams do not hold it for the grace period.
  std::function<void()> close_streams;
};

struct FeedServiceSpec {
  std::string name;                  // module and store name, e.g. "notify"
  std::vector<std::string> keyspaces;
  std::string cursor_keyspace;       // where the consumer keeps its cursor
  // Builds the parts over the open store; `position` tells the last event applied.
  std::function<absl::StatusOr<FeedServiceParts>(storage::Store* store, const Clock* clock,
                                                 std::function<uint64_t()> position)>
      make;
};

// The module spec for civicd's manager: depends on cases (ordering only, when both run
// in one process). `context` must outlive the module.
modules::ModuleSpec FeedServiceModuleSpec(FeedServiceSpec spec, FeedServiceConfig config,
                                          const modules::Context& context);

}  // namespace civic::cases
