// The principal directory: users, service accounts and (nested) groups with typed
// attributes, stored sealed in the `identity` keyspace, and exported as Cedar entities so
// that `principal in Group::"risk"` follows nested groups and `principal.clearance` reads
// an attribute.
//
// A principal's id is its Cedar uid, e.g. `User::"alice"`, `ServiceAccount::"fraud-scorer"`,
// `Group::"risk-team"`. Membership is stored on the member (its direct parent groups, as
// Cedar entities hold it); only groups have members, and a membership that would make a
// group its own ancestor is refused.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "identity/identity_audit.h"
#include "policy/entities.h"
#include "storage/encrypted_keyspace.h"
#include "storage/kv.h"

namespace custos::identity {

enum class PrincipalType : uint8_t { kUser = 0, kServiceAccount = 1, kGroup = 2 };

// "User", "ServiceAccount", "Group": the Cedar entity type.
std::string_view PrincipalTypeName(PrincipalType type);

// Longest principal id (the part in quotes), in bytes.
inline constexpr size_t kMaxPrincipalIdLength = 128;

// A principal's identity: type and id. Ids are 1..128 characters of letters, digits and
// `. _ - @ +` (so e-mail addresses work), and never start with a punctuation character.
struct PrincipalId {
  PrincipalType type = PrincipalType::kUser;
  std::string id;

  // Validates type and id. InvalidArgument says which rule the id breaks.
  static Result<PrincipalId> Make(PrincipalType type, std::string_view id);
  // Parses the Cedar uid text `User::"alice"` (no whitespace, no escapes).
  static Result<PrincipalId> Parse(std::string_view text);
  static PrincipalId User(std::string_view id) { return {PrincipalType::kUser, std::string(id)}; }
  static PrincipalId ServiceAccount(std::string_view id) {
    return {PrincipalType::kServiceAccount, std::string(id)};
  }
  static PrincipalId Group(std::string_view id) { return {PrincipalType::kGroup, std::string(id)}; }

  // `User::"alice"`.
  std::string ToString() const;
  policy::EntityUid ToEntityUid() const;
  // The principal as an audit event's resource (type and id, unversioned).
  audit::ResourceRef ToAuditRef() const;

  friend bool operator==(const PrincipalId&, const PrincipalId&) = default;
  friend auto operator<=>(const PrincipalId&, const PrincipalId&) = default;
};

// Checks the id part alone (what Make checks after the type).
Status ValidatePrincipalId(std::string_view id);

// A typed attribute value: string, long, bool or set of strings (Cedar's types for them).
class AttributeValue {
 public:
  enum class Kind : uint8_t { kString = 0, kLong = 1, kBool = 2, kStringSet = 3 };

  static AttributeValue String(std::string_view s);
  static AttributeValue Long(int64_t n);
  static AttributeValue Bool(bool b);
  // Sorted and deduplicated, as a Cedar set is.
  static AttributeValue StringSet(std::vector<std::string> items);

  Kind kind() const { return kind_; }
  // Preconditions: the value has that kind.
  const std::string& string_value() const { return string_; }
  int64_t long_value() const { return long_; }
  bool bool_value() const { return long_ != 0; }
  const std::vector<std::string>& set_value() const { return set_; }

  policy::Value ToCedar() const;
  // Cedar syntax, e.g. `"risk"`, `3`, `true`, `["a", "b"]`.
  std::string ToString() const;

  friend bool operator==(const AttributeValue&, const AttributeValue&) = default;

 private:
  Kind kind_ = Kind::kString;
  std::string string_;
  int64_t long_ = 0;
  std::vector<std::string> set_;
};

using Attributes = std::map<std::string, AttributeValue>;

struct Principal {
  PrincipalId id;
  std::string display_name;
  Attributes attributes;
  std::vector<PrincipalId> parents;  // direct parent groups, sorted
  bool disabled = false;
  common::TimePoint created;
  common::TimePoint updated;
};

struct NewPrincipal {
  PrincipalId id;
  std::string display_name;  // may be empty (then the id is shown)
  Attributes attributes;
};

// Changes to a principal's attributes: `set` adds or replaces, `remove` deletes (a name in
// both is an error). Removing an absent attribute is an error, so typos do not go unseen.
struct AttributeUpdate {
  Attributes set;
  std::vector<std::string> remove;
  std::optional<std::string> display_name;  // replaces the display name when given
};

struct DirectoryOptions {
  // Keyring owner of the data key that seals principal records. Default "identity".
  std::string key_owner = "identity";
  // Limits that keep a record (and the entities built from it) small. Defaults 64
  // attributes, 256 items per set, 1024 bytes per string, 256 bytes of display name,
  // 64 direct parent groups.
  size_t max_attributes = 64;
  size_t max_set_items = 256;
  size_t max_string_bytes = 1024;
  size_t max_display_name_bytes = 256;
  size_t max_parents = 64;
};

// Thread-safety: safe for concurrent use. Reads take no lock (Entities() a short one for
// its cache); every change is serialized by one mutex, so the cycle check and the write it
// guards see the same directory.
// Fail closed: each change is validated, its audit event appended, and only then written
// (in one atomic batch). If the append fails the change is not written; if the write
// fails after the event, a second event records the failure.
class Directory {
 public:
  // `kv`, `keyring` and `auditor` must outlive the directory.
  static Result<std::unique_ptr<Directory>> Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                 IdentityAuditor& auditor,
                                                 DirectoryOptions options = {});

