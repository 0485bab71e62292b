// Columnar buffers for feature data (ingestion batches, entity rows, join results): one
// column of one catalog::ValueType with a validity mask, fixed-width cells in one vector and
// variable-length cells (strings, encoded lists) in one arena, so no value allocates.
// Thread-safety: plain values; one writer at a time, concurrent readers are fine.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/value_type.h"
#include "common/status.h"

namespace custos::features {

// A named, typed column of a feature view (a join key or a feature).
struct Column {
  std::string name;
  catalog::ValueType type;
  friend bool operator==(const Column&, const Column&) = default;
};

// What the offline store needs to know about one feature-view version; the catalog's
// feature views map onto it. Join keys must be scalar (not lists).
struct OfflineViewSchema {
  // Stable id of the version, "<view>:v<N>" (e.g. "driver_stats:v3"). The DEK owner is
  // "features:<version_id>".
  std::string version_id;
  std::vector<Column> join_keys;
  std::vector<Column> features;
};

// Whether the type stores its cells in the arena (strings and lists) rather than `fixed`.
inline bool IsVarlen(catalog::ValueType type) {
  return type.is_list || type.scalar == catalog::ScalarType::kString;
}

// One column. Invariants: valid.size() == fixed.size() == size(); for varlen types
// lengths.size() == size() and cell i is arena[fixed[i], fixed[i] + lengths[i]).
// Fixed cells: int64 and timestamps (UTC micros) as two's complement, doubles as their
// bits, bools as 0/1. Null cells hold 0.
struct ColumnVector {
  catalog::ValueType type;
  std::vector<uint8_t> valid;  // 1 = has a value, 0 = null
  std::vector<uint64_t> fixed;
  std::vector<uint32_t> lengths;
  std::string arena;

  ColumnVector() = default;
  explicit ColumnVector(catalog::ValueType t) : type(t) {}

  size_t size() const { return valid.size(); }
  void Reserve(size_t n);
  void Clear();
  // Grows to n cells; new cells are null.
  void Resize(size_t n);

  void AppendNull();
  void AppendInt64(int64_t v) { AppendFixed(static_cast<uint64_t>(v)); }
  void AppendDouble(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    AppendFixed(bits);
  }
  void AppendBool(bool v) { AppendFixed(v ? 1 : 0); }
  void AppendTimestamp(int64_t micros) { AppendFixed(static_cast<uint64_t>(micros)); }
  // A string's bytes, or a list already in EncodeList's form.
  void AppendBytes(std::string_view bytes);
  void AppendFixed(uint64_t bits) {
    valid.push_back(1);
    fixed.push_back(bits);
    if (IsVarlen(type)) lengths.push_back(0);
  }
  // InvalidArgument naming the expected type when `value` does not fit the column.
  Status AppendValue(const catalog::Value& value);

  bool IsNull(size_t i) const { return valid[i] == 0; }
  int64_t Int64At(size_t i) const { return static_cast<int64_t>(fixed[i]); }
  double DoubleAt(size_t i) const {
    double v;
    std::memcpy(&v, &fixed[i], 8);
    return v;
  }
  bool BoolAt(size_t i) const { return fixed[i] != 0; }
  std::string_view BytesAt(size_t i) const {
    return std::string_view(arena).substr(fixed[i], lengths[i]);
  }
  // The cell as a catalog value (decodes lists); null as std::monostate.
  catalog::Value ValueAt(size_t i) const;
};

// Lists travel through columns and blocks in one binary form: varint element count, then
// each element (int64/timestamp/double: 8 bytes little-endian; bool: 1 byte; string: varint
// length and bytes). InvalidArgument when an element has another type.
Status EncodeList(const std::vector<catalog::Scalar>& list, catalog::ScalarType element,
                  std::string& out);
// DataLoss when `bytes` is not a well-formed list of `element`.
Result<std::vector<catalog::Scalar>> DecodeList(std::string_view bytes,
                                                catalog::ScalarType element);

// Appends the order-preserving encoding of one join-key cell (common/key_encoding.h) to
// `out`: int64 and timestamps as signed big-endian, strings escaped and terminated, bools
// as one byte, doubles in a total order. Lists are not keys (InvalidArgument). A null
// key cell is InvalidArgument naming the column.
Status AppendKeyCell(const ColumnVector& column, size_t row, std::string_view column_name,
                     std::string& out);

}  // namespace custos::features
