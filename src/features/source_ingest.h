// Ingestion of a feature view's data source: reads the source the view's latest version was
// published with (CSV or JSON Lines under the repository root, or PostgreSQL with the DSN
// from the environment variable the source names), enforces the version's schema, and
// ingests the good rows into both stores in one write (FeatureStore::Ingest). Rejected rows
// are reported with their row numbers; more than `max_rejects` of them abort the ingestion
// before anything is written.
// Thread-safety: a free function; FeatureStore serializes the writes.
#pragma once

#include <string>
#include <vector>

#include "features/feature_store.h"
#include "features/source_reader.h"

namespace custos::features {

struct SourceIngestOptions {
  // CSV and JSON Lines paths are relative to it. Default ".".
  std::string repository_root = ".";
  // Read this file (csv/jsonl by the source's kind) instead of the source's own path.
  std::string path_override;
  // Rejected rows tolerated; more abort the ingestion (nothing written). Default 0.
  size_t max_rejects = 0;
};

struct SourceIngestReport {
  std::string source;  // the file or "postgres:<table or query>" read
  size_t rows_read = 0;
  size_t rejected = 0;
  std::vector<RowReject> rejects;  // the first ones, with positions
  std::string summary;             // SourceReadResult::Summary()
  IngestOutcome outcome;
};

// The source columns of a version: its join keys, features and timestamp fields.
SourceColumns SourceColumnsOf(const PreparedView& view);

// Reads and ingests. FailedPrecondition "N rows rejected (at most M allowed): ..." listing the
// first rejects when there are too many; the read's own errors (missing column, unreadable
// file, connection failure) as they are.
Result<SourceIngestReport> IngestFromSource(FeatureStore& store, std::string_view view,
                                            const SourceIngestOptions& options,
                                            const policy::EntityUid& by, int64_t now_micros);

}  // namespace custos::features
