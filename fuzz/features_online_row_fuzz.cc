// Fuzzes the online store's record codecs (row values and entity keys): whatever bytes come
// back from storage, decoding gives a row or DataLoss, never a crash; what decodes encodes
// back into a row that decodes to the same encoding (varints may be non-minimal on the way in).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "features/online_store.h"

namespace {

using custos::catalog::ScalarType;
using custos::catalog::ValueType;
using custos::features::Column;

custos::features::OfflineViewSchema Schema() {
  custos::features::OfflineViewSchema s;
  s.version_id = "fuzz:v1";
  s.join_keys = {{"id", ValueType{ScalarType::kInt64, false}},
                 {"name", ValueType{ScalarType::kString, false}},
                 {"flag", ValueType{ScalarType::kBool, false}},
                 {"score", ValueType{ScalarType::kDouble, false}}};
  s.features = {
      {"n", ValueType{ScalarType::kInt64, false}},     {"x", ValueType{ScalarType::kDouble, false}},
      {"s", ValueType{ScalarType::kString, false}},    {"b", ValueType{ScalarType::kBool, false}},
      {"t", ValueType{ScalarType::kTimestamp, false}}, {"l", ValueType{ScalarType::kString, true}},
      {"li", ValueType{ScalarType::kInt64, true}}};
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const custos::features::OfflineViewSchema schema = Schema();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto row = custos::features::DecodeOnlineRow(schema, bytes);
  if (row.ok()) {
    std::vector<custos::features::ColumnVector> columns;
    for (const Column& c : schema.features) columns.emplace_back(c.type);
    for (size_t f = 0; f < schema.features.size(); ++f) {
      if (!columns[f].AppendValue(row->features[f]).ok()) __builtin_trap();
    }
    const std::string encoded =
        custos::features::EncodeOnlineRow(schema, row->event_ts, row->created_ts, columns, 0);
    auto again = custos::features::DecodeOnlineRow(schema, encoded);
    if (!again.ok()) __builtin_trap();
    std::vector<custos::features::ColumnVector> columns2;
    for (const Column& c : schema.features) columns2.emplace_back(c.type);
    for (size_t f = 0; f < schema.features.size(); ++f) {
      if (!columns2[f].AppendValue(again->features[f]).ok()) __builtin_trap();
    }
    if (custos::features::EncodeOnlineRow(schema, again->event_ts, again->created_ts, columns2,
                                          0) != encoded) {
      __builtin_trap();
    }
  }
  auto keys = custos::features::DecodeEntityKey(schema.join_keys, bytes);
  if (keys.ok()) {
    auto again = custos::features::EncodeEntityKey(schema.join_keys, *keys);
    if (!again.ok() || *again != bytes) __builtin_trap();
  }
  return 0;
}
