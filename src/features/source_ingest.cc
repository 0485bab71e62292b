// Source ingestion: read, check the rejects, ingest.
#include "features/source_ingest.h"

#include <cstdlib>
#include <filesystem>

#include "features/postgres_source.h"

namespace custos::features {

SourceColumns SourceColumnsOf(const PreparedView& view) {
  SourceColumns columns;
  columns.join_keys = view.schema.join_keys;
  columns.features = view.schema.features;
  columns.timestamp_field = view.view.version.schema.source.timestamp_field;
  columns.created_timestamp_field = view.view.version.schema.source.created_timestamp_field;
  return columns;
}

Result<SourceIngestReport> IngestFromSource(FeatureStore& store, std::string_view view,
                                            const SourceIngestOptions& options,
                                            const policy::EntityUid& by, int64_t now_micros) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<const PreparedView> prepared, store.Prepare(view));
  const catalog::DataSource& source = prepared->view.version.schema.source;
  const SourceColumns columns = SourceColumnsOf(*prepared);
  SourceReadOptions read_options;
  // Rows without a created timestamp were created now, by this ingestion.
  read_options.default_created_ts = now_micros;
  SourceIngestReport report;
  Result<SourceReadResult> read = InvalidArgumentError("no source read");
  if (source.kind == catalog::SourceKind::kPostgres && options.path_override.empty()) {
    const char* dsn = source.dsn_env.empty() ? nullptr : std::getenv(source.dsn_env.c_str());
    if (dsn == nullptr || *dsn == '\0') {
      return FailedPreconditionError(
          "source '" + source.name + "' reads PostgreSQL with the DSN in environment variable '" +
          source.dsn_env + "', which is not set; export it (e.g. " + source.dsn_env +
          "='host=... dbname=... user=...') and run again");
    }
    report.source = "postgres:" + (source.table.empty() ? std::string("query") : source.table);
    read = ReadPostgresSource(source, dsn, columns, read_options);
  } else {
    std::string path = options.path_override;
    catalog::DataSource as_read = source;
    if (path.empty()) {
      path = (std::filesystem::path(options.repository_root) / source.path).string();
    } else if (source.kind == catalog::SourceKind::kPostgres) {
      // A file standing in for a PostgreSQL source: its extension says the format.
      as_read.kind =
          path.ends_with(".csv") ? catalog::SourceKind::kCsv : catalog::SourceKind::kJsonLines;
    }
    report.source = path;
    read = ReadSourceFile(as_read, path, columns, read_options);
  }
  if (!read.ok()) return read.status();
  report.rows_read = read->rows_read;
  report.rejected = read->rejected;
  report.rejects = read->rejects;
  report.summary = read->Summary();
  if (read->rejected > options.max_rejects) {
    std::string message = report.source + ": " + report.summary + "; at most " +
                          std::to_string(options.max_rejects) +
                          " rejected rows are allowed (--max-rejects), so nothing was ingested. "
                          "First rejected rows:";
    for (size_t i = 0; i < read->rejects.size() && i < 10; ++i) {
      message += "\n  row " + std::to_string(read->rejects[i].row) + " (" + read->rejects[i].where +
                 "): " + read->rejects[i].message;
    }
    return FailedPreconditionError(message);
  }
  IngestInput input{report.source, read->rows_read, read->rejected};
  CUSTOS_ASSIGN_OR_RETURN(report.outcome, store.Ingest(view, read->batch, input, by));
  return report;
}

}  // namespace custos::features
