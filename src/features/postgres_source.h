// PostgreSQL sources (libpq): a feature view's table or query streamed row by row into an
// OfflineBatch with the same schema enforcement and rejects as the file readers, and entity
// rows for a training set from a query.
// Thread-safety: plain functions; each call opens and closes its own connection.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/repository.h"
#include "features/entity_rows.h"
#include "features/source_reader.h"

namespace custos::features {

// Runs `SELECT * FROM <table>` (each part of schema.table quoted with PQescapeIdentifier) or
// the source's query in single-row mode, so rows are converted as they arrive and the result
// is never held twice. The session's TimeZone is set to UTC and DateStyle to ISO first.
// Values are read in text format and parsed by the column's declared type: int64 from
// int2/int4/int8 text, double from float4/float8/numeric, string as is, bool from t/f,
// timestamp from ISO timestamptz/timestamp/date text (or integer Unix seconds), lists from
// array literals ('{1,2}', '{"a b",c}'); SQL NULL is null. Rejects name
// "<source name> row N, column X".
// Errors: Unavailable when the connection fails (naming the environment variable that held
// the DSN, never the DSN: it may hold a password); the query's failure with PostgreSQL's
// primary message, detail, hint and position (InvalidArgument for SQL errors, Unavailable
// for connection loss); InvalidArgument naming a missing column and listing the result's
// columns, or when the query is not a single SELECT; ResourceExhausted when the row data
// exceeds options.max_input_bytes. After such a failure the running query is cancelled.
Result<SourceReadResult> ReadPostgresSource(const catalog::DataSource& source,
                                            const std::string& dsn, const SourceColumns& columns,
                                            const SourceReadOptions& options);

// Entity rows (join keys, timestamp, other columns as strings) from a query, streamed as
// above. Unlike ingestion, the first bad row is an error (InvalidArgument "query row N,
// column X: ..."), as for ReadEntityRowsCsv.
Result<EntityRows> ReadEntityRowsPostgres(const std::string& dsn, const std::string& query,
                                          const EntityRowsSpec& spec);

// Parses a one-dimensional PostgreSQL array literal in text output form: '{1,2}',
// '{"a b","say \"hi\"",NULL}', '{}', optionally after dimension decoration '[0:1]='.
// Unquoted NULL (any case) is nullopt; unquoted elements are trimmed of blanks. InvalidArgument
// saying what is wrong and at which byte for anything else (nested arrays included).
Result<std::vector<std::optional<std::string>>> ParsePostgresArray(std::string_view text);

}  // namespace custos::features
