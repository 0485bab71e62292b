// The audit log verifier: needs only the log's public key. It recomputes every leaf hash
// from the stored entries and the tree from the leaves, compares every node with its copy
// in the tile records (C2SP rows and inner rows alike), the log state and every stored
// checkpoint (signature, origin and root), checks RFC 9162 consistency proofs between
// successive checkpoints, and reports the first problem by index. It never decrypts:
// entries are verified as sealed bytes.
// Thread-safety: free functions; the Kv must not be written to while verifying (open a
// read-only store, which is a consistent view). VerifyLog reads on the calling thread and
// hashes on one more thread of its own (so the Kv is read from two threads).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "audit/merkle.h"
#include "audit/note.h"
#include "common/status.h"
#include "storage/kv.h"

namespace custos::audit {

struct VerifyOptions {
  // The checkpoints' expected origin; empty: the public key's name (custos names its
  // key after the origin).
  std::string origin;
};

struct VerifyReport {
  uint64_t entries = 0;      // entries verified (indexes 0..entries-1)
  uint64_t checkpoints = 0;  // checkpoints whose signature and root verified
  uint64_t tile_hashes = 0;  // stored tile-record hashes compared: 2n - popcount(n)
  uint64_t latest_checkpoint_size = 0;
  Hash root{};  // recomputed root over all entries
};

// OK with a report when the log is intact. Otherwise DataLoss whose message starts
// "audit log corrupt at index N: " (N the first bad index: a missing, altered or
// out-of-place entry, the first leaf under an altered tile-record hash, or the first leaf
// of a malformed tile record), or
// "audit log corrupt at checkpoint S: " for a checkpoint that does not verify.
Result<VerifyReport> VerifyLog(storage::Kv& kv, const NoteVerifier& key,
                               const VerifyOptions& options = {});

// Opens the RocksDB of a data or replica directory (<dir>/db) read-only: no lock is
// taken, so it works while a server runs, and nothing is written. Only the audit
// keyspace is readable; writes fail with FailedPrecondition.
Result<std::unique_ptr<storage::Kv>> OpenReadOnlyAuditStore(const std::string& dir);

}  // namespace custos::audit
