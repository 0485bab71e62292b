// The access workflow: validation, approval rules, grants in the policy store, audit.
#include "access/access_service.h"

#include <algorithm>

#include "access/detail/codec.h"
#include "access/grant_policy.h"
#include "common/ids.h"

namespace custos::access {
namespace {

using policy::EntityUid;

constexpr std::string_view kKeyringOwner = "access";
constexpr std::string_view kRequestIdPrefix = "acr";
constexpr std::string_view kGrantIdPrefix = "gnt";

bool IsPurposeId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              (i > 0 && (c == '.' || c == '_' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

std::string Seconds(std::chrono::seconds d) { return FormatDurationText(d); }

// True if `actor` (or one of its groups) is in `list`.
bool Listed(const Actor& actor, const std::vector<EntityUid>& list) {
  for (const auto& p : list) {
    if (p == actor.principal) return true;
    if (std::find(actor.groups.begin(), actor.groups.end(), p) != actor.groups.end()) return true;
  }
  return false;
}

bool MayApproveFor(const Actor& actor, ApproverRole role, const catalog::GovernedResource& r) {
  switch (role) {
    case ApproverRole::kAnyone:
      return true;
    case ApproverRole::kOwners:
      return Listed(actor, r.owners);
    case ApproverRole::kOwnersOrStewards:
      return Listed(actor, r.owners) || Listed(actor, r.stewards);
  }
  return false;
}

std::vector<audit::ResourceRef> Refs(const std::vector<EntityUid>& uids) {
  std::vector<audit::ResourceRef> refs;
  refs.reserve(uids.size());
  for (const auto& u : uids) refs.push_back({std::string(u.type()), std::string(u.id()), 0});
  return refs;
}

std::string Truncated(std::string s) {
  if (s.size() > audit::kMaxEventString) s.resize(audit::kMaxEventString);
  return s;
}

common::TimePoint WholeSeconds(common::TimePoint t) {
  return common::FromUnixSeconds(common::ToUnixSeconds(t));
}

}  // namespace

std::string_view RequestStateName(RequestState s) {
  static constexpr std::string_view kNames[] = {"pending",   "approved", "denied",
                                                "withdrawn", "expired",  "revoked"};
  return kNames[static_cast<size_t>(s)];
}

std::string_view GrantStateName(GrantState s) {
  static constexpr std::string_view kNames[] = {"active", "expired", "revoked"};
  return kNames[static_cast<size_t>(s)];
}

// ---------------------------------------------------------------------------------------
// Audit helpers

namespace {

struct EventBuilder {
  audit::AuditEvent event;

  EventBuilder(common::TimePoint now, std::string_view action, const Actor& actor) {
    event.time = now;
    event.action = std::string(action);
    event.principal_id = actor.principal.ToString();
    event.auth_method = actor.auth_method;
  }
  EventBuilder(common::TimePoint now, std::string_view action, const EntityUid& principal) {
    event.time = now;
    event.action = std::string(action);
    event.principal_id = principal.ToString();
  }
  EventBuilder& Request(const AccessRequest& r) {
    event.request_id = r.id;
    event.purpose = r.purpose;
    event.resources = Refs(r.resources);
    return *this;
  }
  EventBuilder& GrantOf(const Grant& g) {
    event.request_id = g.request_id;
    event.grant_id = g.id;
    event.purpose = g.purpose;
    event.resources = Refs(g.resources);
    return *this;
  }
};

// Appends the refusal and returns `status` (or the audit failure, which then wins: the
// refusal still holds, but the caller must learn that it was not recorded).
Status Refuse(audit::AuditLog& log, audit::AuditEvent event, const Status& status) {
  event.decision = audit::Decision::kDeny;
  event.outcome = audit::Outcome::kDenied;
  event.outcome_detail = Truncated(status.ToString());
  auto appended = log.Append(event);
  if (!appended.ok()) {
    return appended.status().WithContext("cannot audit the refusal (" + status.ToString() + ")");
  }
  return status;
}

Status Allow(audit::AuditLog& log, audit::AuditEvent event, std::string detail) {
  event.decision = audit::Decision::kAllow;
  event.outcome = audit::Outcome::kOk;
  event.outcome_detail = Truncated(std::move(detail));
  auto appended = log.Append(event);
  if (!appended.ok()) {
    return appended.status().WithContext("cannot append the audit event; nothing was changed");
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Opening

AccessService::AccessService(storage::Kv& kv, storage::EncryptedKeyspace store,
                             audit::AuditLog& audit, policy::PolicyStore& policies,
                             const catalog::GovernanceRegistry& catalog, const common::Clock& clock,
                             AccessOptions options)
    : kv_(kv),
      store_(std::move(store)),
      audit_(audit),
      policies_(policies),
      catalog_(catalog),
      clock_(clock),
      options_(std::move(options)) {}

Result<std::unique_ptr<AccessService>> AccessService::Open(
    storage::Kv& kv, crypto::Keyring& keyring, audit::AuditLog& audit,
    policy::PolicyStore& policies, const catalog::GovernanceRegistry& catalog,
    const common::Clock& clock, AccessOptions options) {
  for (const auto& a : options.grantable_actions) {
    if (a == "approve" || a == "administer" || a.empty()) {
      return InvalidArgumentError("grantable action `" + a +
                                  "` is not allowed: grants may carry data actions only");
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(
      storage::EncryptedKeyspace store,
      storage::EncryptedKeyspace::Open(kv, storage::Keyspace::kAccess, keyring, kKeyringOwner));
  std::unique_ptr<AccessService> service(
      new AccessService(kv, std::move(store), audit, policies, catalog, clock, std::move(options)));
  std::lock_guard lock(service->mu_);
  CUSTOS_RETURN_IF_ERROR(service->Relink());
  CUSTOS_RETURN_IF_ERROR(service->ExpireDueLocked());
  return service;
}

Status AccessService::Relink() {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Grant> grants, Scan<Grant>("grant", detail::DecodeGrant));
  std::vector<std::string> present = policies_.ManagedSourceNames();
  std::set<std::string, std::less<>> published(present.begin(), present.end());
  policy::PolicyChange change;
  std::vector<std::string> ids;
  for (const auto& g : grants) {
    if (g.state != GrantState::kActive) continue;
    // Already published (the store outlived a previous service): just track it.
    if (published.count(GrantTemplateId(g.id)) == 0) AddGrantTo(g, &change);
    ids.push_back(g.id);
    grant_expiry_[g.id] = g.expires;
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<AccessRequest> requests,
                          Scan<AccessRequest>("request", detail::DecodeRequest));
  for (const auto& r : requests) {
    if (r.state == RequestState::kPending) pending_since_[r.id] = r.created;
  }
  if (!change.empty()) {
    auto version = policies_.Apply(change);
    if (!version.ok()) return version.status().WithContext("re-linking the grants in force");
  }
  linked_.insert(ids.begin(), ids.end());
  return Status::Ok();
}

template <typename T, typename Decode>
Result<std::vector<T>> AccessService::Scan(std::string_view kind, Decode decode) {
  std::vector<T> out;
  CUSTOS_RETURN_IF_ERROR(store_.ScanPrefix(
      detail::KindPrefix(kind), [&](std::string_view key, std::string_view value) -> Status {
        CUSTOS_ASSIGN_OR_RETURN(T item, decode(key, value));
        out.push_back(std::move(item));
        return Status::Ok();
      }));
  return out;
}

// ---------------------------------------------------------------------------------------
// Purposes

Result<Purpose> AccessService::DefinePurpose(const Purpose& purpose, const Actor& by) {
  EventBuilder ev(clock_.Now(), "access.purpose.define", by);
  ev.event.purpose = IsPurposeId(purpose.id) ? purpose.id : "";
  if (!IsPurposeId(purpose.id)) {
    return Refuse(audit_, ev.event,
                  InvalidArgumentError("purpose id `" + purpose.id +
                                       "` is malformed; use 1-64 characters of a-z, 0-9, '.', "
                                       "'_' and '-', starting with a letter or digit"));
  }
  if (purpose.description.size() > options_.max_text_bytes || IsBlank(purpose.description)) {
    return Refuse(audit_, ev.event,
                  InvalidArgumentError("purpose `" + purpose.id +
                                       "`: the description must say what the purpose is, in at "
                                       "most " +
                                       std::to_string(options_.max_text_bytes) + " bytes"));
  }
  if (purpose.max_duration && purpose.max_duration->count() <= 0) {
    return Refuse(
        audit_, ev.event,
        InvalidArgumentError("purpose `" + purpose.id + "`: max_duration must be positive"));
  }
  std::lock_guard lock(mu_);
  const std::string key = detail::PurposeKey(purpose.id);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> existing, store_.Get(key));
  if (existing) {
    return Refuse(audit_, ev.event,
                  AlreadyExistsError("purpose `" + purpose.id + "` is already defined"));
  }
  CUSTOS_RETURN_IF_ERROR(Allow(audit_, ev.event, "defined"));
  CUSTOS_RETURN_IF_ERROR(store_.Put(key, detail::EncodePurpose(purpose)));
  return purpose;
}

Result<Purpose> AccessService::GetPurpose(std::string_view id) {
  const std::string key = detail::PurposeKey(id);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> value, store_.Get(key));
  if (!value) return NotFoundError("purpose `" + std::string(id) + "` is not defined");
  return detail::DecodePurpose(key, *value);
}

Result<std::vector<Purpose>> AccessService::ListPurposes() {
  return Scan<Purpose>("purpose", detail::DecodePurpose);
}

// ---------------------------------------------------------------------------------------
// Requests

Result<std::vector<catalog::GovernedResource>> AccessService::LoadResources(
    const std::vector<EntityUid>& resources) {
  std::vector<catalog::GovernedResource> out;
  for (const auto& uid : resources) {
    auto r = catalog_.Get(uid);
    if (!r.ok()) return r.status();
    out.push_back(std::move(*r));
  }
  return out;
}

Status AccessService::CheckRequestSpec(const RequestSpec& spec, const Actor& requester,
                                       Purpose* purpose,
                                       std::vector<catalog::GovernedResource>* resources) {
  const EntityUid& who = requester.principal;
  if (who.type() != "User" && who.type() != "ServiceAccount") {
    return InvalidArgumentError(who.ToString() +
                                " cannot request access; only a User or ServiceAccount can");
  }
  auto p = GetPurpose(spec.purpose);
  if (!p.ok()) {
    if (p.status().code() != StatusCode::kNotFound) return p.status();
    CUSTOS_ASSIGN_OR_RETURN(std::vector<Purpose> known, ListPurposes());
    std::string names;
    for (size_t i = 0; i < known.size() && i < 10; ++i) {
      names += (i > 0 ? ", " : "") + known[i].id;
    }
    if (known.size() > 10) names += ", ...";
    return InvalidArgumentError("unknown purpose `" + spec.purpose +
                                "`; choose one of the governed purposes (" +
                                (names.empty() ? std::string("none defined yet") : names) + ")");
  }
  *purpose = std::move(*p);

  if (spec.resources.empty()) {
    return InvalidArgumentError("no resources requested; name at least one governed resource");
  }
  if (spec.resources.size() > options_.max_resources) {
    return InvalidArgumentError(std::to_string(spec.resources.size()) +
                                " resources requested; at most " +
                                std::to_string(options_.max_resources) + " per request");
  }
  for (size_t i = 0; i < spec.resources.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (spec.resources[i] == spec.resources[j]) {
        return InvalidArgumentError("resource " + spec.resources[i].ToString() +
                                    " is listed twice");
      }
    }
  }
  for (const auto& uid : spec.resources) {
    auto r = catalog_.Get(uid);
    if (!r.ok()) return r.status();
    resources->push_back(std::move(*r));
  }

  if (spec.actions.empty()) {
    return InvalidArgumentError("no actions requested; name at least one, e.g. read");
  }
  for (size_t i = 0; i < spec.actions.size(); ++i) {
    const std::string& a = spec.actions[i];
    if (std::find(options_.grantable_actions.begin(), options_.grantable_actions.end(), a) ==
        options_.grantable_actions.end()) {
      std::string allowed;
      for (const auto& g : options_.grantable_actions) {
        if (!allowed.empty()) allowed += ", ";
        allowed += g;
      }
      std::string message = "action `";
      message += a;
      message += "` cannot be requested; grantable actions: ";
      message += allowed;
      return InvalidArgumentError(std::move(message));
    }
    if (std::find(spec.actions.begin(), spec.actions.begin() + static_cast<std::ptrdiff_t>(i), a) !=
        spec.actions.begin() + static_cast<std::ptrdiff_t>(i)) {
      return InvalidArgumentError("action `" + a + "` is listed twice");
    }
  }

  if (spec.duration.count() <= 0) {
    return InvalidArgumentError("the duration must be positive, e.g. 7d");
  }
  std::chrono::seconds max = options_.rules.max_duration;
  std::string limit_of = "the configured maximum";
  if (purpose->max_duration && *purpose->max_duration < max) {
    max = *purpose->max_duration;
    limit_of = "the maximum for purpose `" + purpose->id + "`";
  }
  if (spec.duration > max) {
    return InvalidArgumentError("duration " + Seconds(spec.duration) + " is over " + limit_of +
                                " of " + Seconds(max) + "; ask for at most " + Seconds(max));
  }

  if (IsBlank(spec.justification)) {
    return InvalidArgumentError("a justification is required: say why the access is needed");
  }
  if (spec.justification.size() > options_.max_text_bytes) {
    return InvalidArgumentError("the justification has " +
                                std::to_string(spec.justification.size()) + " bytes; at most " +
                                std::to_string(options_.max_text_bytes) + " allowed");
  }
  return Status::Ok();
}

Result<AccessRequest> AccessService::CreateRequest(const RequestSpec& spec,
                                                   const Actor& requester) {
  AccessRequest request;
  request.id = common::NewId(kRequestIdPrefix);
  request.requester = requester.principal;
  request.purpose = spec.purpose;
  request.resources = spec.resources;
  request.actions = spec.actions;
  request.duration = spec.duration;
  request.justification = spec.justification;
  request.created = clock_.Now();
  EventBuilder ev(request.created, "access.request.create", requester);
  ev.Request(request);

  Purpose purpose;
  std::vector<catalog::GovernedResource> resources;
  if (Status s = CheckRequestSpec(spec, requester, &purpose, &resources); !s.ok()) {
    return Refuse(audit_, ev.event, s);
  }
  for (const auto& r : resources) {
    request.classification = std::max(request.classification, r.classification);
  }
  const ApprovalRule& rule = options_.rules.For(request.classification);
  std::lock_guard lock(mu_);
  CUSTOS_RETURN_IF_ERROR(
      Allow(audit_, ev.event,
            "pending; " + std::string(catalog::ClassificationName(request.classification)) +
                " needs " + rule.Describe()));
  CUSTOS_RETURN_IF_ERROR(
      store_.Put(detail::RequestKey(request.id), detail::EncodeRequest(request)));
  pending_since_[request.id] = request.created;
  return request;
}

Result<AccessRequest> AccessService::LoadRequest(std::string_view id) {
  const std::string key = detail::RequestKey(id);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> value, store_.Get(key));
  if (!value) {
    return NotFoundError("no access request `" + std::string(id) +
                         "`; list the pending requests to find its id");
  }
  return detail::DecodeRequest(key, *value);
}

Result<Grant> AccessService::LoadGrant(std::string_view id) {
  const std::string key = detail::GrantKey(id);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> value, store_.Get(key));
  if (!value) return NotFoundError("no grant `" + std::string(id) + "`");
  return detail::DecodeGrant(key, *value);
}

Result<ApproveResult> AccessService::Approve(std::string_view request_id, const Actor& approver) {
  const common::TimePoint now = clock_.Now();
  EventBuilder ev(now, "access.request.approve", approver);
  ev.event.request_id = std::string(request_id);
  std::lock_guard lock(mu_);
  auto loaded = LoadRequest(request_id);
  if (!loaded.ok()) return Refuse(audit_, ev.event, loaded.status());
  AccessRequest request = std::move(*loaded);
  ev.Request(request);

  if (request.state == RequestState::kPending &&
      now >= request.created + options_.rules.pending_ttl) {
    CUSTOS_RETURN_IF_ERROR(ExpireDueLocked());
    request.state = RequestState::kExpired;
  }
  if (request.state != RequestState::kPending) {
    return Refuse(audit_, ev.event,
                  FailedPreconditionError("request " + request.id + " is " +
                                          std::string(RequestStateName(request.state)) +
                                          "; only pending requests can be approved"));
  }
  if (approver.principal == request.requester) {
    return Refuse(
        audit_, ev.event,
        PermissionDeniedError(approver.principal.ToString() + " cannot approve their own request " +
                              request.id + " (separation of duties); ask an approver"));
  }
  for (const auto& a : request.approvals) {
    if (a.approver == approver.principal) {
      return Refuse(audit_, ev.event,
                    AlreadyExistsError(approver.principal.ToString() +
                                       " has already approved request " + request.id +
                                       "; each approver counts once, another approver is "
                                       "needed"));
    }
  }

  // The rule and the approver's standing come from the catalog as it is now: a resource
  // reclassified upwards or an owner removed since the request was made counts.
  auto resources = LoadResources(request.resources);
  if (!resources.ok()) {
    return Refuse(audit_, ev.event,
                  FailedPreconditionError("request " + request.id +
                                          " names a resource that is no longer governed: " +
                                          resources.status().message()));
  }
  catalog::Classification classification = request.classification;
  for (const auto& r : *resources) classification = std::max(classification, r.classification);
  const ApprovalRule& rule = options_.rules.For(classification);
  for (const auto& r : *resources) {
    if (!MayApproveFor(approver, rule.approvers, r)) {
      std::string role =
          rule.approvers == ApproverRole::kOwners ? "an owner" : "an owner or steward";
      return Refuse(audit_, ev.event,
                    PermissionDeniedError(approver.principal.ToString() + " is not " + role +
                                          " of " + r.uid.ToString() + "; " +
                                          std::string(catalog::ClassificationName(classification)) +
                                          " requests need " + rule.Describe() +
                                          " of every resource involved"));
    }
  }

  Approval approval;
  approval.approver = approver.principal;
  approval.time = now;
  approval.mfa_time = approver.last_mfa;
  approval.mfa_fresh =
      approver.last_mfa && *approver.last_mfa <= now && now - *approver.last_mfa <= rule.mfa_window;
  uint32_t have = static_cast<uint32_t>(request.approvals.size());
  uint32_t have_mfa =
      static_cast<uint32_t>(std::count_if(request.approvals.begin(), request.approvals.end(),
                                          [](const Approval& a) { return a.mfa_fresh; }));
  uint32_t slots_left = rule.approvals > have ? rule.approvals - have : 1;
  uint32_t mfa_missing = rule.mfa_approvals > have_mfa ? rule.mfa_approvals - have_mfa : 0;
  if (!approval.mfa_fresh && mfa_missing >= slots_left) {
    std::string last = approver.last_mfa ? "last MFA " + common::FormatRfc3339(*approver.last_mfa)
                                         : "no MFA in this session";
    return Refuse(audit_, ev.event,
                  PermissionDeniedError(std::string(catalog::ClassificationName(classification)) +
                                        " requests need " + rule.Describe() + "; " +
                                        approver.principal.ToString() + " has " + last +
                                        ": verify MFA, then approve again"));
  }

  request.approvals.push_back(approval);
  ApproveResult result;
  const bool complete = request.approvals.size() >= rule.approvals;
  std::string detail = "approval " + std::to_string(request.approvals.size()) + " of " +
                       std::to_string(rule.approvals) +
                       (approval.mfa_fresh ? " (with MFA)" : " (without MFA)");
  CUSTOS_RETURN_IF_ERROR(Allow(audit_, ev.event, detail));

  if (!complete) {
    CUSTOS_RETURN_IF_ERROR(
        store_.Put(detail::RequestKey(request.id), detail::EncodeRequest(request)));
    result.request = std::move(request);
    return result;
  }

  // The rule is met: the request becomes a grant, effective at once.
  Grant grant;
  grant.id = common::NewId(kGrantIdPrefix);
  grant.request_id = request.id;
  grant.grantee = request.requester;
  grant.purpose = request.purpose;
  grant.resources = request.resources;
  grant.actions = request.actions;
  for (const auto& a : request.approvals) grant.approvers.push_back(a.approver);
  grant.granted = now;
  grant.expires = WholeSeconds(now + request.duration);
  request.state = RequestState::kApproved;
  request.decided = now;
  request.grant_id = grant.id;

  EventBuilder gev(now, "access.grant.create", grant.grantee);
  gev.GrantOf(grant);
  policy::PolicyChange change;
  AddGrantTo(grant, &change);
  for (const auto& link : change.add_links) gev.event.determining_policies.push_back(link.link_id);
  // Publish, audit with the exact version, then persist. If auditing or persisting fails the
  // grant is withdrawn again, so a grant is never in force without its event and record (a
  // crash in between loses the grant; it never leaks one).
  auto version = policies_.Apply(change);
  if (!version.ok()) {
    return version.status().WithContext("grant " + grant.id + " could not be published");
  }
  linked_.insert(grant.id);
  auto withdraw = [&](const Status& why) {
    policy::PolicyChange undo;
    RemoveGrantFrom(grant, &undo);
    if (policies_.Apply(undo).ok()) linked_.erase(grant.id);
    return why.WithContext("grant " + grant.id + " was withdrawn");
  };
  gev.event.policy_set_version = *version;
  if (Status s = Allow(audit_, gev.event, "expires " + common::FormatRfc3339(grant.expires));
      !s.ok()) {
    return withdraw(s);
  }
  storage::WriteBatch batch;
  store_.PutTo(batch, detail::RequestKey(request.id), detail::EncodeRequest(request));
  store_.PutTo(batch, detail::GrantKey(grant.id), detail::EncodeGrant(grant));
  if (Status s = kv_.Write(batch); !s.ok()) return withdraw(s);
  pending_since_.erase(request.id);
  grant_expiry_[grant.id] = grant.expires;
  result.policy_set_version = *version;
  result.request = std::move(request);
  result.grant = std::move(grant);
  return result;
}

Result<AccessRequest> AccessService::Deny(std::string_view request_id, const Actor& by,
                                          const std::string& reason) {
  const common::TimePoint now = clock_.Now();
  EventBuilder ev(now, "access.request.deny", by);
  ev.event.request_id = std::string(request_id);
  std::lock_guard lock(mu_);
  auto loaded = LoadRequest(request_id);
  if (!loaded.ok()) return Refuse(audit_, ev.event, loaded.status());
  AccessRequest request = std::move(*loaded);
  ev.Request(request);
  if (IsBlank(reason) || reason.size() > options_.max_text_bytes) {
    return Refuse(audit_, ev.event,
                  InvalidArgumentError("a denial needs a reason of 1 to " +
                                       std::to_string(options_.max_text_bytes) + " bytes"));
  }
  if (request.state != RequestState::kPending) {
    return Refuse(audit_, ev.event,
                  FailedPreconditionError("request " + request.id + " is " +
                                          std::string(RequestStateName(request.state)) +
                                          "; only pending requests can be denied"));
  }
  if (by.principal == request.requester) {
    return Refuse(audit_, ev.event,
                  PermissionDeniedError(by.principal.ToString() +
                                        " cannot deny their own request; withdraw it instead"));
  }
  if (!by.administrator) {
    auto resources = LoadResources(request.resources);
    if (!resources.ok()) return Refuse(audit_, ev.event, resources.status());
    catalog::Classification classification = request.classification;
    for (const auto& r : *resources) classification = std::max(classification, r.classification);
    const ApprovalRule& rule = options_.rules.For(classification);
    for (const auto& r : *resources) {
      if (!MayApproveFor(by, rule.approvers, r)) {
        return Refuse(audit_, ev.event,
                      PermissionDeniedError(by.principal.ToString() + " may not decide on " +
                                            r.uid.ToString() + "; " + rule.Describe() +
                                            " of every resource decide this request"));
      }
    }
  }
  request.state = RequestState::kDenied;
  request.decided = now;
  request.denied_by = by.principal;
  request.decision_reason = reason;
  CUSTOS_RETURN_IF_ERROR(Allow(audit_, ev.event, "denied: " + reason));
  CUSTOS_RETURN_IF_ERROR(
      store_.Put(detail::RequestKey(request.id), detail::EncodeRequest(request)));
  pending_since_.erase(request.id);
  return request;
}

Result<AccessRequest> AccessService::Withdraw(std::string_view request_id, const Actor& by) {
  const common::TimePoint now = clock_.Now();
  EventBuilder ev(now, "access.request.withdraw", by);
  ev.event.request_id = std::string(request_id);
  std::lock_guard lock(mu_);
  auto loaded = LoadRequest(request_id);
  if (!loaded.ok()) return Refuse(audit_, ev.event, loaded.status());
  AccessRequest request = std::move(*loaded);
  ev.Request(request);
  if (by.principal != request.requester) {
    return Refuse(audit_, ev.event,
                  PermissionDeniedError("only the requester " + request.requester.ToString() +
                                        " can withdraw request " + request.id));
  }
  if (request.state != RequestState::kPending) {
    return Refuse(audit_, ev.event,
                  FailedPreconditionError("request " + request.id + " is " +
                                          std::string(RequestStateName(request.state)) +
                                          "; only pending requests can be withdrawn (revoke a "
                                          "grant instead)"));
  }
  request.state = RequestState::kWithdrawn;
  request.decided = now;
  CUSTOS_RETURN_IF_ERROR(Allow(audit_, ev.event, "withdrawn"));
  CUSTOS_RETURN_IF_ERROR(
      store_.Put(detail::RequestKey(request.id), detail::EncodeRequest(request)));
  pending_since_.erase(request.id);
  return request;
}

// ---------------------------------------------------------------------------------------
// Grants

Result<Grant> AccessService::Revoke(std::string_view grant_id, const Actor& by,
                                    const std::string& reason) {
  const common::TimePoint now = clock_.Now();
  EventBuilder ev(now, "access.grant.revoke", by);
  ev.event.grant_id = std::string(grant_id);
  std::lock_guard lock(mu_);
  auto loaded = LoadGrant(grant_id);
  if (!loaded.ok()) return Refuse(audit_, ev.event, loaded.status());
  Grant grant = std::move(*loaded);
  ev.GrantOf(grant);
  if (IsBlank(reason) || reason.size() > options_.max_text_bytes) {
    return Refuse(audit_, ev.event,
                  InvalidArgumentError("a revocation needs a reason of 1 to " +
                                       std::to_string(options_.max_text_bytes) + " bytes"));
  }
  if (grant.state != GrantState::kActive) {
    return Refuse(audit_, ev.event,
                  FailedPreconditionError("grant " + grant.id + " is " +
                                          std::string(GrantStateName(grant.state)) +
                                          "; only an active grant can be revoked"));
  }
  bool allowed = by.administrator || by.principal == grant.grantee;
  if (!allowed) {
    for (const auto& uid : grant.resources) {
      auto r = catalog_.Get(uid);
      if (r.ok() && (Listed(by, r->owners) || Listed(by, r->stewards))) {
        allowed = true;
        break;
      }
    }
  }
  if (!allowed) {
    return Refuse(
        audit_, ev.event,
        PermissionDeniedError(by.principal.ToString() + " may not revoke grant " + grant.id +
                              "; owners and stewards of its resources, the grantee "
                              "and administrators may"));
  }
  CUSTOS_RETURN_IF_ERROR(Allow(audit_, ev.event, "revoked: " + reason));
  grant.state = GrantState::kRevoked;
  grant.ended = now;
  grant.revoked_by = by.principal;
  grant.revoke_reason = reason;
  storage::WriteBatch batch;
  store_.PutTo(batch, detail::GrantKey(grant.id), detail::EncodeGrant(grant));
  auto request = LoadRequest(grant.request_id);
  if (request.ok()) {
    request->state = RequestState::kRevoked;
    request->decision_reason = reason;
    store_.PutTo(batch, detail::RequestKey(request->id), detail::EncodeRequest(*request));
  }
  // Stored first, then unlinked: a failed write leaves the grant active and consistent
  // (the call fails and may be retried), and once stored no restart can re-link it.
  // Removing a policy from the in-memory store cannot fail validation, so the revocation
  // holds from the very next decision after this call returns.
  CUSTOS_RETURN_IF_ERROR(kv_.Write(batch));
  grant_expiry_.erase(grant.id);
  if (linked_.count(grant.id) != 0) {
    policy::PolicyChange change;
    RemoveGrantFrom(grant, &change);
    auto version = policies_.Apply(change);
    if (!version.ok()) return version.status().WithContext("unlinking grant " + grant.id);
    linked_.erase(grant.id);
  }
  return grant;
}

Result<size_t> AccessService::ExpireDue() {
  std::lock_guard lock(mu_);
  return ExpireDueLocked();
}

Result<size_t> AccessService::ExpireDueLocked() {
  const common::TimePoint now = clock_.Now();
  // The in-memory indexes name the candidates, so a sweep reads only what is due rather
  // than the whole history of requests and grants.
  std::vector<Grant> due;
  for (const auto& [id, expires] : grant_expiry_) {
    if (expires > now) continue;
    CUSTOS_ASSIGN_OR_RETURN(Grant g, LoadGrant(id));
    if (g.state == GrantState::kActive) due.push_back(std::move(g));
  }
  std::vector<AccessRequest> stale;
  for (const auto& [id, created] : pending_since_) {
    if (now < created + options_.rules.pending_ttl) continue;
    CUSTOS_ASSIGN_OR_RETURN(AccessRequest r, LoadRequest(id));
    if (r.state == RequestState::kPending) stale.push_back(std::move(r));
  }
  if (due.empty() && stale.empty()) return size_t{0};

  policy::PolicyChange change;
  for (const auto& g : due) {
    if (linked_.count(g.id) != 0) RemoveGrantFrom(g, &change);
  }
  for (const auto& g : due) {
    EventBuilder ev(now, "access.grant.expire", g.grantee);
    ev.GrantOf(g);
    CUSTOS_RETURN_IF_ERROR(
        Allow(audit_, ev.event, "expired at " + common::FormatRfc3339(g.expires)));
  }
  for (const auto& r : stale) {
    EventBuilder ev(now, "access.request.expire", r.requester);
    ev.Request(r);
    CUSTOS_RETURN_IF_ERROR(
        Allow(audit_, ev.event, "not decided within " + Seconds(options_.rules.pending_ttl)));
  }
  if (!change.empty()) {
    auto version = policies_.Apply(change);
    if (!version.ok()) return version.status().WithContext("unlinking expired grants");
  }
  storage::WriteBatch batch;
  for (auto& g : due) {
    linked_.erase(g.id);
    g.state = GrantState::kExpired;
    g.ended = now;
    store_.PutTo(batch, detail::GrantKey(g.id), detail::EncodeGrant(g));
  }
  for (auto& r : stale) {
    r.state = RequestState::kExpired;
    r.decided = now;
    store_.PutTo(batch, detail::RequestKey(r.id), detail::EncodeRequest(r));
  }
  CUSTOS_RETURN_IF_ERROR(kv_.Write(batch));
  for (const auto& g : due) grant_expiry_.erase(g.id);
  for (const auto& r : stale) pending_since_.erase(r.id);
  return due.size();
}

Status AccessService::RecordUse(std::string_view grant_id, common::TimePoint time) {
  CUSTOS_RETURN_IF_ERROR(common::ValidateId(grant_id, kGrantIdPrefix));
  bool persist = false;
  {
    std::lock_guard lock(use_mu_);
    Use& use = last_use_[std::string(grant_id)];
    if (time > use.last) use.last = time;
    if (use.last - use.persisted >= options_.last_use_persist_interval) {
      use.persisted = use.last;
      persist = true;
      time = use.last;
    }
  }
  if (!persist) return Status::Ok();
  return store_.Put(detail::GrantUseKey(grant_id), std::to_string(common::ToUnixMicros(time)),
                    storage::WriteOptions{.sync = false});
}

// ---------------------------------------------------------------------------------------
// Reads

Result<AccessRequest> AccessService::GetRequest(std::string_view id) { return LoadRequest(id); }

Result<std::vector<AccessRequest>> AccessService::ListRequests(std::optional<RequestState> state) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<AccessRequest> all,
                          Scan<AccessRequest>("request", detail::DecodeRequest));
  if (state) std::erase_if(all, [&](const AccessRequest& r) { return r.state != *state; });
  std::stable_sort(all.begin(), all.end(), [](const AccessRequest& a, const AccessRequest& b) {
    return a.created < b.created;
  });
  return all;
}

