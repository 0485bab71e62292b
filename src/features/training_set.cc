// Training-set writers (CSV, JSON Lines) and the lineage manifest.
#include "features/training_set.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/json_writer.h"
#include "crypto/hash.h"

namespace custos::features {
namespace {

using catalog::ScalarType;
using common::AppendJsonString;

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// Shortest round-trip form; `finite` false for NaN and infinities.
bool AppendDouble(std::string& out, double v) {
  if (!std::isfinite(v)) return false;
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
  return true;
}

void AppendCsvField(std::string& out, std::string_view s) {
  bool quote = s.empty() || s.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendScalarJson(std::string& out, const catalog::Scalar& s) {
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, int64_t>) {
          AppendInt(out, v);
        } else if constexpr (std::is_same_v<V, double>) {
          if (!AppendDouble(out, v)) out += "null";
        } else if constexpr (std::is_same_v<V, std::string>) {
          AppendJsonString(out, v);
        } else if constexpr (std::is_same_v<V, bool>) {
          out += v ? "true" : "false";
        } else {
          AppendJsonString(out, catalog::FormatTimestamp(v));
        }
      },
      s);
}

void AppendListJson(std::string& out, const ColumnVector& column, size_t i) {
  Result<std::vector<catalog::Scalar>> list = DecodeList(column.BytesAt(i), column.type.scalar);
  out.push_back('[');
  if (list.ok()) {
    for (size_t k = 0; k < list->size(); ++k) {
      if (k > 0) out.push_back(',');
      AppendScalarJson(out, (*list)[k]);
    }
  }
  out.push_back(']');
}

// One cell in the requested format; `scratch` is reused for CSV text of lists.
void AppendCell(std::string& out, const ColumnVector& column, size_t i, TrainingSetFormat format,
                std::string& scratch) {
  const bool json = format == TrainingSetFormat::kJsonl;
  if (column.IsNull(i)) {
    if (json) out += "null";
    return;
  }
  if (column.type.is_list) {
    if (json) {
      AppendListJson(out, column, i);
    } else {
      scratch.clear();
      AppendListJson(scratch, column, i);
      AppendCsvField(out, scratch);
    }
    return;
  }
  switch (column.type.scalar) {
    case ScalarType::kInt64:
      AppendInt(out, column.Int64At(i));
      break;
    case ScalarType::kDouble:
      if (!AppendDouble(out, column.DoubleAt(i)) && json) out += "null";
      break;
    case ScalarType::kBool:
      out += column.BoolAt(i) ? "true" : "false";
      break;
    case ScalarType::kTimestamp: {
      std::string t = catalog::FormatTimestamp(catalog::Timestamp{column.Int64At(i)});
      if (json) {
        AppendJsonString(out, t);
      } else {
        out += t;
      }
      break;
    }
    case ScalarType::kString:
      if (json) {
        AppendJsonString(out, column.BytesAt(i));
      } else {
        AppendCsvField(out, column.BytesAt(i));
      }
      break;
  }
}

}  // namespace

std::string_view TrainingSetFormatName(TrainingSetFormat format) {
  return format == TrainingSetFormat::kCsv ? "csv" : "jsonl";
}

void WriteTrainingSet(const EntityRows& rows, const PitResult& features, TrainingSetFormat format,
                      std::string& out) {
  std::vector<std::string> names;
  std::vector<const ColumnVector*> columns;
  for (size_t k = 0; k < rows.key_columns.size(); ++k) {
    names.push_back(rows.key_columns[k].name);
    columns.push_back(&rows.keys[k]);
  }
  const size_t ts_column = names.size();
  names.push_back(rows.timestamp_column);
  columns.push_back(nullptr);
  for (size_t e = 0; e < rows.extras.size(); ++e) {
    names.push_back(rows.extra_names[e]);
    columns.push_back(&rows.extras[e]);
  }
  for (size_t f = 0; f < features.columns.size(); ++f) {
    names.push_back(features.columns[f].name);
    columns.push_back(&features.values[f]);
  }
  std::string scratch;
  const bool json = format == TrainingSetFormat::kJsonl;
  if (!json) {
    for (size_t c = 0; c < names.size(); ++c) {
      if (c > 0) out.push_back(',');
      AppendCsvField(out, names[c]);
    }
    out += "\r\n";
  }
  // Member names as JSON, escaped once.
  std::vector<std::string> keys(names.size());
  if (json) {
    for (size_t c = 0; c < names.size(); ++c) {
      AppendJsonString(keys[c], names[c]);
      keys[c].push_back(':');
    }
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    if (json) out.push_back('{');
    for (size_t c = 0; c < names.size(); ++c) {
      if (c > 0) out.push_back(',');
      if (json) out += keys[c];
      if (c == ts_column) {
        std::string t = catalog::FormatTimestamp(catalog::Timestamp{rows.ts[i]});
        if (json) {
          AppendJsonString(out, t);
        } else {
          out += t;
        }
        continue;
      }
      AppendCell(out, *columns[c], i, format, scratch);
    }
    out += json ? "}\n" : "\r\n";
  }
}

