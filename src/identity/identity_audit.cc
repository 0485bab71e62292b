// The audit events of identity steps (see identity_audit.h).
#include "identity/identity_audit.h"

namespace custos::identity {

audit::AuditEvent IdentityAuditor::BuildEvent(const Caller& caller,
                                              const IdentityStep& step) const {
  audit::AuditEvent event;
  event.time = clock_.Now();
  event.request_id = caller.request_id;
  event.principal_id = caller.principal_id;
  event.auth_method = caller.auth_method;
  event.action = step.action;
  event.resources = step.targets;
  event.decision =
      step.outcome == audit::Outcome::kOk ? audit::Decision::kAllow : audit::Decision::kDeny;
  event.outcome = step.outcome;
  event.outcome_detail = step.detail;
  event.hashed_values.reserve(step.hashed.size());
  for (const auto& [field, value] : step.hashed) {
    event.hashed_values.push_back({field, salt_.Mac(field, value)});
  }
  return event;
}

Status IdentityAuditor::Record(const Caller& caller, const IdentityStep& step) {
  auto appended = log_.Append(BuildEvent(caller, step));
  if (!appended.ok()) {
    return UnavailableError(
        "audit: cannot record '" + step.action +
        "' (the step was refused; fix the audit log, then retry): " + appended.status().ToString());
  }
  return Status::Ok();
}

}  // namespace custos::identity
