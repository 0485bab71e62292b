// AccessService: the access workflow. A requester asks for resources, for a governed
// purpose, for a while, with a justification; approvers approve (N-of-M, by the rule of the
// highest classification involved, with separation of duties and MFA) or deny; once the
// rule is met the request becomes a grant, published at once in the PolicyStore as a
// template-linked Cedar policy (grant_policy.h) that lapses by itself; a sweeper marks
// lapsed grants expired and unlinks them; owners, stewards, the grantee or an administrator
// revoke a grant, which unlinks it before Revoke returns. Access reviews list active grants
// with who is accountable, their age, expiry and last use.
//
// Every step, and every refusal with its reason, appends an audit event first (actions
// "access.purpose.define", "access.request.create|approve|deny|withdraw|expire",
// "access.grant.create|expire|revoke"); if the event cannot be appended nothing changes
// (fail closed).
//
// Revocation and caches: PolicyStore publishes a new policy-set version for every grant
// change and keeps no decision cache, so the next IsAuthorized after Revoke returns is
// decided without the grant. A decision cache added later must be keyed by the policy-set
// version (see policy_store.h).
//
// Storage: the `access` keyspace, sealed under keyring owner "access" (purposes, requests,
// grants, grant last use). Grants in force are re-linked by Open after a restart.
// Identity is passed in as plain values (Actor), so this module does not depend on
// identity/.
// Thread-safety: safe for concurrent use. Workflow changes are serialized; RecordUse takes
// only a short lock of its own and is meant for the request path.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "access/approval_rules.h"
#include "access/records.h"
#include "audit/log.h"
#include "catalog/governance.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "policy/policy_store.h"
#include "storage/encrypted_keyspace.h"
#include "storage/kv.h"

namespace custos::access {

struct AccessOptions {
  // Approval rules, maximum duration and pending TTL. Default ApprovalRules::Defaults().
  ApprovalRules rules = ApprovalRules::Defaults();
  // Actions a grant may carry. approve and administer are never grantable, so a grant cannot
  // widen anyone's say over access itself. Default: the data actions of DESIGN.md and
  // promote (an artifact version's move into prod goes through this workflow).
  std::vector<std::string> grantable_actions = {
      "read", "read_pseudonymized", "read_masked", "read_aggregate", "write", "export", "promote"};
  // Resources per request. Default 100.
  size_t max_resources = 100;
  // Bytes of justification, of a denial or revocation reason, of a purpose description.
  // Default 4096.
  size_t max_text_bytes = 4096;
  // RecordUse writes a grant's last use to storage at most this often (in memory always).
  // Default 60 s.
  std::chrono::seconds last_use_persist_interval{60};
};

// The result of an approval: the request, and the grant when this approval met the rule.
struct ApproveResult {
  AccessRequest request;
  std::optional<Grant> grant;
  uint64_t policy_set_version = 0;  // the version that published the grant (0 if none)
};

class AccessService {
 public:
  // Opens the workflow stored in `kv` and re-links every grant still in force into
  // `policies` (one new version), then expires what lapsed while closed. Everything passed
  // must outlive the service.
  static Result<std::unique_ptr<AccessService>> Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                     audit::AuditLog& audit,
                                                     policy::PolicyStore& policies,
                                                     const catalog::GovernanceRegistry& catalog,
                                                     const common::Clock& clock,
                                                     AccessOptions options = {});

  // --- Purposes (governed list) ---
  // AlreadyExists if defined; InvalidArgument for a malformed id or over-long description.
  Result<Purpose> DefinePurpose(const Purpose& purpose, const Actor& by);
  Result<Purpose> GetPurpose(std::string_view id);
  Result<std::vector<Purpose>> ListPurposes();

