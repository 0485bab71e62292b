// The audit log: sealing, tree extension and the one atomic write per batch (see log.h).
#include "audit/log.h"

#include <algorithm>
#include <array>

#include "audit/checkpoint.h"
#include "audit/log_signer.h"
#include "crypto/aead.h"

namespace custos::audit {

std::string SegmentKeyOwner(uint64_t segment) { return "audit-seg:" + std::to_string(segment); }

common::Bytes EntryAssociatedData(uint64_t index) {
  common::Bytes ad = common::ToBytes("audit");
  for (int i = 7; i >= 0; --i) ad.push_back(static_cast<uint8_t>(index >> (8 * i)));
  return ad;
}

AuditLog::AuditLog(storage::Kv& kv, crypto::Keyring& keyring, LogOptions options,
                   NoteVerifier verifier, AuditIndex index)
    : kv_(kv),
      keyring_(keyring),
      options_(std::move(options)),
      verifier_(std::move(verifier)),
      index_(std::move(index)) {}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                 LogOptions options) {
  CUSTOS_ASSIGN_OR_RETURN(NoteSigner signer, LoadOrCreateLogSigner(kv, keyring, options.origin));
  if (!options.public_key_path.empty()) {
    CUSTOS_RETURN_IF_ERROR(WritePublicKeyFile(signer.verifier(), options.public_key_path));
  }
  CUSTOS_ASSIGN_OR_RETURN(AuditIndex index, AuditIndex::Open(kv, keyring));
  std::unique_ptr<AuditLog> log(
      new AuditLog(kv, keyring, options, signer.verifier(), std::move(index)));
  CUSTOS_RETURN_IF_ERROR(log->LoadState());
  log->durable_size_ = log->range_.size();
  log->durable_root_ = log->range_.Root();
  CUSTOS_ASSIGN_OR_RETURN(auto latest, ReadLatestCheckpoint(kv));
  AuditLog* self = log.get();
  log->checkpointer_ = std::make_unique<Checkpointer>(
      kv, std::move(signer),
      CheckpointerOptions{options.origin, options.checkpoint_interval,
                          options.durability == Durability::kFsync},
      [self] {
        std::lock_guard<std::mutex> lock(self->tree_mu_);
        return std::make_pair(self->durable_size_, self->durable_root_);
      },
      std::move(latest));
  if (options.background_checkpoints) log->checkpointer_->Start();
  CUSTOS_ASSIGN_OR_RETURN(uint64_t indexed, AuditIndexer::ReadWatermark(kv));
  if (indexed > log->durable_size_) {
    return DataLossError("the audit index covers " + std::to_string(indexed) +
                         " entries but the log holds " + std::to_string(log->durable_size_) +
                         ": the log was rolled back; run `custos audit verify` and restore "
                         "the data directory from a replica");
  }
  log->indexer_ = std::make_unique<AuditIndexer>(
      kv, log->index_, [self](uint64_t index) { return self->ReadEvent(index); }, indexed,
      log->durable_size_);
  // In fsync mode the writer writes without sync and a syncer thread fsyncs the
  // write-ahead log, overlapping one batch's fsync with the next batch's work.
  Sequencer::SyncFn sync;
  if (options.durability == Durability::kFsync) sync = [self] { return self->kv_.SyncWal(); };
  log->sequencer_ = std::make_unique<Sequencer>(
      SequencerOptions{options.max_queue, options.max_batch},
      [self](std::span<SequencedEntry> batch) { return self->Commit(batch); }, std::move(sync),
      [self](uint64_t first, std::vector<SequencedEntry>& batch) {
        self->OnDurable(first, batch);
      });
  return log;
}

AuditLog::~AuditLog() { Close(); }

void AuditLog::Close() {
  std::call_once(closed_, [this] {
    if (sequencer_) sequencer_->Stop();
    if (indexer_) indexer_->Stop();
    if (checkpointer_) checkpointer_->Stop();
  });
}

Status AuditLog::LoadState() {
  CUSTOS_ASSIGN_OR_RETURN(LogState state, ReadLogState(kv_));
  CUSTOS_ASSIGN_OR_RETURN(range_,
                          CompactRange::FromFrontier(state.size, std::move(state.frontier)));
  KvTileReader reader(kv_);
  CUSTOS_ASSIGN_OR_RETURN(tiles_, TileWriter::Load(state.size, reader));
  return Status::Ok();
}

