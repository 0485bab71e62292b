// The feature-store authorization workload of the policy benchmark (issue 3): ~50 policies
// (RBAC through a 3-level group hierarchy; ABAC on classification, purpose, environment
// and region; template-linked grants with an expiry checked against context.now), 10,000
// entities and 100,000 requests. Generated deterministically, as Cedar text and JSON, so
// that a peer engine (cedar-wasm) can be fed exactly the same inputs.
// Thread-safety: plain functions and values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace custos::bench {

struct WorkloadRequest {
  std::string principal_id;   // User
  std::string action_id;      // Action
  std::string resource_type;  // Feature or FeatureView
  std::string resource_id;
  std::string context_json;  // {"purpose": ..., "environment": ..., ...}
};

struct Workload {
  std::string policies;    // Cedar policy text (static policies and templates)
  std::string links_json;  // [{"template": id, "link": id, "principal": uid, "resource": uid}]
  std::string entities;    // Cedar JSON entities
  std::string schema;      // .cedarschema text
  std::vector<WorkloadRequest> requests;
  struct Link {
    std::string template_id, link_id, principal_id, resource_type, resource_id;
  };
  std::vector<Link> links;
};

namespace detail {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return s_;
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }

 private:
  uint64_t s_;
};

inline std::string Uid(const std::string& type, const std::string& id) {
  return "{\"type\":\"" + type + "\",\"id\":\"" + id + "\"}";
}

}  // namespace detail

