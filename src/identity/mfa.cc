// TOTP MFA (see mfa.h): sealed enrolment records, replay refusal by persisted time step,
// lockout after repeated failures, and audited outcomes.
#include "identity/mfa.h"

#include <functional>

#include "common/binary_io.h"
#include "common/key_encoding.h"

namespace custos::identity {
namespace {

constexpr uint8_t kRecordVersion = 1;

std::string MfaKey(const PrincipalId& principal) {
  return common::KeyBuilder()
      .AddString("mfa")
      .AddString(PrincipalTypeName(principal.type))
      .AddString(principal.id)
      .Release();
}

audit::ResourceRef Ref(const PrincipalId& id) { return id.ToAuditRef(); }

}  // namespace

struct Mfa::Record {
  crypto::TotpAlgorithm algorithm = crypto::TotpAlgorithm::kSha1;
  int digits = 6;
  int64_t period_seconds = 30;
  bool confirmed = false;
  common::TimePoint enrolled;
  std::optional<uint64_t> last_step;
  std::optional<common::TimePoint> last_success;
  uint32_t failed_attempts = 0;
  std::optional<common::TimePoint> locked_until;
  crypto::SecretBytes secret;

  // The stored form holds the secret: the caller wipes it once it is sealed.
  std::string Encode() const {
    common::ByteWriter w;
    w.U8(kRecordVersion).U8(static_cast<uint8_t>(algorithm)).U8(static_cast<uint8_t>(digits));
    w.I64(period_seconds).U8(confirmed ? 1 : 0).I64(common::ToUnixMicros(enrolled));
    w.U8(last_step ? 1 : 0).U64(last_step.value_or(0));
    w.U8(last_success ? 1 : 0).I64(last_success ? common::ToUnixMicros(*last_success) : 0);
    w.U32(failed_attempts);
    w.U8(locked_until ? 1 : 0).I64(locked_until ? common::ToUnixMicros(*locked_until) : 0);
    w.Blob(secret.span());
    return w.Release();
  }

  static Result<Record> Decode(std::string_view data, const std::string& what) {
    common::ByteReader r(data, what);
    CUSTOS_ASSIGN_OR_RETURN(uint8_t version, r.U8());
    if (version != kRecordVersion) {
      return DataLossError(what + ": unknown record version " + std::to_string(version));
    }
    Record rec;
    CUSTOS_ASSIGN_OR_RETURN(uint8_t algorithm, r.U8());
    if (algorithm > static_cast<uint8_t>(crypto::TotpAlgorithm::kSha512)) {
      return DataLossError(what + ": unknown TOTP algorithm " + std::to_string(algorithm));
    }
    rec.algorithm = static_cast<crypto::TotpAlgorithm>(algorithm);
    CUSTOS_ASSIGN_OR_RETURN(uint8_t digits, r.U8());
    rec.digits = digits;
    CUSTOS_ASSIGN_OR_RETURN(rec.period_seconds, r.I64());
    CUSTOS_ASSIGN_OR_RETURN(uint8_t confirmed, r.U8());
    rec.confirmed = confirmed != 0;
    CUSTOS_ASSIGN_OR_RETURN(int64_t enrolled, r.I64());
    rec.enrolled = common::FromUnixMicros(enrolled);
    CUSTOS_ASSIGN_OR_RETURN(uint8_t has_step, r.U8());
    CUSTOS_ASSIGN_OR_RETURN(uint64_t step, r.U64());
    if (has_step != 0) rec.last_step = step;
    CUSTOS_ASSIGN_OR_RETURN(uint8_t has_success, r.U8());
    CUSTOS_ASSIGN_OR_RETURN(int64_t success, r.I64());
    if (has_success != 0) rec.last_success = common::FromUnixMicros(success);
    CUSTOS_ASSIGN_OR_RETURN(rec.failed_attempts, r.U32());
    CUSTOS_ASSIGN_OR_RETURN(uint8_t has_lock, r.U8());
    CUSTOS_ASSIGN_OR_RETURN(int64_t lock, r.I64());
    if (has_lock != 0) rec.locked_until = common::FromUnixMicros(lock);
    CUSTOS_ASSIGN_OR_RETURN(std::string_view secret, r.Str());
    CUSTOS_RETURN_IF_ERROR(r.ExpectEnd());
    if (secret.size() < crypto::Totp::kMinSecretSize) {
      return DataLossError(what + ": the TOTP secret is too short");
    }
    rec.secret = crypto::SecretBytes::CopyOf(common::AsBytes(secret));
    return rec;
  }

