// Ingestion readers for CSV and JSON Lines sources: header/member resolution through
// field_mapping, typed cell conversion, and per-row rejects with file:line:col positions.
#include "features/source_reader.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "features/entity_rows.h"
#include "features/postgres_source.h"

namespace custos::features {

using catalog::ScalarType;
using catalog::ValueType;

namespace source_detail {
namespace {

constexpr size_t kExcerptBytes = 64;
constexpr size_t kSummaryRowsListed = 10;

std::string_view ExpectedText(ScalarType type, TextDialect dialect) {
  switch (type) {
    case ScalarType::kInt64:
      return "a whole number between -9223372036854775808 and 9223372036854775807";
    case ScalarType::kDouble:
      return "a finite decimal number such as 0.25 or -3e4";
    case ScalarType::kString:
      return "text";
    case ScalarType::kBool:
      return dialect == TextDialect::kPostgres ? "t or f" : "true, false, 1 or 0";
    case ScalarType::kTimestamp:
      return dialect == TextDialect::kPostgres
                 ? "an ISO time such as 2026-01-02 03:04:05+00"
                 : "RFC 3339 such as 2026-01-02T03:04:05Z, or integer Unix seconds";
  }
  return "a value";
}

Status WrongType(std::string_view column_name, ValueType type, std::string_view expected,
                 std::string_view text) {
  return InvalidArgumentError("column '" + std::string(column_name) + "': expected " +
                              catalog::ValueTypeName(type) + " (" + std::string(expected) +
                              "), got '" + Excerpt(text) + "'");
}

std::string DumpJson(const nlohmann::json& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool ParseInt64(std::string_view text, int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool SecondsToMicros(int64_t seconds, int64_t& micros) {
  constexpr int64_t kMicros = 1000000;
  if (seconds > INT64_MAX / kMicros || seconds < INT64_MIN / kMicros) return false;
  micros = seconds * kMicros;
  return true;
}

// PostgreSQL's ISO output (DateStyle ISO, TimeZone UTC) as RFC 3339: "2026-01-02 03:04:05+00"
// -> "2026-01-02T03:04:05+00:00"; a timestamp without time zone is taken as UTC; a date is
// its midnight. Returns nullopt when the text has none of these shapes.
std::optional<std::string> PostgresTimeToRfc3339(std::string_view text) {
  if (text.size() == 10) return std::string(text) + "T00:00:00Z";
  if (text.size() < 19 || text[10] != ' ') return std::nullopt;
  std::string out(text);
  out[10] = 'T';
  size_t offset = out.find_first_of("+-Z", 19);
  if (offset == std::string::npos) {
    out += 'Z';
  } else if (out[offset] != 'Z' && out.size() - offset == 3) {
    out += ":00";
  }
  return out;
}

Result<double> ParseDouble(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    return InvalidArgumentError("not a finite double");
  }
  return v;
}

Result<bool> ParseBool(std::string_view text, TextDialect dialect) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (dialect == TextDialect::kPostgres) {
    if (lower == "t" || lower == "true") return true;
    if (lower == "f" || lower == "false") return false;
  } else {
    if (lower == "true" || lower == "1") return true;
    if (lower == "false" || lower == "0") return false;
  }
  return InvalidArgumentError("not a bool");
}

// One JSON value as a scalar of `type`; InvalidArgument naming the column and the value.
Result<catalog::Scalar> JsonScalar(const nlohmann::json& v, ScalarType type,
                                   std::string_view column_name, ValueType column_type,
                                   std::string_view what) {
  auto wrong = [&](std::string_view expected) {
    return InvalidArgumentError("column '" + std::string(column_name) + "': expected " +
                                catalog::ValueTypeName(column_type) + " (" + std::string(what) +
                                std::string(expected) + "), got JSON " + v.type_name() + " " +
                                Excerpt(DumpJson(v)));
  };
  switch (type) {
    case ScalarType::kInt64:
      if (v.is_number_unsigned()) {
        uint64_t u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(INT64_MAX)) return wrong("an integer within int64 range");
        return catalog::Scalar{static_cast<int64_t>(u)};
      }
      if (v.is_number_integer()) return catalog::Scalar{v.get<int64_t>()};
      return wrong("an integer");
    case ScalarType::kDouble:
      if (!v.is_number()) return wrong("a number");
      {
        double d = v.get<double>();
        if (!std::isfinite(d)) return wrong("a finite number");
        return catalog::Scalar{d};
      }
    case ScalarType::kString:
      if (!v.is_string()) return wrong("a string");
      return catalog::Scalar{v.get<std::string>()};
    case ScalarType::kBool:
      if (!v.is_boolean()) return wrong("true or false");
      return catalog::Scalar{v.get<bool>()};
    case ScalarType::kTimestamp: {
      if (v.is_number_integer()) {
        int64_t micros = 0;
        if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
          return wrong("Unix seconds within range");
        }
        if (!SecondsToMicros(v.get<int64_t>(), micros)) return wrong("Unix seconds within range");
        return catalog::Scalar{catalog::Timestamp{micros}};
      }
      if (!v.is_string()) return wrong("an RFC 3339 string or integer Unix seconds");
      Result<catalog::Timestamp> t = catalog::ParseTimestamp(v.get_ref<const std::string&>());
      if (!t.ok()) return wrong("an RFC 3339 string such as 2026-01-02T03:04:05Z");
      return catalog::Scalar{*t};
    }
  }
  return wrong("a scalar");
}

// Appends a JSON array as a list cell; InvalidArgument for a non-array or a bad element.
Status AppendJsonList(ColumnVector& column, const nlohmann::json& v, std::string_view column_name) {
  const ValueType type = column.type;
  if (!v.is_array()) {
    return InvalidArgumentError(
        "column '" + std::string(column_name) + "': expected " + catalog::ValueTypeName(type) +
        " (a JSON array such as [1,2] or [\"a\",\"b\"]), got " + Excerpt(DumpJson(v)));
  }
  std::vector<catalog::Scalar> list;
  list.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const nlohmann::json& element = v[i];
    const std::string what = "element " + std::to_string(i + 1) + " must be ";
    if (element.is_null()) {
      return InvalidArgumentError("column '" + std::string(column_name) + "': element " +
                                  std::to_string(i + 1) +
                                  " is null; lists cannot hold nulls (drop the element)");
    }
    CUSTOS_ASSIGN_OR_RETURN(catalog::Scalar s,
                            JsonScalar(element, type.scalar, column_name, type, what));
    list.push_back(std::move(s));
  }
  std::string encoded;
  CUSTOS_RETURN_IF_ERROR(EncodeList(list, type.scalar, encoded));
  column.AppendBytes(encoded);
  return Status::Ok();
}

