// The PostgreSQL peer of the lineage benchmark (issue 8): PostgreSQL is the engine under
// Marquez, OpenLineage's reference server, so it is what a user would pick instead of
// custos to keep and query lineage. Same graph, same start nodes, same events, same run.
//
// - Graph: lineage_nodes(id bigint primary key, kind, name, version) and
//   lineage_edges(src, dst, run_id uuid) with indexes on dst and src, loaded with COPY.
// - Walks: one recursive CTE with the depth as a column and UNION to drop repeated rows,
//   under custos's run rule (a walk that enters a transformation through run R leaves it
//   only through R's edges), so both answer the same question; the query returns each
//   reached node's id, kind, name, version and fewest edges from the start.
// - Ingestion: each event's run, job, inputs (resolved to the newest version of their
//   dataset, in SQL), outputs and edges inserted with prepared statements, BEGIN ... COMMIT
//   around a fixed number of events, pipelined (libpq pipeline mode) in chunks; what
//   Marquez does per event, minus its facet and raw-event tables.
// Thread-safety: a PgPeer is one connection: one thread at a time; Ingest opens its own.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "lineage/graph_index.h"
#include "lineage_workload.h"

namespace custos::lineage::bench {

struct PgLoadTimes {
  double copy_seconds = 0;     // both COPYs
  double index_seconds = 0;    // primary key and the two edge indexes
  double analyze_seconds = 0;  // VACUUM ANALYZE
  double total() const { return copy_seconds + index_seconds + analyze_seconds; }
};

struct PgWalkAnswer {
  size_t nodes = 0;  // rows: distinct nodes reached, the start included
  bool timed_out = false;
};

struct PgIngestRun {
  double seconds = 0;
  double client_cpu_seconds = 0;      // the client threads (JSON parsing, libpq)
  double backend_cpu_seconds = 0;     // their server processes
  uint64_t retried_transactions = 0;  // deadlocks or serialization failures, redone
};

class PgPeer {
 public:
  // Connects and checks the durability settings (warns on stderr unless fsync and
  // synchronous_commit are on). `statement_timeout_ms` bounds each walk.
  static Result<std::unique_ptr<PgPeer>> Connect(const std::string& conninfo,
                                                 int statement_timeout_ms);
  ~PgPeer();
  PgPeer(const PgPeer&) = delete;
  PgPeer& operator=(const PgPeer&) = delete;

  // "PostgreSQL 15.8, fsync=on, synchronous_commit=on, shared_buffers=2GB, jit=off".
  const std::string& description() const { return description_; }

  // (Re)creates the graph tables and loads `graph`.
  Result<PgLoadTimes> LoadGraph(const Graph& graph);
  // One walk from node number `start`; the rows are fetched (and counted) by the client.
  Result<PgWalkAnswer> Walk(Direction direction, uint32_t start, uint32_t max_depth);
  Status DropGraph();

  // Ingests the events of `transactions` (one transaction each) from `threads`
  // connections, each taking every threads-th transaction, into freshly created tables,
  // dropped afterwards.
  Result<PgIngestRun> Ingest(const std::vector<std::vector<std::string>>& transactions,
                             int threads);

 private:
  class Session;
  PgPeer(std::unique_ptr<Session> session, std::string conninfo, std::string description);

  std::unique_ptr<Session> session_;
  std::string conninfo_;
  std::string description_;
  bool walks_prepared_ = false;
};

}  // namespace custos::lineage::bench
