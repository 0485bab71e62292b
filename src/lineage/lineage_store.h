// LineageStore: the provenance graph's records in the `lineage` keyspace (values sealed
// with AES-256-GCM under the "lineage" data key; keys hold node ids, as the catalog's hold
// names) and their adjacency in memory (GraphIndex), rebuilt at open.
//
// Keys: "r" seq -> audit index + record (canonical bytes; the replay order at open),
// "n" node id -> node + seq of the record that added it, "e" from to run -> edge time +
// seq. (Stores written before the newest versions were kept in memory also hold
// "l" kind:name -> newest node id; nothing reads those any more.)
//
// Besides the adjacency, memory holds what every ingested record needs, so that adding
// records costs the same however large the store grows: each node's content digest (Check
// compares a re-recorded node with it instead of reading and unsealing the stored node)
// and each kind:name's newest version (LatestVersion). Both are rebuilt from the
// authenticated records at open, like the adjacency.
//
// Adding is in two steps so that the caller can audit in between: Check validates a
// batch of records against the graph and each other (field checks, dangling references,
// nodes recorded with other content, cycles), changing nothing; Commit stores the
// accepted ones with their audit indexes and makes them visible to queries.
// Thread-safety: safe for concurrent use; Check and Commit must not run concurrently with
// each other (LineageService serializes them), queries may run at any time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "crypto/hash.h"
#include "crypto/keyring.h"
#include "lineage/graph.h"
#include "lineage/graph_index.h"
#include "storage/encrypted_keyspace.h"
#include "storage/kv.h"

namespace custos::lineage {

// A node as stored: what was recorded and by which record.
struct StoredNode {
  Node node;
  uint64_t record_seq = 0;
};

// What Check found for one record: OK, or why it was refused; the accepted records'
// new nodes and edges (duplicates of stored ones dropped).
struct CheckedRecord {
  Status status;
  LineageRecord record;  // as submitted
  std::string bytes;     // accepted records: EncodeRecord(record), encoded once for the
                         // audit event's digest and the stored value
  std::vector<Node> new_nodes;
  std::vector<Edge> new_edges;
};

// A record as stored, for verification and export.
struct StoredRecord {
  uint64_t seq = 0;
  // DataLoss when the stored value does not authenticate or is malformed; then the
  // fields below are unset (and the record is not in the graph).
  Status integrity;
  uint64_t audit_index = 0;
  std::string bytes;  // EncodeRecord's canonical bytes
};

// Edges and nodes of a walk, with ids resolved.
struct Subgraph {
  struct NodeAt {
    std::string id;
    NodeKind kind = NodeKind::kDataset;
    uint32_t depth = 0;
  };
  std::vector<NodeAt> nodes;  // the start first
  std::vector<Edge> edges;    // times filled from storage
  bool truncated = false;
};

class LineageStore {
 public:
  // Reads every record to rebuild the index. Records whose stored value does not
  // authenticate are left out of the graph (VerifyLineage names them). `kv` and
  // `keyring` must outlive the store.
  static Result<std::unique_ptr<LineageStore>> Open(storage::Kv& kv, crypto::Keyring& keyring);

  // Validates `records` in order, each against the stored graph plus the ones accepted
  // before it in the batch. Changes nothing.
  std::vector<CheckedRecord> Check(std::vector<LineageRecord> records);

  // Stores the accepted records of `checked` (status OK), in order, with their audit
  // indexes (one per accepted record), then adds them to the index.
  Status Commit(const std::vector<CheckedRecord>& checked,
                const std::vector<uint64_t>& audit_indexes);

  Result<std::optional<StoredNode>> GetNode(std::string_view id);
  // The most recently recorded version of kind:name (its node id), or nullopt. Answered
  // from memory.
  Result<std::optional<std::string>> LatestVersion(NodeKind kind, std::string_view name);
  // NotFound (with the id) if the node is unknown. Answered from memory; edges carry
  // ids and runs, and FillEdgeTimes adds their times from storage.
  Result<Subgraph> Walk(std::string_view start_id, const WalkOptions& options);
  Status FillEdgeTimes(Subgraph& graph);

  // The record stored under `seq`, or nullopt.
  Result<std::optional<LineageRecord>> GetRecord(uint64_t seq);

  // Every stored record in order, damaged ones included (see StoredRecord::integrity);
  // `visit` returning non-OK stops the scan with it.
  Status ForEachRecord(const std::function<Status(const StoredRecord&)>& visit);

  size_t node_count() const;
  size_t edge_count() const;
  // Intact records that could not be added to the graph at open (they use nodes of a
  // damaged record), one message each.
  const std::vector<std::string>& load_problems() const { return load_problems_; }

 private:
  LineageStore(storage::Kv& kv, storage::EncryptedKeyspace values)
      : kv_(kv), values_(std::move(values)) {}
  Status Load();
  // Applies an accepted record's nodes and edges to index_ (caller holds the lock).
  // Returns the error of the first edge that would close a cycle, having undone the
  // record's changes.
  Status ApplyToIndex(const LineageRecord& record, std::vector<Edge>* new_edges);
  void UndoFromIndex(size_t node_count_before, const std::vector<Edge>& added_edges);
  // After ApplyToIndex accepted `record` for good (Load, Commit): the digests and newest
  // versions of its nodes numbered `nodes_before` and above (caller holds the lock).
  void NoteCommittedNodes(const LineageRecord& record, size_t nodes_before);

  storage::Kv& kv_;
  storage::EncryptedKeyspace values_;
  mutable std::shared_mutex mutex_;  // guards index_
  GraphIndex index_;
  // By node number, for committed nodes only (Check's provisional nodes are numbered
  // past the end): SHA-256 of EncodeNode.
  std::vector<crypto::Digest> node_digests_;
  // "kind:name" -> node number of the newest committed version.
  std::unordered_map<std::string, uint32_t> latest_;
  std::vector<std::string> load_problems_;  // written only by Load
  uint64_t next_seq_ = 1;                   // touched only by Load and Commit, which are serialized
};

}  // namespace custos::lineage
