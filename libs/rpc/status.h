// The one place where absl::Status becomes grpc::Status and back, keeping the details
// (google.rpc.BadRequest, RetryInfo, civic ErrorReason) as google.rpc.Status details.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace civic::rpc {

// Converts at a service's edge. The code and message are kept; payloads become
// google.rpc.Status details in the grpc-status-details-bin trailer.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Converts a peer's answer back, restoring the details as payloads, so an error from a
// downstream service can be passed through unchanged.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace civic::rpc
