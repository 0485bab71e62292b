// TOTP (RFC 6238) over HOTP (RFC 4226), HMAC from OpenSSL, for MFA enrolment and
// verification; plus the otpauth:// Key Uri Format that authenticator apps scan, and
// the RFC 4648 base32 it uses.
//
// Replay: Verify returns the time step the code matched. A code stays valid for the
// whole skew window, so the CALLER must persist the last accepted step per enrolment
// and pass it back as `last_accepted_step`; Verify then refuses that step and every
// earlier one. Without that, a code observed by an attacker can be replayed for up to
// (2 * allowed_skew_steps + 1) periods.
//
// Thread-safety: free and static functions over values; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/secret.h"

namespace custos::crypto {

enum class TotpAlgorithm { kSha1, kSha256, kSha512 };

// "SHA1", "SHA256", "SHA512": the spelling of the Key Uri Format.
std::string_view TotpAlgorithmName(TotpAlgorithm algorithm);

struct TotpOptions {
  // The HMAC hash. Default SHA-1: what most authenticator apps implement.
  TotpAlgorithm algorithm = TotpAlgorithm::kSha1;
  // Code length, 6 to 8 (RFC 4226 section 5.3). Default 6.
  int digits = 6;
  // Time step X in seconds, 1 to 3600. Default 30 (RFC 6238's recommendation).
  int64_t period_seconds = 30;
  // Verify only: steps accepted either side of the current one, for clock drift and
  // slow typing, 0 to 10. Default 1 (RFC 6238 section 5.2 recommends at most one).
  int allowed_skew_steps = 1;
};

class Totp {
 public:
  // RFC 4226 R6: the shared secret MUST be at least 128 bits.
  static constexpr size_t kMinSecretSize = 16;

  // A fresh random secret of the hash's output size (20, 32 or 64 bytes), the length
  // RFC 4226 and RFC 6238 recommend.
  static SecretBytes GenerateSecret(TotpAlgorithm algorithm = TotpAlgorithm::kSha1);

  // RFC 4226 HOTP value for `counter` (algorithm and digits from `options`).
  static Result<std::string> Hotp(const SecretBytes& secret, uint64_t counter,
                                  const TotpOptions& options = {});

  // The time step floor(unix_time / period) (T0 = 0); unix_time must be >= 0.
  static Result<uint64_t> TimeStep(int64_t unix_time, const TotpOptions& options = {});

  // The code for the step containing `unix_time`.
  static Result<std::string> Generate(const SecretBytes& secret, int64_t unix_time,
                                      const TotpOptions& options = {});

  // Checks `code` against every step within the skew window around `unix_time`
  // (comparing in constant time and without early exit) and returns the step it matched.
  // Steps <= `last_accepted_step` are refused as reuse. Errors: InvalidArgument for a
  // malformed code or options, Unauthenticated for a wrong or reused code.
  static Result<uint64_t> Verify(const SecretBytes& secret, std::string_view code,
                                 int64_t unix_time, const TotpOptions& options = {},
                                 std::optional<uint64_t> last_accepted_step = std::nullopt);
};

// otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=..&digits=..
// &period=.. (Google Authenticator's Key Uri Format), for showing as a QR code at
// enrolment. The result contains the secret: show it once, never log or store it.
// Issuer and account must be non-empty and contain no ':'; they are percent-encoded.
Result<std::string> BuildOtpauthUri(const SecretBytes& secret, std::string_view issuer,
                                    std::string_view account, const TotpOptions& options = {});

// RFC 4648 base32 (alphabet A-Z2-7), without '=' padding, as the Key Uri Format uses.
std::string Base32Encode(common::ByteView data);
// Strict: upper case only, no padding or whitespace, a length that whole bytes can
// produce, and zero trailing bits, so every byte string has exactly one accepted form.
Result<SecretBytes> Base32Decode(std::string_view text);

}  // namespace custos::crypto