  // --- Requests ---
  // The requester is `requester.principal` (a User or ServiceAccount). Refused with
  // InvalidArgument (unknown purpose, bad action, duration over the maximum, empty
  // justification, ...) or NotFound (a resource not in the catalog).
  Result<AccessRequest> CreateRequest(const RequestSpec& spec, const Actor& requester);
  // Adds `approver`'s approval; when the rule is met, makes the grant and publishes it.
  // PermissionDenied: self-approval, not an owner/steward of every resource when the rule
  // needs one, or an approval without fresh MFA that would leave the rule's MFA unmet;
  // AlreadyExists: approving twice; FailedPrecondition: the request is not pending.
  Result<ApproveResult> Approve(std::string_view request_id, const Actor& approver);
  // Denies a pending request (by someone who could approve it, or an administrator).
  Result<AccessRequest> Deny(std::string_view request_id, const Actor& by,
                             const std::string& reason);
  // Withdraws a pending request (its requester only).
  Result<AccessRequest> Withdraw(std::string_view request_id, const Actor& by);

  // --- Grants ---
  // Unlinks the grant (a new policy-set version) before returning. Allowed for an owner or
  // steward of any of its resources, the grantee, or an administrator. FailedPrecondition
  // when the grant is not active; PermissionDenied for anyone else.
  Result<Grant> Revoke(std::string_view grant_id, const Actor& by, const std::string& reason);
  // The sweeper: marks grants past their expiry expired and unlinks them (one version), and
  // expires requests pending longer than the pending TTL. Returns how many grants expired.
  // Call it periodically (grants lapse by their condition even if it runs late).
  Result<size_t> ExpireDue();
  // Notes that `grant_id` allowed a request at `time` (the request pipeline calls this with
  // the grant named by the decision's determining policy, see GrantIdFromPolicyId).
  Status RecordUse(std::string_view grant_id, common::TimePoint time);

  // --- Reads ---
  Result<AccessRequest> GetRequest(std::string_view id);
  Result<std::vector<AccessRequest>> ListRequests(std::optional<RequestState> state = {});
  Result<Grant> GetGrant(std::string_view id);
  Result<std::vector<Grant>> ListGrants(std::optional<GrantState> state = {});
  // Every active grant with owners, stewards, age, time left and last use, oldest first.
  Result<std::vector<ReviewEntry>> Review();

  const AccessOptions& options() const { return options_; }

 private:
  AccessService(storage::Kv& kv, storage::EncryptedKeyspace store, audit::AuditLog& audit,
                policy::PolicyStore& policies, const catalog::GovernanceRegistry& catalog,
                const common::Clock& clock, AccessOptions options);

  Status Relink();
  Result<size_t> ExpireDueLocked();
  Status CheckRequestSpec(const RequestSpec& spec, const Actor& requester, Purpose* purpose,
                          std::vector<catalog::GovernedResource>* resources);
  // Loads the governance records of `resources` (FailedPrecondition if one is gone).
  Result<std::vector<catalog::GovernedResource>> LoadResources(
      const std::vector<policy::EntityUid>& resources);
  Result<AccessRequest> LoadRequest(std::string_view id);
  Result<Grant> LoadGrant(std::string_view id);
  template <typename T, typename Decode>
  Result<std::vector<T>> Scan(std::string_view kind, Decode decode);

  storage::Kv& kv_;
  storage::EncryptedKeyspace store_;
  audit::AuditLog& audit_;
  policy::PolicyStore& policies_;
  const catalog::GovernanceRegistry& catalog_;
  const common::Clock& clock_;
  const AccessOptions options_;

  std::mutex mu_;  // serializes workflow changes
  // Grants whose policy is published in `policies_` (guarded by mu_).
  std::set<std::string, std::less<>> linked_;
  // Sweep candidates (guarded by mu_): active grants by expiry time and pending requests by
  // creation time, loaded by Open and kept current by every change.
  std::map<std::string, common::TimePoint, std::less<>> grant_expiry_;
  std::map<std::string, common::TimePoint, std::less<>> pending_since_;

  std::mutex use_mu_;  // guards last_use_
  struct Use {
    common::TimePoint last{};
    common::TimePoint persisted{};
  };
  std::unordered_map<std::string, Use> last_use_;
};

}  // namespace custos::access