// Appends a scalar of the (scalar) column's type.
void AppendScalar(ColumnVector& column, const catalog::Scalar& s) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          column.AppendInt64(v);
        } else if constexpr (std::is_same_v<T, double>) {
          column.AppendDouble(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          column.AppendBytes(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          column.AppendBool(v);
        } else {
          column.AppendTimestamp(v.micros);
        }
      },
      s);
}

// Appends a JSON value (not null) as a cell of the column's type.
Status AppendJsonCell(ColumnVector& column, const nlohmann::json& v, std::string_view column_name) {
  if (column.type.is_list) return AppendJsonList(column, v, column_name);
  CUSTOS_ASSIGN_OR_RETURN(catalog::Scalar s,
                          JsonScalar(v, column.type.scalar, column_name, column.type, ""));
  AppendScalar(column, s);
  return Status::Ok();
}

// A JSON event/created timestamp as UTC micros.
Result<int64_t> JsonTimestamp(const nlohmann::json& v, std::string_view column_name) {
  CUSTOS_ASSIGN_OR_RETURN(catalog::Scalar s,
                          JsonScalar(v, ScalarType::kTimestamp, column_name,
                                     ValueType{ScalarType::kTimestamp, false}, ""));
  return std::get<catalog::Timestamp>(s).micros;
}

}  // namespace

std::string FieldMappingText(const std::map<std::string, std::string>& field_mapping) {
  if (field_mapping.empty()) return "none";
  std::string out;
  for (const auto& [from, to] : field_mapping) {
    if (!out.empty()) out += ", ";
    out.append(from).append(" -> ").append(to);
  }
  return out;
}

