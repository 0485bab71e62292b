// Lineage as JSON, for the API and the CLI: records in (strict), nodes, query answers,
// ingest results and verification reports out. A record:
//   {"nodes": [{"kind": "source", "name": "tx.csv", "version": "sha256:9f86...",
//               "content_sha256": "9f86...", "attributes": {"path": "/data/tx.csv"}}],
//    "edges": [{"from": "source:tx.csv@sha256:9f86...", "to": "feature_view:fraud@3",
//               "run_id": "nightly-2026-11-20", "time": "2026-11-20T02:00:00Z"}]}
// Parsing is strict: unknown members, wrong types and bad values are refused with the
// JSON Pointer of the member and how to fix it.
// Thread-safety: free functions.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "lineage/graph.h"
#include "lineage/lineage_store.h"
#include "lineage/openlineage_ingest.h"
#include "lineage/queries.h"
#include "lineage/verify.h"

namespace custos::lineage {

// The nodes and edges of a record (origin, principal and time are the caller's).
Result<LineageRecord> RecordFromJson(const nlohmann::json& body);

nlohmann::json NodeToJson(const Node& node);
// {"node", "by_kind": {"feature_view": [ids]}, "principals", "truncated"}
nlohmann::json ReachToJson(const Reach& reach);
// {"accesses": [{"audit_index", "time", "principal", "action", "purpose", "resource",
//  "node", "decision"}], "truncated"}
nlohmann::json AccessReportToJson(const AccessReport& report);
// {"ok", "records_checked", "content_hashes_checked", "content_not_available", "problems"}
nlohmann::json VerifyReportToJson(const VerifyReport& report);
// {"run_id", "event_type", "nodes", "edges", "lineage_audit_index"}
nlohmann::json IngestedEventToJson(const IngestedEvent& event);

}  // namespace custos::lineage
