// The governance part of the catalog: for each governed resource (a feature view, feature,
// dataset, artifact or model, named by its Cedar uid such as `FeatureView::"fraud_v1"`) its
// classification, owners and stewards. access/ reads these records to choose approval rules
// and to check who may approve; policies may read the same facts as entity attributes.
//
// Records live in the `catalog` keyspace, sealed under the data key of keyring owner
// "catalog:governance", keyed `"governance" | type | id` (order-preserving).
// Every register and update is audited ("catalog.resource.register" / ".update"), fail
// closed: if the event cannot be appended, nothing changes.
// Thread-safety: a GovernanceRegistry is safe for concurrent use; writes are serialized.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/log.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "policy/value.h"
#include "storage/encrypted_keyspace.h"
#include "storage/kv.h"

namespace custos::catalog {

// The kinds of governed resources; their names are the Cedar entity types.
enum class ResourceKind : uint8_t { kFeatureView, kFeature, kDataset, kArtifact, kModel };
std::string_view ResourceKindName(ResourceKind kind);  // "FeatureView", ...
// InvalidArgument naming the accepted types when `type` is not one of them.
Result<ResourceKind> ParseResourceKind(std::string_view type);

// Sensitivity, ordered: public < internal < confidential < restricted.
enum class Classification : uint8_t {
  kPublic = 0,
  kInternal = 1,
  kConfidential = 2,
  kRestricted = 3
};
inline constexpr Classification kAllClassifications[] = {
    Classification::kPublic, Classification::kInternal, Classification::kConfidential,
    Classification::kRestricted};
std::string_view ClassificationName(Classification c);  // "public", ...
Result<Classification> ParseClassification(std::string_view name);

// Parses `Type::"id"` (Cedar entity literal syntax; `\"` and `\\` escapes in the id).
// Namespaced types (`A::B::"x"`) are accepted. InvalidArgument says what is wrong.
Result<policy::EntityUid> ParseEntityUidText(std::string_view text);

// Principal entity types that may own or steward a resource.
inline constexpr std::string_view kPrincipalTypes[] = {"User", "Group", "ServiceAccount"};

// The governance record of one resource.
struct GovernedResource {
  policy::EntityUid uid;  // e.g. FeatureView::"fraud_v1"; its type names the kind
  Classification classification = Classification::kInternal;
  // Principals (User, Group or ServiceAccount uids) accountable for the resource. At least
  // one owner. A Group owner makes every member an owner (see access/).
  std::vector<policy::EntityUid> owners;
  std::vector<policy::EntityUid> stewards;
  std::string description;
  // Set by the registry:
  common::TimePoint created{};
  common::TimePoint updated{};
  uint64_t revision = 0;  // 1 on register, +1 per update

  ResourceKind kind() const;  // precondition: uid's type is a ResourceKind
  bool IsOwner(const policy::EntityUid& principal) const;
  bool IsSteward(const policy::EntityUid& principal) const;
};

struct GovernanceLimits {
  size_t max_id_bytes = 256;
  size_t max_principals = 64;  // owners and stewards each
  size_t max_description_bytes = 4096;
};

class GovernanceRegistry {
 public:
  // Opens the registry stored in `kv`. `kv`, `keyring`, `audit` and `clock` must outlive it.
  static Result<std::unique_ptr<GovernanceRegistry>> Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                          audit::AuditLog& audit,
                                                          const common::Clock& clock,
                                                          GovernanceLimits limits = {});

  // The caller authorizes the change (policy: `administer` on the resource) before calling;
  // the registry validates it and records who made it.
  // Registers a new resource (`by` is the acting principal, for the audit event).
  // AlreadyExists if it is registered; InvalidArgument for an unknown type, an empty or
  // over-long id, no owner, a non-principal owner or steward, or duplicates.
  Result<GovernedResource> Register(const GovernedResource& spec, const policy::EntityUid& by);
  // Replaces classification, owners, stewards and description. NotFound if not registered.
  Result<GovernedResource> Update(const GovernedResource& spec, const policy::EntityUid& by);

  // For callers that change many records at once and audit the whole change in one event of
  // their own (catalog apply): validates `spec` like Register, and adds its record to
  // `batch` (registered if new, else updated keeping `created` and raising the revision),
  // with `now` as its time. Writes nothing and appends no audit event; the caller appends
  // its event, then writes the batch, and serializes its stagings of one resource.
  Result<GovernedResource> StageUpsert(const GovernedResource& spec, common::TimePoint now,
                                       storage::WriteBatch& batch);

  // NotFound (saying how to register it) when the resource is not registered.
  Result<GovernedResource> Get(const policy::EntityUid& uid) const;
  // Every record, ordered by (type, id); only those of `kind` when given.
  Result<std::vector<GovernedResource>> List(std::optional<ResourceKind> kind = std::nullopt) const;

 private:
  GovernanceRegistry(storage::EncryptedKeyspace store, audit::AuditLog& audit,
                     const common::Clock& clock, GovernanceLimits limits)
      : store_(std::move(store)), audit_(audit), clock_(clock), limits_(limits) {}
  Status Validate(const GovernedResource& spec) const;
  Result<GovernedResource> Write(const GovernedResource& spec, const policy::EntityUid& by,
                                 bool create);

  mutable storage::EncryptedKeyspace store_;
  audit::AuditLog& audit_;
  const common::Clock& clock_;
  const GovernanceLimits limits_;
  std::mutex write_mu_;  // serializes read-modify-write of records
};

// The storage key of a resource's record.
std::string GovernanceKey(const policy::EntityUid& uid);

}  // namespace custos::catalog
