// libFuzzer target for the audit log's stored and served binary forms: tlog-tiles paths,
// hash tiles, entry bundles, custos tile records and the log state record. Each must be
// refused cleanly when malformed and round-trip when well-formed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/hash_store.h"
#include "audit/tiles.h"

using namespace custos::audit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const custos::common::ByteView bytes(data, size);

  if (auto tile = ParseTilePath(text); tile.ok()) {
    if (TilePath(*tile) != text) std::abort();  // one path per tile
  }

  // The first byte picks a width; the rest is the payload.
  const uint32_t width = size == 0 ? 1 : 1 + data[0] % kTileWidth;
  const custos::common::ByteView payload = size == 0 ? bytes : bytes.subspan(1);
  if (auto hashes = DecodeTile(payload, width); hashes.ok()) {
    if (EncodeTile(*hashes) != custos::common::Bytes(payload.begin(), payload.end())) std::abort();
  }
  if (auto entries = DecodeEntryBundle(payload, width); entries.ok()) {
    auto encoded = EncodeEntryBundle(*entries);
    if (!encoded.ok() || *encoded != custos::common::Bytes(payload.begin(), payload.end())) {
      std::abort();
    }
  }

  if (auto record = TileRecordView::Parse(text, 0, 0); record.ok()) {
    // Every hash the record claims to hold is within it.
    for (int row = 0; row < kTileRows; ++row) {
      const uint32_t n = TileRowWidth(record->width(), row);
      for (uint32_t pos = 0; pos < n; ++pos) (void)record->At(row, pos);
    }
  }

  if (auto state = DecodeLogState(text); state.ok()) {
    if (EncodeLogState(*state) != text) std::abort();
  }
  return 0;
}
