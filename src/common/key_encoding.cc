// Order-preserving key encoding (see key_encoding.h for the format).
#include "common/key_encoding.h"

namespace custos::common {
namespace {

void PutBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

Result<uint64_t> TakeBigEndian(std::string_view& rest, size_t bytes, std::string_view what) {
  if (rest.size() < bytes) {
    return InvalidArgumentError("key too short: expected " + std::to_string(bytes) + " bytes for " +
                                std::string(what) + ", have " + std::to_string(rest.size()));
  }
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(rest[i]);
  rest.remove_prefix(bytes);
  return v;
}

}  // namespace

KeyBuilder& KeyBuilder::AddUint64(uint64_t v) {
  PutBigEndian(key_, v, 8);
  return *this;
}
KeyBuilder& KeyBuilder::AddUint32(uint32_t v) {
  PutBigEndian(key_, v, 4);
  return *this;
}
KeyBuilder& KeyBuilder::AddInt64(int64_t v) {
  PutBigEndian(key_, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63), 8);
  return *this;
}
KeyBuilder& KeyBuilder::AddString(std::string_view s) {
  for (char c : s) {
    key_.push_back(c);
    if (c == '\0') key_.push_back('\xff');
  }
  key_.push_back('\0');
  key_.push_back('\x01');
  return *this;
}
KeyBuilder& KeyBuilder::AddRaw(std::string_view s) {
  key_.append(s);
  return *this;
}

Result<uint64_t> KeyReader::ReadUint64() { return TakeBigEndian(rest_, 8, "uint64"); }
Result<uint32_t> KeyReader::ReadUint32() {
  CUSTOS_ASSIGN_OR_RETURN(uint64_t v, TakeBigEndian(rest_, 4, "uint32"));
  return static_cast<uint32_t>(v);
}
Result<int64_t> KeyReader::ReadInt64() {
  CUSTOS_ASSIGN_OR_RETURN(uint64_t v, TakeBigEndian(rest_, 8, "int64"));
  return static_cast<int64_t>(v ^ (uint64_t{1} << 63));
}
Result<std::string> KeyReader::ReadString() {
  std::string out;
  for (size_t i = 0; i < rest_.size(); ++i) {
    if (rest_[i] != '\0') {
      out.push_back(rest_[i]);
      continue;
    }
    if (i + 1 >= rest_.size()) break;
    if (rest_[i + 1] == '\xff') {
      out.push_back('\0');
      ++i;
    } else if (rest_[i + 1] == '\x01') {
      rest_.remove_prefix(i + 2);
      return out;
    } else {
      return InvalidArgumentError("malformed string in key: bad escape at offset " +
                                  std::to_string(i));
    }
  }
  return InvalidArgumentError("malformed string in key: missing terminator");
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    if (static_cast<uint8_t>(out.back()) != 0xff) {
      out.back() = static_cast<char>(static_cast<uint8_t>(out.back()) + 1);
      return out;
    }
    out.pop_back();
  }
  return out;
}

}  // namespace custos::common
