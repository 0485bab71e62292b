// PointInTimeJoin: the training-set join with Feast's semantics. For each entity row
// (join keys, ts) and each requested feature view, the view's row for those keys with the
// greatest event_ts such that event_ts <= ts and event_ts >= ts - ttl (ttl 0: unbounded),
// ties broken by the greatest created_ts (then by the later ingestion); optionally only rows
// with created_ts <= ts count. A miss gives nulls.
//
// How: entity rows are sorted by (encoded key, ts) once per distinct join-key set and split
// between threads at key boundaries; each thread merges its rows against every block whose
// key range meets them (decrypting only the key and timestamp columns), keeps the best row
// per entity row, then decrypts each requested feature column once per block that won a row
// and copies the winners into columnar output, in the entity rows' input order.
// Thread-safety: PointInTimeJoin may run concurrently with others and with ingestion (it
// reads each view through a snapshot).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "features/entity_rows.h"
#include "features/offline_store.h"

namespace custos::features {

struct PitViewRequest {
  OfflineViewSchema schema;
  // Names of the features to return, in this order; empty: every feature of the view.
  std::vector<std::string> features;
  // Maximum age of a row relative to the entity timestamp, in microseconds; 0: unbounded.
  int64_t ttl_micros = 0;
};

struct PitOptions {
  // Also require created_ts <= ts (exclude rows written after the entity timestamp).
  // Default false (Feast's default).
  bool require_created_before_ts = false;
  // Worker threads. Default 2.
  int threads = 2;
  // Name output columns "<version_id>__<feature>" rather than "<feature>". Default false;
  // with false, two views giving the same feature name is InvalidArgument.
  bool full_feature_names = false;
};

struct PitViewStats {
  std::string version_id;
  size_t blocks_total = 0;
  size_t blocks_scanned = 0;       // key and timestamp columns decrypted
  size_t blocks_materialized = 0;  // feature columns decrypted
  size_t rows_matched = 0;         // entity rows that found a row
};

// The joined features, one column per requested feature (views in request order), rows in
// the entity rows' input order.
struct PitResult {
  std::vector<Column> columns;
  std::vector<ColumnVector> values;
  std::vector<PitViewStats> views;
  size_t rows = 0;
};

// InvalidArgument for an unknown feature, a view join key missing from the entity rows or
// of another type, or clashing output names; FailedPrecondition for a shredded version;
// DataLoss when a block fails to authenticate (tampering) or decode.
Result<PitResult> PointInTimeJoin(OfflineStore& store, const EntityRows& rows,
                                  const std::vector<PitViewRequest>& views,
                                  const PitOptions& options = {});

}  // namespace custos::features
