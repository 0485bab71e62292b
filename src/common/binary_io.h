// ByteWriter / ByteReader: a small, strict binary record format for custos' own
// stored records (key metadata, wrapped keys). Big-endian integers and
// length-prefixed strings; a reader never reads past its input and reports where a
// record is short or malformed.
// Thread-safety: plain values; one thread each.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace custos::common {

class ByteWriter {
 public:
  ByteWriter& U8(uint8_t v) {
    out_.push_back(static_cast<char>(v));
    return *this;
  }
  ByteWriter& U32(uint32_t v) { return BigEndian(v, 4); }
  ByteWriter& U64(uint64_t v) { return BigEndian(v, 8); }
  ByteWriter& I64(int64_t v) { return BigEndian(static_cast<uint64_t>(v), 8); }
  // u32 length, then the bytes.
  ByteWriter& Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s);
    return *this;
  }
  ByteWriter& Blob(ByteView b) { return Str(AsChars(b)); }

  const std::string& data() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  ByteWriter& BigEndian(uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  std::string out_;
};

class ByteReader {
 public:
  // `what` names the record in error messages, e.g. "data key record for 'fv:x:1'".
  ByteReader(std::string_view data, std::string what) : rest_(data), what_(std::move(what)) {}

  Result<uint8_t> U8() {
    CUSTOS_RETURN_IF_ERROR(Need(1));
    uint8_t v = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return v;
  }
  Result<uint32_t> U32() {
    CUSTOS_ASSIGN_OR_RETURN(uint64_t v, BigEndian(4));
    return static_cast<uint32_t>(v);
  }
  Result<uint64_t> U64() { return BigEndian(8); }
  Result<int64_t> I64() {
    CUSTOS_ASSIGN_OR_RETURN(uint64_t v, BigEndian(8));
    return static_cast<int64_t>(v);
  }
  Result<std::string_view> Str() {
    CUSTOS_ASSIGN_OR_RETURN(uint32_t n, U32());
    CUSTOS_RETURN_IF_ERROR(Need(n));
    std::string_view s = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return s;
  }
  // Fails unless every byte was consumed: trailing bytes mean a corrupt record.
  Status ExpectEnd() const {
    if (rest_.empty()) return Status::Ok();
    return DataLossError(what_ + " has " + std::to_string(rest_.size()) +
                         " unexpected trailing bytes");
  }

 private:
  Status Need(size_t n) const {
    if (rest_.size() >= n) return Status::Ok();
    return DataLossError(what_ + " is truncated: needed " + std::to_string(n) +
                         " more bytes, found " + std::to_string(rest_.size()));
  }
  Result<uint64_t> BigEndian(size_t bytes) {
    CUSTOS_RETURN_IF_ERROR(Need(bytes));
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(rest_[i]);
    rest_.remove_prefix(bytes);
    return v;
  }
  std::string_view rest_;
  std::string what_;
};

// LEB128 varints (7 bits per byte, low first) for compact column encodings.
inline void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads one varint from the front of `in` and consumes it; false if `in` ends inside it
// or it runs past 64 bits.
inline bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    uint8_t b = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace custos::common