inline Workload MakeWorkload(size_t num_requests = 100000, uint64_t seed = 42) {
  using detail::Rng;
  using detail::Uid;
  Workload w;
  Rng rng(seed);
  const char* purposes[] = {"fraud", "marketing", "research", "support"};
  const char* envs[] = {"dev", "staging", "prod"};
  const char* regions[] = {"eu", "us", "apac"};
  const char* actions[] = {
      "read",    "read_pseudonymized", "read_masked", "read_aggregate", "write", "export", "apply",
      "approve", "administer"};

  w.schema = R"(entity Group in [Group];
entity User in [Group] { clearance: Long, purposes: Set<String>, region: String, mfa: Bool };
entity FeatureView { classification: Long, region: String, residency: Bool, owner: Group };
entity Feature in [FeatureView] { classification: Long, pii: Bool };
action reads, writes;
action read, read_pseudonymized, read_masked, read_aggregate in [reads]
  appliesTo { principal: User, resource: [Feature, FeatureView], context: Ctx };
action write, apply in [writes]
  appliesTo { principal: User, resource: [Feature, FeatureView], context: Ctx };
action export, approve, administer
  appliesTo { principal: User, resource: [Feature, FeatureView], context: Ctx };
type Ctx = { purpose: String, environment: String, region: String, mfa: Bool, now: datetime };
)";

  // Entities: 5 orgs > 25 departments > 100 teams; 4,000 users; 500 views; 5,370 features.
  std::string e = "[\n";
  auto add = [&](const std::string& line) {
    if (e.size() > 2) e += ",\n";
    e += line;
  };
  for (int o = 0; o < 5; ++o)
    add("{\"uid\":" + Uid("Group", "org" + std::to_string(o)) + ",\"attrs\":{},\"parents\":[]}");
  for (int d = 0; d < 25; ++d) {
    add("{\"uid\":" + Uid("Group", "dept" + std::to_string(d)) + ",\"attrs\":{},\"parents\":[" +
        Uid("Group", "org" + std::to_string(d / 5)) + "]}");
  }
  for (int t = 0; t < 100; ++t) {
    add("{\"uid\":" + Uid("Group", "team" + std::to_string(t)) + ",\"attrs\":{},\"parents\":[" +
        Uid("Group", "dept" + std::to_string(t / 4)) + "]}");
  }
  // Action entities with their groups (also declared in the schema).
  add("{\"uid\":" + Uid("Action", "reads") + ",\"attrs\":{},\"parents\":[]}");
  add("{\"uid\":" + Uid("Action", "writes") + ",\"attrs\":{},\"parents\":[]}");
  for (const char* a : actions) {
    std::string action(a);
    std::string parent = action.rfind("read", 0) == 0               ? "reads"
                         : (action == "write" || action == "apply") ? "writes"
                                                                    : "";
    add("{\"uid\":" + Uid("Action", action) + ",\"attrs\":{},\"parents\":[" +
        (parent.empty() ? "" : Uid("Action", parent)) + "]}");
  }
  const int kUsers = 4000, kViews = 500, kFeatures = 5359;
  for (int u = 0; u < kUsers; ++u) {
    std::string parents = Uid("Group", "team" + std::to_string(rng.Below(100)));
    if (rng.Below(3) == 0) parents += "," + Uid("Group", "team" + std::to_string(rng.Below(100)));
    std::string ps = "\"" + std::string(purposes[rng.Below(4)]) + "\"";
    if (rng.Below(2)) ps += ",\"" + std::string(purposes[rng.Below(4)]) + "\"";
    add("{\"uid\":" + Uid("User", "u" + std::to_string(u)) +
        ",\"attrs\":{\"clearance\":" + std::to_string(rng.Below(4)) + ",\"purposes\":[" + ps +
        "],\"region\":\"" + regions[rng.Below(3)] +
        "\",\"mfa\":" + (rng.Below(2) ? "true" : "false") + "},\"parents\":[" + parents + "]}");
  }
  for (int v = 0; v < kViews; ++v) {
    add("{\"uid\":" + Uid("FeatureView", "fv" + std::to_string(v)) +
        ",\"attrs\":{\"classification\":" + std::to_string(rng.Below(4)) + ",\"region\":\"" +
        regions[rng.Below(3)] + "\",\"residency\":" + (rng.Below(3) == 0 ? "true" : "false") +
        ",\"owner\":" + Uid("Group", "team" + std::to_string(rng.Below(100))) +
        "},\"parents\":[]}");
  }
  for (int f = 0; f < kFeatures; ++f) {
    add("{\"uid\":" + Uid("Feature", "f" + std::to_string(f)) + ",\"attrs\":{\"classification\":" +
        std::to_string(rng.Below(4)) + ",\"pii\":" + (rng.Below(4) == 0 ? "true" : "false") +
        "},\"parents\":[" + Uid("FeatureView", "fv" + std::to_string(f % kViews)) + "]}");
  }
  e += "\n]\n";
  w.entities = std::move(e);

  // Policies: RBAC per organisation / department; ABAC; environment and residency guards.
  std::string p;
  int n = 0;
  auto policy = [&](const std::string& text) {
    p += "@id(\"p" + std::to_string(n++) + "\")\n" + text + "\n";
  };
  for (int o = 0; o < 5; ++o) {
    policy("permit(principal in Group::\"org" + std::to_string(o) +
           "\", action == Action::\"read_aggregate\", resource is FeatureView);");
  }
  for (int d = 0; d < 25; d += 2) {
    policy("permit(principal in Group::\"dept" + std::to_string(d) +
           "\", action in Action::\"reads\", resource in FeatureView::\"fv" +
           std::to_string(d * 20) + "\");");
  }
  for (int t = 0; t < 100; t += 10) {
    policy("permit(principal in Group::\"team" + std::to_string(t) +
           "\", action in [Action::\"write\", Action::\"apply\"], resource) when "
           "{ resource has owner && resource.owner == Group::\"team" +
           std::to_string(t) + "\" };");
  }
  policy(
      "permit(principal, action == Action::\"read\", resource is Feature) when {\n"
      "  principal.clearance >= resource.classification &&\n"
      "  principal.purposes.contains(context.purpose) && context.environment != \"dev\" };");
  policy(
      "permit(principal, action == Action::\"read_pseudonymized\", resource is Feature) "
      "when { principal.clearance + 1 >= resource.classification && "
      "[\"fraud\", \"research\"].contains(context.purpose) };");
  policy(
      "permit(principal, action == Action::\"read_masked\", resource) when "
      "{ context.purpose like \"*e*\" && principal.region == context.region };");
  policy(
      "permit(principal in Group::\"org0\", action == Action::\"export\", resource is "
      "FeatureView) when { context.mfa && principal.mfa && resource.classification < 2 };");
  policy(
      "permit(principal in Group::\"dept3\", action in [Action::\"approve\", "
      "Action::\"administer\"], resource) when { context.mfa };");
  policy(
      "forbid(principal, action, resource) when { context.environment == \"prod\" && "
      "resource has classification && resource.classification >= 3 && !context.mfa };");
  policy(
      "forbid(principal, action == Action::\"export\", resource) when { resource has pii && "
      "resource.pii };");
  policy(
      "forbid(principal, action, resource is FeatureView) when { resource.residency && "
      "resource.region != context.region };");
  policy(
      "forbid(principal, action in Action::\"reads\", resource is Feature) when "
      "{ context.purpose == \"marketing\" && resource.pii };");
  policy(
      "forbid(principal, action in Action::\"writes\", resource) unless "
      "{ context.environment == \"dev\" || context.mfa };");
  // Templates: grants with an expiry (one template per expiry date).
  const char* expiries[] = {"2026-06-30", "2026-12-31", "2027-03-31", "2027-06-30", "2027-12-31"};
  for (int i = 0; i < 5; ++i) {
    p += "@id(\"grant-template-" + std::to_string(i) +
         "\")\n"
         "permit(principal == ?principal, action in Action::\"reads\", resource in ?resource) "
         "when { context.now < datetime(\"" +
         std::string(expiries[i]) + "\") };\n";
  }
  w.policies = std::move(p);
  std::string links = "[";
  for (int i = 0; i < 12; ++i) {
    Workload::Link link{"grant-template-" + std::to_string(i % 5), "grant-" + std::to_string(i),
                        "u" + std::to_string(rng.Below(kUsers)), "FeatureView",
                        "fv" + std::to_string(rng.Below(kViews))};
    if (i > 0) links += ",";
    links += "{\"template\":\"" + link.template_id + "\",\"link\":\"" + link.link_id +
             "\",\"principal\":" + Uid("User", link.principal_id) +
             ",\"resource\":" + Uid(link.resource_type, link.resource_id) + "}";
    w.links.push_back(std::move(link));
  }
  w.links_json = links + "]";

  const char* nows[] = {"2026-01-15T10:00:00Z", "2026-09-01T08:30:00Z", "2027-05-05T23:59:59Z"};
  w.requests.reserve(num_requests);
  for (size_t i = 0; i < num_requests; ++i) {
    WorkloadRequest r;
    // A third of the requests come from linked grantees, so grants matter.
    if (i % 3 == 0) {
      const auto& link = w.links[rng.Below(w.links.size())];
      r.principal_id = link.principal_id;
    } else {
      r.principal_id = "u" + std::to_string(rng.Below(kUsers));
    }
    r.action_id = actions[rng.Below(9)];
    if (rng.Below(2)) {
      r.resource_type = "Feature";
      r.resource_id = "f" + std::to_string(rng.Below(kFeatures));
    } else {
      r.resource_type = "FeatureView";
      r.resource_id = "fv" + std::to_string(rng.Below(kViews));
    }
    r.context_json = std::string("{\"purpose\":\"") + purposes[rng.Below(4)] +
                     "\",\"environment\":\"" + envs[rng.Below(3)] + "\",\"region\":\"" +
                     regions[rng.Below(3)] + "\",\"mfa\":" + (rng.Below(2) ? "true" : "false") +
                     ",\"now\":{\"__extn\":{\"fn\":\"datetime\",\"arg\":\"" + nows[rng.Below(3)] +
                     "\"}}}";
    w.requests.push_back(std::move(r));
  }
  return w;
}

}  // namespace custos::bench
