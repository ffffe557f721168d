// The open server-streaming calls of a service, so that shutdown can end them: a stream
// left open would hold the server for its whole grace period. Streams are reached
// through a handle that outlives them for as long as anyone holds it (a pending
// wake-up, CloseAll), and whose `stream` is null once the stream is gone, so a late
// wake-up or close is a no-op instead of a use after free.
//
// Used by the feed streams of cases (Subscribe, WatchQueue) and notify's message
// streams (WatchMessages): `S` is the stream's type, with a `CloseLocked()` that ends it
// (called with the handle's mutex held).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

namespace civic::rpc {

// Initial metadata a server stream sends once it has accepted the call, before any
// message: the gateway answers its HTTP client (200, text/event-stream) when it sees it,
// and otherwise waits for the first message or the call's end. Initial metadata alone
// is not enough: gRPC's in-process transport makes up an empty one for a call that is
// refused outright, which must become an ordinary error answer.
inline constexpr char kStreamOpenMetadata[] = "x-civic-stream-open";

template <typename S>
struct StreamHandle {
  // Guards the stream's state. Recursive: gRPC may run a reaction inline from
  // StartWrite or Finish, and a wake-up may come at once, on the same thread.
  std::recursive_mutex mu;
  // Null once the stream is done (set by the stream's OnDone, under `mu`).
  S* stream = nullptr;
};

template <typename S>
class StreamRegistry {
 public:
  using Handle = std::shared_ptr<StreamHandle<S>>;

  StreamRegistry() = default;
  StreamRegistry(const StreamRegistry&) = delete;
  StreamRegistry& operator=(const StreamRegistry&) = delete;

  // Registers a new stream and, under its mutex, runs `begin` (which starts it); once
  // CloseAll has run, closes it at once instead.
  void Start(const Handle& handle, const std::function<void()>& begin) {
    bool closing;
    {
      std::lock_guard lock(mu_);
      closing = closing_;
      if (!closing) streams_.insert(handle);
    }
    std::lock_guard lock(handle->mu);
    if (closing) {
      handle->stream->CloseLocked();
    } else {
      begin();
    }
  }

  // The stream is done (its OnDone, after clearing handle->stream).
  void Remove(const Handle& handle) {
    std::lock_guard lock(mu_);
    streams_.erase(handle);
  }

  // Ends every open stream and refuses new ones from now on.
  void CloseAll() {
    std::vector<Handle> open;
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      open.assign(streams_.begin(), streams_.end());
    }
    for (const Handle& handle : open) {
      std::lock_guard lock(handle->mu);
      if (handle->stream != nullptr) handle->stream->CloseLocked();
    }
  }

  size_t size() const {
    std::lock_guard lock(mu_);
    return streams_.size();
  }

 private:
  mutable std::mutex mu_;
  bool closing_ = false;
  std::set<Handle> streams_;
};

}  // namespace civic::rpc
