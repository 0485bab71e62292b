// Entity-row readers: an RFC 4180 tokenizer with positions, and CSV / JSON Lines parsing
// into typed columns with errors at file:line:column.
#include "features/entity_rows.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

namespace custos::features {
namespace {

using catalog::ScalarType;

std::string HeaderList(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

Status AtError(std::string_view where, std::string message) {
  return InvalidArgumentError(std::string(where) + ": " + message);
}

std::string PositionText(std::string_view source, size_t line, size_t column) {
  return std::string(source) + ":" + std::to_string(line) + ":" + std::to_string(column);
}

// Parses a key cell of `type` from CSV text into `column`.
Status AppendKeyText(ColumnVector& column, std::string_view text, const Column& spec,
                     std::string_view where) {
  if (text.empty()) {
    return AtError(where, "join key '" + spec.name + "' is empty; every entity row needs it");
  }
  Result<catalog::Value> value = catalog::ParseScalarText(text, spec.type.scalar);
  if (!value.ok()) {
    return AtError(where,
                   "join key '" + spec.name + "' has the wrong type: " + value.status().message());
  }
  return column.AppendValue(*value);
}

Result<int64_t> ParseEntityTimestamp(std::string_view text, std::string_view column,
                                     std::string_view where) {
  if (text.empty()) {
    return AtError(where, "timestamp column '" + std::string(column) +
                              "' is empty; every entity row needs a timestamp");
  }
  Result<catalog::Value> value = catalog::ParseScalarText(text, ScalarType::kTimestamp);
  if (!value.ok()) {
    return AtError(where, "malformed timestamp in column '" + std::string(column) +
                              "': " + value.status().message() +
                              " (use RFC 3339 such as 2026-01-02T03:04:05Z, or Unix seconds)");
  }
  return std::get<catalog::Timestamp>(*value).micros;
}

}  // namespace

CsvReader::CsvReader(std::string_view text, std::string source)
    : text_(text), source_(std::move(source)) {
  if (text_.starts_with("\xEF\xBB\xBF")) {  // a UTF-8 byte order mark is not data
    pos_ = 3;
    line_start_ = 3;
  }
}

std::string CsvReader::Where(size_t i) const {
  if (i >= positions_.size()) return PositionText(source_, record_line_, 1);
  return PositionText(source_, positions_[i].line, positions_[i].column);
}

Result<bool> CsvReader::Next(std::vector<std::string_view>& fields) {
  fields.clear();
  if (pos_ >= text_.size()) return false;
  record_line_ = line_;
  spans_.clear();
  positions_.clear();
  unescaped_.clear();
  const size_t n = text_.size();
  while (true) {
    positions_.push_back({line_, pos_ - line_start_ + 1});
    if (pos_ < n && text_[pos_] == '"') {
      const Position open = positions_.back();
      ++pos_;
      const size_t start = unescaped_.size();
      while (true) {
        if (pos_ >= n) {
          return InvalidArgumentError(PositionText(source_, open.line, open.column) +
                                      ": quoted field is never closed; add the closing '\"' "
                                      "(a quote inside a quoted field is written \"\")");
        }
        char c = text_[pos_];
        if (c == '"') {
          if (pos_ + 1 < n && text_[pos_ + 1] == '"') {
            unescaped_.push_back('"');
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        if (c == '\n') {
          ++line_;
          line_start_ = pos_ + 1;
        }
        unescaped_.push_back(c);
        ++pos_;
      }
      spans_.push_back({start, unescaped_.size() - start, true});
      bool at_end = pos_ >= n || text_[pos_] == ',' || text_[pos_] == '\n' ||
                    (text_[pos_] == '\r' && pos_ + 1 < n && text_[pos_ + 1] == '\n');
      if (!at_end) {
        return InvalidArgumentError(PositionText(source_, line_, pos_ - line_start_ + 1) +
                                    ": unexpected text after a closing quote; quote the whole "
                                    "field and write a quote inside it as \"\"");
      }
    } else {
      const size_t start = pos_;
      while (pos_ < n && text_[pos_] != ',' && text_[pos_] != '\n') ++pos_;
      size_t end = pos_;
      if (end > start && text_[end - 1] == '\r' && (pos_ >= n || text_[pos_] == '\n')) --end;
      spans_.push_back({start, end - start, false});
    }
    if (pos_ < n && text_[pos_] == ',') {
      ++pos_;
      continue;
    }
    if (pos_ < n && text_[pos_] == '\r') ++pos_;
    if (pos_ < n && text_[pos_] == '\n') {
      ++pos_;
      ++line_;
      line_start_ = pos_;
    }
    break;
  }
  fields.reserve(spans_.size());
  for (const Span& s : spans_) {
    fields.push_back(s.unescaped ? std::string_view(unescaped_).substr(s.offset, s.length)
                                 : text_.substr(s.offset, s.length));
  }
  return true;
}

EntityRows MakeEntityRows(const EntityRowsSpec& spec) {
  EntityRows rows;
  rows.key_columns = spec.join_keys;
  rows.timestamp_column = spec.timestamp_column;
  for (const Column& c : spec.join_keys) rows.keys.emplace_back(c.type);
  return rows;
}

Result<EntityRows> ReadEntityRowsCsv(std::string_view text, std::string_view source,
                                     const EntityRowsSpec& spec) {
  for (const Column& c : spec.join_keys) {
    if (c.type.is_list) {
      return InvalidArgumentError("join key '" + c.name + "' is a list; join keys are scalar");
    }
  }
  EntityRows rows = MakeEntityRows(spec);
  CsvReader reader(text, std::string(source));
  std::vector<std::string_view> fields;
  CUSTOS_ASSIGN_OR_RETURN(bool has_header, reader.Next(fields));
  if (!has_header) {
    return InvalidArgumentError(std::string(source) +
                                ":1:1: empty file; expected a header row naming the columns");
  }
  std::vector<std::string> header(fields.begin(), fields.end());
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < header.size(); ++i) {
    if (!index.emplace(header[i], i).second) {
      return AtError(reader.Where(i), "duplicate column '" + header[i] + "' in the header");
    }
  }
  auto find = [&](const std::string& name) -> Result<size_t> {
    auto it = index.find(name);
    if (it == index.end()) {
      return AtError(PositionText(source, reader.line(), 1),
                     "missing column '" + name + "' (the header has: " + HeaderList(header) + ")");
    }
    return it->second;
  };
  std::vector<size_t> key_index;
  for (const Column& c : spec.join_keys) {
    CUSTOS_ASSIGN_OR_RETURN(size_t i, find(c.name));
    key_index.push_back(i);
  }
  CUSTOS_ASSIGN_OR_RETURN(size_t ts_index, find(spec.timestamp_column));
  std::vector<size_t> extra_index;
  if (spec.keep_other_columns) {
    std::vector<bool> used(header.size(), false);
    for (size_t i : key_index) used[i] = true;
    used[ts_index] = true;
    for (size_t i = 0; i < header.size(); ++i) {
      if (used[i]) continue;
      extra_index.push_back(i);
      rows.extra_names.push_back(header[i]);
      rows.extras.emplace_back(catalog::ValueType{ScalarType::kString, false});
    }
  }
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(bool more, reader.Next(fields));
    if (!more) break;
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != header.size()) {
      // Point at the first surplus field, or at the last field of a short row.
      return AtError(
          reader.Where(fields.size() > header.size() ? header.size() : fields.size() - 1),
          "row has " + std::to_string(fields.size()) + " fields but the header has " +
              std::to_string(header.size()));
    }
    for (size_t k = 0; k < key_index.size(); ++k) {
      CUSTOS_RETURN_IF_ERROR(AppendKeyText(rows.keys[k], fields[key_index[k]], spec.join_keys[k],
                                           reader.Where(key_index[k])));
    }
    CUSTOS_ASSIGN_OR_RETURN(
        int64_t ts,
        ParseEntityTimestamp(fields[ts_index], spec.timestamp_column, reader.Where(ts_index)));
    rows.ts.push_back(ts);
    for (size_t e = 0; e < extra_index.size(); ++e) {
      std::string_view v = fields[extra_index[e]];
      if (v.empty()) {
        rows.extras[e].AppendNull();
      } else {
        rows.extras[e].AppendBytes(v);
      }
    }
  }
  return rows;
}

namespace {

// Column (1-based) where member `name` starts in `line`, or 1 when not found.
size_t MemberColumn(std::string_view line, std::string_view name) {
  std::string quoted = "\"" + std::string(name) + "\"";
  size_t at = line.find(quoted);
  return at == std::string_view::npos ? 1 : at + 1;
}

Status AppendJsonKey(ColumnVector& column, const nlohmann::json& v, const Column& spec,
                     std::string_view where) {
  auto wrong = [&](std::string_view expected) {
    return AtError(where, "join key '" + spec.name + "' has the wrong type: expected " +
                              std::string(expected) + ", got JSON " + v.type_name());
  };
  if (v.is_null()) {
    return AtError(where, "join key '" + spec.name + "' is null; every entity row needs it");
  }
  switch (spec.type.scalar) {
    case ScalarType::kInt64:
      if (v.is_number_unsigned()) {
        uint64_t u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(INT64_MAX)) return wrong("an int64 within range");
        column.AppendInt64(static_cast<int64_t>(u));
      } else if (v.is_number_integer()) {
        column.AppendInt64(v.get<int64_t>());
      } else {
        return wrong("an integer (int64)");
      }
      return Status::Ok();
    case ScalarType::kDouble:
      if (!v.is_number()) return wrong("a number (double)");
      column.AppendDouble(v.get<double>());
      return Status::Ok();
    case ScalarType::kString:
      if (!v.is_string()) return wrong("a string");
      column.AppendBytes(v.get_ref<const std::string&>());
      return Status::Ok();
    case ScalarType::kBool:
      if (!v.is_boolean()) return wrong("true or false");
      column.AppendBool(v.get<bool>());
      return Status::Ok();
    case ScalarType::kTimestamp: {
      if (v.is_number_integer()) {
        int64_t s = v.get<int64_t>();
        if (s > INT64_MAX / 1000000 || s < INT64_MIN / 1000000) {
          return wrong("Unix seconds within range");
        }
        column.AppendTimestamp(s * 1000000);
        return Status::Ok();
      }
      if (!v.is_string()) return wrong("an RFC 3339 string or integer Unix seconds");
      Result<catalog::Timestamp> t = catalog::ParseTimestamp(v.get_ref<const std::string&>());
      if (!t.ok()) {
        return AtError(where, "join key '" + spec.name + "': " + t.status().message());
      }
      column.AppendTimestamp(t->micros);
      return Status::Ok();
    }
  }
  return wrong("a scalar");
}

}  // namespace

