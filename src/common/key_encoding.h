// Order-preserving key encoding: composite keys whose byte order (memcmp, as
// RocksDB compares) equals the order of their parts. Used for every storage key,
// e.g. an offline row `view_version | entity_key | event_ts | created_ts`, so that a
// point-in-time join can seek instead of scan.
//
// - Unsigned integers: fixed-width big-endian.
// - Signed integers: big-endian with the sign bit flipped (so -1 < 0 < 1).
// - Strings: 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01, so a string sorts
//   before any longer string it prefixes and may contain any byte.
// Thread-safety: KeyBuilder and KeyReader are plain values; one thread each.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace custos::common {

class KeyBuilder {
 public:
  KeyBuilder& AddUint64(uint64_t v);
  KeyBuilder& AddUint32(uint32_t v);
  KeyBuilder& AddInt64(int64_t v);
  KeyBuilder& AddString(std::string_view s);
  // Raw bytes with no terminator: only as the last part of a key.
  KeyBuilder& AddRaw(std::string_view s);

  const std::string& key() const { return key_; }
  std::string Release() { return std::move(key_); }

 private:
  std::string key_;
};

// Reads parts back in the order they were added; each call consumes one part.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : rest_(key) {}

  Result<uint64_t> ReadUint64();
  Result<uint32_t> ReadUint32();
  Result<int64_t> ReadInt64();
  Result<std::string> ReadString();
  std::string_view Rest() const { return rest_; }
  bool Done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// The smallest key greater than every key that starts with `prefix` (empty when none
// exists, i.e. the prefix is all 0xFF): the exclusive upper bound of a prefix scan.
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace custos::common