  // AlreadyExists if the id is taken; InvalidArgument for a bad attribute or name.
  Result<Principal> Create(const Caller& caller, const NewPrincipal& principal);
  // NotFound when absent.
  Result<Principal> Get(const PrincipalId& id) const;
  Result<Principal> UpdateAttributes(const Caller& caller, const PrincipalId& id,
                                     const AttributeUpdate& update);
  // A disabled principal stays in groups and policies but cannot authenticate.
  Status SetDisabled(const Caller& caller, const PrincipalId& id, bool disabled);
  // Deletes the principal; a deleted group is also removed from its members' parents.
  Status Delete(const Caller& caller, const PrincipalId& id);
  // Every principal (of `type` when given), ordered by type then id.
  Result<std::vector<Principal>> List(std::optional<PrincipalType> type = std::nullopt) const;

  // Makes `member` a direct member of `group`. InvalidArgument if `group` is not a group;
  // FailedPrecondition if it would create a membership cycle (the message shows the path);
  // AlreadyExists if it is a direct member already.
  Status AddMember(const Caller& caller, const PrincipalId& group, const PrincipalId& member);
  // NotFound if `member` is not a direct member of `group`.
  Status RemoveMember(const Caller& caller, const PrincipalId& group, const PrincipalId& member);
  // Direct members of `group`, sorted.
  Result<std::vector<PrincipalId>> Members(const PrincipalId& group) const;
  // Every group `id` is in, directly or through nested groups, sorted.
  Result<std::vector<PrincipalId>> Ancestors(const PrincipalId& id) const;

  // Ok when the principal exists and is enabled: Unauthenticated otherwise, saying which
  // (used by API keys, MFA and tokens before they accept a credential).
  Status CheckActive(const PrincipalId& id) const;

  // Every principal as a Cedar entity (attributes as Cedar values, direct parents as the
  // entity's parents). Cached: rebuilt (scanned and decrypted) only when a change has been
  // committed since the cached list was built, so a change holds from the next call on.
  Result<std::shared_ptr<const std::vector<policy::Entity>>> Entities() const;
  // Adds Entities() to `store`; the caller adds its other entities and calls Build().
  Status ExportEntities(policy::EntityStore& store) const;
  // A built store of just the principals.
  Result<policy::EntityStore> BuildEntityStore() const;

  // Increases with every committed change: a caller that caches exported entities
  // rebuilds when the generation it built from is no longer current.
  uint64_t generation() const;

 private:
  Directory(storage::Kv& kv, storage::EncryptedKeyspace space, IdentityAuditor& auditor,
            DirectoryOptions options)
      : kv_(kv), space_(std::move(space)), auditor_(auditor), options_(std::move(options)) {}
  Status ValidateAttributes(const Attributes& attributes) const;
  Result<std::optional<Principal>> Load(const PrincipalId& id) const;
  // Appends the event, then writes `batch`; see the class comment.
  Status AuditThenCommit(const Caller& caller, const IdentityStep& step,
                         const storage::WriteBatch& batch);
  void Stage(storage::WriteBatch& batch, const Principal& principal) const;

  storage::Kv& kv_;
  mutable storage::EncryptedKeyspace space_;
  IdentityAuditor& auditor_;
  const DirectoryOptions options_;
  mutable std::mutex write_mu_;
  std::atomic<uint64_t> generation_{0};
  // The entity cache and the generation it was built at (guarded by cache_mu_).
  mutable std::mutex cache_mu_;
  mutable std::shared_ptr<const std::vector<policy::Entity>> cached_entities_;
  mutable uint64_t cached_generation_ = 0;
};

}  // namespace custos::identity
