// PolicyStore: versioned policy sets. Every change (a reload of the policy directory, new
// sources, a template link, a batch of managed changes) makes a new immutable PolicySet with
// the next version number; a change that fails (a malformed file, a duplicate id, an unknown
// template) leaves the current version in place and returns an error with the file and
// position.
//
// Two kinds of policy text live here:
//   - directory sources (LoadDirectory / LoadSources): the operator's policy files; each load
//     replaces all of them;
//   - managed sources (Apply): text owned by a program, e.g. the per-grant templates of
//     access/. They survive every directory load and are changed only through Apply.
// Template links (to templates of either kind) survive directory loads as well.
//
// Caching rule: nothing here caches decisions. Any decision cache built on top must key its
// entries by the policy-set version (StoreDecision::version()), so that an unlink (a revoked
// grant) holds from the very next call: every change bumps the version.
// Thread-safety: all methods are safe to call concurrently. Readers get a shared_ptr to an
// immutable PolicySet, so a decision in progress is never affected by a change; a call that
// starts after a change returned sees that change (or a later one).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "policy/authorizer.h"
#include "policy/schema.h"

namespace custos::policy {

// One policy file: its name (used in ids and messages) and its text.
struct PolicySource {
  std::string name;  // e.g. "access.cedar"
  std::string text;
};

// A template link: `template_id` with its slots filled, published as policy `link_id`.
struct TemplateLink {
  std::string template_id;
  std::string link_id;
  std::optional<EntityUid> principal;  // null when the template has no ?principal
  std::optional<EntityUid> resource;   // null when the template has no ?resource
};

// A group of changes published as one new version (all or nothing). Applied in this order:
// removals, then additions.
struct PolicyChange {
  // Managed sources to add, by name (unique among managed sources). Policy ids come from
  // `@id` annotations, else `<name stem>/policy<N>`.
  std::vector<PolicySource> add_sources;
  // Names of managed sources to drop, together with every link to their templates.
  std::vector<std::string> remove_sources;
  std::vector<TemplateLink> add_links;
  // Ids of links to drop.
  std::vector<std::string> remove_links;

  bool empty() const {
    return add_sources.empty() && remove_sources.empty() && add_links.empty() &&
           remove_links.empty();
  }
};

// A decision together with the policy set that made it (which keeps the ids alive).
struct StoreDecision {
  std::shared_ptr<const PolicySet> policy_set;
  Response response;
  uint64_t version() const { return response.policy_set_version; }
};

class PolicyStore {
 public:
  PolicyStore();

  // From now on, every new version must validate against `schema` (strict mode): a
  // policy set with a type error, an unknown entity type or action, or an attribute
  // access the schema does not allow is refused and the current version stays.
  // nullptr turns validation off. Does not re-check the current version.
  void SetSchema(std::shared_ptr<const Schema> schema);

  // Loads every `*.cedar` file directly in `dir` (sorted by name). Policy ids are the
  // `@id("...")` annotation if present, else `<file stem>/policy<N>` (N counts from 0 in
  // each file). Managed sources and template links are kept. Returns the new version.
  Result<uint64_t> LoadDirectory(const std::filesystem::path& dir);

  // As LoadDirectory, from in-memory sources.
  Result<uint64_t> LoadSources(const std::vector<PolicySource>& sources);

  // Links template `template_id` as policy `link_id` (slots filled with the given uids;
  // pass null for a slot the template does not have). Returns the new version.
  Result<uint64_t> LinkTemplate(const std::string& template_id, const std::string& link_id,
                                const std::optional<EntityUid>& principal,
                                const std::optional<EntityUid>& resource);

  // Removes link `link_id`. NotFound if there is no such link. Returns the new version.
  Result<uint64_t> UnlinkTemplate(const std::string& link_id);

  // Applies `change` as one new version. NotFound for an unknown source or link to remove,
  // AlreadyExists for a managed source name or link id in use, InvalidArgument for text
  // that does not parse or validate. An empty change still makes a new version.
  Result<uint64_t> Apply(const PolicyChange& change);

  // The current policy set (version 0 and empty before the first successful change).
  std::shared_ptr<const PolicySet> Current() const;
  uint64_t version() const;

  // Names of the managed sources and ids of the links, in the current version.
  std::vector<std::string> ManagedSourceNames() const;
  std::vector<std::string> LinkIds() const;

  // Decides `request` against the current version.
  StoreDecision IsAuthorized(const Request& request, const EntityStore& entities) const;

 private:
  // Parsed policy text, kept so that a change re-parses only what it adds.
  struct ParsedSource {
    PolicySource source;
    std::vector<Policy> policies;
  };

  static Result<ParsedSource> Parse(const PolicySource& source);
  // Builds a set from directory sources, managed sources and links; does not publish it.
  Result<std::shared_ptr<const PolicySet>> Build(const std::vector<ParsedSource>& sources,
                                                 const std::vector<ParsedSource>& managed,
                                                 const std::vector<TemplateLink>& links,
                                                 uint64_t version) const;
  // Builds and publishes; on error nothing changes. Caller holds mu_.
  Result<uint64_t> PublishLocked(std::vector<ParsedSource> sources,
                                 std::vector<ParsedSource> managed,
                                 std::vector<TemplateLink> links);

  mutable std::mutex mu_;
  std::shared_ptr<const PolicySet> current_;
  // Of the current version:
  std::vector<ParsedSource> sources_;  // directory sources
  std::vector<ParsedSource> managed_;  // managed sources
  std::vector<TemplateLink> links_;
  uint64_t last_version_ = 0;
  std::shared_ptr<const Schema> schema_;  // validates new versions when set
};

}  // namespace custos::policy
