// JWT signing and verification with OpenSSL (see jwt.h).
#include "libs/auth/jwt.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/auth/secrets.h"

namespace civic::auth {
namespace {

using nlohmann::json;

// Larger tokens are refused before any parsing: no honest token comes near it.
constexpr size_t kMaxTokenBytes = 16 * 1024;
constexpr size_t kMinHs256SecretBytes = 32;
constexpr int kMinRsaBits = 2048;
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

absl::Status Refused(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("bearer token refused: ", why));
}

// OpenSSL keeps a per-thread error queue; a failed check must not leave entries behind
// for the next, unrelated caller to misread.
void ClearOpenSslErrors() { ERR_clear_error(); }

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

// Never prompt on a terminal for an encrypted key's pass phrase: refuse it.
int NoPassword(char*, int, int, void*) { return 0; }

absl::Status CheckRsa(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError("RS256 needs an RSA key");
  }
  if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("RSA key of ", EVP_PKEY_get_bits(key), " bits; at least ", kMinRsaBits));
  }
  return absl::OkStatus();
}


absl::Status VerifyRs256(const RsaKey& key, absl::string_view data, absl::string_view signature) {
  if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(key.native()))) {
    return Refused("bad signature");
  }
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return absl::InternalError("OpenSSL: out of memory");
  const bool ok =
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.native()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1;
  ClearOpenSslErrors();
  return ok ? absl::OkStatus() : Refused("bad signature");
}

// A NumericDate claim (seconds since the epoch, possibly fractional).
absl::StatusOr<absl::Time> NumericDate(const json& value, absl::string_view name) {
  if (!value.is_number()) return Refused(absl::StrCat("\"", name, "\" is not a number"));
  const double seconds = value.get<double>();
  // Beyond year 5000 or before 1970 is no real token's date; also keeps the
  // conversion below exact.
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e11) {
    return Refused(absl::StrCat("\"", name, "\" is out of range"));
  }
  if (value.is_number_integer()) return absl::FromUnixSeconds(value.get<int64_t>());
  return absl::FromUnixMicros(static_cast<int64_t>(std::llround(seconds * 1e6)));
}

absl::StatusOr<std::string> StringClaim(const json& payload, const char* name) {
  auto it = payload.find(name);
  if (it == payload.end()) return std::string();
  if (!it->is_string()) return Refused(absl::StrCat("\"", name, "\" is not a string"));
  return it->get<std::string>();
}

absl::StatusOr<json> DecodeObject(absl::string_view part, absl::string_view what) {
  absl::StatusOr<std::string> bytes = Base64UrlDecode(part);
  if (!bytes.ok()) return Refused(absl::StrCat(what, " is not base64url"));
  json object = json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return Refused(absl::StrCat(what, " is not a JSON object"));
  return object;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!std::filesystem::is_regular_file(path, ec) || !in) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string SigningInput(const json& header, const json& claims) {
  return absl::StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(claims.dump()));
}

}  // namespace

// ---------------------------------------------------------------------------------
// Keys

RsaKey::~RsaKey() { EVP_PKEY_free(key_); }

absl::StatusOr<std::shared_ptr<const RsaKey>> RsaKey::PublicFromPem(absl::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return absl::InternalError("OpenSSL: out of memory");
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassword, nullptr);
  ClearOpenSslErrors();
  if (key == nullptr) return absl::InvalidArgumentError("not a PEM public key");
  std::shared_ptr<const RsaKey> out(new RsaKey(key, false));
  if (absl::Status rsa = CheckRsa(key); !rsa.ok()) return rsa;
  return out;
}

absl::StatusOr<std::shared_ptr<const RsaKey>> RsaKey::PrivateFromPem(absl::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return absl::InternalError("OpenSSL: out of memory");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr);
  ClearOpenSslErrors();
  if (key == nullptr) return absl::InvalidArgumentError("not an unencrypted PEM private key");
  std::shared_ptr<const RsaKey> out(new RsaKey(key, true));
  if (absl::Status rsa = CheckRsa(key); !rsa.ok()) return rsa;
  return out;
}

