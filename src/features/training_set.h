// Training-set output: the entity rows joined with their point-in-time features, written as
// CSV (RFC 4180) or JSON Lines with RFC 3339 timestamps, and the manifest kept for lineage
// (view versions, entity-set hash, as-of range, SHA-256 of the output bytes, principal,
// purpose, creation time).
// Thread-safety: free functions; plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "features/entity_rows.h"
#include "features/point_in_time.h"

namespace custos::features {

enum class TrainingSetFormat { kCsv, kJsonl };
std::string_view TrainingSetFormatName(TrainingSetFormat format);  // "csv", "jsonl"

// Appends the training set to `out`, one row per entity row in input order. Columns: the
// join keys, the entity timestamp, the other entity columns, then the features.
// CSV: a header row; CRLF line ends; a field is quoted when it holds ',', '"', CR or LF (a
// quote doubled) or is an empty string; null is an empty field; lists as JSON arrays.
// JSON Lines: one object per row with LF; null as null; NaN and infinities as null.
// Numbers in shortest round-trip form; timestamps RFC 3339 UTC; bools true/false.
void WriteTrainingSet(const EntityRows& rows, const PitResult& features, TrainingSetFormat format,
                      std::string& out);

// SHA-256 (hex) of the entity set: for each entity row in input order, its encoded join
// keys (AppendKeyCell, key columns in order), then its timestamp as 8 bytes big-endian.
// Equal entity rows give equal hashes whatever file format they came from.
Result<std::string> EntitySetSha256(const EntityRows& rows);

struct TrainingSetManifest {
  std::vector<std::string> view_versions;
  std::vector<std::string> columns;  // output columns in order
  std::string entity_set_sha256;     // EntitySetSha256
  size_t rows = 0;
  int64_t as_of_min_micros = 0;  // smallest and largest entity timestamp
  int64_t as_of_max_micros = 0;
  TrainingSetFormat format = TrainingSetFormat::kCsv;
  std::string output_sha256;  // of the bytes WriteTrainingSet produced
  std::string principal;
  std::string purpose;
  int64_t created_micros = 0;
  int64_t ttl_micros_max = 0;  // informational: largest ttl requested
  bool require_created_before_ts = false;
  // "<view>:<feature>" -> the access mode it was read in ("raw", "pseudonymized", "masked";
  // "aggregate_only" and "denied" features are withheld from the output).
  std::vector<std::pair<std::string, std::string>> feature_modes;
  size_t rows_filtered = 0;  // entity rows whose features a row filter hid (nulls)
  uint64_t audit_index = 0;  // the audit event of the read (0: none)

  // {"view_versions":[...],"columns":[...],"entity_set_sha256":"...","rows":N,
  //  "as_of":{"min":"RFC 3339","max":"RFC 3339"},"format":"csv","output_sha256":"...",
  //  "principal":"...","purpose":"...","created_at":"RFC 3339",...}
  std::string ToJson() const;
  // InvalidArgument with the reason when `json` is not a manifest.
  static Result<TrainingSetManifest> FromJson(std::string_view json);
};

// Builds the manifest of a training set written to `output`.
Result<TrainingSetManifest> MakeTrainingSetManifest(
    const EntityRows& rows, const std::vector<PitViewRequest>& views, const PitOptions& options,
    const PitResult& features, TrainingSetFormat format, std::string_view output,
    std::string_view principal, std::string_view purpose, const common::Clock& clock);

}  // namespace custos::features
