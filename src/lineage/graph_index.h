// GraphIndex: the provenance graph's adjacency in memory, so upstream and downstream
// queries over millions of edges walk arrays instead of seeking storage. LineageStore
// rebuilds it from its records at open and extends it as records are added.
//
// Runs keep traversals honest: a transformation is shared by all its runs, so a walk
// that reaches a transformation through an edge of run R leaves it only through edges
// of run R (the inputs of *that* run), never through another run's. The same rule
// decides cycles, so a job that reads B and writes A in one run, and reads A and writes
// B in another, is not a cycle.
// Thread-safety: not synchronized; LineageStore guards it with a reader-writer lock.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lineage/graph.h"

namespace custos::lineage {

enum class Direction : uint8_t { kUpstream, kDownstream };

struct WalkOptions {
  Direction direction = Direction::kUpstream;
  uint32_t max_depth = 10;    // edges from the start; 0 returns the start alone
  size_t max_nodes = 100000;  // stop (and say truncated) once this many nodes are reached
};

struct WalkResult {
  struct Reached {
    uint32_t node = 0;   // dense node number (GraphIndex::NodeId gives the id)
    uint32_t depth = 0;  // fewest edges from the start
  };
  struct Step {
    uint32_t from = 0;  // in data-flow direction: from -> to
    uint32_t to = 0;
    uint32_t run = 0;  // GraphIndex::RunId gives the run id; 0 for none
  };
  std::vector<Reached> nodes;  // the start first, then in walk order
  std::vector<Step> edges;     // every edge walked, each once
  bool truncated = false;      // max_nodes stopped the walk early
};

class GraphIndex {
 public:
  static constexpr uint32_t kNoRun = 0;

  // Adds a node if its id is new; returns its dense number either way.
  uint32_t AddNode(std::string_view id, NodeKind kind);
  // Adds an edge between known nodes; false if the same (from, to, run) is present.
  bool AddEdge(uint32_t from, uint32_t to, std::string_view run_id);

  // Undo for a record that failed part-way: RemoveNewestEdge undoes the newest AddEdge
  // that returned true (call in reverse order), TruncateNodes drops nodes numbered
  // `count` and above (which must have no edges left).
  void RemoveNewestEdge(uint32_t from, uint32_t to);
  void TruncateNodes(size_t count);

  // The dense number of a node id, or nullopt.
  std::optional<uint32_t> Find(std::string_view id) const;
  const std::string& NodeId(uint32_t node) const { return *nodes_[node].id; }
  NodeKind Kind(uint32_t node) const { return nodes_[node].kind; }
  const std::string& RunId(uint32_t run) const { return runs_[run]; }
  bool HasEdge(uint32_t from, uint32_t to, std::string_view run_id) const;

  size_t node_count() const { return nodes_.size(); }
  size_t edge_count() const { return edge_count_; }

  // Breadth-first walk from `start` under the run rule above.
  WalkResult Walk(uint32_t start, const WalkOptions& options) const;

  // True if adding from -> to (in `run_id`) would let data flow from `to` back to
  // `from` (a cycle), following edges already in the index.
  bool WouldCloseCycle(uint32_t from, uint32_t to, std::string_view run_id) const;

 private:
  struct Link {
    uint32_t node;
    uint32_t run;
  };
  struct NodeEntry {
    const std::string* id;  // the key in node_numbers_ (stable: a node-based map)
    NodeKind kind;
    std::vector<Link> out;  // edges from this node
    std::vector<Link> in;   // edges into this node
  };

  uint32_t FindRun(std::string_view run_id) const;  // kNoRun if unknown or empty
  uint32_t InternRun(std::string_view run_id);

  // Looks strings up by string_view without building a std::string per lookup (each
  // ingested record looks up a few dozen ids).
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using NumberMap = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;

  std::vector<NodeEntry> nodes_;
  NumberMap node_numbers_;
  std::vector<std::string> runs_{std::string()};  // runs_[0] is "no run"
  NumberMap run_numbers_;
  size_t edge_count_ = 0;
};

}  // namespace custos::lineage
