// TOTP/HOTP: HMAC through OpenSSL's EVP_MAC one-shot (EVP_Q_mac), dynamic truncation
// per RFC 4226 section 5.3, and base32 for the otpauth:// URI.
#include "crypto/totp.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <array>

#include "crypto/random.h"

namespace custos::crypto {
namespace {

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

const char* DigestName(TotpAlgorithm algorithm) {
  switch (algorithm) {
    case TotpAlgorithm::kSha1:
      return "SHA1";
    case TotpAlgorithm::kSha256:
      return "SHA256";
    case TotpAlgorithm::kSha512:
      return "SHA512";
  }
  return "SHA1";
}

size_t DigestSize(TotpAlgorithm algorithm) {
  switch (algorithm) {
    case TotpAlgorithm::kSha1:
      return 20;
    case TotpAlgorithm::kSha256:
      return 32;
    case TotpAlgorithm::kSha512:
      return 64;
  }
  return 20;
}

Status CheckOptions(const TotpOptions& options) {
  if (options.algorithm != TotpAlgorithm::kSha1 && options.algorithm != TotpAlgorithm::kSha256 &&
      options.algorithm != TotpAlgorithm::kSha512) {
    return InvalidArgumentError("TOTP: unknown algorithm; use kSha1, kSha256 or kSha512");
  }
  if (options.digits < 6 || options.digits > 8) {
    return InvalidArgumentError("TOTP: digits must be 6 to 8, got " +
                                std::to_string(options.digits));
  }
  if (options.period_seconds < 1 || options.period_seconds > 3600) {
    return InvalidArgumentError("TOTP: period_seconds must be 1 to 3600, got " +
                                std::to_string(options.period_seconds));
  }
  if (options.allowed_skew_steps < 0 || options.allowed_skew_steps > 10) {
    return InvalidArgumentError("TOTP: allowed_skew_steps must be 0 to 10, got " +
                                std::to_string(options.allowed_skew_steps));
  }
  return Status::Ok();
}

Status CheckSecret(const SecretBytes& secret) {
  if (secret.size() < Totp::kMinSecretSize) {
    return InvalidArgumentError("TOTP: secret is " + std::to_string(secret.size()) +
                                " bytes; RFC 4226 requires at least 16 (use "
                                "Totp::GenerateSecret)");
  }
  return Status::Ok();
}

// HOTP with options and secret already checked. Writes `digits` ASCII digits to `out`.
Status HotpInto(const SecretBytes& secret, uint64_t counter, const TotpOptions& options,
                std::array<char, 8>& out) {
  std::array<uint8_t, 8> message{};
  for (int i = 7; i >= 0; --i) {
    message[static_cast<size_t>(i)] = static_cast<uint8_t>(counter & 0xff);
    counter >>= 8;
  }
  std::array<uint8_t, 64> mac{};
  size_t mac_size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, DigestName(options.algorithm), nullptr,
                secret.span().data(), secret.size(), message.data(), message.size(), mac.data(),
                mac.size(), &mac_size) == nullptr ||
      mac_size != DigestSize(options.algorithm)) {
    return InternalError(std::string("TOTP: OpenSSL HMAC-") + DigestName(options.algorithm) +
                         " failed");
  }
  // Dynamic truncation (RFC 4226 section 5.3): 31 bits at the offset the last nibble names.
  const size_t offset = mac[mac_size - 1] & 0x0f;
  uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                    (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                    (static_cast<uint32_t>(mac[offset + 2]) << 8) |
                    static_cast<uint32_t>(mac[offset + 3]);
  sodium_memzero(mac.data(), mac.size());
  for (int i = options.digits - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>('0' + binary % 10);
    binary /= 10;
  }
  return Status::Ok();
}

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    if (IsUnreserved(c)) {
      out.push_back(c);
    } else {
      auto b = static_cast<uint8_t>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
  }
  return out;
}

}  // namespace

std::string_view TotpAlgorithmName(TotpAlgorithm algorithm) { return DigestName(algorithm); }

SecretBytes Totp::GenerateSecret(TotpAlgorithm algorithm) {
  InitCrypto();
  return SecretBytes::Random(DigestSize(algorithm));
}

Result<std::string> Totp::Hotp(const SecretBytes& secret, uint64_t counter,
                               const TotpOptions& options) {
  CUSTOS_RETURN_IF_ERROR(CheckOptions(options));
  CUSTOS_RETURN_IF_ERROR(CheckSecret(secret));
  std::array<char, 8> code{};
  CUSTOS_RETURN_IF_ERROR(HotpInto(secret, counter, options, code));
  return std::string(code.data(), static_cast<size_t>(options.digits));
}

Result<uint64_t> Totp::TimeStep(int64_t unix_time, const TotpOptions& options) {
  CUSTOS_RETURN_IF_ERROR(CheckOptions(options));
  if (unix_time < 0) {
    return InvalidArgumentError("TOTP: time " + std::to_string(unix_time) +
                                " is before the Unix epoch (T0)");
  }
  return static_cast<uint64_t>(unix_time / options.period_seconds);
}

