// JSON views of records, shared by the API's responses and the CLI's --json output.
#include "server/json_views.h"

#include "common/clock.h"
#include "common/duration.h"

namespace custos::server {

nlohmann::ordered_json UidList(const std::vector<policy::EntityUid>& uids) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const auto& u : uids) j.push_back(u.ToString());
  return j;
}

nlohmann::ordered_json RequestJson(const access::AccessRequest& r) {
  nlohmann::ordered_json j;
  j["id"] = r.id;
  j["state"] = access::RequestStateName(r.state);
  j["requester"] = r.requester.ToString();
  j["purpose"] = r.purpose;
  j["resources"] = UidList(r.resources);
  j["actions"] = r.actions;
  j["duration"] =
      common::FormatDuration(std::chrono::duration_cast<std::chrono::milliseconds>(r.duration));
  j["justification"] = r.justification;
  j["classification"] = catalog::ClassificationName(r.classification);
  j["created"] = common::FormatRfc3339(r.created);
  nlohmann::ordered_json approvals = nlohmann::ordered_json::array();
  for (const auto& a : r.approvals) {
    approvals.push_back({{"approver", a.approver.ToString()},
                         {"time", common::FormatRfc3339(a.time)},
                         {"mfa_fresh", a.mfa_fresh}});
  }
  j["approvals"] = approvals;
  if (r.denied_by) j["denied_by"] = r.denied_by->ToString();
  if (!r.decision_reason.empty()) j["reason"] = r.decision_reason;
  if (!r.grant_id.empty()) j["grant_id"] = r.grant_id;
  return j;
}

nlohmann::ordered_json GrantJson(const access::Grant& g) {
  nlohmann::ordered_json j;
  j["id"] = g.id;
  j["state"] = access::GrantStateName(g.state);
  j["request_id"] = g.request_id;
  j["grantee"] = g.grantee.ToString();
  j["purpose"] = g.purpose;
  j["resources"] = UidList(g.resources);
  j["actions"] = g.actions;
  j["approvers"] = UidList(g.approvers);
  j["granted"] = common::FormatRfc3339(g.granted);
  j["expires"] = common::FormatRfc3339(g.expires);
  if (g.state != access::GrantState::kActive) j["ended"] = common::FormatRfc3339(g.ended);
  if (g.revoked_by) j["revoked_by"] = g.revoked_by->ToString();
  if (!g.revoke_reason.empty()) j["reason"] = g.revoke_reason;
  return j;
}

nlohmann::ordered_json EventJson(uint64_t index, const audit::AuditEvent& e) {
  nlohmann::ordered_json j;
  j["index"] = index;
  j["time"] = common::FormatRfc3339(e.time);
  j["request_id"] = e.request_id;
  j["principal"] = e.principal_id;
  j["action"] = e.action;
  for (const auto& r : e.resources) j["resources"].push_back(r.type + "::" + r.id);
  j["purpose"] = e.purpose;
  j["environment"] = e.environment;
  j["decision"] = e.decision == audit::Decision::kAllow ? "allow" : "deny";
  j["determining_policies"] = e.determining_policies;
  j["policy_set_version"] = e.policy_set_version;
  j["rows_returned"] = e.rows_returned;
  j["risk_score"] = e.risk_score;
  j["outcome"] = e.outcome == audit::Outcome::kOk       ? "ok"
                 : e.outcome == audit::Outcome::kDenied ? "denied"
                                                        : "error";
  if (!e.outcome_detail.empty()) j["outcome_detail"] = e.outcome_detail;
  return j;
}

}  // namespace custos::server
