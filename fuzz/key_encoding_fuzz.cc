// Fuzzes the order-preserving key decoder and the text codecs (hex, base64, RFC 3339).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/key_encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  custos::common::KeyReader reader(text);
  while (!reader.Done()) {
    if (!reader.ReadString().ok()) break;
  }
  (void)custos::common::KeyReader(text).ReadInt64();
  (void)custos::common::HexDecode(text);
  (void)custos::common::Base64Decode(text);
  (void)custos::common::Base64UrlDecode(text);
  (void)custos::common::ParseRfc3339(text);
  return 0;
}
