// Adjacency lists, walks and cycle checks under the run rule (see graph_index.h).
#include "lineage/graph_index.h"

#include <deque>
#include <unordered_set>
#include <utility>

namespace custos::lineage {
namespace {

// A walk's position: a node, and for a transformation the run it was entered through
// (GraphIndex::kNoRun: any run).
uint64_t StateKey(uint32_t node, uint32_t run_scope) {
  return (static_cast<uint64_t>(node) << 32) | run_scope;
}

struct StepHash {
  size_t operator()(const WalkResult::Step& s) const {
    uint64_t h = (static_cast<uint64_t>(s.from) << 32) | s.to;
    h ^= static_cast<uint64_t>(s.run) * 0x9E3779B97F4A7C15ULL;
    return std::hash<uint64_t>()(h);
  }
};
struct StepEqual {
  bool operator()(const WalkResult::Step& a, const WalkResult::Step& b) const {
    return a.from == b.from && a.to == b.to && a.run == b.run;
  }
};

}  // namespace

uint32_t GraphIndex::AddNode(std::string_view id, NodeKind kind) {
  auto [it, inserted] = node_numbers_.try_emplace(std::string(id), 0);
  if (!inserted) return it->second;
  it->second = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back(NodeEntry{&it->first, kind, {}, {}});
  return it->second;
}

std::optional<uint32_t> GraphIndex::Find(std::string_view id) const {
  auto it = node_numbers_.find(id);
  if (it == node_numbers_.end()) return std::nullopt;
  return it->second;
}

uint32_t GraphIndex::FindRun(std::string_view run_id) const {
  if (run_id.empty()) return kNoRun;
  auto it = run_numbers_.find(run_id);
  return it == run_numbers_.end() ? kNoRun : it->second;
}

uint32_t GraphIndex::InternRun(std::string_view run_id) {
  if (run_id.empty()) return kNoRun;
  auto [it, inserted] = run_numbers_.try_emplace(std::string(run_id), 0);
  if (inserted) {
    it->second = static_cast<uint32_t>(runs_.size());
    runs_.push_back(it->first);
  }
  return it->second;
}

bool GraphIndex::HasEdge(uint32_t from, uint32_t to, std::string_view run_id) const {
  const uint32_t run = FindRun(run_id);
  if (run == kNoRun && !run_id.empty()) return false;  // a run never seen has no edges
  // Scan the shorter of the two lists: a popular source may feed thousands of jobs.
  const auto& out = nodes_[from].out;
  const auto& in = nodes_[to].in;
  if (out.size() <= in.size()) {
    for (const Link& link : out) {
      if (link.node == to && link.run == run) return true;
    }
  } else {
    for (const Link& link : in) {
      if (link.node == from && link.run == run) return true;
    }
  }
  return false;
}

bool GraphIndex::AddEdge(uint32_t from, uint32_t to, std::string_view run_id) {
  if (HasEdge(from, to, run_id)) return false;
  const uint32_t run = InternRun(run_id);
  nodes_[from].out.push_back(Link{to, run});
  nodes_[to].in.push_back(Link{from, run});
  ++edge_count_;
  return true;
}

void GraphIndex::RemoveNewestEdge(uint32_t from, uint32_t to) {
  nodes_[from].out.pop_back();
  nodes_[to].in.pop_back();
  --edge_count_;
}

void GraphIndex::TruncateNodes(size_t count) {
  while (nodes_.size() > count) {
    node_numbers_.erase(*nodes_.back().id);
    nodes_.pop_back();
  }
}

WalkResult GraphIndex::Walk(uint32_t start, const WalkOptions& options) const {
  WalkResult result;
  const bool upstream = options.direction == Direction::kUpstream;
  std::unordered_set<uint64_t> seen_states;
  std::unordered_map<uint32_t, uint32_t> reached;  // node -> index in result.nodes
  std::unordered_set<WalkResult::Step, StepHash, StepEqual> seen_edges;
  struct Pending {
    uint32_t node, run_scope, depth;
  };
  std::deque<Pending> queue;

  result.nodes.push_back({start, 0});
  reached.emplace(start, 0);
  seen_states.insert(StateKey(start, kNoRun));
  queue.push_back({start, kNoRun, 0});
  while (!queue.empty()) {
    const Pending here = queue.front();
    queue.pop_front();
    if (here.depth >= options.max_depth) continue;
    const NodeEntry& entry = nodes_[here.node];
    for (const Link& link : upstream ? entry.in : entry.out) {
      if (here.run_scope != kNoRun && link.run != here.run_scope) continue;
      const bool new_node = !reached.contains(link.node);
      if (new_node && result.nodes.size() >= options.max_nodes) {
        result.truncated = true;
        return result;
      }
      const WalkResult::Step step = upstream ? WalkResult::Step{link.node, here.node, link.run}
                                             : WalkResult::Step{here.node, link.node, link.run};
      if (seen_edges.insert(step).second) result.edges.push_back(step);
      if (new_node) {
        reached.emplace(link.node, static_cast<uint32_t>(result.nodes.size()));
        result.nodes.push_back({link.node, here.depth + 1});
      }
      const uint32_t scope =
          nodes_[link.node].kind == NodeKind::kTransformation ? link.run : kNoRun;
      if (seen_states.insert(StateKey(link.node, scope)).second) {
        queue.push_back({link.node, scope, here.depth + 1});
      }
    }
  }
  return result;
}

bool GraphIndex::WouldCloseCycle(uint32_t from, uint32_t to, std::string_view run_id) const {
  if (from == to) return true;
  const uint32_t run = FindRun(run_id);
  // A run id the index has never seen cannot constrain anything already stored, but it
  // still scopes the new edge's ends: treat it as a run of its own (no stored edge has it).
  const bool unseen_run = run == kNoRun && !run_id.empty();
  const auto scope_of = [&](uint32_t node, uint32_t link_run) {
    return nodes_[node].kind == NodeKind::kTransformation ? link_run : kNoRun;
  };
  // Arriving at `from` closes a cycle unless `from` is a transformation left by the new
  // edge in a run, and the arrival is through another run.
  const bool from_scoped = nodes_[from].kind == NodeKind::kTransformation && !run_id.empty();
  const uint32_t to_scope = nodes_[to].kind == NodeKind::kTransformation && !run_id.empty()
                                ? (unseen_run ? UINT32_MAX : run)
                                : kNoRun;
  if (to_scope == UINT32_MAX) return false;  // `to` is left only through edges of this run

  std::unordered_set<uint64_t> seen;
  std::deque<std::pair<uint32_t, uint32_t>> queue{{to, to_scope}};
  seen.insert(StateKey(to, to_scope));
  while (!queue.empty()) {
    const auto [node, scope] = queue.front();
    queue.pop_front();
    for (const Link& link : nodes_[node].out) {
      if (scope != kNoRun && link.run != scope) continue;
      if (link.node == from) {
        if (!from_scoped) return true;
        // An edge with no run enters every run of a transformation.
        if (link.run == kNoRun || (!unseen_run && link.run == run)) return true;
        continue;
      }
      const uint32_t next_scope = scope_of(link.node, link.run);
      if (seen.insert(StateKey(link.node, next_scope)).second) {
        queue.emplace_back(link.node, next_scope);
      }
    }
  }
  return false;
}

}  // namespace custos::lineage
