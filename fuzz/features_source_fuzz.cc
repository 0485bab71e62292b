// Fuzzes the ingestion source readers (CSV and JSON Lines into typed columns, with rejects)
// and the PostgreSQL array-literal parser, with a fixed schema holding every type and list.
// The first byte picks the reader and options; the batch must always stay column-aligned.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "features/postgres_source.h"
#include "features/source_reader.h"

namespace {

using custos::catalog::ScalarType;
using custos::catalog::ValueType;
using custos::features::SourceColumns;

SourceColumns Schema(bool with_created) {
  SourceColumns c;
  c.join_keys = {{"k", ValueType{ScalarType::kInt64, false}},
                 {"s", ValueType{ScalarType::kString, false}}};
  const ScalarType scalars[] = {ScalarType::kInt64, ScalarType::kDouble, ScalarType::kString,
                                ScalarType::kBool, ScalarType::kTimestamp};
  for (ScalarType s : scalars) {
    std::string name(custos::catalog::ScalarTypeName(s));
    c.features.push_back({name, ValueType{s, false}});
    c.features.push_back({"l_" + name, ValueType{s, true}});
  }
  c.timestamp_field = "ts";
  if (with_created) c.created_timestamp_field = "created";
  return c;
}

void CheckAligned(const custos::features::SourceReadResult& r) {
  const size_t n = r.batch.size();
  bool ok = r.batch.created_ts.size() == n && r.rows_read == n + r.rejected &&
            r.rejects.size() <= r.rejected;
  for (const auto& c : r.batch.join_keys) ok = ok && c.size() == n;
  for (const auto& c : r.batch.features) {
    ok = ok && c.size() == n && c.fixed.size() == n;
    for (size_t i = 0; ok && i < n; ++i) (void)c.ValueAt(i);  // lists must decode
  }
  if (!ok) std::abort();
  (void)r.Summary();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  static const SourceColumns kWithCreated = Schema(true);
  static const SourceColumns kWithout = Schema(false);
  const SourceColumns& columns = (mode & 2) != 0 ? kWithCreated : kWithout;
  std::map<std::string, std::string> mapping;
  if ((mode & 4) != 0) mapping = {{"key", "k"}, {"time", "ts"}, {"k", "kk"}};
  custos::features::SourceReadOptions options;
  options.max_rejects_kept = (mode & 8) != 0 ? 1 : 100;
  switch (mode & 0x31) {
    case 0x00:
    case 0x10: {
      auto r = custos::features::ReadCsvSource(text, "fuzz.csv", mapping, columns, options);
      if (r.ok()) CheckAligned(*r);
      break;
    }
    case 0x01:
    case 0x11: {
      auto r = custos::features::ReadJsonLinesSource(text, "fuzz.jsonl", mapping, columns, options);
      if (r.ok()) CheckAligned(*r);
      break;
    }
    case 0x20: {
      (void)custos::features::ParsePostgresArray(text);
      break;
    }
    default: {
      // PostgreSQL text cells of each type, as ReadPostgresSource converts them.
      for (const auto& column : columns.features) {
        custos::features::ColumnVector out(column.type);
        (void)custos::features::source_detail::AppendTextCell(
            out, text, column.name, custos::features::source_detail::TextDialect::kPostgres);
        if (out.size() == 1) (void)out.ValueAt(0);
      }
      break;
    }
  }
  return 0;
}
