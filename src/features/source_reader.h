// Ingestion readers: a feature view's data source (CSV, JSON Lines) becomes an OfflineBatch
// with its schema enforced; bad rows are rejected with their row number and position.
// Thread-safety: plain functions and values; a SourceRowBuilder is for one thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/repository.h"
#include "features/offline_columns.h"
#include "features/offline_store.h"

namespace custos::features {

// The columns to read, named as the views name them (after field_mapping).
struct SourceColumns {
  std::vector<Column> join_keys;  // scalar types
  std::vector<Column> features;   // any catalog::ValueType incl. list<T>
  std::string timestamp_field;
  std::string created_timestamp_field;  // empty: every row gets options.default_created_ts
};

// One rejected row.
struct RowReject {
  // 1-based data row number: CSV, the record number after the header (blank lines are not
  // records); JSON Lines, the number among non-blank lines; PostgreSQL, the result row.
  uint64_t row = 0;
  // "file:line:col" for text inputs, "<source name> row N, column X" for PostgreSQL.
  std::string where;
  std::string message;  // what is wrong, naming the column, the expected type and the text
};

struct SourceReadOptions {
  // Created timestamp (UTC micros) of rows whose source has no created-timestamp column,
  // or whose created timestamp is empty/null. Default 0.
  int64_t default_created_ts = 0;
  // Rejects kept with their details; more are only counted. Default 100.
  size_t max_rejects_kept = 100;
  // Larger inputs are refused as a whole (ResourceExhausted). Default 4 GiB.
  size_t max_input_bytes = size_t{4} << 30;
};

struct SourceReadResult {
  OfflineBatch batch;              // the good rows, in input order
  std::vector<RowReject> rejects;  // the first max_rejects_kept bad rows
  size_t rejected = 0;             // all bad rows
  size_t rows_read = 0;            // good + bad
  // "read 1000 rows: 997 accepted, 3 rejected (rows 4, 17, 980)"; at most 10 row numbers
  // are listed, then "and N more".
  std::string Summary() const;
};

// Reads CSV with a header row (RFC 4180, via CsvReader). Cells are parsed by the column's
// type: int64 and double in C-locale decimal, bool as true/false/1/0, timestamps as RFC 3339
// or integer Unix seconds, lists as a JSON array (`[1,2]`, `["a","b"]`). An empty cell is a
// null feature. Source columns are renamed by `field_mapping` (source name -> view name);
// extra columns are ignored. Whole-input errors (InvalidArgument "file:line:col: ..."): a
// required column missing from the header, duplicate header names, an unterminated quote;
// ResourceExhausted when larger than options.max_input_bytes. Everything else that is wrong
// with a row rejects that row only.
Result<SourceReadResult> ReadCsvSource(std::string_view text, std::string_view source_name,
                                       const std::map<std::string, std::string>& field_mapping,
                                       const SourceColumns& columns,
                                       const SourceReadOptions& options);

// Reads JSON Lines: one object per non-blank line, members renamed by `field_mapping`.
// Values must have the JSON type of their column (int64: integer; double: number; string:
// string; bool: true/false; timestamp: RFC 3339 string or integer Unix seconds; list<T>: an
// array of T). A missing or null feature is null; a line that is not a JSON object, a
// missing/null join key or event timestamp, or a value of the wrong type rejects the row.
Result<SourceReadResult> ReadJsonLinesSource(
    std::string_view text, std::string_view source_name,
    const std::map<std::string, std::string>& field_mapping, const SourceColumns& columns,
    const SourceReadOptions& options);

// Reads the file at `path` (the source's path resolved by the caller) as source.kind says
// (csv or jsonl), naming it by `path` in positions. NotFound naming the path when it cannot
// be read; InvalidArgument for a postgres source (use ReadPostgresSource).
Result<SourceReadResult> ReadSourceFile(const catalog::DataSource& source, const std::string& path,
                                        const SourceColumns& columns,
                                        const SourceReadOptions& options);

// Cell conversions shared by the source readers of this module (CSV, JSON Lines,
// PostgreSQL). Each appends one cell to `column` or returns InvalidArgument whose message
// names `column_name`, the expected type and the offending text (at most 64 bytes of it).
namespace source_detail {

// How text cells spell values that are not plain scalars.
enum class TextDialect : uint8_t {
  kCsv,       // lists as JSON arrays; timestamps RFC 3339 or Unix seconds
  kPostgres,  // lists as array literals '{1,2}'; bool t/f; ISO timestamps "2026-01-02 03:04:05+00"
};

// `text` is never null here; callers decide what null looks like in their input.
Status AppendTextCell(ColumnVector& column, std::string_view text, std::string_view column_name,
                      TextDialect dialect);
// A timestamp cell's text as UTC micros (RFC 3339, ISO with a space, date, Unix seconds).
Result<int64_t> ParseTimestampText(std::string_view text, std::string_view column_name,
                                   TextDialect dialect);
// InvalidArgument when join keys are lists, a name is requested twice, or the event
// timestamp field is not named.
Status ValidateColumns(const SourceColumns& columns);
// "a -> b, c -> d", or "none", for messages about missing columns.
std::string FieldMappingText(const std::map<std::string, std::string>& field_mapping);
// `text` cut to 64 bytes (on a UTF-8 boundary, "..." added) for messages.
std::string Excerpt(std::string_view text);

// Accumulates rows: a row's cells are appended column by column and the row is then either
// committed or rolled back as a reject, so a bad row leaves no trace in the batch.
class SourceRowBuilder {
 public:
  SourceRowBuilder(const SourceColumns& columns, const SourceReadOptions& options);

  // Slots in the order rows are filled: join keys, features, event ts, created ts (the last
  // only when the source has one).
  size_t num_keys() const { return columns_.join_keys.size(); }
  size_t num_features() const { return columns_.features.size(); }
  size_t event_slot() const { return num_keys() + num_features(); }
  size_t created_slot() const { return event_slot() + 1; }
  size_t num_slots() const { return event_slot() + (has_created() ? 2 : 1); }
  bool has_created() const { return !columns_.created_timestamp_field.empty(); }
  // The view name of a slot.
  const std::string& SlotName(size_t slot) const;
  const Column* SlotColumn(size_t slot) const;  // nullptr for the timestamp slots

  ColumnVector& key(size_t k) { return result_.batch.join_keys[k]; }
  ColumnVector& feature(size_t f) { return result_.batch.features[f]; }

  // Marks where the row starts; every row must end with Commit or Reject.
  void BeginRow();
  void Commit(int64_t event_ts, int64_t created_ts);
  void Reject(uint64_t row, std::string where, std::string message);

  int64_t default_created_ts() const { return options_.default_created_ts; }
  SourceReadResult Finish() { return std::move(result_); }

 private:
  SourceColumns columns_;
  SourceReadOptions options_;
  SourceReadResult result_;
  std::vector<size_t> arena_marks_;  // arena sizes of keys then features at BeginRow
};

}  // namespace source_detail

}  // namespace custos::features
