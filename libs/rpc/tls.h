// Mutual TLS for ports that outside systems reach (the agency API): the server proves
// itself with its certificate, and each client with one signed by our client CA, whose
// verified subject names the caller. Internal ports stay plaintext on the private
// network.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/statusor.h"

namespace civic::rpc {

// An extra listening port of a server, with TLS that requires and verifies client
// certificates. Files are PEM.
struct TlsPortOptions {
  // What the port is for ("agency"); its bound address is published under
  // "<service>_<name>" in the address book.
  std::string name;
  // "host:port"; port 0 picks a free one.
  std::string listen;
  std::string cert_file;       // the server's certificate (chain)
  std::string key_file;        // its private key
  std::string client_ca_file;  // CA certificates that sign acceptable client certificates
};

// gRPC server credentials for `options`: TLS, client certificate required and
// verified against the client CA. INVALID_ARGUMENT naming the file when one cannot be
// read or holds no PEM block.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeMutualTlsCredentials(
    const TlsPortOptions& options);

// True when the call came over TLS (the peer's certificate then was verified, since
// our TLS ports require it).
bool PeerUsesTls(const grpc::ServerContextBase& context);

// The common name (CN) of the peer's verified client certificate; "" when the call did
// not come over TLS or the certificate has no CN.
std::string PeerCommonName(const grpc::ServerContextBase& context);
// The same from an auth context (e.g. an interceptor's).
std::string PeerCommonName(const grpc::AuthContext& auth);

}  // namespace civic::rpc
