// Mutual TLS for outward-facing ports (see tls.h).
#include "libs/rpc/tls.h"

#include <grpc/grpc_security_constants.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace civic::rpc {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (path.empty() || !std::filesystem::is_regular_file(path, ec) || !in) {
    return absl::InvalidArgumentError(absl::StrCat("TLS ", what, ": cannot read '", path, "'"));
  }
  std::ostringstream out;
  out << in.rdbuf();
  std::string pem = out.str();
  // gRPC would only fail later, at bind time, with a message that names no file.
  if (!absl::StrContains(pem, "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat("TLS ", what, ": '", path, "' is not PEM"));
  }
  return pem;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeMutualTlsCredentials(
    const TlsPortOptions& options) {
  absl::StatusOr<std::string> cert = ReadPem(options.cert_file, "certificate");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(options.key_file, "private key");
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> client_ca = ReadPem(options.client_ca_file, "client CA");
  if (!client_ca.ok()) return client_ca.status();
  // Refuse at the handshake any client without a certificate our CA signed: the
  // identity the services read later is then always a verified one.
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = *std::move(client_ca);
  ssl.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(ssl);
}

bool PeerUsesTls(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return false;
  for (const grpc::string_ref& type :
       auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
    const absl::string_view value(type.data(), type.size());
    if (value == GRPC_SSL_TRANSPORT_SECURITY_TYPE || value == GRPC_TLS_TRANSPORT_SECURITY_TYPE) {
      return true;
    }
  }
  return false;
}

std::string PeerCommonName(const grpc::AuthContext& auth) {
  // Only a certificate the handshake verified counts; an unauthenticated peer has no
  // name, whatever properties it carries.
  if (!auth.IsPeerAuthenticated()) return "";
  std::vector<grpc::string_ref> names = auth.FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (names.size() != 1) return "";
  return std::string(names[0].data(), names[0].size());
}

std::string PeerCommonName(const grpc::ServerContextBase& context) {
  if (!PeerUsesTls(context)) return "";
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  return auth == nullptr ? "" : PeerCommonName(*auth);
}

}  // namespace civic::rpc