  crypto::TotpOptions Options(int skew) const {
    crypto::TotpOptions options;
    options.algorithm = algorithm;
    options.digits = digits;
    options.period_seconds = period_seconds;
    options.allowed_skew_steps = skew;
    return options;
  }
};

Result<std::unique_ptr<Mfa>> Mfa::Open(storage::Kv& kv, crypto::Keyring& keyring,
                                       const Directory& directory, IdentityAuditor& auditor,
                                       MfaOptions options) {
  if (options.max_failed_attempts == 0 || options.lockout <= std::chrono::seconds(0)) {
    return InvalidArgumentError("MFA options: max_failed_attempts and lockout must be positive");
  }
  // Check the TOTP options once, here, rather than at a user's first enrolment.
  crypto::SecretBytes probe = crypto::Totp::GenerateSecret(options.totp.algorithm);
  CUSTOS_RETURN_IF_ERROR(
      crypto::Totp::Generate(probe, 0, options.totp).status().WithContext("MFA options"));
  CUSTOS_ASSIGN_OR_RETURN(
      auto space, storage::EncryptedKeyspace::Open(kv, storage::Keyspace::kIdentity, keyring,
                                                   options.key_owner));
  return std::unique_ptr<Mfa>(new Mfa(std::move(space), directory, auditor, std::move(options)));
}

std::mutex& Mfa::StripeFor(const PrincipalId& principal) {
  const size_t h = std::hash<std::string>{}(principal.id) ^ static_cast<size_t>(principal.type);
  return stripes_[h % stripes_.size()];
}

Result<std::optional<Mfa::Record>> Mfa::Load(const PrincipalId& principal) {
  CUSTOS_ASSIGN_OR_RETURN(auto stored, space_.Get(MfaKey(principal)));
  if (!stored) return std::optional<Record>();
  auto rec = Record::Decode(*stored, "MFA enrolment of " + principal.ToString());
  crypto::ZeroizeString(*stored);
  if (!rec.ok()) return rec.status();
  return std::optional<Record>(std::move(*rec));
}

Result<std::optional<Mfa::Record>> Mfa::LoadCurrent(const PrincipalId& principal) {
  CUSTOS_ASSIGN_OR_RETURN(auto rec, Load(principal));
  if (!rec) return rec;
  auto owner = directory_.Get(principal);
  if (!owner.ok() && owner.status().code() != StatusCode::kNotFound) return owner.status();
  // An enrolment made before the principal was (re-)created belonged to an earlier
  // principal with the same id: it does not count for this one.
  if (!owner.ok() || owner->created > rec->enrolled) return std::optional<Record>();
  return rec;
}

Status Mfa::Store(const PrincipalId& principal, const Record& record) {
  std::string encoded = record.Encode();
  Status stored = space_.Put(MfaKey(principal), encoded);  // fsynced (default)
  crypto::ZeroizeString(encoded);
  return stored;
}

Status Mfa::AuditFailure(const Caller& caller, const PrincipalId& principal,
                         std::string_view action, std::string_view detail, Status reason) {
  CUSTOS_RETURN_IF_ERROR(auditor_.Record(caller, {.action = std::string(action),
                                                  .targets = {Ref(principal)},
                                                  .outcome = audit::Outcome::kDenied,
                                                  .detail = std::string(detail)}));
  return reason;
}

Result<MfaEnrollment> Mfa::Enroll(const Caller& caller, const PrincipalId& principal,
                                  std::optional<crypto::TotpAlgorithm> algorithm) {
  if (principal.type == PrincipalType::kGroup) {
    return InvalidArgumentError(principal.ToString() +
                                " is a group; MFA belongs to users and service accounts");
  }
  CUSTOS_ASSIGN_OR_RETURN(Principal owner, directory_.Get(principal));
  if (owner.disabled) {
    return FailedPreconditionError(principal.ToString() +
                                   " is disabled; enable it before enrolling MFA");
  }
  std::lock_guard lock(StripeFor(principal));
  CUSTOS_ASSIGN_OR_RETURN(auto existing, LoadCurrent(principal));
  if (existing && existing->confirmed) {
    return AlreadyExistsError(principal.ToString() +
                              " already has confirmed MFA; disable it first to enroll a new "
                              "authenticator");
  }
  Record rec;
  rec.algorithm = algorithm.value_or(options_.totp.algorithm);
  rec.digits = options_.totp.digits;
  rec.period_seconds = options_.totp.period_seconds;
  rec.enrolled = auditor_.clock().Now();
  rec.secret = crypto::Totp::GenerateSecret(rec.algorithm);
  const crypto::TotpOptions totp = rec.Options(options_.totp.allowed_skew_steps);
  auto uri = crypto::BuildOtpauthUri(rec.secret, options_.issuer, principal.id, totp);
  if (!uri.ok()) return uri.status().WithContext("MFA enrolment of " + principal.ToString());

  MfaEnrollment out;
  out.otpauth_uri = crypto::SecretBytes::CopyOf(common::AsBytes(*uri));
  crypto::ZeroizeString(*uri);
  out.algorithm = rec.algorithm;
  out.digits = rec.digits;
  out.period_seconds = rec.period_seconds;

  CUSTOS_RETURN_IF_ERROR(auditor_.Record(
      caller,
      {.action = "identity.mfa.enroll",
       .targets = {Ref(principal)},
       .detail = std::string("TOTP ") + std::string(crypto::TotpAlgorithmName(rec.algorithm)) +
                 (existing ? ", replacing an unconfirmed enrolment" : "")}));
  CUSTOS_RETURN_IF_ERROR(Store(principal, rec));
  return out;
}

Result<common::TimePoint> Mfa::CheckCode(const Caller& caller, const PrincipalId& principal,
                                         Record& rec, std::string_view code,
                                         std::string_view action) {
  const common::TimePoint now = auditor_.clock().Now();
  if (rec.locked_until && now < *rec.locked_until) {
    return AuditFailure(
        caller, principal, action, "locked out",
        ResourceExhaustedError("MFA for " + principal.ToString() +
                               " is locked after repeated wrong codes until " +
                               common::FormatRfc3339(*rec.locked_until) + "; try again then"));
  }
  const int64_t unix_seconds = common::ToUnixSeconds(now);
  // Verified without the last step, so the reuse check below can tell a replayed code
  // from a wrong one (the audit trail needs the difference; the caller gets both as
  // Unauthenticated).
  auto matched = crypto::Totp::Verify(rec.secret, code, unix_seconds,
                                      rec.Options(options_.totp.allowed_skew_steps));
  std::string detail;
  Status refusal;
  if (!matched.ok()) {
    if (matched.status().code() == StatusCode::kInvalidArgument) {
      detail = "malformed code";
      refusal = InvalidArgumentError("MFA code for " + principal.ToString() + " must be " +
                                     std::to_string(rec.digits) + " digits");
    } else if (matched.status().code() == StatusCode::kUnauthenticated) {
      detail = "wrong code";
      refusal =
          UnauthenticatedError("MFA code for " + principal.ToString() +
                               " is wrong (check the authenticator entry and the device's clock)");
    } else {
      return matched.status();
    }
  } else if (rec.last_step && *matched <= *rec.last_step) {
    detail = "code reused";
    refusal = UnauthenticatedError("MFA code for " + principal.ToString() +
                                   " was already used; wait for the next code");
  }

  if (!refusal.ok()) {
    rec.failed_attempts += 1;
    if (rec.failed_attempts >= options_.max_failed_attempts) {
      rec.failed_attempts = 0;
      rec.locked_until =
          now + std::chrono::duration_cast<std::chrono::microseconds>(options_.lockout);
      detail += "; locked until " + common::FormatRfc3339(*rec.locked_until);
    }
    CUSTOS_RETURN_IF_ERROR(AuditFailure(caller, principal, action, detail, Status::Ok()));
    CUSTOS_RETURN_IF_ERROR(Store(principal, rec));
    return refusal;
  }

  rec.confirmed = true;  // a first good code is what confirms an enrolment
  rec.last_step = *matched;
  rec.last_success = now;
  rec.failed_attempts = 0;
  rec.locked_until.reset();
  // Audited, then the step is consumed durably (fsync), then the success is reported. A
  // failure in between reports no success, so the code was never accepted and accepting
  // it later is its first use; under the stripe lock no other call sees the old step.
  CUSTOS_RETURN_IF_ERROR(
      auditor_.Record(caller, {.action = std::string(action), .targets = {Ref(principal)}}));
  CUSTOS_RETURN_IF_ERROR(Store(principal, rec));
  return now;
}

Status Mfa::ConfirmEnrollment(const Caller& caller, const PrincipalId& principal,
                              std::string_view code) {
  std::lock_guard lock(StripeFor(principal));
  CUSTOS_ASSIGN_OR_RETURN(auto rec, LoadCurrent(principal));
  if (!rec) {
    return AuditFailure(
        caller, principal, "identity.mfa.confirm", "not enrolled",
        FailedPreconditionError(principal.ToString() + " has no MFA enrolment to confirm; enroll "
                                                       "first"));
  }
  if (rec->confirmed) {
    return FailedPreconditionError("MFA enrolment of " + principal.ToString() +
                                   " is already confirmed");
  }
  Status active = directory_.CheckActive(principal);
  if (!active.ok()) {
    if (active.code() != StatusCode::kUnauthenticated) return active;
    return AuditFailure(caller, principal, "identity.mfa.confirm", "principal not active", active);
  }
  auto checked = CheckCode(caller, principal, *rec, code, "identity.mfa.confirm");
  if (!checked.ok()) return checked.status();
  return Status::Ok();
}

Result<common::TimePoint> Mfa::Verify(const Caller& caller, const PrincipalId& principal,
                                      std::string_view code) {
  std::lock_guard lock(StripeFor(principal));
  CUSTOS_ASSIGN_OR_RETURN(auto rec, LoadCurrent(principal));
  if (!rec) {
    return AuditFailure(
        caller, principal, "identity.mfa.verify", "not enrolled",
        FailedPreconditionError(principal.ToString() + " has no MFA enrolment; enroll an "
                                                       "authenticator first"));
  }
  if (!rec->confirmed) {
    return AuditFailure(caller, principal, "identity.mfa.verify", "enrolment not confirmed",
                        FailedPreconditionError(
                            "MFA enrolment of " + principal.ToString() +
                            " is not confirmed; confirm it with a code from the authenticator"));
  }
  Status active = directory_.CheckActive(principal);
  if (!active.ok()) {
    if (active.code() != StatusCode::kUnauthenticated) return active;
    return AuditFailure(caller, principal, "identity.mfa.verify", "principal not active", active);
  }
  return CheckCode(caller, principal, *rec, code, "identity.mfa.verify");
}

Result<std::optional<common::TimePoint>> Mfa::LastMfaTime(const PrincipalId& principal) {
  CUSTOS_ASSIGN_OR_RETURN(auto rec, LoadCurrent(principal));
  if (!rec || !rec->confirmed) return std::optional<common::TimePoint>();
  return rec->last_success;
}

Result<bool> Mfa::MfaWithin(const PrincipalId& principal, std::chrono::seconds within) {
  CUSTOS_ASSIGN_OR_RETURN(auto last, LastMfaTime(principal));
  if (!last) return false;
  const common::TimePoint now = auditor_.clock().Now();
  return *last <= now && now - *last <= within;
}

Result<MfaStatus> Mfa::GetStatus(const PrincipalId& principal) {
  CUSTOS_ASSIGN_OR_RETURN(auto rec, LoadCurrent(principal));
  if (!rec) return NotFoundError(principal.ToString() + " has no MFA enrolment");
  MfaStatus status;
  status.confirmed = rec->confirmed;
  status.algorithm = rec->algorithm;
  status.enrolled = rec->enrolled;
  status.last_success = rec->last_success;
  status.failed_attempts = rec->failed_attempts;
  if (rec->locked_until && auditor_.clock().Now() < *rec->locked_until) {
    status.locked_until = rec->locked_until;
  }
  return status;
}

Status Mfa::Disable(const Caller& caller, const PrincipalId& principal) {
  std::lock_guard lock(StripeFor(principal));
  CUSTOS_ASSIGN_OR_RETURN(auto rec, Load(principal));
  if (!rec) return NotFoundError(principal.ToString() + " has no MFA enrolment to disable");
  CUSTOS_RETURN_IF_ERROR(
      auditor_.Record(caller, {.action = "identity.mfa.disable", .targets = {Ref(principal)}}));
  return space_.Delete(MfaKey(principal));
}

}  // namespace custos::identity
