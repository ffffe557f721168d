// A throwaway certificate authority for mutual-TLS tests (see test_pki.h).
#include "libs/rpc/test_pki.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace civic::rpc::testing {
namespace {

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertDeleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using Cert = std::unique_ptr<X509, CertDeleter>;

[[noreturn]] void Fail(const std::string& what) {
  const unsigned long err = ERR_get_error();
  char text[256] = "";
  if (err != 0) ERR_error_string_n(err, text, sizeof(text));
  ERR_clear_error();
  throw std::runtime_error(absl::StrCat("test PKI: ", what, err != 0 ? ": " : "", text));
}

Key NewKey() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) Fail("cannot generate a P-256 key");
  return key;
}

std::string ToPem(const std::function<int(BIO*)>& write) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || write(bio.get()) != 1) Fail("cannot write PEM");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) Fail(absl::StrCat("bad extension ", OBJ_nid2sn(nid), "=", value));
  const int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (added != 1) Fail("cannot add an extension");
}

// A certificate for `key` named `common_name`, its extensions added by `extend`, signed
// by `issuer_key` (with `issuer` as issuer, or itself when null).
Cert MakeCert(EVP_PKEY* key, const std::string& common_name, X509* issuer, EVP_PKEY* issuer_key,
              const std::function<void(X509* cert, X509* issuer)>& extend) {
  // Serials must differ between certificates of one issuer.
  static std::atomic<long> serial{1000};
  Cert cert(X509_new());
  if (!cert) Fail("out of memory");
  X509_set_version(cert.get(), 2);  // v3
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  // Valid from an hour ago: clocks of test machines drift.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600);
  if (X509_set_pubkey(cert.get(), key) != 1) Fail("cannot set the public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("CivicDesk tests"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    Fail("cannot set the subject");
  }
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  extend(cert.get(), signer);
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) Fail("cannot sign");
  return cert;
}

void WriteFile(const std::filesystem::path& path, const std::string& text, bool secret) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error(absl::StrCat("cannot write ", path.string()));
  }
  if (secret) ::chmod(path.c_str(), 0600);
}

}  // namespace

struct TestPki::Impl {
  Key key;
  Cert cert;

  IssuedCert Issue(const std::string& common_name, const std::string& usage,
                   const std::vector<std::string>& alt_names) const {
    Key leaf_key = NewKey();
    Cert leaf =
        MakeCert(leaf_key.get(), common_name, cert.get(), key.get(), [&](X509* c, X509* issuer) {
          AddExtension(c, issuer, NID_basic_constraints, "critical,CA:FALSE");
          AddExtension(c, issuer, NID_key_usage, "critical,digitalSignature,keyAgreement");
          AddExtension(c, issuer, NID_ext_key_usage, usage);
          AddExtension(c, issuer, NID_subject_key_identifier, "hash");
          AddExtension(c, issuer, NID_authority_key_identifier, "keyid:always");
          if (!alt_names.empty()) {
            AddExtension(c, issuer, NID_subject_alt_name, absl::StrJoin(alt_names, ","));
          }
        });
    return IssuedCert{
        .cert_pem = ToPem([&](BIO* bio) { return PEM_write_bio_X509(bio, leaf.get()); }),
        .key_pem = ToPem([&](BIO* bio) {
          return PEM_write_bio_PrivateKey(bio, leaf_key.get(), nullptr, nullptr, 0, nullptr,
                                          nullptr);
        })};
  }
};

TestPki::TestPki(const std::string& name) : impl_(std::make_unique<Impl>()) {
  impl_->key = NewKey();
  impl_->cert =
      MakeCert(impl_->key.get(), name, nullptr, impl_->key.get(), [](X509* c, X509* issuer) {
        AddExtension(c, issuer, NID_basic_constraints, "critical,CA:TRUE");
        AddExtension(c, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
        AddExtension(c, issuer, NID_subject_key_identifier, "hash");
      });
  ca_pem_ = ToPem([&](BIO* bio) { return PEM_write_bio_X509(bio, impl_->cert.get()); });
}

TestPki::~TestPki() = default;

IssuedCert TestPki::IssueServer(const std::string& common_name,
                                const std::vector<std::string>& alt_names) const {
  return impl_->Issue(common_name, "serverAuth", alt_names);
}

IssuedCert TestPki::IssueClient(const std::string& common_name) const {
  return impl_->Issue(common_name, "clientAuth", {});
}

std::filesystem::path TestPki::WriteCa(const std::filesystem::path& dir,
                                       const std::string& stem) const {
  const std::filesystem::path path = dir / (stem + ".crt");
  WriteFile(path, ca_pem_, false);
  return path;
}

CertFiles IssuedCert::WriteTo(const std::filesystem::path& dir, const std::string& stem) const {
  CertFiles files{.cert = dir / (stem + ".crt"), .key = dir / (stem + ".key")};
  WriteFile(files.cert, cert_pem, false);
  WriteFile(files.key, key_pem, true);
  return files;
}

}  // namespace civic::rpc::testing
