// Fuzzes the entity-row readers (CSV tokenizer, CSV and JSON Lines parsing into typed
// columns) and the training-set writers over whatever they accept. The first byte picks
// the format and the key types.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "features/entity_rows.h"
#include "features/training_set.h"

namespace {

using custos::catalog::ScalarType;
using custos::catalog::ValueType;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  custos::features::EntityRowsSpec spec;
  spec.join_keys.push_back({"driver_id", ValueType{ScalarType::kInt64, false}});
  if ((mode & 2) != 0) spec.join_keys.push_back({"city", ValueType{ScalarType::kString, false}});
  if ((mode & 4) != 0) spec.join_keys.push_back({"day", ValueType{ScalarType::kTimestamp, false}});
  spec.keep_other_columns = (mode & 8) == 0;
  custos::Result<custos::features::EntityRows> rows =
      (mode & 1) == 0 ? custos::features::ReadEntityRowsCsv(text, "fuzz.csv", spec)
                      : custos::features::ReadEntityRowsJsonl(text, "fuzz.jsonl", spec);
  if (!rows.ok()) return 0;
  custos::features::PitResult none;
  none.rows = rows->size();
  std::string out;
  custos::features::WriteTrainingSet(*rows, none, custos::features::TrainingSetFormat::kCsv, out);
  custos::features::WriteTrainingSet(*rows, none, custos::features::TrainingSetFormat::kJsonl, out);
  (void)custos::features::EntitySetSha256(*rows);
  // Whatever the CSV writer produced must tokenize again.
  custos::features::CsvReader reader(out, "rewritten.csv");
  std::vector<std::string_view> fields;
  for (int i = 0; i < 1 << 20; ++i) {
    custos::Result<bool> more = reader.Next(fields);
    if (!more.ok() || !*more) break;
  }
  return 0;
}