std::string Excerpt(std::string_view text) {
  if (text.size() <= kExcerptBytes) return std::string(text);
  size_t cut = kExcerptBytes;
  // Back up over UTF-8 continuation bytes so a character is never split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

Result<int64_t> ParseTimestampText(std::string_view text, std::string_view column_name,
                                   TextDialect dialect) {
  const ValueType type{ScalarType::kTimestamp, false};
  int64_t seconds = 0;
  if (ParseInt64(text, seconds)) {
    int64_t micros = 0;
    if (!SecondsToMicros(seconds, micros)) {
      return WrongType(column_name, type, "Unix seconds within the representable range", text);
    }
    return micros;
  }
  std::optional<std::string> rfc3339;
  if (dialect == TextDialect::kPostgres) rfc3339 = PostgresTimeToRfc3339(text);
  Result<catalog::Timestamp> t =
      catalog::ParseTimestamp(rfc3339.has_value() ? std::string_view(*rfc3339) : text);
  if (!t.ok()) return WrongType(column_name, type, ExpectedText(type.scalar, dialect), text);
  return t->micros;
}

namespace {

// A scalar cell's text as a value of `scalar`; InvalidArgument as WrongType says.
Result<catalog::Scalar> ParseTextScalar(std::string_view text, ScalarType scalar,
                                        std::string_view column_name, TextDialect dialect) {
  const ValueType type{scalar, false};
  switch (scalar) {
    case ScalarType::kInt64: {
      int64_t v = 0;
      if (!ParseInt64(text, v)) {
        return WrongType(column_name, type, ExpectedText(scalar, dialect), text);
      }
      return catalog::Scalar{v};
    }
    case ScalarType::kDouble: {
      Result<double> v = ParseDouble(text);
      if (!v.ok()) return WrongType(column_name, type, ExpectedText(scalar, dialect), text);
      return catalog::Scalar{*v};
    }
    case ScalarType::kString:
      return catalog::Scalar{std::string(text)};
    case ScalarType::kBool: {
      Result<bool> v = ParseBool(text, dialect);
      if (!v.ok()) return WrongType(column_name, type, ExpectedText(scalar, dialect), text);
      return catalog::Scalar{*v};
    }
    case ScalarType::kTimestamp: {
      CUSTOS_ASSIGN_OR_RETURN(int64_t micros, ParseTimestampText(text, column_name, dialect));
      return catalog::Scalar{catalog::Timestamp{micros}};
    }
  }
  return WrongType(column_name, type, "a known type", text);
}

}  // namespace

Status AppendTextCell(ColumnVector& column, std::string_view text, std::string_view column_name,
                      TextDialect dialect) {
  const ValueType type = column.type;
  if (type.is_list) {
    if (dialect == TextDialect::kPostgres) {
      Result<std::vector<std::optional<std::string>>> elements = ParsePostgresArray(text);
      if (!elements.ok()) {
        return InvalidArgumentError("column '" + std::string(column_name) + "': expected " +
                                    catalog::ValueTypeName(type) +
                                    " (an array such as {1,2}): " + elements.status().message());
      }
      std::vector<catalog::Scalar> list;
      list.reserve(elements->size());
      for (size_t i = 0; i < elements->size(); ++i) {
        const std::optional<std::string>& e = (*elements)[i];
        if (!e.has_value()) {
          return InvalidArgumentError("column '" + std::string(column_name) + "': element " +
                                      std::to_string(i + 1) +
                                      " is NULL; lists cannot hold nulls (filter them out, e.g. "
                                      "array_remove(col, NULL))");
        }
        Result<catalog::Scalar> element = ParseTextScalar(*e, type.scalar, column_name, dialect);
        if (!element.ok()) {
          return InvalidArgumentError("element " + std::to_string(i + 1) + " of " +
                                      element.status().message());
        }
        list.push_back(*std::move(element));
      }
      std::string encoded;
      CUSTOS_RETURN_IF_ERROR(EncodeList(list, type.scalar, encoded));
      column.AppendBytes(encoded);
      return Status::Ok();
    }
    nlohmann::json v;
    try {
      v = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
      // parse_error, or out_of_range for a number beyond a double such as 1e999.
      return InvalidArgumentError(
          "column '" + std::string(column_name) + "': expected " + catalog::ValueTypeName(type) +
          " (a JSON array such as [1,2] or [\"a\",\"b\"]), got '" + Excerpt(text) + "'");
    }
    return AppendJsonList(column, v, column_name);
  }
  if (type.scalar == ScalarType::kString) {  // the common case, without a copy
    column.AppendBytes(text);
    return Status::Ok();
  }
  CUSTOS_ASSIGN_OR_RETURN(catalog::Scalar value,
                          ParseTextScalar(text, type.scalar, column_name, dialect));
  AppendScalar(column, value);
  return Status::Ok();
}

Status ValidateColumns(const SourceColumns& columns) {
  if (columns.timestamp_field.empty()) {
    return InvalidArgumentError(
        "the source has no timestamp_field; name the event time column in the source");
  }
  std::unordered_map<std::string, int> seen;
  auto add = [&](const std::string& name) -> Status {
    if (!seen.emplace(name, 0).second) {
      return InvalidArgumentError("column '" + name +
                                  "' is requested twice (as a join key, feature or timestamp); "
                                  "give each column one role");
    }
    return Status::Ok();
  };
  for (const Column& c : columns.join_keys) {
    if (c.type.is_list) {
      return InvalidArgumentError("join key '" + c.name + "' is a list (" +
                                  catalog::ValueTypeName(c.type) + "); join keys are scalar");
    }
    CUSTOS_RETURN_IF_ERROR(add(c.name));
  }
  for (const Column& c : columns.features) CUSTOS_RETURN_IF_ERROR(add(c.name));
  CUSTOS_RETURN_IF_ERROR(add(columns.timestamp_field));
  if (!columns.created_timestamp_field.empty()) {
    CUSTOS_RETURN_IF_ERROR(add(columns.created_timestamp_field));
  }
  return Status::Ok();
}

SourceRowBuilder::SourceRowBuilder(const SourceColumns& columns, const SourceReadOptions& options)
    : columns_(columns), options_(options) {
  result_.batch = MakeOfflineBatch(OfflineViewSchema{"", columns.join_keys, columns.features});
  arena_marks_.resize(columns.join_keys.size() + columns.features.size());
}

const std::string& SourceRowBuilder::SlotName(size_t slot) const {
  if (slot < num_keys()) return columns_.join_keys[slot].name;
  if (slot < event_slot()) return columns_.features[slot - num_keys()].name;
  if (slot == event_slot()) return columns_.timestamp_field;
  return columns_.created_timestamp_field;
}

const Column* SourceRowBuilder::SlotColumn(size_t slot) const {
  if (slot < num_keys()) return &columns_.join_keys[slot];
  if (slot < event_slot()) return &columns_.features[slot - num_keys()];
  return nullptr;
}

void SourceRowBuilder::BeginRow() {
  size_t i = 0;
  for (const ColumnVector& c : result_.batch.join_keys) arena_marks_[i++] = c.arena.size();
  for (const ColumnVector& c : result_.batch.features) arena_marks_[i++] = c.arena.size();
}

void SourceRowBuilder::Commit(int64_t event_ts, int64_t created_ts) {
  result_.batch.event_ts.push_back(event_ts);
  result_.batch.created_ts.push_back(created_ts);
  ++result_.rows_read;
}

void SourceRowBuilder::Reject(uint64_t row, std::string where, std::string message) {
  const size_t n = result_.batch.size();
  size_t i = 0;
  auto truncate = [&](ColumnVector& c) {
    c.valid.resize(n);
    c.fixed.resize(n);
    if (IsVarlen(c.type)) c.lengths.resize(n);
    c.arena.resize(arena_marks_[i++]);
  };
  for (ColumnVector& c : result_.batch.join_keys) truncate(c);
  for (ColumnVector& c : result_.batch.features) truncate(c);
  ++result_.rows_read;
  ++result_.rejected;
  if (result_.rejects.size() < options_.max_rejects_kept) {
    result_.rejects.push_back({row, std::move(where), std::move(message)});
  }
}

}  // namespace source_detail

