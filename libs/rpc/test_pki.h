// A throwaway certificate authority for tests of mutual TLS: a CA, a server
// certificate for the loopback address and client certificates named after units, all
// made in memory with OpenSSL (ECDSA P-256, valid from an hour ago for 30 days).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace civic::rpc::testing {

// Where a certificate and its key were written.
struct CertFiles {
  std::filesystem::path cert;
  std::filesystem::path key;
};

// A certificate and its private key, PEM.
struct IssuedCert {
  std::string cert_pem;
  std::string key_pem;

  // Writes <dir>/<stem>.crt and <dir>/<stem>.key (the key readable by the owner only);
  // throws std::runtime_error on failure.
  CertFiles WriteTo(const std::filesystem::path& dir, const std::string& stem) const;
};

// Failures (OpenSSL refusing something) throw std::runtime_error: tests cannot go on
// without their certificates.
class TestPki {
 public:
  // A self-signed CA named `name`.
  explicit TestPki(const std::string& name);
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::string& ca_pem() const { return ca_pem_; }

  // A server certificate (extendedKeyUsage serverAuth) with CN `common_name` and the
  // given subjectAltNames, each as OpenSSL writes them ("IP:127.0.0.1", "DNS:localhost").
  IssuedCert IssueServer(const std::string& common_name,
                         const std::vector<std::string>& alt_names) const;
  // A client certificate (extendedKeyUsage clientAuth) with CN `common_name`.
  IssuedCert IssueClient(const std::string& common_name) const;

  // Writes the CA certificate to <dir>/<stem>.crt and returns its path.
  std::filesystem::path WriteCa(const std::filesystem::path& dir,
                                const std::string& stem = "ca") const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string ca_pem_;
};

}  // namespace civic::rpc::testing
