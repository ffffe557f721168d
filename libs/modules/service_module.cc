#include "libs/modules/service_module.h"

#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/core/status.h"

namespace civic::modules {

void AddressBook::Publish(const std::string& name, const std::string& address) {
  std::lock_guard lock(mu_);
  addresses_[name] = address;
}

std::string AddressBook::Lookup(const std::string& name, const std::string& configured) const {
  std::lock_guard lock(mu_);
  auto it = addresses_.find(name);
  return it == addresses_.end() ? configured : it->second;
}

std::map<std::string, std::string> AddressBook::All() const {
  std::lock_guard lock(mu_);
  return addresses_;
}

void AddressBook::PublishServer(const std::string& name, rpc::Server* server) {
  std::lock_guard lock(mu_);
  servers_[name] = server;
}

void AddressBook::ForgetServer(const std::string& name) {
  std::lock_guard lock(mu_);
  servers_.erase(name);
}

std::shared_ptr<grpc::Channel> AddressBook::Channel(const std::string& name,
                                                    const std::string& configured,
                                                    const rpc::ChannelOptions& options) const {
  std::lock_guard lock(mu_);
  if (auto server = servers_.find(name); server != servers_.end()) {
    return server->second->InProcessChannel(options);
  }
  auto published = addresses_.find(name);
  return rpc::MakeChannel(published == addresses_.end() ? configured : published->second,
                          options);
}

absl::Status ServiceModule::OpenStore(
    std::vector<std::string> keyspaces,
    std::map<std::string, rocksdb::ColumnFamilyOptions, std::less<>> column_options) {
  CIVIC_ASSIGN_OR_RETURN(store_, storage::Store::Open({.path = context_.data_dir / name_,
                                                       .column_families = std::move(keyspaces),
                                                       .column_options = std::move(column_options)}));
  return absl::OkStatus();
}

absl::Status ServiceModule::Serve(const std::string& listen,
                                  std::vector<grpc::Service*> services,
                                  std::vector<std::string> health_names) {
  rpc::ServerOptions options = server_options_;
  options.listen = listen;
  options.services = std::move(services);
  options.health_names = std::move(health_names);
  CIVIC_ASSIGN_OR_RETURN(server_, rpc::Server::Start(options));
  context_.addresses->Publish(name_, server_->address());
  context_.addresses->PublishServer(name_, server_.get());
  // The mutual-TLS port for outside systems, when configured, as "<name>_<port name>".
  if (options.tls) {
    const std::string tls_name = absl::StrCat(name_, "_", options.tls->name);
    context_.addresses->Publish(tls_name, server_->tls_address());
    CIVIC_LOG_INFO("{} serving gRPC with mutual TLS on {} ({})", name_, server_->tls_address(),
                   tls_name);
  }
  server_->SetServing(true);
  CIVIC_LOG_INFO("{} serving gRPC on {}", name_, server_->address());
  return absl::OkStatus();
}

void ServiceModule::BeginShutdown() {
  if (server_) server_->SetServing(false);
}

void ServiceModule::StopServer(absl::Duration grace) {
  context_.addresses->ForgetServer(name_);
  if (server_) server_->Shutdown(grace);
  server_.reset();
}

}  // namespace civic::modules
