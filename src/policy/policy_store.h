// PolicyStore: versioned policy sets. Every change (a reload of the policy directory, new
// sources, a template link) makes a new immutable PolicySet with the next version number;
// a change that fails (a malformed file, a duplicate id, an unknown template) leaves the
// current version in place and returns an error with the file and position.
// Thread-safety: all methods are safe to call concurrently. Readers get a shared_ptr to an
// immutable PolicySet, so a decision in progress is never affected by a reload.
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
  // each file). Template links made earlier are re-applied. Returns the new version.
  Result<uint64_t> LoadDirectory(const std::filesystem::path& dir);

  // As LoadDirectory, from in-memory sources.
  Result<uint64_t> LoadSources(const std::vector<PolicySource>& sources);

  // Links template `template_id` as policy `link_id` (slots filled with the given uids;
  // pass null for a slot the template does not have). Returns the new version.
  Result<uint64_t> LinkTemplate(const std::string& template_id, const std::string& link_id,
                                const std::optional<EntityUid>& principal,
                                const std::optional<EntityUid>& resource);

  // The current policy set (version 0 and empty before the first successful load).
  std::shared_ptr<const PolicySet> Current() const;
  uint64_t version() const;

  // Decides `request` against the current version.
  StoreDecision IsAuthorized(const Request& request, const EntityStore& entities) const;

 private:
  struct Link {
    std::string template_id;
    std::string link_id;
    std::optional<EntityUid> principal;
    std::optional<EntityUid> resource;
  };

  // Builds a set from sources plus links; does not publish it.
  Result<std::shared_ptr<const PolicySet>> Build(const std::vector<PolicySource>& sources,
                                                 const std::vector<Link>& links,
                                                 uint64_t version) const;

  mutable std::mutex mu_;
  std::shared_ptr<const PolicySet> current_;
  std::vector<PolicySource> sources_;  // of the current version
  std::vector<Link> links_;            // of the current version
  uint64_t last_version_ = 0;
  std::shared_ptr<const Schema> schema_;  // validates new versions when set
};

}  // namespace custos::policy
