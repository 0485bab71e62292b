// Offline column block codec: frame-of-reference bit packing, raw doubles, varint-length
// strings and run-length entity keys (format in offline_block.h).
#include "features/offline_block.h"

#include <bit>
#include <limits>

namespace custos::features {
namespace {

constexpr uint8_t kHasNulls = 1;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(const char*& p, const char* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    uint8_t b = static_cast<uint8_t>(*p++);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

Status Corrupt(std::string_view what) {
  return DataLossError("offline column block is malformed (" + std::string(what) +
                       "): the stored data is corrupt");
}

// Bit-packs values[i] - min for i < n at `width` bits (1..57 or 64), plus 8 bytes of padding
// so the decoder may load 8 bytes at any value's byte offset.
void PackFor(const uint64_t* values, size_t n, std::string& out) {
  uint64_t lo = std::numeric_limits<uint64_t>::max();
  uint64_t hi = 0;
  // Work in the sign-flipped domain so the minimum is the numeric minimum.
  for (size_t i = 0; i < n; ++i) {
    uint64_t v = values[i] ^ (uint64_t{1} << 63);
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  if (n == 0) lo = hi = 0;
  uint64_t range = hi - lo;
  int width = range == 0 ? 0 : 64 - std::countl_zero(range);
  if (width > 57) width = 64;
  uint64_t base = lo ^ (uint64_t{1} << 63);
  char buf[8];
  std::memcpy(buf, &base, 8);
  out.append(buf, 8);
  out.push_back(static_cast<char>(width));
  if (width == 64) {
    for (size_t i = 0; i < n; ++i) {
      std::memcpy(buf, &values[i], 8);
      out.append(buf, 8);
    }
  } else if (width > 0) {
    size_t start = out.size();
    out.resize(start + (n * width + 7) / 8, '\0');
    auto* dst = reinterpret_cast<uint8_t*>(out.data() + start);
    for (size_t i = 0; i < n; ++i) {
      uint64_t delta = (values[i] ^ (uint64_t{1} << 63)) - lo;
      size_t bit = i * width;
      size_t byte = bit / 8;
      int shift = static_cast<int>(bit % 8);
      // width + shift <= 64, so the value fits one 8-byte window; write it bytewise.
      uint64_t window = delta << shift;
      for (int k = 0; k < 8 && (k * 8) < width + shift; ++k) {
        dst[byte + k] |= static_cast<uint8_t>(window >> (8 * k));
      }
    }
  }
  out.append(8, '\0');
}

Status UnpackFor(const char*& p, const char* end, size_t n, uint64_t* out) {
  if (end - p < 9) return Corrupt("truncated frame of reference");
  uint64_t base;
  std::memcpy(&base, p, 8);
  int width = static_cast<uint8_t>(p[8]);
  p += 9;
  if (width == 64) {
    if (static_cast<size_t>(end - p) < n * 8 + 8) return Corrupt("truncated raw int64 values");
    std::memcpy(out, p, n * 8);
    p += n * 8 + 8;
    return Status::Ok();
  }
  if (width > 57) return Corrupt("bit width above 57");
  size_t bytes = (n * width + 7) / 8;
  if (static_cast<size_t>(end - p) < bytes + 8) return Corrupt("truncated packed values");
  if (width == 0) {
    for (size_t i = 0; i < n; ++i) out[i] = base;
  } else {
    const uint64_t mask = (uint64_t{1} << width) - 1;
    for (size_t i = 0; i < n; ++i) {
      size_t bit = i * width;
      uint64_t window;
      std::memcpy(&window, p + bit / 8, 8);
      out[i] = base + ((window >> (bit % 8)) & mask);
    }
  }
  p += bytes + 8;
  return Status::Ok();
}

}  // namespace

void EncodeColumnBlock(const ColumnVector& column, const uint32_t* rows, size_t n,
                       std::string& out) {
  bool has_nulls = false;
  for (size_t i = 0; i < n && !has_nulls; ++i) has_nulls = column.valid[rows[i]] == 0;
  out.push_back(static_cast<char>(has_nulls ? kHasNulls : 0));
  if (has_nulls) {
    size_t start = out.size();
    out.resize(start + (n + 7) / 8, '\0');
    for (size_t i = 0; i < n; ++i) {
      if (column.valid[rows[i]] != 0) out[start + i / 8] |= static_cast<char>(1 << (i % 8));
    }
  }
  if (IsVarlen(column.type)) {
    for (size_t i = 0; i < n; ++i) PutVarint(out, column.lengths[rows[i]]);
    for (size_t i = 0; i < n; ++i) out.append(column.BytesAt(rows[i]));
    return;
  }
  thread_local std::vector<uint64_t> gathered;
  gathered.resize(n);
  for (size_t i = 0; i < n; ++i) gathered[i] = column.fixed[rows[i]];
  if (column.type.scalar == catalog::ScalarType::kDouble) {
    size_t start = out.size();
    out.resize(start + n * 8);
    std::memcpy(out.data() + start, gathered.data(), n * 8);
    return;
  }
  PackFor(gathered.data(), n, out);
}

void EncodeInt64Block(const int64_t* values, size_t n, std::string& out) {
  out.push_back('\0');
  PackFor(reinterpret_cast<const uint64_t*>(values), n, out);
}

Status DecodeColumnBlock(std::string_view in, catalog::ValueType type, size_t n,
                         ColumnVector& out) {
  out.type = type;
  out.Clear();
  const char* p = in.data();
  const char* end = p + in.size();
  if (p == end) return Corrupt("empty");
  uint8_t flags = static_cast<uint8_t>(*p++);
  if ((flags & ~kHasNulls) != 0) return Corrupt("unknown flags");
  out.valid.assign(n, 1);
  if ((flags & kHasNulls) != 0) {
    size_t bytes = (n + 7) / 8;
    if (static_cast<size_t>(end - p) < bytes) return Corrupt("truncated validity bitmap");
    for (size_t i = 0; i < n; ++i) out.valid[i] = (static_cast<uint8_t>(p[i / 8]) >> (i % 8)) & 1;
    p += bytes;
  }
  out.fixed.resize(n);
  if (IsVarlen(type)) {
    out.lengths.resize(n);
    uint64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      uint64_t len = 0;
      if (!GetVarint(p, end, len) || len > static_cast<uint64_t>(end - p)) {
        return Corrupt("bad value length");
      }
      out.fixed[i] = total;
      out.lengths[i] = static_cast<uint32_t>(len);
      total += len;
    }
    if (static_cast<uint64_t>(end - p) != total) return Corrupt("value bytes do not add up");
    out.arena.assign(p, total);
    return Status::Ok();
  }
  if (type.scalar == catalog::ScalarType::kDouble) {
    if (static_cast<size_t>(end - p) != n * 8) return Corrupt("double values do not add up");
    std::memcpy(out.fixed.data(), p, n * 8);
    return Status::Ok();
  }
  CUSTOS_RETURN_IF_ERROR(UnpackFor(p, end, n, out.fixed.data()));
  if (p != end) return Corrupt("trailing bytes");
  return Status::Ok();
}

Status DecodeInt64Block(std::string_view in, size_t n, std::vector<int64_t>& out) {
  const char* p = in.data();
  const char* end = p + in.size();
  if (p == end || *p != '\0') return Corrupt("timestamp block flags");
  ++p;
  out.resize(n);
  CUSTOS_RETURN_IF_ERROR(UnpackFor(p, end, n, reinterpret_cast<uint64_t*>(out.data())));
  if (p != end) return Corrupt("trailing bytes");
  return Status::Ok();
}

void EncodeKeyBlock(const std::vector<std::string_view>& keys, const uint32_t* rows, size_t n,
                    std::string& out) {
  std::string body;
  uint64_t runs = 0;
  size_t i = 0;
  while (i < n) {
    std::string_view key = keys[rows[i]];
    size_t j = i + 1;
    while (j < n && keys[rows[j]] == key) ++j;
    PutVarint(body, key.size());
    body.append(key);
    PutVarint(body, j - i);
    ++runs;
    i = j;
  }
  PutVarint(out, runs);
  out.append(body);
}

Status DecodeKeyBlock(std::string_view in, size_t n, KeyRuns& out) {
  out.Clear();
  const char* p = in.data();
  const char* end = p + in.size();
  uint64_t runs = 0;
  if (!GetVarint(p, end, runs) || runs > in.size()) return Corrupt("bad key run count");
  out.run_start.reserve(runs + 1);
  out.key_offset.reserve(runs);
  out.key_length.reserve(runs);
  uint64_t row = 0;
  for (uint64_t r = 0; r < runs; ++r) {
    uint64_t len = 0;
    if (!GetVarint(p, end, len) || len > static_cast<uint64_t>(end - p)) {
      return Corrupt("bad key length");
    }
    out.key_offset.push_back(static_cast<uint32_t>(out.bytes.size()));
    out.key_length.push_back(static_cast<uint32_t>(len));
    out.bytes.append(p, len);
    p += len;
    uint64_t count = 0;
    if (!GetVarint(p, end, count) || count == 0 || count > n - row) {
      return Corrupt("bad key run length");
    }
    out.run_start.push_back(static_cast<uint32_t>(row));
    row += count;
  }
  out.run_start.push_back(static_cast<uint32_t>(row));
  if (row != n || p != end) return Corrupt("key runs do not cover the block");
  return Status::Ok();
}

}  // namespace custos::features
