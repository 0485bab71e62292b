// Lineage records in storage and in the in-memory index: check, commit, load, walk.
#include "lineage/lineage_store.h"

#include <mutex>
#include <unordered_map>
#include <utility>

#include "common/binary_io.h"
#include "common/bytes.h"
#include "common/key_encoding.h"
#include "storage/encrypted_keyspace.h"

namespace custos::lineage {
namespace {

constexpr char kRecordPrefix = 'r';
constexpr char kNodePrefix = 'n';
constexpr char kEdgePrefix = 'e';
constexpr size_t kMaxRunIdBytes = 256;
constexpr size_t kMaxOriginBytes = 1024;
// The data key every lineage value is sealed under (shredding it forgets the graph).
constexpr std::string_view kKeyOwner = "lineage";

std::string RecordKey(uint64_t seq) {
  return common::KeyBuilder().AddRaw(std::string(1, kRecordPrefix)).AddUint64(seq).Release();
}
std::string NodeKey(std::string_view id) { return std::string(1, kNodePrefix) + std::string(id); }
std::string EdgeKey(std::string_view from, std::string_view to, std::string_view run) {
  common::KeyBuilder key;
  key.AddRaw(std::string(1, kEdgePrefix)).AddString(from).AddString(to).AddString(run);
  return key.Release();
}
std::string NameKey(NodeKind kind, std::string_view name) {
  std::string key(NodeKindName(kind));
  key += ':';
  key += name;
  return key;
}

// What Check compares a re-recorded node by: equal canonical bytes, equal node.
crypto::Digest NodeDigest(const Node& node) {
  const std::string bytes = EncodeNode(node);
  return crypto::Sha256Of(common::AsBytes(bytes));
}

std::string EdgeName(size_t index, const Edge& edge) {
  return "edge " + std::to_string(index) + " ('" + edge.from + "' -> '" + edge.to + "'" +
         (edge.run_id.empty() ? "" : ", run '" + edge.run_id + "'") + ")";
}

Status CheckRecordFields(const LineageRecord& record) {
  if (record.nodes.empty() && record.edges.empty()) {
    return InvalidArgumentError("the lineage record is empty: give at least one node or edge");
  }
  if (record.nodes.size() > kMaxNodesPerRecord) {
    return InvalidArgumentError("the lineage record has " + std::to_string(record.nodes.size()) +
                                " nodes; split it into records of at most " +
                                std::to_string(kMaxNodesPerRecord));
  }
  if (record.edges.size() > kMaxEdgesPerRecord) {
    return InvalidArgumentError("the lineage record has " + std::to_string(record.edges.size()) +
                                " edges; split it into records of at most " +
                                std::to_string(kMaxEdgesPerRecord));
  }
  if (record.origin.size() > kMaxOriginBytes || record.principal.size() > kMaxOriginBytes) {
    return InvalidArgumentError("the lineage record's origin or principal is longer than " +
                                std::to_string(kMaxOriginBytes) + " bytes");
  }
  for (const Node& node : record.nodes) CUSTOS_RETURN_IF_ERROR(ValidateNode(node));
  for (size_t i = 0; i < record.edges.size(); ++i) {
    const Edge& edge = record.edges[i];
    if (edge.run_id.size() > kMaxRunIdBytes) {
      return InvalidArgumentError(EdgeName(i, edge) + ": the run id is longer than " +
                                  std::to_string(kMaxRunIdBytes) + " bytes");
    }
    if (edge.from == edge.to) {
      return InvalidArgumentError(EdgeName(i, edge) +
                                  ": an edge from a node to itself is a cycle; a node derived "
                                  "from an older version of itself needs its own version");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<LineageStore>> LineageStore::Open(storage::Kv& kv,
                                                         crypto::Keyring& keyring) {
  CUSTOS_ASSIGN_OR_RETURN(
      storage::EncryptedKeyspace values,
      storage::EncryptedKeyspace::Open(kv, storage::Keyspace::kLineage, keyring, kKeyOwner));
  std::unique_ptr<LineageStore> store(new LineageStore(kv, std::move(values)));
  CUSTOS_RETURN_IF_ERROR(store->Load());
  return store;
}

Status LineageStore::Load() {
  std::unique_lock lock(mutex_);
  return ForEachRecord([&](const StoredRecord& stored) -> Status {
    next_seq_ = stored.seq + 1;
    // A damaged record stays out of the graph (and verify names it) rather than keeping
    // every other record from being served.
    if (!stored.integrity.ok()) return Status::Ok();
    auto record = DecodeRecord(stored.bytes);
    const size_t nodes_before = index_.node_count();
    Status applied = record.ok() ? ApplyToIndex(*record, nullptr) : record.status();
    if (applied.ok()) NoteCommittedNodes(*record, nodes_before);
    if (!applied.ok()) {
      // E.g. it uses nodes of a damaged record: left out too, and reported.
      load_problems_.push_back("lineage record " + std::to_string(stored.seq) +
                               " is left out of the graph: " + applied.message());
    }
    return Status::Ok();
  });
}

Status LineageStore::ForEachRecord(const std::function<Status(const StoredRecord&)>& visit) {
  storage::ReadOptions options;
  options.lower_bound = std::string(1, kRecordPrefix);
  options.upper_bound = common::PrefixSuccessor(options.lower_bound);
  auto it = kv_.NewIterator(storage::Keyspace::kLineage, options);
  for (it->Seek(options.lower_bound); it->Valid(); it->Next()) {
    common::KeyReader key(it->key().substr(1));
    CUSTOS_ASSIGN_OR_RETURN(uint64_t seq, key.ReadUint64());
    StoredRecord stored;
    stored.seq = seq;
    stored.integrity = [&]() -> Status {
      CUSTOS_ASSIGN_OR_RETURN(std::string plaintext, values_.Decrypt(it->key(), it->value()));
      common::ByteReader value(plaintext, "lineage record " + std::to_string(seq));
      CUSTOS_ASSIGN_OR_RETURN(stored.audit_index, value.U64());
      CUSTOS_ASSIGN_OR_RETURN(std::string_view bytes, value.Str());
      CUSTOS_RETURN_IF_ERROR(value.ExpectEnd());
      stored.bytes = bytes;
      return Status::Ok();
    }();
    CUSTOS_RETURN_IF_ERROR(visit(stored));
  }
  return it->status();
}

Status LineageStore::ApplyToIndex(const LineageRecord& record, std::vector<Edge>* new_edges) {
  const size_t nodes_before = index_.node_count();
  for (const Node& node : record.nodes) index_.AddNode(node.Id(), node.kind);
  std::vector<Edge> added;
  for (size_t i = 0; i < record.edges.size(); ++i) {
    const Edge& edge = record.edges[i];
    const auto from = index_.Find(edge.from);
    const auto to = index_.Find(edge.to);
    if (!from || !to) {
      UndoFromIndex(nodes_before, added);
      return InvalidArgumentError(EdgeName(i, edge) + ": '" + (from ? edge.to : edge.from) +
                                  "' is neither recorded nor in this record; record that node "
                                  "first or add it to the record's nodes");
    }
    if (index_.HasEdge(*from, *to, edge.run_id)) continue;
    if (index_.WouldCloseCycle(*from, *to, edge.run_id)) {
      UndoFromIndex(nodes_before, added);
      return InvalidArgumentError(EdgeName(i, edge) + " would close a cycle: '" + edge.from +
                                  "' is already derived from '" + edge.to +
                                  "'; derived data needs a new node version");
    }
    index_.AddEdge(*from, *to, edge.run_id);
    added.push_back(edge);
  }
  if (new_edges != nullptr) *new_edges = std::move(added);
  return Status::Ok();
}

void LineageStore::NoteCommittedNodes(const LineageRecord& record, size_t nodes_before) {
  node_digests_.resize(index_.node_count());
  for (const Node& node : record.nodes) {
    const std::optional<uint32_t> number = index_.Find(node.Id());
    if (!number || *number < nodes_before) continue;  // recorded before this record
    node_digests_[*number] = NodeDigest(node);
    latest_[NameKey(node.kind, node.name)] = *number;
  }
}

void LineageStore::UndoFromIndex(size_t node_count_before, const std::vector<Edge>& added_edges) {
  for (auto it = added_edges.rbegin(); it != added_edges.rend(); ++it) {
    index_.RemoveNewestEdge(*index_.Find(it->from), *index_.Find(it->to));
  }
  index_.TruncateNodes(node_count_before);
}

std::vector<CheckedRecord> LineageStore::Check(std::vector<LineageRecord> records) {
  std::vector<CheckedRecord> checked(records.size());
  // Accepted records' changes stay in the index while later records are checked
  // against them, and are undone (newest first) before returning.
  struct Undo {
    size_t nodes_before;
    std::vector<Edge> edges;
  };
  std::vector<Undo> undo;
  std::unordered_map<std::string, Node> batch_nodes;  // new nodes of accepted records
  std::unique_lock lock(mutex_);
  for (size_t r = 0; r < records.size(); ++r) {
    CheckedRecord& out = checked[r];
    out.record = std::move(records[r]);
    out.status = CheckRecordFields(out.record);
    if (!out.status.ok()) continue;

    // A node id names one immutable version: recording it again is a no-op only with
    // the same content.
    std::unordered_map<std::string, const Node*> in_record;
    for (const Node& node : out.record.nodes) {
      const std::string id = node.Id();
      auto [seen, fresh] = in_record.emplace(id, &node);
      if (!fresh) {
        if (!(*seen->second == node)) {
          out.status = InvalidArgumentError("node '" + id +
                                            "' appears twice in the record with different "
                                            "content");
          break;
        }
        continue;
      }
      // Compared with memory rather than by reading and unsealing the stored node: the
      // digest was taken from the same authenticated record bytes at open or commit, and
      // a read per node made every record cost more as the store grew.
      bool existing = false;
      bool same = true;
      if (auto pending = batch_nodes.find(id); pending != batch_nodes.end()) {
        existing = true;
        same = pending->second == node;
      } else if (const auto number = index_.Find(id)) {
        if (*number >= node_digests_.size()) {
          out.status = InternalError("lineage node '" + id +
                                     "' is in the index but has no recorded content digest");
          break;
        }
        existing = true;
        same = node_digests_[*number] == NodeDigest(node);
      }
      if (!existing) {
        out.new_nodes.push_back(node);
      } else if (!same) {
        out.status = AlreadyExistsError(
            "node '" + id +
            "' is already recorded with other content (hash or attributes); a changed "
            "thing needs a new version");
        break;
      }
    }
    if (!out.status.ok()) {
      out.new_nodes.clear();
      continue;
    }
    const size_t nodes_before = index_.node_count();
    std::vector<Edge> added;
    out.status = ApplyToIndex(out.record, &added);
    if (!out.status.ok()) {
      out.new_nodes.clear();
      continue;
    }
    out.new_edges = added;
    out.bytes = EncodeRecord(out.record);
    for (const Node& node : out.new_nodes) batch_nodes.emplace(node.Id(), node);
    undo.push_back(Undo{nodes_before, std::move(added)});
  }
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    UndoFromIndex(it->nodes_before, it->edges);
  }
  return checked;
}

Status LineageStore::Commit(const std::vector<CheckedRecord>& checked,
                            const std::vector<uint64_t>& audit_indexes) {
  storage::WriteBatch batch;
  size_t next_audit = 0;
  uint64_t seq = next_seq_;
  for (const CheckedRecord& c : checked) {
    if (!c.status.ok()) continue;
    if (next_audit >= audit_indexes.size()) {
      return InternalError("lineage commit: fewer audit indexes than accepted records");
    }
    const uint64_t record_seq = seq++;
    values_.PutTo(batch, RecordKey(record_seq),
                  common::ByteWriter().U64(audit_indexes[next_audit++]).Str(c.bytes).Release());
    for (const Node& node : c.new_nodes) {
      // No "l" (newest version) entry: LatestVersion answers from memory, rebuilt from
      // the records at open, so that entry was one more sealed write per node for nothing.
      values_.PutTo(batch, NodeKey(node.Id()),
                    common::ByteWriter().Str(EncodeNode(node)).U64(record_seq).Release());
    }
    for (const Edge& edge : c.new_edges) {
      values_.PutTo(
          batch, EdgeKey(edge.from, edge.to, edge.run_id),
          common::ByteWriter().I64(common::ToUnixMicros(edge.time)).U64(record_seq).Release());
    }
  }
  if (batch.empty()) return Status::Ok();
  CUSTOS_RETURN_IF_ERROR(kv_.Write(batch));
  next_seq_ = seq;
  std::unique_lock lock(mutex_);
  for (const CheckedRecord& c : checked) {
    if (!c.status.ok()) continue;
    // Checked against exactly this state (Check and Commit are serialized), so it fits.
    const size_t nodes_before = index_.node_count();
    CUSTOS_RETURN_IF_ERROR(ApplyToIndex(c.record, nullptr));
    NoteCommittedNodes(c.record, nodes_before);
  }
  return Status::Ok();
}

Result<std::optional<StoredNode>> LineageStore::GetNode(std::string_view id) {
  CUSTOS_ASSIGN_OR_RETURN(auto value, values_.Get(NodeKey(id)));
  if (!value) return std::optional<StoredNode>();
  common::ByteReader in(*value, "lineage node '" + std::string(id) + "'");
  CUSTOS_ASSIGN_OR_RETURN(std::string_view bytes, in.Str());
  StoredNode stored;
  CUSTOS_ASSIGN_OR_RETURN(stored.node, DecodeNode(bytes));
  CUSTOS_ASSIGN_OR_RETURN(stored.record_seq, in.U64());
  CUSTOS_RETURN_IF_ERROR(in.ExpectEnd());
  return std::optional<StoredNode>(std::move(stored));
}

Result<std::optional<LineageRecord>> LineageStore::GetRecord(uint64_t seq) {
  CUSTOS_ASSIGN_OR_RETURN(auto value, values_.Get(RecordKey(seq)));
  if (!value) return std::optional<LineageRecord>();
  common::ByteReader in(*value, "lineage record " + std::to_string(seq));
  CUSTOS_RETURN_IF_ERROR(in.U64().status());
  CUSTOS_ASSIGN_OR_RETURN(std::string_view bytes, in.Str());
  CUSTOS_RETURN_IF_ERROR(in.ExpectEnd());
  CUSTOS_ASSIGN_OR_RETURN(LineageRecord record, DecodeRecord(bytes));
  return std::optional<LineageRecord>(std::move(record));
}

Result<std::optional<std::string>> LineageStore::LatestVersion(NodeKind kind,
                                                               std::string_view name) {
  std::shared_lock lock(mutex_);
  const auto it = latest_.find(NameKey(kind, name));
  if (it == latest_.end()) return std::optional<std::string>();
  return std::optional<std::string>(index_.NodeId(it->second));
}

Result<Subgraph> LineageStore::Walk(std::string_view start_id, const WalkOptions& options) {
  Subgraph graph;
  {
    std::shared_lock lock(mutex_);
    const auto start = index_.Find(start_id);
    if (!start) {
      return NotFoundError("no lineage node '" + std::string(start_id) +
                           "'; ids look like 'feature_view:fraud@3' (see GET /v1/lineage/nodes)");
    }
    const WalkResult walk = index_.Walk(*start, options);
    graph.truncated = walk.truncated;
    graph.nodes.reserve(walk.nodes.size());
    for (const auto& reached : walk.nodes) {
      graph.nodes.push_back(
          {index_.NodeId(reached.node), index_.Kind(reached.node), reached.depth});
    }
    graph.edges.reserve(walk.edges.size());
    for (const auto& step : walk.edges) {
      graph.edges.push_back(
          Edge{index_.NodeId(step.from), index_.NodeId(step.to), index_.RunId(step.run), {}});
    }
  }
  return graph;
}

Status LineageStore::FillEdgeTimes(Subgraph& graph) {
  for (Edge& edge : graph.edges) {
    CUSTOS_ASSIGN_OR_RETURN(auto value, values_.Get(EdgeKey(edge.from, edge.to, edge.run_id)));
    if (!value) continue;
    common::ByteReader in(*value, "lineage edge");
    CUSTOS_ASSIGN_OR_RETURN(int64_t micros, in.I64());
    edge.time = common::FromUnixMicros(micros);
  }
  return Status::Ok();
}

size_t LineageStore::node_count() const {
  std::shared_lock lock(mutex_);
  return index_.node_count();
}

size_t LineageStore::edge_count() const {
  std::shared_lock lock(mutex_);
  return index_.edge_count();
}

}  // namespace custos::lineage