std::string SourceReadResult::Summary() const {
  std::string out = "read " + std::to_string(rows_read) + (rows_read == 1 ? " row: " : " rows: ") +
                    std::to_string(batch.size()) + " accepted, " + std::to_string(rejected) +
                    " rejected";
  if (rejects.empty()) return out;  // none kept (max_rejects_kept = 0): no row numbers
  out += rejected == 1 ? " (row " : " (rows ";
  size_t listed = 0;
  for (const RowReject& r : rejects) {
    if (listed == source_detail::kSummaryRowsListed) break;
    if (listed > 0) out += ", ";
    out += std::to_string(r.row);
    ++listed;
  }
  if (rejected > listed) {
    out += " and " + std::to_string(rejected - listed) + " more";
  }
  out += ")";
  return out;
}

namespace {

using source_detail::AppendTextCell;
using source_detail::SourceRowBuilder;
using source_detail::TextDialect;

std::string PositionText(std::string_view source, size_t line, size_t column) {
  return std::string(source) + ":" + std::to_string(line) + ":" + std::to_string(column);
}

Status CheckSize(size_t bytes, std::string_view source_name, const SourceReadOptions& options) {
  if (bytes > options.max_input_bytes) {
    return ResourceExhaustedError(
        std::string(source_name) + ": input is " + std::to_string(bytes) +
        " bytes, more than the limit of " + std::to_string(options.max_input_bytes) +
        " (SourceReadOptions::max_input_bytes); split the source or raise the limit");
  }
  return Status::Ok();
}

std::string MappedName(const std::map<std::string, std::string>& field_mapping,
                       const std::string& name) {
  auto it = field_mapping.find(name);
  return it == field_mapping.end() ? name : it->second;
}

Status MissingHeaderColumn(std::string_view where, std::string_view name,
                           std::string_view header_list,
                           const std::map<std::string, std::string>& field_mapping) {
  std::string message(where);
  message.append(": missing column '").append(name).append("' (the header has: ");
  message.append(header_list).append("; field_mapping: ");
  message.append(source_detail::FieldMappingText(field_mapping));
  message.append("); add the column or map a source column to it with field_mapping");
  return InvalidArgumentError(std::move(message));
}

std::unordered_map<std::string, size_t> SlotIndex(const SourceRowBuilder& builder) {
  std::unordered_map<std::string, size_t> index;
  for (size_t s = 0; s < builder.num_slots(); ++s) index.emplace(builder.SlotName(s), s);
  return index;
}

// Converts the text of one key or feature slot; empty text is null (a reject for keys).
Status AppendTextSlot(SourceRowBuilder& builder, size_t slot, std::string_view text) {
  const Column* column = builder.SlotColumn(slot);
  const bool is_key = slot < builder.num_keys();
  ColumnVector& out = is_key ? builder.key(slot) : builder.feature(slot - builder.num_keys());
  if (text.empty()) {
    if (is_key) {
      return InvalidArgumentError("join key '" + column->name +
                                  "' is empty; every row needs its join keys");
    }
    out.AppendNull();
    return Status::Ok();
  }
  Status s = AppendTextCell(out, text, column->name, TextDialect::kCsv);
  if (!s.ok() && is_key) return InvalidArgumentError("join key " + s.message());
  return s;
}

}  // namespace

