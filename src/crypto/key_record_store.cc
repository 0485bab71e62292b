// The in-memory KeyRecordStore used by unit tests.
#include "crypto/key_record_store.h"

namespace custos::crypto {

Result<std::optional<common::Bytes>> InMemoryKeyRecordStore::Get(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return std::optional<common::Bytes>();
  return std::optional<common::Bytes>(it->second);
}

Status InMemoryKeyRecordStore::Apply(const std::vector<KeyRecordWrite>& writes) {
  std::lock_guard lock(mu_);
  for (const auto& w : writes) {
    if (w.value) {
      records_[w.key] = *w.value;
    } else {
      records_.erase(w.key);
    }
  }
  return Status::Ok();
}

Status InMemoryKeyRecordStore::Scan(
    std::string_view prefix,
    const std::function<Status(std::string_view, common::ByteView)>& visit) {
  std::vector<std::pair<std::string, common::Bytes>> snapshot;
  {
    std::lock_guard lock(mu_);
    for (auto it = records_.lower_bound(prefix);
         it != records_.end() && it->first.starts_with(prefix); ++it) {
      snapshot.emplace_back(it->first, it->second);
    }
  }
  for (const auto& [k, v] : snapshot) CUSTOS_RETURN_IF_ERROR(visit(k, v));
  return Status::Ok();
}

}  // namespace custos::crypto
