// libFuzzer target for the audit event's canonical encoding (audit/event.h): arbitrary
// bytes must decode or be refused cleanly, and whatever decodes must encode back to the
// same bytes (one encoding per event, which the Merkle leaves rely on).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "audit/event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const custos::common::ByteView bytes(data, size);
  auto event = custos::audit::DecodeEvent(bytes);
  if (!event.ok()) return 0;
  auto encoded = custos::audit::EncodeEvent(*event);
  if (!encoded.ok()) std::abort();  // every decoded event must encode
  if (custos::common::ByteView(*encoded).size() != size ||
      !std::equal(encoded->begin(), encoded->end(), data)) {
    std::abort();
  }
  return 0;
}
