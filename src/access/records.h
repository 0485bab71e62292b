// The records of the access workflow: purposes, access requests with their approvals,
// grants, and access-review rows. Plain values; stored as sealed JSON in the `access`
// keyspace by AccessService (access_service.h).
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/event.h"
#include "catalog/governance.h"
#include "common/clock.h"
#include "policy/value.h"

namespace custos::access {

// A governed purpose: access is always for one of these, named by id.
struct Purpose {
  std::string id;  // [a-z0-9][a-z0-9._-]{0,63}, e.g. "fraud-model-training"
  std::string description;
  // Grants for this purpose last at most this long (and never over the global maximum).
  std::optional<std::chrono::seconds> max_duration;
};

// Who is acting, as authenticated by identity/ (passed in as plain values so that access/
// does not depend on identity/).
struct Actor {
  policy::EntityUid principal;                // e.g. User::"alice"
  std::vector<policy::EntityUid> groups;      // every group the principal is in (transitively)
  std::optional<common::TimePoint> last_mfa;  // time of the last successful MFA, if any
  audit::AuthMethod auth_method = audit::AuthMethod::kNone;  // recorded in audit events
  // Set by the caller when policy lets this principal administer access (e.g. the security
  // team): it may then deny any pending request and revoke any grant. It never lets anyone
  // approve, so approvals always come from the rule's approvers.
  bool administrator = false;
};

enum class RequestState : uint8_t {
  kPending = 0,
  kApproved = 1,  // the rule was met and a grant made (see grant_id)
  kDenied = 2,
  kWithdrawn = 3,
  kExpired = 4,  // not decided within the pending TTL
  kRevoked = 5,  // its grant was revoked
};
std::string_view RequestStateName(RequestState s);  // "pending", ...

struct Approval {
  policy::EntityUid approver;
  common::TimePoint time{};
  // The approver's last MFA and whether it was within the rule's window when approving.
  std::optional<common::TimePoint> mfa_time;
  bool mfa_fresh = false;
};

// What a requester asks for (the input of AccessService::CreateRequest).
// The requester is the acting principal (Actor::principal).
struct RequestSpec {
  std::string purpose;                       // a Purpose id
  std::vector<policy::EntityUid> resources;  // governed resources (catalog/)
  std::vector<std::string> actions;          // Cedar action ids, e.g. "read"
  std::chrono::seconds duration{0};          // how long the grant should last
  std::string justification;
};

struct AccessRequest {
  std::string id;  // "acr_..."
  policy::EntityUid requester;
  std::string purpose;
  std::vector<policy::EntityUid> resources;
  std::vector<std::string> actions;
  std::chrono::seconds duration{0};
  std::string justification;
  // Fixed at creation: the highest classification involved picks the rule.
  catalog::Classification classification = catalog::Classification::kPublic;
  RequestState state = RequestState::kPending;
  common::TimePoint created{};
  common::TimePoint decided{};  // when it left kPending (zero while pending)
  std::vector<Approval> approvals;
  std::optional<policy::EntityUid> denied_by;
  std::string decision_reason;  // denial / revocation reason
  std::string grant_id;         // when approved
};

enum class GrantState : uint8_t { kActive = 0, kExpired = 1, kRevoked = 2 };
std::string_view GrantStateName(GrantState s);  // "active", "expired", "revoked"

// An approved request in force: a per-grant Cedar template linked once per resource.
struct Grant {
  std::string id;  // "gnt_..."
  std::string request_id;
  policy::EntityUid grantee;
  std::string purpose;
  std::vector<policy::EntityUid> resources;
  std::vector<std::string> actions;
  std::vector<policy::EntityUid> approvers;
  common::TimePoint granted{};
  common::TimePoint expires{};  // whole seconds (the policy compares unix seconds)
  GrantState state = GrantState::kActive;
  common::TimePoint ended{};  // when it expired or was revoked
  std::optional<policy::EntityUid> revoked_by;
  std::string revoke_reason;
};

// One row of an access review: an active grant and who is accountable for it.
struct ReviewEntry {
  Grant grant;
  // For each resource of the grant (same order): its owners and stewards.
  std::vector<std::vector<policy::EntityUid>> owners;
  std::vector<std::vector<policy::EntityUid>> stewards;
  std::chrono::seconds age{0};        // now - granted
  std::chrono::seconds remaining{0};  // expires - now (0 when due)
  std::optional<common::TimePoint> last_use;
};

}  // namespace custos::access