Result<SourceReadResult> ReadCsvSource(std::string_view text, std::string_view source_name,
                                       const std::map<std::string, std::string>& field_mapping,
                                       const SourceColumns& columns,
                                       const SourceReadOptions& options) {
  CUSTOS_RETURN_IF_ERROR(CheckSize(text.size(), source_name, options));
  CUSTOS_RETURN_IF_ERROR(source_detail::ValidateColumns(columns));
  SourceRowBuilder builder(columns, options);
  CsvReader reader(text, std::string(source_name));
  std::vector<std::string_view> fields;
  CUSTOS_ASSIGN_OR_RETURN(bool has_header, reader.Next(fields));
  if (!has_header) {
    return InvalidArgumentError(std::string(source_name) +
                                ":1:1: empty input; expected a header row naming the columns");
  }
  const size_t header_line = reader.line();
  std::vector<std::string> header(fields.begin(), fields.end());
  std::unordered_map<std::string, size_t> raw_index;
  std::unordered_map<std::string, size_t> mapped_index;
  for (size_t i = 0; i < header.size(); ++i) {
    if (!raw_index.emplace(header[i], i).second) {
      return InvalidArgumentError(reader.Where(i) + ": duplicate column '" + header[i] +
                                  "' in the header; column names must be unique");
    }
  }
  for (size_t i = 0; i < header.size(); ++i) {
    std::string mapped = MappedName(field_mapping, header[i]);
    auto [it, inserted] = mapped_index.emplace(mapped, i);
    if (!inserted) {
      return InvalidArgumentError(reader.Where(i) + ": columns '" + header[it->second] + "' and '" +
                                  header[i] + "' both become '" + mapped +
                                  "' after field_mapping; rename or drop one of them");
    }
  }
  std::string header_list;
  for (const std::string& h : header) {
    if (!header_list.empty()) header_list += ", ";
    header_list += h;
  }
  std::vector<size_t> field_of_slot(builder.num_slots());
  for (size_t s = 0; s < builder.num_slots(); ++s) {
    const std::string& name = builder.SlotName(s);
    auto it = mapped_index.find(name);
    if (it == mapped_index.end()) {
      return MissingHeaderColumn(PositionText(source_name, header_line, 1), name, header_list,
                                 field_mapping);
    }
    field_of_slot[s] = it->second;
  }
  uint64_t row = 0;
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(bool more, reader.Next(fields));
    if (!more) break;
    if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line is not a record
    ++row;
    builder.BeginRow();
    if (fields.size() != header.size()) {
      // Point at the first surplus field, or at the last field of a short row.
      builder.Reject(
          row, reader.Where(fields.size() > header.size() ? header.size() : fields.size() - 1),
          "row has " + std::to_string(fields.size()) + " fields but the header has " +
              std::to_string(header.size()));
      continue;
    }
    Status status;
    size_t bad_slot = 0;
    for (size_t s = 0; s < builder.event_slot() && status.ok(); ++s) {
      status = AppendTextSlot(builder, s, fields[field_of_slot[s]]);
      bad_slot = s;
    }
    int64_t event_ts = 0;
    int64_t created_ts = builder.default_created_ts();
    if (status.ok()) {
      bad_slot = builder.event_slot();
      std::string_view ts_text = fields[field_of_slot[bad_slot]];
      if (ts_text.empty()) {
        status = InvalidArgumentError("event timestamp '" + columns.timestamp_field +
                                      "' is empty; every row needs one");
      } else {
        Result<int64_t> ts =
            source_detail::ParseTimestampText(ts_text, columns.timestamp_field, TextDialect::kCsv);
        if (ts.ok()) {
          event_ts = *ts;
        } else {
          status = InvalidArgumentError("malformed event timestamp: " + ts.status().message());
        }
      }
    }
    if (status.ok() && builder.has_created()) {
      bad_slot = builder.created_slot();
      std::string_view ts_text = fields[field_of_slot[bad_slot]];
      if (!ts_text.empty()) {
        Result<int64_t> ts = source_detail::ParseTimestampText(
            ts_text, columns.created_timestamp_field, TextDialect::kCsv);
        if (ts.ok()) {
          created_ts = *ts;
        } else {
          status = InvalidArgumentError("malformed created timestamp: " + ts.status().message());
        }
      }
    }
    if (!status.ok()) {
      builder.Reject(row, reader.Where(field_of_slot[bad_slot]), status.message());
      continue;
    }
    builder.Commit(event_ts, created_ts);
  }
  return builder.Finish();
}