bool JsonLinesReader::Next(std::string_view& line) {
  while (pos_ < text_.size()) {
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) return true;
  }
  return false;
}

Result<EntityRows> ReadEntityRowsJsonl(std::string_view text, std::string_view source,
                                       const EntityRowsSpec& spec) {
  for (const Column& c : spec.join_keys) {
    if (c.type.is_list) {
      return InvalidArgumentError("join key '" + c.name + "' is a list; join keys are scalar");
    }
  }
  EntityRows rows = MakeEntityRows(spec);
  std::unordered_map<std::string, size_t> extra_index;
  JsonLinesReader lines(text);
  std::string_view line;
  while (lines.Next(line)) {
    const size_t line_no = lines.line();
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      size_t column = e.byte == 0 ? 1 : e.byte;
      std::string what = e.what();
      size_t colon = what.rfind(": ");
      return AtError(
          PositionText(source, line_no, column),
          "invalid JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
    } catch (const nlohmann::json::exception& e) {
      // out_of_range: a number beyond what a double holds, such as 1e999.
      std::string what = e.what();
      size_t bracket = what.find("] ");
      return AtError(
          PositionText(source, line_no, 1),
          "invalid JSON: " + (bracket == std::string::npos ? what : what.substr(bracket + 2)));
    }
    if (!object.is_object()) {
      return AtError(PositionText(source, line_no, 1),
                     std::string("expected a JSON object per line, got ") + object.type_name());
    }
    for (size_t k = 0; k < spec.join_keys.size(); ++k) {
      const Column& key = spec.join_keys[k];
      auto it = object.find(key.name);
      if (it == object.end()) {
        return AtError(PositionText(source, line_no, 1),
                       "missing column '" + key.name + "' (join key)");
      }
      CUSTOS_RETURN_IF_ERROR(AppendJsonKey(
          rows.keys[k], *it, key, PositionText(source, line_no, MemberColumn(line, key.name))));
    }
    auto ts = object.find(spec.timestamp_column);
    if (ts == object.end()) {
      return AtError(PositionText(source, line_no, 1),
                     "missing column '" + spec.timestamp_column + "' (entity timestamp)");
    }
    const std::string ts_where =
        PositionText(source, line_no, MemberColumn(line, spec.timestamp_column));
    if (ts->is_number_integer()) {
      int64_t s = ts->get<int64_t>();
      if (s > INT64_MAX / 1000000 || s < INT64_MIN / 1000000) {
        return AtError(ts_where, "malformed timestamp: Unix seconds out of range");
      }
      rows.ts.push_back(s * 1000000);
    } else if (ts->is_string()) {
      CUSTOS_ASSIGN_OR_RETURN(
          int64_t micros,
          ParseEntityTimestamp(ts->get_ref<const std::string&>(), spec.timestamp_column, ts_where));
      rows.ts.push_back(micros);
    } else {
      return AtError(ts_where, "malformed timestamp in column '" + spec.timestamp_column +
                                   "': expected an RFC 3339 string or integer Unix seconds, got "
                                   "JSON " +
                                   ts->type_name());
    }
    if (!spec.keep_other_columns) continue;
    const size_t row = rows.ts.size() - 1;
    for (auto member = object.begin(); member != object.end(); ++member) {
      const std::string& name = member.key();
      if (name == spec.timestamp_column) continue;
      bool is_key = false;
      for (const Column& key : spec.join_keys) is_key = is_key || key.name == name;
      if (is_key) continue;
      auto [it, inserted] = extra_index.emplace(name, rows.extras.size());
      if (inserted) {
        rows.extra_names.push_back(name);
        rows.extras.emplace_back(catalog::ValueType{ScalarType::kString, false});
      }
      ColumnVector& column = rows.extras[it->second];
      column.Resize(row);  // members absent from earlier lines are null
      if (member->is_null()) {
        column.AppendNull();
      } else if (member->is_string()) {
        column.AppendBytes(member->get_ref<const std::string&>());
      } else {
        column.AppendBytes(member->dump());
      }
    }
  }
  for (ColumnVector& column : rows.extras) column.Resize(rows.ts.size());
  return rows;
}

Result<EntityRows> ReadEntityRowsFile(const std::string& path, const EntityRowsSpec& spec) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read entity rows from '" + path + "'");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  auto ends_with = [&](std::string_view suffix) { return path.ends_with(suffix); };
  if (ends_with(".csv")) return ReadEntityRowsCsv(text, path, spec);
  if (ends_with(".jsonl") || ends_with(".ndjson") || ends_with(".json")) {
    return ReadEntityRowsJsonl(text, path, spec);
  }
  return InvalidArgumentError("'" + path +
                              "': unknown entity-row format; use a .csv or .jsonl file");
}

}  // namespace custos::features