Result<std::string> Totp::Generate(const SecretBytes& secret, int64_t unix_time,
                                   const TotpOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(uint64_t step, TimeStep(unix_time, options));
  return Hotp(secret, step, options);
}

Result<uint64_t> Totp::Verify(const SecretBytes& secret, std::string_view code, int64_t unix_time,
                              const TotpOptions& options,
                              std::optional<uint64_t> last_accepted_step) {
  CUSTOS_ASSIGN_OR_RETURN(uint64_t current, TimeStep(unix_time, options));
  CUSTOS_RETURN_IF_ERROR(CheckSecret(secret));
  if (code.size() != static_cast<size_t>(options.digits)) {
    return InvalidArgumentError("TOTP: code has " + std::to_string(code.size()) +
                                " characters, expected " + std::to_string(options.digits) +
                                " digits");
  }
  for (size_t i = 0; i < code.size(); ++i) {
    if (code[i] < '0' || code[i] > '9') {
      return InvalidArgumentError("TOTP: code character " + std::to_string(i + 1) +
                                  " is not a digit");
    }
  }
  const auto skew = static_cast<uint64_t>(options.allowed_skew_steps);
  const uint64_t first = current >= skew ? current - skew : 0;
  const uint64_t last = current + skew;
  // Every step is computed and compared, matched or not, so timing does not tell which
  // step (if any) matched. Prefer the latest fresh match: it also retires earlier steps.
  std::optional<uint64_t> fresh_match;
  std::optional<uint64_t> reused_match;
  for (uint64_t step = first; step <= last; ++step) {
    std::array<char, 8> expected{};
    CUSTOS_RETURN_IF_ERROR(HotpInto(secret, step, options, expected));
    const bool match = ConstantTimeEquals(
        common::AsBytes(std::string_view(expected.data(), code.size())), common::AsBytes(code));
    if (match) {
      if (last_accepted_step && step <= *last_accepted_step) {
        reused_match = step;
      } else {
        fresh_match = step;
      }
    }
  }
  if (fresh_match) return *fresh_match;
  if (reused_match) {
    return UnauthenticatedError("TOTP: code was already used (time step " +
                                std::to_string(*reused_match) + ", last accepted step " +
                                std::to_string(*last_accepted_step) + "); wait for the next code");
  }
  return UnauthenticatedError("TOTP: code does not match time steps " + std::to_string(first) +
                              " to " + std::to_string(last) +
                              " (wrong code, wrong secret, or the device clock is off)");
}

Result<std::string> BuildOtpauthUri(const SecretBytes& secret, std::string_view issuer,
                                    std::string_view account, const TotpOptions& options) {
  CUSTOS_RETURN_IF_ERROR(CheckOptions(options));
  CUSTOS_RETURN_IF_ERROR(CheckSecret(secret));
  if (issuer.empty() || account.empty()) {
    return InvalidArgumentError("otpauth URI: issuer and account name must be non-empty");
  }
  if (issuer.find(':') != std::string_view::npos || account.find(':') != std::string_view::npos) {
    return InvalidArgumentError(
        "otpauth URI: issuer and account name must not contain ':' (it separates them in "
        "the label)");
  }
  std::string encoded_issuer = PercentEncode(issuer);
  std::string uri = "otpauth://totp/" + encoded_issuer + ":" + PercentEncode(account) +
                    "?secret=" + Base32Encode(secret.span()) + "&issuer=" + encoded_issuer +
                    "&algorithm=" + std::string(TotpAlgorithmName(options.algorithm)) +
                    "&digits=" + std::to_string(options.digits) +
                    "&period=" + std::to_string(options.period_seconds);
  return uri;
}

std::string Base32Encode(common::ByteView data) {
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kBase32Alphabet[(buffer >> bits) & 0x1f]);
    }
    buffer &= (1u << bits) - 1;  // keep only the unread bits
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

Result<SecretBytes> Base32Decode(std::string_view text) {
  // Lengths mod 8 that whole bytes produce: 0, 2, 4, 5, 7 characters.
  switch (text.size() % 8) {
    case 1:
    case 3:
    case 6:
      return InvalidArgumentError("base32: length " + std::to_string(text.size()) +
                                  " cannot encode whole bytes (is it truncated or padded?)");
    default:
      break;
  }
  SecretBytes out(text.size() * 5 / 8);
  size_t written = 0;
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    uint32_t value;
    if (c >= 'A' && c <= 'Z') {
      value = static_cast<uint32_t>(c - 'A');
    } else if (c >= '2' && c <= '7') {
      value = static_cast<uint32_t>(c - '2' + 26);
    } else {
      return InvalidArgumentError("base32: invalid character at offset " + std::to_string(i) +
                                  " (only A-Z and 2-7, no padding or lower case)");
    }
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.span()[written++] = static_cast<uint8_t>(buffer >> bits);
      buffer &= (1u << bits) - 1;
    }
  }
  if (buffer != 0) {
    return InvalidArgumentError(
        "base32: non-zero trailing bits in the last character "
        "(not the canonical encoding)");
  }
  return out;
}

}  // namespace custos::crypto
