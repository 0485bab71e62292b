// IdentityAuditor: builds and appends the audit event of each identity step (principal and
// membership changes, API key creation, revocation and use, MFA enrolment and verification),
// so every identity class records the same shape of event.
//
// Events never carry a secret, an API key, a TOTP code or a MAC input: a value that must stay
// correlatable (an API key id) is MACed with the audit salt into `hashed_values`.
// Thread-safety: safe for concurrent use (AuditLog and AuditSalt are).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/event.h"
#include "audit/log.h"
#include "common/clock.h"
#include "common/status.h"

namespace custos::identity {

// Who asks for an identity operation, as the request pipeline knows it.
struct Caller {
  // The authenticated principal's Cedar uid text (`User::"alice"`), or a name such as
  // "cli" for the embedded operator. Empty when nobody is authenticated yet (logins).
  std::string principal_id;
  // The request id, to tie the event to the request's other events. May be empty.
  std::string request_id;
  audit::AuthMethod auth_method = audit::AuthMethod::kEmbedded;
};

// One identity step to record.
struct IdentityStep {
  std::string action;                       // e.g. "identity.api_key.create"
  std::vector<audit::ResourceRef> targets;  // e.g. {"User", "alice", 0}
  audit::Outcome outcome = audit::Outcome::kOk;
  std::string detail;  // why it failed, or what changed (no secrets, no data)
  // (field, value) pairs stored only as MACs under the audit salt.
  std::vector<std::pair<std::string, std::string>> hashed;
};

class IdentityAuditor {
 public:
  // `log`, `salt` and `clock` must outlive the auditor.
  IdentityAuditor(audit::AuditLog& log, const audit::AuditSalt& salt, const common::Clock& clock)
      : log_(log), salt_(salt), clock_(clock) {}

  // Builds the event and appends it durably. Unavailable (naming the action) when the
  // append fails: callers then fail the step (fail closed).
  Status Record(const Caller& caller, const IdentityStep& step);

  // The event Record would append (exposed for tests and for callers that batch).
  audit::AuditEvent BuildEvent(const Caller& caller, const IdentityStep& step) const;

  const audit::AuditSalt& salt() const { return salt_; }
  const common::Clock& clock() const { return clock_; }

 private:
  audit::AuditLog& log_;
  const audit::AuditSalt& salt_;
  const common::Clock& clock_;
};

}  // namespace custos::identity