namespace {

// Column (1-based) where member `name` starts in `line`, or 1 when not found.
size_t MemberColumn(std::string_view line, std::string_view name) {
  std::string quoted = "\"" + std::string(name) + "\"";
  size_t at = line.find(quoted);
  return at == std::string_view::npos ? 1 : at + 1;
}

std::string JsonErrorText(const nlohmann::json::exception& e) {
  std::string what = e.what();
  size_t colon = what.rfind(": ");
  if (colon != std::string::npos) return what.substr(colon + 2);
  size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

}  // namespace

Result<SourceReadResult> ReadJsonLinesSource(
    std::string_view text, std::string_view source_name,
    const std::map<std::string, std::string>& field_mapping, const SourceColumns& columns,
    const SourceReadOptions& options) {
  CUSTOS_RETURN_IF_ERROR(CheckSize(text.size(), source_name, options));
  CUSTOS_RETURN_IF_ERROR(source_detail::ValidateColumns(columns));
  SourceRowBuilder builder(columns, options);
  const std::unordered_map<std::string, size_t> slot_index = SlotIndex(builder);
  std::vector<const nlohmann::json*> cell(builder.num_slots());
  std::vector<const std::string*> member_name(builder.num_slots());
  uint64_t row = 0;
  JsonLinesReader lines(text);
  std::string_view line;
  while (lines.Next(line)) {
    const size_t line_no = lines.line();
    ++row;
    builder.BeginRow();
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      builder.Reject(row, PositionText(source_name, line_no, e.byte == 0 ? 1 : e.byte),
                     "invalid JSON: " + JsonErrorText(e));
      continue;
    } catch (const nlohmann::json::exception& e) {
      // out_of_range: a number beyond what a double holds, such as 1e999.
      builder.Reject(row, PositionText(source_name, line_no, 1),
                     "invalid JSON: " + JsonErrorText(e));
      continue;
    }
    if (!object.is_object()) {
      builder.Reject(row, PositionText(source_name, line_no, 1),
                     std::string("expected a JSON object per line, got ") + object.type_name());
      continue;
    }
    std::fill(cell.begin(), cell.end(), nullptr);
    Status status;
    size_t where_column = 1;
    for (auto member = object.begin(); member != object.end() && status.ok(); ++member) {
      auto slot = slot_index.find(MappedName(field_mapping, member.key()));
      if (slot == slot_index.end()) continue;  // extra members are ignored
      if (cell[slot->second] != nullptr) {
        where_column = MemberColumn(line, member.key());
        status = InvalidArgumentError("members '" + *member_name[slot->second] + "' and '" +
                                      member.key() + "' both become '" + slot->first +
                                      "' after field_mapping; keep one of them");
        break;
      }
      cell[slot->second] = &member.value();
      member_name[slot->second] = &member.key();
    }
    int64_t event_ts = 0;
    int64_t created_ts = builder.default_created_ts();
    for (size_t s = 0; s < builder.num_slots() && status.ok(); ++s) {
      const nlohmann::json* v = cell[s];
      where_column = v == nullptr ? 1 : MemberColumn(line, *member_name[s]);
      const bool is_null = v == nullptr || v->is_null();
      const char* absent = v == nullptr ? "missing" : "null";
      if (s < builder.num_keys()) {
        if (is_null) {
          status = InvalidArgumentError("join key '" + builder.SlotName(s) + "' is " + absent +
                                        "; every row needs its join keys");
        } else {
          status = source_detail::AppendJsonCell(builder.key(s), *v, builder.SlotName(s));
          if (!status.ok()) status = InvalidArgumentError("join key " + status.message());
        }
      } else if (s < builder.event_slot()) {
        ColumnVector& out = builder.feature(s - builder.num_keys());
        if (is_null) {
          out.AppendNull();
        } else {
          status = source_detail::AppendJsonCell(out, *v, builder.SlotName(s));
        }
      } else if (s == builder.event_slot()) {
        if (is_null) {
          status = InvalidArgumentError("event timestamp '" + builder.SlotName(s) + "' is " +
                                        absent + "; every row needs one");
        } else {
          Result<int64_t> ts = source_detail::JsonTimestamp(*v, builder.SlotName(s));
          if (ts.ok()) {
            event_ts = *ts;
          } else {
            status = InvalidArgumentError("malformed event timestamp: " + ts.status().message());
          }
        }
      } else if (!is_null) {
        Result<int64_t> ts = source_detail::JsonTimestamp(*v, builder.SlotName(s));
        if (ts.ok()) {
          created_ts = *ts;
        } else {
          status = InvalidArgumentError("malformed created timestamp: " + ts.status().message());
        }
      }
    }
    if (!status.ok()) {
      builder.Reject(row, PositionText(source_name, line_no, where_column), status.message());
      continue;
    }
    builder.Commit(event_ts, created_ts);
  }
  return builder.Finish();
}

Result<SourceReadResult> ReadSourceFile(const catalog::DataSource& source, const std::string& path,
                                        const SourceColumns& columns,
                                        const SourceReadOptions& options) {
  if (source.kind == catalog::SourceKind::kPostgres) {
    return InvalidArgumentError("source '" + source.name +
                                "' is a postgres source; read it with ReadPostgresSource");
  }
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    return NotFoundError("source '" + source.name + "': cannot read '" + path +
                         "': " + ec.message() + "; check the source's path");
  }
  CUSTOS_RETURN_IF_ERROR(CheckSize(static_cast<size_t>(size), path, options));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("source '" + source.name + "': cannot read '" + path +
                         "'; check the source's path and its permissions");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = std::move(buffer).str();
  if (source.kind == catalog::SourceKind::kCsv) {
    return ReadCsvSource(text, path, source.field_mapping, columns, options);
  }
  return ReadJsonLinesSource(text, path, source.field_mapping, columns, options);
}

}  // namespace custos::features
