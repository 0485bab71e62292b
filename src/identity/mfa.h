// MFA: TOTP (RFC 6238) enrolment and verification per principal, with replay refusal and
// lockout, and the time of each principal's last successful MFA (the access workflow's
// "MFA in the last 5 minutes" rule reads it).
//
// Lifecycle: Enroll (returns the otpauth:// URI once; the secret is stored sealed) ->
// ConfirmEnrollment(code) (proves the authenticator holds the secret) -> Verify(code) ...
// -> Disable. A code is accepted only if its time step is greater than the last accepted
// step, which is persisted (fsync) before success is reported, so a code is never accepted
// twice: not within its skew window, not across restarts, not by concurrent calls.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "crypto/secret.h"
#include "crypto/totp.h"
#include "identity/directory.h"
#include "identity/identity_audit.h"
#include "storage/encrypted_keyspace.h"
#include "storage/kv.h"

namespace custos::identity {

struct MfaOptions {
  // Keyring owner of the DEK that seals enrolments (and their TOTP secrets). Default
  // "identity".
  std::string key_owner = "identity";
  // The issuer shown by authenticator apps. Default "custos".
  std::string issuer = "custos";
  // Algorithm (default SHA-1), digits (6) and period (30 s) of new enrolments; an
  // enrolment keeps the ones it was made with. allowed_skew_steps (default 1) applies to
  // every verification.
  crypto::TotpOptions totp;
  // Consecutive failed codes (wrong, reused or malformed) that lock a principal's MFA,
  // and for how long. Defaults 5 and 5 minutes: at most 5 guesses of a 10^6 space per
  // 5 minutes.
  uint32_t max_failed_attempts = 5;
  std::chrono::seconds lockout = std::chrono::minutes(5);
};

// Returned once by Enroll.
struct MfaEnrollment {
  // otpauth://totp/... with the secret in it: show it once (as a QR code); never log it.
  crypto::SecretBytes otpauth_uri;
  crypto::TotpAlgorithm algorithm = crypto::TotpAlgorithm::kSha1;
  int digits = 6;
  int64_t period_seconds = 30;
};

struct MfaStatus {
  bool confirmed = false;
  crypto::TotpAlgorithm algorithm = crypto::TotpAlgorithm::kSha1;
  common::TimePoint enrolled;
  std::optional<common::TimePoint> last_success;
  uint32_t failed_attempts = 0;  // consecutive, since the last success or lockout
  std::optional<common::TimePoint> locked_until;
};

// Thread-safety: safe for concurrent use. Calls for one principal are serialized (by a
// lock stripe chosen by its id), so two concurrent verifications of the same code see
// each other's accepted step; calls for different principals mostly run in parallel.
// Audit (fail closed): every step, successful or refused, appends its event before its
// effect is written (the enrolment, the consumed time step and MFA time, the failure count
// or lockout); if the append fails the call fails and nothing changes.
class Mfa {
 public:
  // `kv`, `keyring`, `directory` and `auditor` must outlive the object.
  static Result<std::unique_ptr<Mfa>> Open(storage::Kv& kv, crypto::Keyring& keyring,
                                           const Directory& directory, IdentityAuditor& auditor,
                                           MfaOptions options = {});

  // Starts an enrolment for an enabled user or service account (replacing an unconfirmed
  // one). AlreadyExists if a confirmed enrolment exists (disable it first). The secret is
  // the hash's output size: 160 bits for SHA-1, 256 for SHA-256.
  Result<MfaEnrollment> Enroll(const Caller& caller, const PrincipalId& principal,
                               std::optional<crypto::TotpAlgorithm> algorithm = std::nullopt);

  // Activates the enrolment with a current code (which then counts as an MFA).
  // FailedPrecondition if there is none or it is confirmed already; otherwise as Verify.
  Status ConfirmEnrollment(const Caller& caller, const PrincipalId& principal,
                           std::string_view code);

  // Checks a code and returns the time of this successful MFA. Errors:
  //   FailedPrecondition  not enrolled, or enrolment not confirmed
  //   InvalidArgument     the code is not `digits` digits
  //   Unauthenticated     wrong code, a code already used, or the principal is disabled
  //   ResourceExhausted   locked after too many failures (the message says until when)
  Result<common::TimePoint> Verify(const Caller& caller, const PrincipalId& principal,
                                   std::string_view code);

  // The time of the last successful MFA (verification or confirmation); nullopt if the
  // principal has no confirmed enrolment or never succeeded.
  Result<std::optional<common::TimePoint>> LastMfaTime(const PrincipalId& principal);
  // True if the last successful MFA is at most `within` before now.
  Result<bool> MfaWithin(const PrincipalId& principal, std::chrono::seconds within);

  // NotFound if the principal has no enrolment.
  Result<MfaStatus> GetStatus(const PrincipalId& principal);

  // Removes the enrolment (confirmed or not). NotFound if there is none.
  Status Disable(const Caller& caller, const PrincipalId& principal);

 private:
  struct Record;
  Mfa(storage::EncryptedKeyspace space, const Directory& directory, IdentityAuditor& auditor,
      MfaOptions options)
      : space_(std::move(space)),
        directory_(directory),
        auditor_(auditor),
        options_(std::move(options)) {}
  std::mutex& StripeFor(const PrincipalId& principal);
  Result<std::optional<Record>> Load(const PrincipalId& principal);
  // Load, ignoring an enrolment older than the principal (made for an earlier principal
  // that had the same id).
  Result<std::optional<Record>> LoadCurrent(const PrincipalId& principal);
  Status Store(const PrincipalId& principal, const Record& record);
  // Checks `code` against `record` at now, updating it (step, failures, lockout), and
  // persists and audits the outcome under `action`.
  Result<common::TimePoint> CheckCode(const Caller& caller, const PrincipalId& principal,
                                      Record& record, std::string_view code,
                                      std::string_view action);
  Status AuditFailure(const Caller& caller, const PrincipalId& principal, std::string_view action,
                      std::string_view detail, Status reason);

  storage::EncryptedKeyspace space_;
  const Directory& directory_;
  IdentityAuditor& auditor_;
  const MfaOptions options_;
  std::array<std::mutex, 64> stripes_;
};

}  // namespace custos::identity
