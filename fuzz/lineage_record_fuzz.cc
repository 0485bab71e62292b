// libFuzzer target for the lineage record parsers: arbitrary bytes as a JSON lineage record
// (lineage/record_json.h), as stored record and node bytes (lineage/graph.h), and, when
// they form a schema-valid OpenLineage RunEvent, through the RunEvent mapping
// (lineage/openlineage_ingest.h). Every input must be accepted or refused cleanly; a stored
// record that decodes must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "lineage/graph.h"
#include "lineage/openlineage_ingest.h"
#include "lineage/openlineage_schema.h"
#include "lineage/record_json.h"

namespace {

using custos::Result;
using custos::lineage::NodeKind;

void Check(bool condition) {
  if (!condition) std::abort();
}

// Built once (and deliberately never freed).
const custos::lineage::OpenLineageValidator& Validator() {
  static const auto* validator = [] {
    auto created = custos::lineage::OpenLineageValidator::Create();
    Check(created.ok());
    return new custos::lineage::OpenLineageValidator(std::move(*created));
  }();
  return *validator;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  auto record = custos::lineage::DecodeRecord(bytes);
  if (record.ok()) Check(custos::lineage::EncodeRecord(*record) == bytes);
  auto node = custos::lineage::DecodeNode(bytes);
  if (node.ok()) Check(custos::lineage::EncodeNode(*node) == bytes);

  const nlohmann::json json = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  auto parsed = custos::lineage::RecordFromJson(json);
  if (parsed.ok()) {
    for (const auto& n : parsed->nodes) Check(custos::lineage::ValidateNode(n).ok());
    auto round_trip = custos::lineage::DecodeRecord(custos::lineage::EncodeRecord(*parsed));
    Check(round_trip.ok() && round_trip->nodes == parsed->nodes &&
          round_trip->edges == parsed->edges);
  }
  if (Validator().ValidateRunEvent(json).ok()) {
    const custos::lineage::LatestVersionLookup none =
        [](NodeKind, std::string_view) -> Result<std::optional<std::string>> {
      return std::optional<std::string>();
    };
    (void)custos::lineage::RecordFromRunEvent(json, "User::\"fuzz\"", none);
  }
  return 0;
}
