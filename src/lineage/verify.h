// `custos lineage verify`: every stored lineage record must match the audit event that
// admitted it (same SHA-256 of its canonical bytes), and every node whose content can
// still be read (a source snapshot or other node with a local file in its "path"
// attribute) must still hash to its recorded content_sha256.
// Thread-safety: free function over thread-safe stores.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "audit/log.h"
#include "common/status.h"
#include "lineage/lineage_store.h"

namespace custos::lineage {

struct VerifyReport {
  uint64_t records_checked = 0;
  uint64_t content_hashes_checked = 0;  // nodes whose content was re-read and re-hashed
  uint64_t content_not_available = 0;   // nodes with a hash whose content is gone
  std::vector<std::string> problems;    // each says which record or node and what differs
  bool ok() const { return problems.empty(); }
};

// Reads the whole lineage store. A storage error ends it early as a Status; mismatches
// are problems in the report.
Result<VerifyReport> VerifyLineage(LineageStore& store, audit::AuditLog& audit);

}  // namespace custos::lineage
