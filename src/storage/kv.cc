// Kv helpers shared by every engine.
#include "storage/kv.h"

#include "common/key_encoding.h"

namespace custos::storage {

std::string_view KeyspaceName(Keyspace keyspace) {
  switch (keyspace) {
    case Keyspace::kCatalog:
      return "catalog";
    case Keyspace::kKeys:
      return "keys";
    case Keyspace::kOnline:
      return "online";
    case Keyspace::kOffline:
      return "offline";
    case Keyspace::kAudit:
      return "audit";
    case Keyspace::kLineage:
      return "lineage";
    case Keyspace::kIdentity:
      return "identity";
    case Keyspace::kAccess:
      return "access";
    case Keyspace::kArtifacts:
      return "artifacts";
  }
  return "unknown";
}

Status Kv::ScanPrefix(Keyspace keyspace, std::string_view prefix,
                      const std::function<Status(std::string_view, std::string_view)>& visit,
                      const ReadOptions& options) {
  ReadOptions bounded = options;
  bounded.lower_bound = std::string(prefix);
  bounded.upper_bound = common::PrefixSuccessor(prefix);
  std::unique_ptr<Iterator> it = NewIterator(keyspace, bounded);
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    CUSTOS_RETURN_IF_ERROR(visit(it->key(), it->value()));
  }
  return it->status();
}

}  // namespace custos::storage