Result<std::shared_ptr<const crypto::DataKey>> AuditLog::SegmentKey(uint64_t segment, bool create) {
  std::string owner = SegmentKeyOwner(segment);
  return create ? keyring_.GetOrCreateDataKey(owner) : keyring_.GetDataKey(owner);
}

Result<uint64_t> AuditLog::Commit(std::span<SequencedEntry> batch) {
  const uint64_t first = range_.size();
  // Entries ("e"), then the state ("s"), then the tiles ("t") in key order: storage then
  // takes the batch as it is, without sorting a thousand keys.
  storage::WriteBatch wb;
  storage::WriteBatch tile_wb;
  Status status;
  auto on_complete = [&](const NodeId& node, const Hash& hash) {
    if (status.ok()) status = tiles_.OnComplete(node, hash, tile_wb);
  };
  std::array<uint8_t, 13> ad{'a', 'u', 'd', 'i', 't'};  // EntryAssociatedData, on the stack
  for (size_t i = 0; i < batch.size() && status.ok(); ++i) {
    const uint64_t index = first + i;
    const uint64_t segment = index >> kSegmentBits;
    if (segment != segment_ || !segment_key_) {
      auto key = SegmentKey(segment, /*create=*/true);
      if (!key.ok()) {
        status = key.status().WithContext("audit segment " + std::to_string(segment));
        break;
      }
      segment_key_ = *key;
      segment_ = segment;
    }
    for (int b = 0; b < 8; ++b) ad[5 + b] = static_cast<uint8_t>(index >> (56 - 8 * b));
    std::string sealed;
    sealed.reserve(batch[i].encoded.size() + crypto::Aead::kOverhead);
    segment_key_->aead().SealTo(batch[i].encoded, ad, sealed);
    range_.Append(HashLeaf(common::AsBytes(sealed)), on_complete);
    wb.PutOwned(storage::Keyspace::kAudit, EntryKey(index), std::move(sealed));
  }
  if (status.ok()) {
    tiles_.Flush(tile_wb);
    wb.Put(storage::Keyspace::kAudit, StateKey(),
           EncodeLogState({range_.size(), range_.frontier()}));
    std::vector<storage::WriteBatch::Op> tile_ops = tile_wb.ReleaseOps();
    std::stable_sort(tile_ops.begin(), tile_ops.end(),
                     [](const auto& a, const auto& b) { return a.key < b.key; });
    for (auto& op : tile_ops) wb.PutOwned(op.keyspace, std::move(op.key), std::move(*op.value));
    // Never synced here: in fsync mode the sequencer's syncer makes it durable.
    status = kv_.Write(wb, storage::WriteOptions{.sync = false});
  }
  if (!status.ok()) {
    // Back to what storage holds, so the next batch starts at the same index.
    Status reload = LoadState();
    if (!reload.ok()) return reload.WithContext("audit append failed (" + status.ToString() + ")");
    return status;
  }
  std::lock_guard<std::mutex> lock(tree_mu_);
  written_roots_.push_back({range_.size(), range_.Root()});
  return first;
}

void AuditLog::OnDurable(uint64_t first, std::vector<SequencedEntry>& batch) {
  {
    std::lock_guard<std::mutex> lock(tree_mu_);
    const uint64_t end = first + batch.size();
    while (!written_roots_.empty() && written_roots_.front().first <= end) {
      durable_size_ = written_roots_.front().first;
      durable_root_ = written_roots_.front().second;
      written_roots_.pop_front();
    }
  }
  // The indexer takes the batch whole (its terms); the encodings are not needed any more.
  for (SequencedEntry& entry : batch) common::Bytes().swap(entry.encoded);
  indexer_->Enqueue(first, std::move(batch));
}

Result<uint64_t> AuditLog::Append(const AuditEvent& event) { return AppendAsync(event).get(); }

std::future<Result<uint64_t>> AuditLog::AppendAsync(const AuditEvent& event) {
  auto promise = std::make_shared<std::promise<Result<uint64_t>>>();
  std::future<Result<uint64_t>> future = promise->get_future();
  AppendAsync(event, [promise](Result<uint64_t> index) { promise->set_value(std::move(index)); });
  return future;
}

void AuditLog::AppendAsync(const AuditEvent& event, AppendCallback done) {
  // Encoding runs in the caller's thread, so the writer only seals and hashes.
  auto encoded = EncodeEvent(event);
  if (!encoded.ok()) {
    done(encoded.status().WithContext("audit event"));
    return;
  }
  sequencer_->Submit(SequencedEntry{std::move(*encoded), IndexTerms::Of(event)}, std::move(done));
}

