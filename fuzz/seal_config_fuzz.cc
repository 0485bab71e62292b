// Fuzzes the parsers of operator-held and on-disk key material: seal.json, unseal
// share text, and keyring records. None may crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/binary_io.h"
#include "crypto/root_key.h"
#include "crypto/shamir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)custos::crypto::SealConfig::FromJson(text, "seal.json");
  (void)custos::crypto::DecodeShare(text, 1);
  custos::common::ByteReader reader(text, "record");
  (void)reader.U8();
  (void)reader.Str();
  (void)reader.U32();
  (void)reader.I64();
  (void)reader.ExpectEnd();
  return 0;
}