absl::StatusOr<VerifyKeys> LoadVerifyKeys(const std::string& hs256_secret_file,
                                          const std::string& rs256_public_key_file) {
  VerifyKeys keys;
  if (!hs256_secret_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(hs256_secret_file);
    if (!text.ok()) return text.status();
    keys.hs256_secret = std::string(absl::StripAsciiWhitespace(*text));
    if (keys.hs256_secret.size() < kMinHs256SecretBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          hs256_secret_file, ": an HS256 secret needs at least ", kMinHs256SecretBytes, " bytes"));
    }
  }
  if (!rs256_public_key_file.empty()) {
    absl::StatusOr<std::string> pem = ReadFile(rs256_public_key_file);
    if (!pem.ok()) return pem.status();
    absl::StatusOr<std::shared_ptr<const RsaKey>> key = RsaKey::PublicFromPem(*pem);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(rs256_public_key_file, ": ", key.status().message()));
    }
    keys.rs256_public_key = *std::move(key);
  }
  return keys;
}

// ---------------------------------------------------------------------------------
// base64url

std::string Base64UrlEncode(absl::string_view data) {
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(data[k])); };
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += kAlphabet[n >> 6 & 63];
    out += kAlphabet[n & 63];
  }
  if (data.size() - i == 1) {
    const uint32_t n = byte(i) << 16;
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
  } else if (data.size() - i == 2) {
    const uint32_t n = byte(i) << 16 | byte(i + 1) << 8;
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += kAlphabet[n >> 6 & 63];
  }
  return out;
}

absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (text.size() % 4 == 1) return absl::InvalidArgumentError("base64url: bad length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    const int v = value(c);
    if (v < 0) return absl::InvalidArgumentError("base64url: bad character");
    bits = bits << 6 | static_cast<uint32_t>(v);
    if (++count == 4) {
      out += static_cast<char>(bits >> 16 & 0xff);
      out += static_cast<char>(bits >> 8 & 0xff);
      out += static_cast<char>(bits & 0xff);
      bits = 0;
      count = 0;
    }
  }
  // The last group's unused low bits must be zero, so each byte string has exactly
  // one encoding (a token cannot be altered without changing its meaning).
  if (count == 2) {
    if (bits & 0xf) return absl::InvalidArgumentError("base64url: stray bits");
    out += static_cast<char>(bits >> 4 & 0xff);
  } else if (count == 3) {
    if (bits & 0x3) return absl::InvalidArgumentError("base64url: stray bits");
    out += static_cast<char>(bits >> 10 & 0xff);
    out += static_cast<char>(bits >> 2 & 0xff);
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Verification

absl::StatusOr<Claims> Verify(absl::string_view token, const VerifyKeys& keys, absl::Time now) {
  if (token.empty()) return Refused("empty");
  if (token.size() > kMaxTokenBytes) return Refused("too large");
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty()) {
    return Refused("not a compact JWS (header.payload.signature)");
  }

  // The header decides nothing by itself: its "alg" must be one we hold a key for.
  absl::StatusOr<json> header = DecodeObject(parts[0], "header");
  if (!header.ok()) return header.status();
  auto alg_it = header->find("alg");
  if (alg_it == header->end() || !alg_it->is_string()) return Refused("no \"alg\"");
  const std::string alg = alg_it->get<std::string>();
  // RFC 7515 §4.1.11: extensions we do not understand must make the token invalid.
  if (header->contains("crit")) return Refused("unsupported \"crit\" header");

  const absl::string_view signed_part(token.data(), parts[0].size() + 1 + parts[1].size());
  absl::StatusOr<std::string> signature = Base64UrlDecode(parts[2]);
  if (!signature.ok()) return Refused("signature is not base64url");
  if (alg == "HS256") {
    // Only ever with the configured shared secret, never with a public key's bytes:
    // that would let anyone holding the public key mint tokens.
    if (keys.hs256_secret.empty()) return Refused("algorithm HS256 is not accepted here");
    const std::string expected = HmacSha256(keys.hs256_secret, signed_part);
    if (signature->size() != expected.size() ||
        CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
      return Refused("bad signature");
    }
  } else if (alg == "RS256") {
    if (keys.rs256_public_key == nullptr) return Refused("algorithm RS256 is not accepted here");
    if (absl::Status ok = VerifyRs256(*keys.rs256_public_key, signed_part, *signature); !ok.ok()) {
      return ok;
    }
  } else {
    // "none" and everything else. The name is bounded: it is the caller's text.
    return Refused(absl::StrCat("algorithm '", alg.substr(0, 16), "' is not accepted"));
  }

  // Signed by a key we trust: now its claims.
  absl::StatusOr<json> payload = DecodeObject(parts[1], "payload");
  if (!payload.ok()) return payload.status();
  Claims claims;
  absl::StatusOr<std::string> text = StringClaim(*payload, "sub");
  if (!text.ok()) return text.status();
  claims.subject = *std::move(text);
  text = StringClaim(*payload, "unit");
  if (!text.ok()) return text.status();
  claims.unit_id = *std::move(text);
  text = StringClaim(*payload, "iss");
  if (!text.ok()) return text.status();
  claims.issuer = *std::move(text);
  if (auto it = payload->find("roles"); it != payload->end()) {
    if (!it->is_array()) return Refused("\"roles\" is not an array");
    for (const json& role : *it) {
      if (!role.is_string()) return Refused("\"roles\" has a non-string entry");
      claims.roles.push_back(role.get<std::string>());
    }
  }
  if (auto it = payload->find("iat"); it != payload->end()) {
    absl::StatusOr<absl::Time> at = NumericDate(*it, "iat");
    if (!at.ok()) return at.status();
    claims.issued_at = *at;
  }
  if (auto it = payload->find("exp"); it != payload->end()) {
    absl::StatusOr<absl::Time> at = NumericDate(*it, "exp");
    if (!at.ok()) return at.status();
    claims.expires_at = *at;
    if (now >= claims.expires_at + keys.leeway) return Refused("expired");
  } else if (keys.require_expiry) {
    return Refused("no \"exp\"");
  }
  if (auto it = payload->find("nbf"); it != payload->end()) {
    absl::StatusOr<absl::Time> at = NumericDate(*it, "nbf");
    if (!at.ok()) return at.status();
    if (now + keys.leeway < *at) return Refused("not valid yet");
  }
  if (!keys.issuer.empty() && claims.issuer != keys.issuer) return Refused("wrong issuer");
  if (!keys.audience.empty()) {
    bool found = false;
    if (auto it = payload->find("aud"); it != payload->end()) {
      if (it->is_string()) {
        found = it->get<std::string>() == keys.audience;
      } else if (it->is_array()) {
        for (const json& a : *it)
          found = found || (a.is_string() && a.get<std::string>() == keys.audience);
      } else {
        return Refused("\"aud\" is neither a string nor an array");
      }
    }
    if (!found) return Refused("wrong audience");
  }
  claims.raw = *std::move(payload);
  return claims;
}

// ---------------------------------------------------------------------------------
// Signing

std::string SignHs256(const json& claims, absl::string_view secret) {
  const std::string input = SigningInput({{"alg", "HS256"}, {"typ", "JWT"}}, claims);
  return absl::StrCat(input, ".", Base64UrlEncode(HmacSha256(secret, input)));
}

absl::StatusOr<std::string> SignRs256(const json& claims, const RsaKey& key) {
  if (!key.is_private()) return absl::InvalidArgumentError("RS256 signing needs a private key");
  const std::string input = SigningInput({{"alg", "RS256"}, {"typ", "JWT"}}, claims);
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return absl::InternalError("OpenSSL: out of memory");
  size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.native()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size()) != 1) {
    ClearOpenSslErrors();
    return absl::InternalError("OpenSSL: cannot sign");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                     input.size()) != 1) {
    ClearOpenSslErrors();
    return absl::InternalError("OpenSSL: cannot sign");
  }
  signature.resize(length);
  return absl::StrCat(input, ".", Base64UrlEncode(signature));
}

}  // namespace civic::auth
