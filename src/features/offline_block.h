// The plaintext encoding of offline column blocks (before sealing): compact, and fast to
// decode into reused ColumnVector buffers.
//
// Column block: flags byte (bit 0: a validity bitmap follows), [bitmap, 1 bit per row],
// then by type:
//   int64, timestamp, bool: frame of reference: minimum (8 bytes LE), bit width (1 byte),
//     values - minimum bit-packed little-endian (width 64: raw), 8 bytes of padding;
//   double: 8 bytes LE per row;
//   string, list: varint length per row, then the bytes of every row.
// Key block (entity keys, sorted): varint run count, then per run the varint key length,
// the key bytes and the varint run length (a block holds each key's rows contiguously).
// Thread-safety: free functions; pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "features/offline_columns.h"

namespace custos::features {

// Appends the block form of `column`'s cells rows[0..n) to `out`.
void EncodeColumnBlock(const ColumnVector& column, const uint32_t* rows, size_t n,
                       std::string& out);
// Appends the block form of n plain int64 values (timestamps) to `out`.
void EncodeInt64Block(const int64_t* values, size_t n, std::string& out);

// Decodes a column block of `n` rows into `out` (cleared first, capacity kept). DataLoss
// when the bytes are not a well-formed block of that size.
Status DecodeColumnBlock(std::string_view in, catalog::ValueType type, size_t n, ColumnVector& out);
// Decodes an int64 block into `out` (resized to n).
Status DecodeInt64Block(std::string_view in, size_t n, std::vector<int64_t>& out);

// Sorted entity keys of a block as runs of equal keys: run r covers rows
// [run_start[r], run_start[r + 1]) and its key is bytes[key_offset[r], + key_length[r]).
struct KeyRuns {
  std::vector<uint32_t> run_start;
  std::vector<uint32_t> key_offset;
  std::vector<uint32_t> key_length;
  std::string bytes;
  size_t runs() const { return key_offset.size(); }
  std::string_view key(size_t r) const {
    return std::string_view(bytes).substr(key_offset[r], key_length[r]);
  }
  void Clear() {
    run_start.clear();
    key_offset.clear();
    key_length.clear();
    bytes.clear();
  }
};

// Encodes the keys keys[rows[i]] (which must be sorted) as runs.
void EncodeKeyBlock(const std::vector<std::string_view>& keys, const uint32_t* rows, size_t n,
                    std::string& out);
// DataLoss when malformed or when the runs do not cover exactly `n` rows.
Status DecodeKeyBlock(std::string_view in, size_t n, KeyRuns& out);

}  // namespace custos::features
