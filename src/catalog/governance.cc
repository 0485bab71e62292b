// Governance records: validation, storage as sealed JSON, and audited writes.
#include "catalog/governance.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/key_encoding.h"

namespace custos::catalog {
namespace {

using Json = nlohmann::json;
using policy::EntityUid;

constexpr std::string_view kKeyringOwner = "catalog:governance";
constexpr std::string_view kKeyPrefix = "governance";
constexpr std::string_view kKindNames[] = {"FeatureView", "Feature", "Dataset", "Artifact",
                                           "Model"};
constexpr std::string_view kClassNames[] = {"public", "internal", "confidential", "restricted"};

Json UidToJson(const EntityUid& uid) { return Json::array({uid.type(), uid.id()}); }

EntityUid UidFromJson(const Json& j) {
  return EntityUid(j.at(0).get<std::string>(), j.at(1).get<std::string>());
}

std::string Encode(const GovernedResource& r) {
  Json j;
  j["uid"] = UidToJson(r.uid);
  j["classification"] = ClassificationName(r.classification);
  j["owners"] = Json::array();
  for (const auto& o : r.owners) j["owners"].push_back(UidToJson(o));
  j["stewards"] = Json::array();
  for (const auto& s : r.stewards) j["stewards"].push_back(UidToJson(s));
  j["description"] = r.description;
  j["created_us"] = common::ToUnixMicros(r.created);
  j["updated_us"] = common::ToUnixMicros(r.updated);
  j["revision"] = r.revision;
  return j.dump();
}

Result<GovernedResource> Decode(std::string_view key, std::string_view text) {
  try {
    Json j = Json::parse(text);
    GovernedResource r;
    r.uid = UidFromJson(j.at("uid"));
    auto c = ParseClassification(j.at("classification").get<std::string>());
    if (!c.ok()) return c.status();
    r.classification = *c;
    for (const auto& o : j.at("owners")) r.owners.push_back(UidFromJson(o));
    for (const auto& s : j.at("stewards")) r.stewards.push_back(UidFromJson(s));
    r.description = j.at("description").get<std::string>();
    r.created = common::FromUnixMicros(j.at("created_us").get<int64_t>());
    r.updated = common::FromUnixMicros(j.at("updated_us").get<int64_t>());
    r.revision = j.at("revision").get<uint64_t>();
    return r;
  } catch (const std::exception& e) {
    return DataLossError("catalog governance record " + common::HexEncode(common::AsBytes(key)) +
                         " does not decode: " + e.what());
  }
}

bool Contains(const std::vector<EntityUid>& list, const EntityUid& uid) {
  return std::find(list.begin(), list.end(), uid) != list.end();
}

Status CheckPrincipals(const std::vector<EntityUid>& list, std::string_view role,
                       const GovernanceLimits& limits, const EntityUid& resource) {
  if (list.size() > limits.max_principals) {
    return InvalidArgumentError(resource.ToString() + ": " + std::to_string(list.size()) + " " +
                                std::string(role) + "s, at most " +
                                std::to_string(limits.max_principals) + " allowed");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const EntityUid& p = list[i];
    if (std::find(std::begin(kPrincipalTypes), std::end(kPrincipalTypes), p.type()) ==
        std::end(kPrincipalTypes)) {
      return InvalidArgumentError(resource.ToString() + ": " + std::string(role) + " " +
                                  p.ToString() +
                                  " is not a principal; use a User, Group or ServiceAccount uid");
    }
    if (p.id().empty()) {
      return InvalidArgumentError(resource.ToString() + ": " + std::string(role) + " " +
                                  std::to_string(i) + " has an empty id");
    }
    if (std::find(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(i), p) !=
        list.begin() + static_cast<std::ptrdiff_t>(i)) {
      return InvalidArgumentError(resource.ToString() + ": " + std::string(role) + " " +
                                  p.ToString() + " is listed twice");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view ResourceKindName(ResourceKind kind) {
  return kKindNames[static_cast<size_t>(kind)];
}

Result<ResourceKind> ParseResourceKind(std::string_view type) {
  for (size_t i = 0; i < std::size(kKindNames); ++i) {
    if (kKindNames[i] == type) return static_cast<ResourceKind>(i);
  }
  return InvalidArgumentError("`" + std::string(type) +
                              "` is not a governed resource type; use FeatureView, Feature, "
                              "Dataset, Artifact or Model");
}

std::string_view ClassificationName(Classification c) {
  return kClassNames[static_cast<size_t>(c)];
}

Result<Classification> ParseClassification(std::string_view name) {
  for (size_t i = 0; i < std::size(kClassNames); ++i) {
    if (kClassNames[i] == name) return static_cast<Classification>(i);
  }
  return InvalidArgumentError("unknown classification `" + std::string(name) +
                              "`; use public, internal, confidential or restricted");
}

Result<EntityUid> ParseEntityUidText(std::string_view text) {
  size_t quote = text.find('"');
  if (quote == std::string_view::npos || quote < 3 || text.substr(quote - 2, 2) != "::" ||
      text.size() < quote + 2 || text.back() != '"') {
    return InvalidArgumentError("`" + std::string(text) +
                                "` is not an entity uid; write it as Type::\"id\", e.g. "
                                "FeatureView::\"fraud_v1\"");
  }
  std::string_view type = text.substr(0, quote - 2);
  for (size_t i = 0; i < type.size(); ++i) {
    char c = type[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9') || c == ':';
    if (!ok) {
      return InvalidArgumentError("`" + std::string(text) + "`: column " + std::to_string(i + 1) +
                                  ": unexpected character in the entity type");
    }
  }
  std::string id;
  std::string_view body = text.substr(quote + 1, text.size() - quote - 2);
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '\\') {
      if (i + 1 < body.size() && (body[i + 1] == '"' || body[i + 1] == '\\')) {
        id.push_back(body[++i]);
        continue;
      }
      return InvalidArgumentError("`" + std::string(text) + "`: column " +
                                  std::to_string(quote + 2 + i) +
                                  ": only \\\" and \\\\ escapes are accepted in an id");
    }
    if (c == '"') {
      return InvalidArgumentError("`" + std::string(text) + "`: column " +
                                  std::to_string(quote + 2 + i) + ": unescaped quote in the id");
    }
    id.push_back(c);
  }
  return EntityUid(type, id);
}

ResourceKind GovernedResource::kind() const {
  auto k = ParseResourceKind(uid.type());
  return k.ok() ? *k : ResourceKind::kDataset;
}

bool GovernedResource::IsOwner(const EntityUid& principal) const {
  return Contains(owners, principal);
}

bool GovernedResource::IsSteward(const EntityUid& principal) const {
  return Contains(stewards, principal);
}

std::string GovernanceKey(const EntityUid& uid) {
  return common::KeyBuilder()
      .AddString(kKeyPrefix)
      .AddString(uid.type())
      .AddString(uid.id())
      .Release();
}

Result<std::unique_ptr<GovernanceRegistry>> GovernanceRegistry::Open(storage::Kv& kv,
                                                                     crypto::Keyring& keyring,
                                                                     audit::AuditLog& audit,
                                                                     const common::Clock& clock,
                                                                     GovernanceLimits limits) {
  CUSTOS_ASSIGN_OR_RETURN(
      storage::EncryptedKeyspace store,
      storage::EncryptedKeyspace::Open(kv, storage::Keyspace::kCatalog, keyring, kKeyringOwner));
  return std::unique_ptr<GovernanceRegistry>(
      new GovernanceRegistry(std::move(store), audit, clock, limits));
}

Status GovernanceRegistry::Validate(const GovernedResource& spec) const {
  CUSTOS_RETURN_IF_ERROR(ParseResourceKind(spec.uid.type()));
  if (spec.uid.id().empty()) {
    return InvalidArgumentError(std::string(spec.uid.type()) +
                                ": empty resource id; give the resource a name");
  }
  if (spec.uid.id().size() > limits_.max_id_bytes) {
    return InvalidArgumentError(std::string(spec.uid.type()) + " id of " +
                                std::to_string(spec.uid.id().size()) + " bytes; at most " +
                                std::to_string(limits_.max_id_bytes) + " allowed");
  }
  for (unsigned char c : spec.uid.id()) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError(spec.uid.ToString() +
                                  ": control characters are not allowed "
                                  "in a resource id");
    }
  }
  if (static_cast<size_t>(spec.classification) >= std::size(kClassNames)) {
    return InvalidArgumentError(spec.uid.ToString() + ": invalid classification");
  }
  if (spec.owners.empty()) {
    return InvalidArgumentError(spec.uid.ToString() +
                                ": no owner; every governed resource needs at least one owner");
  }
  CUSTOS_RETURN_IF_ERROR(CheckPrincipals(spec.owners, "owner", limits_, spec.uid));
  CUSTOS_RETURN_IF_ERROR(CheckPrincipals(spec.stewards, "steward", limits_, spec.uid));
  if (spec.description.size() > limits_.max_description_bytes) {
    return InvalidArgumentError(spec.uid.ToString() + ": description of " +
                                std::to_string(spec.description.size()) + " bytes; at most " +
                                std::to_string(limits_.max_description_bytes) + " allowed");
  }
  return Status::Ok();
}

Result<GovernedResource> GovernanceRegistry::Write(const GovernedResource& spec,
                                                   const EntityUid& by, bool create) {
  audit::AuditEvent event;
  event.time = clock_.Now();
  event.principal_id = by.ToString();
  event.action = create ? "catalog.resource.register" : "catalog.resource.update";
  event.resources.push_back({std::string(spec.uid.type()), std::string(spec.uid.id()), 0});
  auto refuse = [&](Status status) -> Status {
    event.decision = audit::Decision::kDeny;
    event.outcome = audit::Outcome::kDenied;
    event.outcome_detail = status.ToString().substr(0, audit::kMaxEventString);
    auto appended = audit_.Append(event);
    if (!appended.ok()) return appended.status().WithContext("cannot audit a refused change");
    return status;
  };

  if (Status s = Validate(spec); !s.ok()) return refuse(s);
  std::lock_guard lock(write_mu_);
  const std::string key = GovernanceKey(spec.uid);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> existing, store_.Get(key));
  GovernedResource record = spec;
  record.updated = event.time;
  if (create) {
    if (existing) {
      return refuse(AlreadyExistsError(spec.uid.ToString() +
                                       " is already registered; use update to change it"));
    }
    record.created = event.time;
    record.revision = 1;
  } else {
    if (!existing) {
      return refuse(NotFoundError(spec.uid.ToString() +
                                  " is not registered; register it before updating it"));
    }
    CUSTOS_ASSIGN_OR_RETURN(GovernedResource old, Decode(key, *existing));
    record.created = old.created;
    record.revision = old.revision + 1;
  }
  event.resources[0].version = record.revision;
  event.decision = audit::Decision::kAllow;
  event.outcome = audit::Outcome::kOk;
  event.outcome_detail =
      std::string("classification=") + std::string(ClassificationName(record.classification));
  // Fail closed: the change happens only once its event is in the log.
  CUSTOS_RETURN_IF_ERROR(audit_.Append(event));
  CUSTOS_RETURN_IF_ERROR(store_.Put(key, Encode(record)));
  return record;
}

Result<GovernedResource> GovernanceRegistry::Register(const GovernedResource& spec,
                                                      const EntityUid& by) {
  return Write(spec, by, /*create=*/true);
}

Result<GovernedResource> GovernanceRegistry::Update(const GovernedResource& spec,
                                                    const EntityUid& by) {
  return Write(spec, by, /*create=*/false);
}

Result<GovernedResource> GovernanceRegistry::StageUpsert(const GovernedResource& spec,
                                                         common::TimePoint now,
                                                         storage::WriteBatch& batch) {
  CUSTOS_RETURN_IF_ERROR(Validate(spec));
  std::lock_guard lock(write_mu_);
  const std::string key = GovernanceKey(spec.uid);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> existing, store_.Get(key));
  GovernedResource record = spec;
  record.updated = now;
  record.created = now;
  record.revision = 1;
  if (existing) {
    CUSTOS_ASSIGN_OR_RETURN(GovernedResource old, Decode(key, *existing));
    record.created = old.created;
    record.revision = old.revision + 1;
  }
  store_.PutTo(batch, key, Encode(record));
  return record;
}

Result<GovernedResource> GovernanceRegistry::Get(const EntityUid& uid) const {
  const std::string key = GovernanceKey(uid);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> value, store_.Get(key));
  if (!value) {
    return NotFoundError(uid.ToString() +
                         " is not registered in the catalog; register it with its "
                         "classification and owners first");
  }
  return Decode(key, *value);
}

Result<std::vector<GovernedResource>> GovernanceRegistry::List(
    std::optional<ResourceKind> kind) const {
  common::KeyBuilder prefix;
  prefix.AddString(kKeyPrefix);
  if (kind) prefix.AddString(ResourceKindName(*kind));
  std::vector<GovernedResource> out;
  CUSTOS_RETURN_IF_ERROR(
      store_.ScanPrefix(prefix.key(), [&](std::string_view key, std::string_view value) -> Status {
        CUSTOS_ASSIGN_OR_RETURN(GovernedResource r, Decode(key, value));
        out.push_back(std::move(r));
        return Status::Ok();
      }));
  return out;
}

}  // namespace custos::catalog
