// Entity rows (Feast's "entity dataframe"): join keys and a timestamp per row, plus any
// other columns (labels) carried through to the training set, read from CSV (RFC 4180) or
// JSON Lines. Errors name the file, line and column. The CSV tokenizer is exported for the
// ingestion readers.
// Thread-safety: plain functions and values; a CsvReader is for one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "features/offline_columns.h"

namespace custos::features {

// RFC 4180 records from text, with the position of every field: fields are separated by
// ',', records by CRLF or LF; a quoted field may hold commas, newlines and "" for a quote.
class CsvReader {
 public:
  // `source` names the input in error messages (a file name).
  CsvReader(std::string_view text, std::string source);

  // Reads the next record into `fields` (views valid until the next call). Returns false at
  // the end of the input. InvalidArgument "source:line:column: ..." for an unterminated
  // quoted field or text after a closing quote.
  Result<bool> Next(std::vector<std::string_view>& fields);

  // Line (1-based) on which the record last read starts.
  size_t line() const { return record_line_; }
  // Line and column (1-based, in bytes) where field `i` of the last record starts.
  size_t field_line(size_t i) const { return positions_[i].line; }
  size_t field_column(size_t i) const { return positions_[i].column; }
  // "source:line:column" of field i of the last record.
  std::string Where(size_t i) const;
  const std::string& source() const { return source_; }

 private:
  struct Span {
    size_t offset;
    size_t length;
    bool unescaped;  // in unescaped_ rather than text_
  };
  struct Position {
    size_t line;
    size_t column;
  };
  std::string_view text_;
  std::string source_;
  size_t pos_ = 0;
  size_t line_ = 1;
  size_t line_start_ = 0;
  size_t record_line_ = 0;
  std::vector<Span> spans_;
  std::vector<Position> positions_;
  std::string unescaped_;
};

// The non-blank lines of JSON Lines text (LF or CRLF line ends, the CR dropped), with their
// 1-based line numbers; a leading UTF-8 byte order mark is skipped.
class JsonLinesReader {
 public:
  explicit JsonLinesReader(std::string_view text)
      : text_(text), pos_(text.starts_with("\xEF\xBB\xBF") ? 3 : 0) {}
  // The next non-blank line (a view into the text), or false at the end.
  bool Next(std::string_view& line);
  // Line number of the line last returned.
  size_t line() const { return line_; }

 private:
  std::string_view text_;
  size_t pos_;
  size_t line_ = 0;
};

// What to read: the join keys (name and scalar type) and the timestamp column.
struct EntityRowsSpec {
  std::vector<Column> join_keys;
  // Name of the entity timestamp column. Default "event_timestamp" (Feast's).
  std::string timestamp_column = "event_timestamp";
  // Carry other columns through as strings (in JSON Lines: a JSON string's text, or the
  // JSON text of any other value). Default true.
  bool keep_other_columns = true;
};

// Entity rows, column-wise, in input order.
struct EntityRows {
  std::vector<Column> key_columns;  // spec.join_keys
  std::vector<ColumnVector> keys;   // one per key column
  std::vector<int64_t> ts;          // UTC micros
  std::string timestamp_column;
  std::vector<std::string> extra_names;  // other columns, in input order
  std::vector<ColumnVector> extras;      // string columns, null for empty/absent
  size_t size() const { return ts.size(); }
};

// Builds empty EntityRows with the spec's columns.
EntityRows MakeEntityRows(const EntityRowsSpec& spec);

// Parses CSV with a header row. Entity timestamps are RFC 3339 or integer Unix seconds.
// InvalidArgument "source:line:column: ..." for: a missing key or timestamp column (named),
// a row with the wrong number of fields, an empty key, a key of the wrong type, a
// malformed timestamp.
Result<EntityRows> ReadEntityRowsCsv(std::string_view text, std::string_view source,
                                     const EntityRowsSpec& spec);

// Parses JSON Lines: one object per non-blank line. Keys must have the JSON type of their
// column (int64: integer; double: number; string: string; bool: true/false; timestamp:
// RFC 3339 string or integer Unix seconds). Errors as for CSV, at the line and at the column
// where the member starts (column 1 when the member is missing).
Result<EntityRows> ReadEntityRowsJsonl(std::string_view text, std::string_view source,
                                       const EntityRowsSpec& spec);

// Reads a file as CSV (.csv) or JSON Lines (.jsonl, .ndjson, .json); NotFound when the
// file cannot be read, InvalidArgument for other extensions.
Result<EntityRows> ReadEntityRowsFile(const std::string& path, const EntityRowsSpec& spec);

}  // namespace custos::features
