// Entities (uid, attributes, parents, tags) and the entity store the evaluator reads,
// with the transitive ancestor relation computed once when the store is built, plus
// readers for Cedar's JSON entity and context formats (schema-aware when given a schema).
// Thread-safety: an EntityStore is immutable after Build(); safe to share between threads.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "policy/value.h"

namespace custos::policy {

class Schema;

struct Entity {
  EntityUid uid;
  Value attrs = Value::Record({});  // a record
  Value tags = Value::Record({});   // a record of tag name -> value
  std::vector<EntityUid> parents;   // direct parents, as given
  // Transitive ancestors (parents, their parents, ...), sorted by (hash, uid) for lookup,
  // and their hashes in the same order (searched without touching the uids' data).
  // Filled by EntityStore::Build().
  std::vector<EntityUid> ancestors;
  std::vector<size_t> ancestor_hashes;

  // True if `uid` is an ancestor (not counting the entity itself).
  bool IsDescendantOf(const EntityUid& uid) const;
};

class EntityStore {
 public:
  EntityStore() = default;
  EntityStore(EntityStore&&) noexcept = default;
  EntityStore& operator=(EntityStore&&) noexcept = default;
  // Copies rebuild the lookup index (it points into the entity map).
  EntityStore(const EntityStore& other);
  EntityStore& operator=(const EntityStore& other);

  // Adds an entity; a second entity with the same uid is an error.
  Status Add(Entity entity);
  // Adds an entity unless one with that uid exists (used for schema action entities).
  void AddIfAbsent(Entity entity);
  // Computes every entity's transitive ancestors. Call once after the last Add; parents
  // that are not in the store still count as ancestors (they just have no parents).
  void Build();

  // Null if the entity is not in the store.
  const Entity* Find(const EntityUid& uid) const {
    if (index_.empty()) {
      auto it = entities_.find(uid);
      return it == entities_.end() ? nullptr : &it->second;
    }
    // Open addressing over (hash, entity): most probes never leave the slot array.
    const size_t h = uid.hash();
    for (size_t i = h & index_mask_;; i = (i + 1) & index_mask_) {
      const Slot& slot = index_[i];
      if (slot.entity == nullptr) return nullptr;
      if (slot.hash == h && slot.entity->uid == uid) return slot.entity;
    }
  }
  size_t size() const { return entities_.size(); }
  const std::unordered_map<EntityUid, Entity, EntityUidHash>& entities() const { return entities_; }

 private:
  void BuildIndex();

  struct Slot {
    size_t hash = 0;
    const Entity* entity = nullptr;
  };
  std::unordered_map<EntityUid, Entity, EntityUidHash> entities_;
  // Built by Build(); cleared by Add (Find then falls back to the map).
  std::vector<Slot> index_;
  size_t index_mask_ = 0;
};

// Parses Cedar's JSON entity list: `[{"uid": {...}, "attrs": {...}, "parents": [...],
// "tags": {...}}, ...]`. A uid is `{"type": T, "id": I}` or `{"__entity": {...}}`. With a
// schema, attribute and tag values are read at their declared types (a string becomes an
// extension value, `{"type","id"}` an entity, where the schema says so) and the schema's
// action entities (with their action-group parents) are added. The store is built.
Result<EntityStore> ParseEntitiesJson(std::string_view json, const Schema* schema = nullptr,
                                      std::string_view filename = "<entities>");

// Parses a request context (a JSON object). With a schema and the request's action, values
// are read at the types of that action's declared context.
Result<Value> ParseContextJson(std::string_view json, const Schema* schema = nullptr,
                               const EntityUid* action = nullptr);

// Parses an entity uid in JSON (`{"type","id"}` or `{"__entity": {...}}`) from text.
Result<EntityUid> ParseEntityUidJson(std::string_view json);

// Parses one Cedar value in JSON without a schema (`__entity` / `__extn` escapes apply).
Result<Value> ParseValueJson(std::string_view json);

}  // namespace custos::policy
