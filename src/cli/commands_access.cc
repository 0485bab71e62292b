// `custos access ...` (purposes, requests, approvals, grants, reviews) and
// `custos governance ...` (classification, owners and stewards of resources).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/instance_flags.h"
#include "cli/output.h"
#include "common/clock.h"
#include "common/duration.h"
#include "server/json_views.h"

namespace custos::cli {
namespace {

using nlohmann::ordered_json;
using server::GrantJson;
using server::RequestJson;
using server::UidList;

struct AccessFlags {
  InstanceFlags instance;
  std::string id;
  std::string description;
  std::string max_duration;
  std::string purpose;
  std::vector<std::string> resources;
  std::vector<std::string> actions;
  std::string duration;
  std::string justification;
  std::string reason;
  std::string state;
  std::string classification;
  std::vector<std::string> owners;
  std::vector<std::string> stewards;
};

std::string Time(common::TimePoint t) { return common::FormatRfc3339(t); }
std::string Seconds(std::chrono::seconds s) {
  return common::FormatDuration(std::chrono::duration_cast<std::chrono::milliseconds>(s));
}

void PrintRequest(const access::AccessRequest& r) {
  std::cout << r.id << "  " << access::RequestStateName(r.state) << "  " << r.requester.ToString()
            << "  purpose " << r.purpose << "  " << catalog::ClassificationName(r.classification)
            << "  for " << Seconds(r.duration) << "\n";
  for (const auto& res : r.resources) std::cout << "  resource " << res.ToString() << "\n";
  for (const auto& a : r.approvals) {
    std::cout << "  approved by " << a.approver.ToString() << " at " << Time(a.time)
              << (a.mfa_fresh ? " (with MFA)" : "") << "\n";
  }
  if (!r.grant_id.empty()) std::cout << "  grant " << r.grant_id << "\n";
  if (!r.decision_reason.empty()) std::cout << "  reason: " << r.decision_reason << "\n";
}

void PrintGrant(const access::Grant& g) {
  std::cout << g.id << "  " << access::GrantStateName(g.state) << "  " << g.grantee.ToString()
            << "  purpose " << g.purpose << "  until " << Time(g.expires) << "\n";
}

Result<std::vector<policy::EntityUid>> ParseResources(const std::vector<std::string>& texts) {
  std::vector<policy::EntityUid> out;
  for (const auto& t : texts) {
    CUSTOS_ASSIGN_OR_RETURN(policy::EntityUid uid, ParseResourceArg(t));
    out.push_back(std::move(uid));
  }
  return out;
}

Result<std::vector<policy::EntityUid>> ParsePrincipals(const std::vector<std::string>& texts) {
  std::vector<policy::EntityUid> out;
  for (const auto& t : texts) {
    CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId p, ParsePrincipalArg(t));
    out.push_back(p.ToEntityUid());
  }
  return out;
}

// --- access --------------------------------------------------------------------------------

Status PurposeDefine(server::Instance& in, const AccessFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(access::Actor actor, ResolveActor(in, f.instance));
  access::Purpose purpose;
  purpose.id = f.id;
  purpose.description = f.description;
  if (!f.max_duration.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(auto ms, common::ParseDuration(f.max_duration));
    purpose.max_duration = std::chrono::duration_cast<std::chrono::seconds>(ms);
  }
  CUSTOS_ASSIGN_OR_RETURN(access::Purpose p, in.access().DefinePurpose(purpose, actor));
  std::cout << "Defined purpose " << p.id << "\n";
  return Status::Ok();
}

Status PurposeList(server::Instance& in, const AccessFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(auto purposes, in.access().ListPurposes());
  ordered_json j = ordered_json::array();
  for (const auto& p : purposes) {
    ordered_json item{{"id", p.id}, {"description", p.description}};
    if (p.max_duration) item["max_duration"] = Seconds(*p.max_duration);
    if (f.instance.json) {
      j.push_back(item);
    } else {
      std::cout << p.id << "  " << p.description
                << (p.max_duration ? "  (at most " + Seconds(*p.max_duration) + ")" : "") << "\n";
    }
  }
  if (f.instance.json) std::cout << j.dump(2) << "\n";
  return Status::Ok();
}

Status Request(server::Instance& in, const AccessFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(access::Actor actor, ResolveActor(in, f.instance));
  access::RequestSpec spec;
  spec.purpose = f.purpose;
  CUSTOS_ASSIGN_OR_RETURN(spec.resources, ParseResources(f.resources));
  spec.actions = f.actions;
  CUSTOS_ASSIGN_OR_RETURN(auto ms, common::ParseDuration(f.duration));
  spec.duration = std::chrono::duration_cast<std::chrono::seconds>(ms);
  spec.justification = f.justification;
  CUSTOS_ASSIGN_OR_RETURN(access::AccessRequest r, in.access().CreateRequest(spec, actor));
  if (f.instance.json) {
    std::cout << RequestJson(r).dump(2) << "\n";
  } else {
    std::cout << "Requested " << r.id << " (" << catalog::ClassificationName(r.classification)
              << "): waiting for approval\n";
  }
  return Status::Ok();
}

Status Approve(server::Instance& in, const AccessFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(access::Actor actor, ResolveActor(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(access::ApproveResult result, in.access().Approve(f.id, actor));
  if (f.instance.json) {
    ordered_json j;
    j["request"] = RequestJson(result.request);
    if (result.grant) j["grant"] = GrantJson(*result.grant);
    j["policy_set_version"] = result.policy_set_version;
    std::cout << j.dump(2) << "\n";
  } else if (result.grant) {
    std::cout << "Approved " << f.id << ": grant " << result.grant->id << " in force until "
              << Time(result.grant->expires) << " (policy set v" << result.policy_set_version
              << ")\n";
  } else {
    std::cout << "Approval recorded for " << f.id << "; more approvals are needed\n";
  }
  return Status::Ok();
}

Status Deny(server::Instance& in, const AccessFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(access::Actor actor, ResolveActor(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(access::AccessRequest r, in.access().Deny(f.id, actor, f.reason));
  std::cout << "Denied " << r.id << "\n";
  return Status::Ok();
}

Status Withdraw(server::Instance& in, const AccessFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(access::Actor actor, ResolveActor(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(access::AccessRequest r, in.access().Withdraw(f.id, actor));
  std::cout << "Withdrew " << r.id << "\n";
  return Status::Ok();
}

Status Revoke(server::Instance& in, const AccessFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(access::Actor actor, ResolveActor(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(access::Grant g, in.access().Revoke(f.id, actor, f.reason));
  std::cout << "Revoked " << g.id << ": it no longer allows anything, from the next request on\n";
  return Status::Ok();
}

Status Show(server::Instance& in, const AccessFlags& f) {
  if (f.id.starts_with("gnt_")) {
    CUSTOS_ASSIGN_OR_RETURN(access::Grant g, in.access().GetGrant(f.id));
    std::cout << GrantJson(g).dump(2) << "\n";
    return Status::Ok();
  }
  CUSTOS_ASSIGN_OR_RETURN(access::AccessRequest r, in.access().GetRequest(f.id));
  std::cout << RequestJson(r).dump(2) << "\n";
  return Status::Ok();
}

Status List(server::Instance& in, const AccessFlags& f) {
  std::optional<access::RequestState> state;
  if (!f.state.empty()) {
    for (auto s : {access::RequestState::kPending, access::RequestState::kApproved,
                   access::RequestState::kDenied, access::RequestState::kWithdrawn,
                   access::RequestState::kExpired, access::RequestState::kRevoked}) {
      if (access::RequestStateName(s) == f.state) state = s;
    }
    if (!state) {
      return InvalidArgumentError(
          "--state must be pending, approved, denied, withdrawn, "
          "expired or revoked, not '" +
          f.state + "'");
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(auto requests, in.access().ListRequests(state));
  if (f.instance.json) {
    ordered_json j = ordered_json::array();
    for (const auto& r : requests) j.push_back(RequestJson(r));
    std::cout << j.dump(2) << "\n";
  } else {
    for (const auto& r : requests) PrintRequest(r);
  }
  return Status::Ok();
}

Status Review(server::Instance& in, const AccessFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(auto rows, in.access().Review());
  if (f.instance.json) {
    ordered_json j = ordered_json::array();
    for (const auto& row : rows) {
      ordered_json item = GrantJson(row.grant);
      ordered_json owners = ordered_json::array();
      for (const auto& list : row.owners) owners.push_back(UidList(list));
      ordered_json stewards = ordered_json::array();
      for (const auto& list : row.stewards) stewards.push_back(UidList(list));
      item["owners"] = owners;
      item["stewards"] = stewards;
      item["age"] = Seconds(row.age);
      item["remaining"] = Seconds(row.remaining);
      item["last_use"] = row.last_use ? ordered_json(Time(*row.last_use)) : ordered_json();
      j.push_back(item);
    }
    std::cout << j.dump(2) << "\n";
    return Status::Ok();
  }
  if (rows.empty()) {
    std::cout << "No active grants.\n";
    return Status::Ok();
  }
  for (const auto& row : rows) {
    PrintGrant(row.grant);
    for (size_t i = 0; i < row.grant.resources.size(); ++i) {
      std::cout << "  " << row.grant.resources[i].ToString() << "  owners";
      for (const auto& o : row.owners[i]) std::cout << " " << o.ToString();
      std::cout << "\n";
    }
    std::cout << "  age " << Seconds(row.age) << ", " << Seconds(row.remaining) << " left, "
              << (row.last_use ? "last used " + Time(*row.last_use) : "never used") << "\n";
  }
  return Status::Ok();
}

Status Expire(server::Instance& in, const AccessFlags&) {
  // Instance::Open already ended what was due; run once more for what fell due since.
  CUSTOS_ASSIGN_OR_RETURN(size_t n, in.access().ExpireDue());
  std::cout << "Ended " << n << " due grant(s) or request(s)\n";
  return Status::Ok();
}

// --- governance ----------------------------------------------------------------------------

ordered_json ResourceJson(const catalog::GovernedResource& r) {
  ordered_json j;
  j["resource"] = r.uid.ToString();
  j["classification"] = catalog::ClassificationName(r.classification);
  j["owners"] = UidList(r.owners);
  j["stewards"] = UidList(r.stewards);
  j["description"] = r.description;
  j["revision"] = r.revision;
  j["updated"] = Time(r.updated);
  return j;
}

Status GovernanceWrite(server::Instance& in, const AccessFlags& f, bool create) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  if (!acting.principal) {
    return InvalidArgumentError("say who makes the change: pass --as User::<id>");
  }
  catalog::GovernedResource spec;
  CUSTOS_ASSIGN_OR_RETURN(spec.uid, ParseResourceArg(f.id));
  CUSTOS_ASSIGN_OR_RETURN(spec.classification, catalog::ParseClassification(f.classification));
  CUSTOS_ASSIGN_OR_RETURN(spec.owners, ParsePrincipals(f.owners));
  CUSTOS_ASSIGN_OR_RETURN(spec.stewards, ParsePrincipals(f.stewards));
  spec.description = f.description;
  const policy::EntityUid by = acting.principal->ToEntityUid();
  CUSTOS_ASSIGN_OR_RETURN(catalog::GovernedResource r, create ? in.governance().Register(spec, by)
                                                              : in.governance().Update(spec, by));
  if (f.instance.json) {
    std::cout << ResourceJson(r).dump(2) << "\n";
  } else {
    std::cout << (create ? "Registered " : "Updated ") << r.uid.ToString() << " ("
              << catalog::ClassificationName(r.classification) << ")\n";
  }
  return Status::Ok();
}

Status GovernanceList(server::Instance& in, const AccessFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(auto all, in.governance().List());
  if (f.instance.json) {
    ordered_json j = ordered_json::array();
    for (const auto& r : all) j.push_back(ResourceJson(r));
    std::cout << j.dump(2) << "\n";
    return Status::Ok();
  }
  for (const auto& r : all) {
    std::cout << r.uid.ToString() << "  " << catalog::ClassificationName(r.classification)
              << "  owners";
    for (const auto& o : r.owners) std::cout << " " << o.ToString();
    std::cout << "\n";
  }
  return Status::Ok();
}

CLI::App* Sub(CLI::App* parent, int* exit_code, const std::string& name, const std::string& help,
              bool acting, std::shared_ptr<AccessFlags>& flags,
              std::function<Status(server::Instance&, const AccessFlags&)> run) {
  return AddInstanceSubcommand(parent, exit_code, name, help, acting, flags, std::move(run));
}

void AddGovernanceFlags(CLI::App* cmd, AccessFlags& f) {
  cmd->add_option("resource", f.id, "e.g. FeatureView::fraud, Dataset::claims")->required();
  cmd->add_option("--classification", f.classification,
                  "public, internal, confidential or restricted")
      ->required();
  cmd->add_option("--owner", f.owners, "Owner (repeatable), e.g. User::bob, Group::risk")
      ->required();
  cmd->add_option("--steward", f.stewards, "Steward (repeatable)");
  cmd->add_option("--description", f.description, "What the resource is");
}

// request, approve and revoke are also top-level commands (`custos request ...`), the
// words people use most.
void AddRequestCommand(CLI::App* parent, int* exit_code, std::shared_ptr<AccessFlags>& f) {
  CLI::App* cmd =
      Sub(parent, exit_code, "request", "Ask for access (as the requester)", true, f, Request);
  cmd->add_option("--purpose", f->purpose, "A defined purpose")->required();
  cmd->add_option("--resource", f->resources, "Governed resource (repeatable)")->required();
  cmd->add_option("--action", f->actions, "Action, e.g. read (repeatable)")->required();
  cmd->add_option("--duration", f->duration, "How long, e.g. 7d")->required();
  cmd->add_option("--justification", f->justification, "Why")->required();
}

void AddApproveCommand(CLI::App* parent, int* exit_code, std::shared_ptr<AccessFlags>& f) {
  CLI::App* cmd = Sub(parent, exit_code, "approve", "Approve a request (add --mfa-code for MFA)",
                      true, f, Approve);
  cmd->add_option("request-id", f->id, "acr_...")->required();
}

void AddRevokeCommand(CLI::App* parent, int* exit_code, std::shared_ptr<AccessFlags>& f) {
  CLI::App* cmd = Sub(parent, exit_code, "revoke", "Revoke a grant at once", true, f, Revoke);
  cmd->add_option("grant-id", f->id, "gnt_...")->required();
  cmd->add_option("--reason", f->reason, "Why")->required();
}

}  // namespace

void AddAccessCommands(CLI::App& app, int* exit_code) {
  std::shared_ptr<AccessFlags> f;
  CLI::App* access = app.add_subcommand(
      "access", "Purpose-bound access requests, N-of-M approvals, grants and reviews");
  access->require_subcommand(1);

  CLI::App* purpose = access->add_subcommand("purpose", "The governed list of purposes");
  purpose->require_subcommand(1);
  CLI::App* cmd = Sub(purpose, exit_code, "define", "Define a purpose", true, f, PurposeDefine);
  cmd->add_option("id", f->id, "e.g. fraud-model-training")->required();
  cmd->add_option("--description", f->description, "What it is for")->required();
  cmd->add_option("--max-duration", f->max_duration, "Longest grant for it, e.g. 30d");
  Sub(purpose, exit_code, "list", "List purposes", false, f, PurposeList);

  AddRequestCommand(access, exit_code, f);
  AddApproveCommand(access, exit_code, f);
  cmd = Sub(access, exit_code, "deny", "Deny a pending request", true, f, Deny);
  cmd->add_option("request-id", f->id, "acr_...")->required();
  cmd->add_option("--reason", f->reason, "Why")->required();
  cmd = Sub(access, exit_code, "withdraw", "Withdraw your own pending request", true, f, Withdraw);
  cmd->add_option("request-id", f->id, "acr_...")->required();
  AddRevokeCommand(access, exit_code, f);
  cmd = Sub(access, exit_code, "show", "One request (acr_...) or grant (gnt_...)", false, f, Show);
  cmd->add_option("id", f->id, "acr_... or gnt_...")->required();
  cmd = Sub(access, exit_code, "list", "Requests", false, f, List);
  cmd->add_option("--state", f->state, "pending, approved, denied, withdrawn, expired, revoked");
  Sub(access, exit_code, "review", "Every active grant with its owners, purpose, age and last use",
      false, f, Review);
  Sub(access, exit_code, "expire", "End grants and requests that are due", false, f, Expire);

  CLI::App* governance = app.add_subcommand(
      "governance", "Classification, owners and stewards of resources (approval rules)");
  governance->require_subcommand(1);
  cmd =
      Sub(governance, exit_code, "register", "Register a resource", true, f,
          [](server::Instance& in, const AccessFlags& g) { return GovernanceWrite(in, g, true); });
  AddGovernanceFlags(cmd, *f);
  cmd =
      Sub(governance, exit_code, "update", "Replace a resource's record", true, f,
          [](server::Instance& in, const AccessFlags& g) { return GovernanceWrite(in, g, false); });
  AddGovernanceFlags(cmd, *f);
  Sub(governance, exit_code, "list", "Every governed resource", false, f, GovernanceList);

  AddRequestCommand(&app, exit_code, f);
  AddApproveCommand(&app, exit_code, f);
  AddRevokeCommand(&app, exit_code, f);
}

}  // namespace custos::cli
