// The audit log: an append-only, tamper-evident RFC 9162 Merkle log of AuditEvents,
// stored in the `audit` keyspace, with signed C2SP checkpoints, proofs and receipts.
//
// What is a leaf. The log's entries are the *stored* bytes: each event's canonical
// encoding (event.h) sealed with AES-256-GCM under the data key of its audit segment
// (keyring owner "audit-seg:<index / 2^20>"), with associated data "audit" | index
// (8 bytes big-endian), so an entry moved to another index fails to open. The leaf
// hash is RFC 9162 HashLeaf(stored bytes). Hence:
//   - anyone holding only the log's public key (audit.pub) can verify everything:
//     entries, tiles, checkpoints and their consistency (audit/verifier.h);
//   - only key holders can read events;
//   - shredding a segment's data key erases what its events said, and the log stays
//     verifiable (the sealed bytes, and so the hashes, do not change).
//
// Pieces (after Trillian and Tessera): the Sequencer batches appends (group commit);
// the commit step here seals, extends the tree (CompactRange), and writes entries,
// completed tiles and the new state in one atomic write; the Checkpointer signs;
// hash_store.h is the storage layout; the AuditIndexer maintains the query indexes
// (audit_index.h) behind the log, off the durable path.
// Append returns only once its entry is durable (fsync by default); the fsync of one
// batch overlaps the sealing and writing of the next (see sequencer.h).
// Thread-safety: an AuditLog is safe for concurrent use from any number of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "audit/audit_index.h"
#include "audit/checkpointer.h"
#include "audit/event.h"
#include "audit/hash_store.h"
#include "audit/indexer.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/receipt.h"
#include "audit/sequencer.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "storage/kv.h"

namespace custos::audit {

// Entries per audit segment (one data key each): 2^20.
inline constexpr int kSegmentBits = 20;
// "audit-seg:<n>": the keyring owner of segment n's data key.
std::string SegmentKeyOwner(uint64_t segment);
// "audit" | index: the associated data binding a sealed entry to its index.
common::Bytes EntryAssociatedData(uint64_t index);

// How proofs read tiles: without the storage engine's block checksums, since every hash
// a proof carries is checked by its verifier against a signed checkpoint (a corrupt tile
// yields a proof that fails, never a false one) and the checksum of a 16 KB tile record
// costs more than the proof itself.
storage::ReadOptions ProofReadOptions();

enum class Durability {
  kFsync,     // each batch is fsynced before callers are answered (default)
  kOsBuffer,  // survives a process crash, not a power loss; much faster
};

struct LogOptions {
  // The checkpoint origin line and note key name. Default "custos.local/audit".
  std::string origin = "custos.local/audit";
  Durability durability = Durability::kFsync;
  // Group commit bounds (see SequencerOptions). Defaults 65536 and 4096.
  size_t max_queue = 65536;
  size_t max_batch = 4096;
  // Longest time from growth to a covering checkpoint. Default 1 s.
  std::chrono::milliseconds checkpoint_interval{1000};
  // Run the background checkpointer. Default true (false: only CheckpointNow).
  bool background_checkpoints = true;
  // Where to write the public key (vkey) file; empty: do not write one.
  std::string public_key_path;
  // No clock is needed: event times come from the caller (the request pipeline's
  // injected clock), and checkpoint cadence is a steady-clock timer (tests set a short
  // checkpoint_interval or call CheckpointNow).
};

class AuditLog {
 public:
  // Opens the log stored in `kv` (creating its signing and index keys on first use).
  // `kv` and `keyring` must outlive the log.
  static Result<std::unique_ptr<AuditLog>> Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                LogOptions options = {});
  ~AuditLog();  // Close()
  // Drains queued appends, writes a last checkpoint and stops the threads.
  void Close();

  // Appends the event; returns its index once durable. InvalidArgument if the event
  // does not encode, ResourceExhausted when the queue is full, and the storage error
  // if the batch's write failed (nothing of that batch is in the log then).
  Result<uint64_t> Append(const AuditEvent& event);
  std::future<Result<uint64_t>> AppendAsync(const AuditEvent& event);
  // The same with a callback, run on the log's writer thread (it must not block or
  // append); an event that does not encode is answered at once, on the calling thread.
  void AppendAsync(const AuditEvent& event, AppendCallback done);

  // OK while appends can succeed (readiness): the sticky fsync failure otherwise.
  Status Health();

  // The number of durable entries and their root.
  uint64_t size() const;
  Hash root() const;

  // The stored (sealed) bytes of entry `index`: the Merkle leaf.
  Result<common::Bytes> ReadEntry(uint64_t index);
  // The decrypted event. NotFound if the segment's key was shredded or no such entry.
  Result<AuditEvent> ReadEvent(uint64_t index);

  // Proofs from the stored tiles; sizes may not exceed size().
  Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t tree_size);
  Result<std::vector<Hash>> ConsistencyProof(uint64_t size1, uint64_t size2);
  // A C2SP tlog-proof receipt for `index` against the newest checkpoint, issuing a
  // checkpoint first if the newest one does not cover `index` yet.
  Result<Receipt> ProveIndex(uint64_t index);

  // Signs a checkpoint of the durable tree now (if it grew) and returns the newest note.
  Result<std::string> CheckpointNow();
  Result<std::string> LatestCheckpoint() const;
  // Entries the newest checkpoint covers, and how long ago a checkpoint was last signed
  // or found current (zero while it covers the whole log): for metrics.
  uint64_t checkpoint_size() const;
  std::chrono::seconds checkpoint_age() const;

  // Waits (up to 30 s) until the index covers every entry durable when the query began.
  Result<QueryPage> Query(const EventQuery& query);

  const NoteVerifier& verifier() const { return verifier_; }
  const std::string& origin() const { return options_.origin; }

 private:
  AuditLog(storage::Kv& kv, crypto::Keyring& keyring, LogOptions options, NoteVerifier verifier,
           AuditIndex index);
  Status LoadState();
  Result<uint64_t> Commit(std::span<SequencedEntry> batch);
  void OnDurable(uint64_t first, std::vector<SequencedEntry>& batch);
  Result<std::shared_ptr<const crypto::DataKey>> SegmentKey(uint64_t segment, bool create);

  storage::Kv& kv_;
  crypto::Keyring& keyring_;
  const LogOptions options_;
  const NoteVerifier verifier_;
  const AuditIndex index_;

  // Owned by the sequencer's writer thread (and LoadState before it starts).
  CompactRange range_;
  TileWriter tiles_;
  std::shared_ptr<const crypto::DataKey> segment_key_;
  uint64_t segment_ = UINT64_MAX;

  // Upper-level and right-edge tile records, shared by proofs (thread-safe).
  TileRecordCache tile_cache_;

  mutable std::mutex tree_mu_;  // guards the trees below
  uint64_t durable_size_ = 0;
  Hash durable_root_{};
  // (size, root) after each written batch that is not durable yet, oldest first.
  std::deque<std::pair<uint64_t, Hash>> written_roots_;

  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<AuditIndexer> indexer_;
  std::unique_ptr<Sequencer> sequencer_;
  std::once_flag closed_;
};

}  // namespace custos::audit
