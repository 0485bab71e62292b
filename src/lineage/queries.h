// The questions lineage answers, from the graph index (and, for access, the audit log's
// indexes): what contributed to a model, what a bad source affects, who accessed the data
// that flowed into a model.
// Thread-safety: free functions over thread-safe stores; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "audit/log.h"
#include "common/status.h"
#include "lineage/lineage_store.h"

namespace custos::lineage {

struct QueryOptions {
  uint32_t max_depth = 64;    // edges from the start
  size_t max_nodes = 100000;  // the answer says truncated beyond it
};

// Nodes of a walk grouped by kind (ids sorted), and the principals whose records added
// them or the edges among them.
struct Reach {
  std::string start;
  std::map<NodeKind, std::vector<std::string>> by_kind;
  std::vector<std::string> principals;  // sorted, unique
  bool truncated = false;
};

// Everything upstream of `node_id` (feature-view versions, sources, transformations,
// training sets, ...) and who recorded it: "what contributed to model M".
Result<Reach> ContributorsOf(LineageStore& store, std::string_view node_id,
                             const QueryOptions& options = {});

// Everything downstream of `node_id`: "what is affected if source S is bad".
Result<Reach> ImpactOf(LineageStore& store, std::string_view node_id,
                       const QueryOptions& options = {});

// One audited access to data upstream of a node.
struct Access {
  uint64_t audit_index = 0;
  common::TimePoint time{};
  std::string principal;
  std::string action;
  std::string purpose;
  std::string resource;  // "FeatureView::fraud" (at the upstream node's version)
  std::string node_id;   // the upstream node it matched
  bool allowed = false;
};

struct AccessReport {
  std::vector<Access> accesses;  // in time order
  bool truncated = false;        // more than max_accesses matched
};

// Who read data that flowed into `node_id`: the audit events on each upstream node's
// resource (feature views at their exact version; models, datasets, training sets by
// name), allowed and denied.
Result<AccessReport> AccessesUpstreamOf(LineageStore& store, audit::AuditLog& audit,
                                        std::string_view node_id, size_t max_accesses = 1000,
                                        const QueryOptions& options = {});

}  // namespace custos::lineage