Result<Grant> AccessService::GetGrant(std::string_view id) { return LoadGrant(id); }

Result<std::vector<Grant>> AccessService::ListGrants(std::optional<GrantState> state) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Grant> all, Scan<Grant>("grant", detail::DecodeGrant));
  if (state) std::erase_if(all, [&](const Grant& g) { return g.state != *state; });
  std::stable_sort(all.begin(), all.end(),
                   [](const Grant& a, const Grant& b) { return a.granted < b.granted; });
  return all;
}

Result<std::vector<ReviewEntry>> AccessService::Review() {
  const common::TimePoint now = clock_.Now();
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Grant> active, ListGrants(GrantState::kActive));
  std::vector<ReviewEntry> out;
  for (auto& g : active) {
    ReviewEntry e;
    for (const auto& uid : g.resources) {
      auto r = catalog_.Get(uid);
      e.owners.push_back(r.ok() ? r->owners : std::vector<EntityUid>{});
      e.stewards.push_back(r.ok() ? r->stewards : std::vector<EntityUid>{});
    }
    e.age = std::chrono::duration_cast<std::chrono::seconds>(now - g.granted);
    e.remaining = g.expires > now
                      ? std::chrono::duration_cast<std::chrono::seconds>(g.expires - now)
                      : std::chrono::seconds(0);
    {
      std::lock_guard lock(use_mu_);
      auto it = last_use_.find(g.id);
      if (it != last_use_.end()) e.last_use = it->second.last;
    }
    if (!e.last_use) {
      const std::string key = detail::GrantUseKey(g.id);
      CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> stored, store_.Get(key));
      if (stored) {
        try {
          e.last_use = common::FromUnixMicros(std::stoll(*stored));
        } catch (const std::exception&) {
          return DataLossError("stored last use of grant " + g.id + " does not decode");
        }
      }
    }
    e.grant = std::move(g);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace custos::access
