// Verified, incremental replication of the audit log (see replica.h).
#include "audit/replica.h"

#include <map>

#include "audit/checkpoint.h"
#include "audit/hash_store.h"
#include "common/key_encoding.h"

namespace custos::audit {
namespace {

constexpr uint64_t kEntriesPerWrite = 8192;

// The verified checkpoints stored in `kv` with sizes in (after, up_to].
Result<std::map<uint64_t, std::pair<std::string, Hash>>> VerifiedCheckpoints(
    storage::Kv& kv, uint64_t after, uint64_t up_to, std::string_view origin,
    const NoteVerifierSet& known) {
  std::map<uint64_t, std::pair<std::string, Hash>> out;
  storage::ReadOptions ro;
  ro.lower_bound = CheckpointKey(after + 1);
  ro.upper_bound = CheckpointKey(up_to + 1);
  auto it = kv.NewIterator(storage::Keyspace::kAudit, ro);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    CUSTOS_ASSIGN_OR_RETURN(uint64_t size, ParseCheckpointKey(it->key()));
    auto checkpoint = OpenCheckpoint(it->value(), origin, known);
    if (!checkpoint.ok() || checkpoint->size != size) {
      return DataLossError("the source's checkpoint " + std::to_string(size) + " does not verify" +
                           (checkpoint.ok() ? std::string(" (stored under another size)")
                                            : ": " + checkpoint.status().ToString()));
    }
    out.emplace(size, std::make_pair(std::string(it->value()), checkpoint->root));
  }
  CUSTOS_RETURN_IF_ERROR(it->status());
  return out;
}

}  // namespace

Result<ReplicateReport> Replicate(storage::Kv& source, storage::Kv& replica,
                                  const NoteVerifier& key, std::string_view origin) {
  const std::string log_origin = origin.empty() ? key.name() : std::string(origin);
  NoteVerifierSet known;
  CUSTOS_RETURN_IF_ERROR(known.Add(key));

  CUSTOS_ASSIGN_OR_RETURN(LogState have, ReadLogState(replica));
  ReplicateReport report{have.size, have.size, 0};
  std::optional<Checkpoint> replica_latest;
  {
    CUSTOS_ASSIGN_OR_RETURN(auto note, ReadLatestCheckpoint(replica));
    if (note) {
      auto checkpoint = OpenCheckpoint(*note, log_origin, known);
      if (!checkpoint.ok()) {
        return checkpoint.status().WithContext("the replica's own newest checkpoint");
      }
      replica_latest = *checkpoint;
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(auto source_note, ReadLatestCheckpoint(source));
  if (!source_note) return report;  // nothing signed to copy yet
  auto target = OpenCheckpoint(*source_note, log_origin, known);
  if (!target.ok()) {
    return DataLossError("the source's newest checkpoint does not verify: " +
                         target.status().ToString());
  }
  if (target->size < have.size) {
    return FailedPreconditionError("the source's newest checkpoint (size " +
                                   std::to_string(target->size) + ") is behind the replica (" +
                                   std::to_string(have.size) +
                                   " entries): is this the right source directory?");
  }
  if (replica_latest && replica_latest->size > 0) {
    KvHashStore store(source, target->size);
    auto proof = ConsistencyProof(replica_latest->size, target->size, store);
    Status s = proof.ok() ? VerifyConsistency(replica_latest->size, target->size, *proof,
                                              replica_latest->root, target->root)
                          : proof.status();
    if (!s.ok()) {
      return FailedPreconditionError("the source's checkpoint " + std::to_string(target->size) +
                                     " is not consistent with the replica's checkpoint " +
                                     std::to_string(replica_latest->size) +
                                     " (the source log forked or was rewritten): " + s.ToString());
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(auto checkpoints,
                          VerifiedCheckpoints(source, have.size, target->size, log_origin, known));

  // Pass 1: verify everything to be copied, writing nothing.
  auto read_entries =
      [&](const std::function<Status(uint64_t, std::string_view)>& visit) -> Status {
    storage::ReadOptions ro;
    ro.lower_bound = EntryKey(have.size);
    ro.upper_bound = EntryKey(target->size);
    auto it = source.NewIterator(storage::Keyspace::kAudit, ro);
    uint64_t expected = have.size;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
      CUSTOS_ASSIGN_OR_RETURN(uint64_t index, ParseEntryKey(it->key()));
      if (index != expected) {
        return DataLossError("the source lacks entry " + std::to_string(expected));
      }
      CUSTOS_RETURN_IF_ERROR(visit(index, it->value()));
    }
    CUSTOS_RETURN_IF_ERROR(it->status());
    if (expected != target->size) {
      return DataLossError("the source lacks entry " + std::to_string(expected) +
                           " below its checkpoint " + std::to_string(target->size));
    }
    return Status::Ok();
  };
  {
    CUSTOS_ASSIGN_OR_RETURN(CompactRange range,
                            CompactRange::FromFrontier(have.size, have.frontier));
    CUSTOS_RETURN_IF_ERROR(read_entries([&](uint64_t, std::string_view entry) -> Status {
      range.Append(HashLeaf(common::AsBytes(entry)), nullptr);
      auto c = checkpoints.find(range.size());
      if (c != checkpoints.end() && c->second.second != range.Root()) {
        return DataLossError("the source's entries below " + std::to_string(range.size()) +
                             " do not match its signed checkpoint " + std::to_string(range.size()) +
                             " (run `custos audit verify` on it)");
      }
      return Status::Ok();
    }));
    if (range.Root() != target->root) {
      return DataLossError("the source's entries do not match its newest checkpoint");
    }
  }

  // Pass 2: copy in bounded writes; the state record advances with each write.
  CUSTOS_ASSIGN_OR_RETURN(CompactRange range, CompactRange::FromFrontier(have.size, have.frontier));
  KvTileReader replica_tiles(replica);
  CUSTOS_ASSIGN_OR_RETURN(TileWriter tiles, TileWriter::Load(have.size, replica_tiles));
  storage::WriteBatch batch;
  Status tile_status;
  auto flush = [&]() -> Status {
    CUSTOS_RETURN_IF_ERROR(tile_status);
    tiles.Flush(batch);
    batch.Put(storage::Keyspace::kAudit, StateKey(),
              EncodeLogState({range.size(), range.frontier()}));
    Status s = replica.Write(batch, storage::WriteOptions{.sync = true});
    batch.Clear();
    return s;
  };
  CUSTOS_RETURN_IF_ERROR(read_entries([&](uint64_t index, std::string_view entry) -> Status {
    batch.Put(storage::Keyspace::kAudit, EntryKey(index), entry);
    range.Append(HashLeaf(common::AsBytes(entry)), [&](const NodeId& node, const Hash& hash) {
      if (tile_status.ok()) tile_status = tiles.OnComplete(node, hash, batch);
    });
    auto c = checkpoints.find(range.size());
    if (c != checkpoints.end()) {
      batch.Put(storage::Keyspace::kAudit, CheckpointKey(c->first), c->second.first);
      ++report.checkpoints_copied;
    }
    if ((index + 1 - have.size) % kEntriesPerWrite == 0) return flush();
    return Status::Ok();
  }));
  if (!checkpoints.count(target->size) &&
      (!replica_latest || replica_latest->size != target->size)) {
    batch.Put(storage::Keyspace::kAudit, CheckpointKey(target->size), *source_note);
    ++report.checkpoints_copied;
  }
  CUSTOS_RETURN_IF_ERROR(flush());
  report.to_size = range.size();
  return report;
}

}  // namespace custos::audit
