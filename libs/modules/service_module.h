// What every service module shares: where data lives, the address book of services
// running in this process, and the wiring of a gRPC service (its store under
// <data>/<name>, its server with health, and publication of its bound address).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "libs/core/clock.h"
#include "libs/modules/modules.h"
#include "libs/rpc/server.h"
#include "libs/storage/store.h"

namespace civic::modules {

// Addresses of the gRPC services started in this process, by module name. A module
// looks its peers up here first (they may be on ephemeral ports) and falls back to its
// configured address when the peer runs elsewhere. Thread-safe.
class AddressBook {
 public:
  void Publish(const std::string& name, const std::string& address);
  // The published address of `name`, else `configured`.
  std::string Lookup(const std::string& name, const std::string& configured) const;
  std::map<std::string, std::string> All() const;

  // `name` serves in this process with `server` (not owned) until ForgetServer.
  void PublishServer(const std::string& name, rpc::Server* server);
  void ForgetServer(const std::string& name);
  // A channel to `name`: over gRPC's in-process transport when it serves in this process
  // (no socket, no HTTP/2 framing: what a call costs when every service is in one
  // civicd), else to its published or `configured` address. An in-process channel must
  // not be called once `name` has stopped (gRPC 1.51's in-process transport crashes
  // then): only a module that starts after `name`, and so stops before it (Manager
  // stops in reverse order), may take one.
  std::shared_ptr<grpc::Channel> Channel(const std::string& name, const std::string& configured,
                                         const rpc::ChannelOptions& options = {}) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> addresses_;
  std::map<std::string, rpc::Server*> servers_;
};

struct Context {
  std::filesystem::path data_dir;     // each service's store lives in <data_dir>/<name>
  std::filesystem::path shared_data;  // reference data: boundaries, categories, agencies
  const Clock* clock = nullptr;
  AddressBook* addresses = nullptr;
};

class ServiceModule : public Module {
 public:
  void BeginShutdown() override;

 protected:
  ServiceModule(std::string name, const Context& context)
      : name_(std::move(name)), context_(context) {}

  // Opens <data_dir>/<name> with the given keyspaces (and options for some of them).
  absl::Status OpenStore(
      std::vector<std::string> keyspaces,
      std::map<std::string, rocksdb::ColumnFamilyOptions, std::less<>> column_options = {});
  // Options of the service's gRPC server beyond the address and services.
  rpc::ServerOptions& server_options() { return server_options_; }
  // Starts the gRPC server, publishes its address (and its TLS port's, when
  // server_options().tls is set, as "<name>_<tls name>") and reports SERVING.
  absl::Status Serve(const std::string& listen, std::vector<grpc::Service*> services,
                     std::vector<std::string> health_names);
  // Stops the server (after NOT_SERVING), waiting up to `grace` for calls in flight.
  void StopServer(absl::Duration grace);
  // Closes the store; call after everything using it has stopped.
  void CloseStore() { store_.reset(); }

  storage::Store* store() { return store_.get(); }
  const Context& context() const { return context_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  Context context_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<rpc::Server> server_;
  rpc::ServerOptions server_options_;
};

}  // namespace civic::modules
