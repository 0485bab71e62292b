// Replication of the audit log to another directory, without keys: entries, tiles and
// checkpoints beyond what the replica holds are copied only after they verify: the
// source's newest checkpoint must be signed by the log's key, the copied entries must
// recompute to its root (and to the root of every checkpoint in between), and it must be
// consistent (RFC 9162 proof from the source's tiles) with the replica's own newest
// checkpoint. A replica is itself a verifiable log (`custos audit verify --dir R`).
// Thread-safety: a free function; nothing else may write to the replica meanwhile.
#pragma once

#include <cstdint>
#include <string_view>

#include "audit/note.h"
#include "common/status.h"
#include "storage/kv.h"

namespace custos::audit {

struct ReplicateReport {
  uint64_t from_size = 0;  // replica size before
  uint64_t to_size = 0;    // replica size after (the source's newest checkpoint)
  uint64_t checkpoints_copied = 0;
};

// Brings `replica` up to the source's newest checkpoint. DataLoss if what the source
// serves does not verify (nothing is written then); FailedPrecondition if the source is
// behind the replica or has forked from it. `origin` empty: the key's name.
Result<ReplicateReport> Replicate(storage::Kv& source, storage::Kv& replica,
                                  const NoteVerifier& key, std::string_view origin = {});

}  // namespace custos::audit