Result<std::string> EntitySetSha256(const EntityRows& rows) {
  crypto::Sha256 hash;
  std::string buf;
  for (size_t i = 0; i < rows.size(); ++i) {
    buf.clear();
    for (size_t k = 0; k < rows.keys.size(); ++k) {
      CUSTOS_RETURN_IF_ERROR(AppendKeyCell(rows.keys[k], i, rows.key_columns[k].name, buf));
    }
    uint64_t ts = __builtin_bswap64(static_cast<uint64_t>(rows.ts[i]));
    buf.append(reinterpret_cast<const char*>(&ts), 8);
    hash.Update(common::AsBytes(buf));
  }
  crypto::Digest d = hash.Finish();
  return common::HexEncode(d);
}

std::string TrainingSetManifest::ToJson() const {
  nlohmann::ordered_json j;
  j["view_versions"] = view_versions;
  j["columns"] = columns;
  j["entity_set_sha256"] = entity_set_sha256;
  j["rows"] = rows;
  j["as_of"] = {{"min", catalog::FormatTimestamp({as_of_min_micros})},
                {"max", catalog::FormatTimestamp({as_of_max_micros})}};
  j["format"] = std::string(TrainingSetFormatName(format));
  j["output_sha256"] = output_sha256;
  j["principal"] = principal;
  j["purpose"] = purpose;
  j["created_at"] = catalog::FormatTimestamp({created_micros});
  j["ttl_micros_max"] = ttl_micros_max;
  j["require_created_before_ts"] = require_created_before_ts;
  nlohmann::ordered_json modes = nlohmann::ordered_json::object();
  for (const auto& [feature, mode] : feature_modes) modes[feature] = mode;
  j["feature_modes"] = modes;
  j["rows_filtered"] = rows_filtered;
  if (audit_index != 0) j["audit_index"] = audit_index;
  return j.dump();
}

Result<TrainingSetManifest> TrainingSetManifest::FromJson(std::string_view json) {
  TrainingSetManifest m;
  try {
    nlohmann::json j = nlohmann::json::parse(json);
    m.view_versions = j.at("view_versions").get<std::vector<std::string>>();
    m.columns = j.at("columns").get<std::vector<std::string>>();
    m.entity_set_sha256 = j.at("entity_set_sha256").get<std::string>();
    m.rows = j.at("rows").get<size_t>();
    CUSTOS_ASSIGN_OR_RETURN(catalog::Timestamp lo,
                            catalog::ParseTimestamp(j.at("as_of").at("min").get<std::string>()));
    CUSTOS_ASSIGN_OR_RETURN(catalog::Timestamp hi,
                            catalog::ParseTimestamp(j.at("as_of").at("max").get<std::string>()));
    m.as_of_min_micros = lo.micros;
    m.as_of_max_micros = hi.micros;
    std::string format = j.at("format").get<std::string>();
    if (format != "csv" && format != "jsonl") {
      return InvalidArgumentError("manifest format '" + format + "' is not csv or jsonl");
    }
    m.format = format == "csv" ? TrainingSetFormat::kCsv : TrainingSetFormat::kJsonl;
    m.output_sha256 = j.at("output_sha256").get<std::string>();
    m.principal = j.at("principal").get<std::string>();
    m.purpose = j.at("purpose").get<std::string>();
    CUSTOS_ASSIGN_OR_RETURN(catalog::Timestamp created,
                            catalog::ParseTimestamp(j.at("created_at").get<std::string>()));
    m.created_micros = created.micros;
    m.ttl_micros_max = j.value("ttl_micros_max", int64_t{0});
    m.require_created_before_ts = j.value("require_created_before_ts", false);
    if (j.contains("feature_modes")) {
      for (const auto& [feature, mode] : j.at("feature_modes").items()) {
        m.feature_modes.emplace_back(feature, mode.get<std::string>());
      }
    }
    m.rows_filtered = j.value("rows_filtered", size_t{0});
    m.audit_index = j.value("audit_index", uint64_t{0});
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("training-set manifest is malformed: ") + e.what());
  }
  return m;
}

Result<TrainingSetManifest> MakeTrainingSetManifest(
    const EntityRows& rows, const std::vector<PitViewRequest>& views, const PitOptions& options,
    const PitResult& features, TrainingSetFormat format, std::string_view output,
    std::string_view principal, std::string_view purpose, const common::Clock& clock) {
  TrainingSetManifest m;
  for (const PitViewRequest& v : views) {
    m.view_versions.push_back(v.schema.version_id);
    m.ttl_micros_max = std::max(m.ttl_micros_max, v.ttl_micros);
  }
  for (const Column& c : rows.key_columns) m.columns.push_back(c.name);
  m.columns.push_back(rows.timestamp_column);
  for (const std::string& c : rows.extra_names) m.columns.push_back(c);
  for (const Column& c : features.columns) m.columns.push_back(c.name);
  CUSTOS_ASSIGN_OR_RETURN(m.entity_set_sha256, EntitySetSha256(rows));
  m.rows = rows.size();
  if (!rows.ts.empty()) {
    auto [lo, hi] = std::minmax_element(rows.ts.begin(), rows.ts.end());
    m.as_of_min_micros = *lo;
    m.as_of_max_micros = *hi;
  }
  m.format = format;
  m.output_sha256 = common::HexEncode(crypto::Sha256Of(common::AsBytes(output)));
  m.principal = std::string(principal);
  m.purpose = std::string(purpose);
  m.created_micros = common::ToUnixMicros(clock.Now());
  m.require_created_before_ts = options.require_created_before_ts;
  return m;
}

}  // namespace custos::features