uint64_t AuditLog::size() const {
  std::lock_guard<std::mutex> lock(tree_mu_);
  return durable_size_;
}

Hash AuditLog::root() const {
  std::lock_guard<std::mutex> lock(tree_mu_);
  return durable_root_;
}

Result<common::Bytes> AuditLog::ReadEntry(uint64_t index) {
  CUSTOS_ASSIGN_OR_RETURN(auto value, kv_.Get(storage::Keyspace::kAudit, EntryKey(index)));
  if (!value) {
    return NotFoundError("audit entry " + std::to_string(index) + " does not exist (the log has " +
                         std::to_string(size()) + " entries)");
  }
  return common::ToBytes(*value);
}

Result<AuditEvent> AuditLog::ReadEvent(uint64_t index) {
  CUSTOS_ASSIGN_OR_RETURN(common::Bytes sealed, ReadEntry(index));
  auto key = SegmentKey(index >> kSegmentBits, /*create=*/false);
  if (!key.ok()) {
    return key.status().WithContext("audit entry " + std::to_string(index) +
                                    " cannot be read (its segment key is gone)");
  }
  auto plain = (*key)->aead().Open(sealed, EntryAssociatedData(index));
  if (!plain.ok()) return plain.status().WithContext("audit entry " + std::to_string(index));
  return DecodeEvent(*plain);
}

storage::ReadOptions ProofReadOptions() {
  storage::ReadOptions options;
  options.verify_checksums = false;
  return options;
}

Result<std::vector<Hash>> AuditLog::InclusionProof(uint64_t index, uint64_t tree_size) {
  if (tree_size > size()) {
    return InvalidArgumentError("tree size " + std::to_string(tree_size) +
                                " exceeds the audit log's size " + std::to_string(size()));
  }
  KvHashStore store(kv_, tree_size, ProofReadOptions(), &tile_cache_);
  return audit::InclusionProof(index, tree_size, store);
}

Result<std::vector<Hash>> AuditLog::ConsistencyProof(uint64_t size1, uint64_t size2) {
  if (size2 > size()) {
    return InvalidArgumentError("tree size " + std::to_string(size2) +
                                " exceeds the audit log's size " + std::to_string(size()));
  }
  KvHashStore store(kv_, size2, ProofReadOptions(), &tile_cache_);
  return audit::ConsistencyProof(size1, size2, store);
}

Result<Receipt> AuditLog::ProveIndex(uint64_t index) {
  if (index >= size()) {
    return NotFoundError("audit entry " + std::to_string(index) + " does not exist (the log has " +
                         std::to_string(size()) + " entries)");
  }
  std::string note;
  if (checkpointer_->latest_size() <= index) {
    CUSTOS_ASSIGN_OR_RETURN(note, checkpointer_->CheckpointNow());
  } else {
    CUSTOS_ASSIGN_OR_RETURN(note, checkpointer_->Latest());
  }
  CUSTOS_ASSIGN_OR_RETURN(Note parsed, ParseNote(note));
  CUSTOS_ASSIGN_OR_RETURN(Checkpoint checkpoint, ParseCheckpointText(parsed.text));
  Receipt receipt;
  receipt.index = index;
  CUSTOS_ASSIGN_OR_RETURN(receipt.proof, InclusionProof(index, checkpoint.size));
  receipt.signed_checkpoint = std::move(note);
  return receipt;
}

Result<std::string> AuditLog::CheckpointNow() { return checkpointer_->CheckpointNow(); }

Result<std::string> AuditLog::LatestCheckpoint() const { return checkpointer_->Latest(); }

Status AuditLog::Health() { return sequencer_->Health(); }

uint64_t AuditLog::checkpoint_size() const { return checkpointer_->latest_size(); }

std::chrono::seconds AuditLog::checkpoint_age() const {
  if (checkpointer_->latest_size() >= size()) return std::chrono::seconds(0);
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() -
                                                          checkpointer_->latest_confirmed_at());
}

Result<QueryPage> AuditLog::Query(const EventQuery& query) {
  CUSTOS_RETURN_IF_ERROR(indexer_->WaitFor(size(), std::chrono::seconds(30)));
  return index_.Query(query, [this](uint64_t index) { return ReadEvent(index); });
}

}  // namespace custos::audit
