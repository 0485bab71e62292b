// libFuzzer target for lineage/openlineage_schema.h and lineage/json_schema.h: arbitrary
// bytes parsed as JSON must be accepted or refused cleanly as an OpenLineage event, as a
// facet container, and compiled as a JSON Schema must load or be refused cleanly too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lineage/json_schema.h"
#include "lineage/openlineage_schema.h"

namespace {

using custos::Status;
using custos::StatusCode;
using custos::lineage::OpenLineageValidator;
using Json = nlohmann::json;

void Check(bool condition) {
  if (!condition) std::abort();
}

// Built once (and deliberately never freed).
const OpenLineageValidator& Validator() {
  static const OpenLineageValidator* validator = [] {
    auto created = OpenLineageValidator::Create();
    Check(created.ok());
    return new OpenLineageValidator(std::move(*created));
  }();
  return *validator;
}

const std::vector<std::string>& FacetStems() {
  static const std::vector<std::string>* stems = [] {
    auto* out = new std::vector<std::string>;
    for (const auto& file : custos::lineage::OpenLineageSpecFiles()) {
      if (file.path.starts_with("facets/") && file.path.ends_with(".json")) {
        out->emplace_back(file.path.substr(7, file.path.size() - 12));
      }
    }
    return out;
  }();
  return *stems;
}

// A refusal is InvalidArgument with a message that is valid UTF-8 (dump() throws, and so
// crashes the fuzzer, on anything else), since it ends up in problem+json answers.
void CheckOutcome(const Status& status) {
  if (status.ok()) return;
  Check(status.code() == StatusCode::kInvalidArgument);
  Check(!status.message().empty());
  (void)Json(status.message()).dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Json input = Json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (input.is_discarded()) return 0;

  // 1. As an event and as a facet container.
  const Status any = Validator().ValidateEvent(input);
  const Status run = Validator().ValidateRunEvent(input);
  CheckOutcome(any);
  CheckOutcome(run);
  // A valid RunEvent is a valid event (the other kinds refuse "run" with "job").
  Check(!run.ok() || any.ok());
  const std::vector<std::string>& stems = FacetStems();
  CheckOutcome(Validator().ValidateFacetContainer(stems[size % stems.size()], input));

  // 2. As a schema: it compiles or is refused, and validates any instance cleanly. The
  // input is moved, not copied: nlohmann copies recursively, and the input may be deep.
  custos::lineage::SchemaRegistryOptions options;
  options.max_evaluations = 100'000;
  std::vector<custos::lineage::SchemaDocument> documents;
  documents.push_back({std::move(input), "https://fuzz.test/schema.json"});
  auto registry = custos::lineage::SchemaRegistry::Compile(std::move(documents), options);
  if (!registry.ok()) {
    Check(registry.status().code() == StatusCode::kInvalidArgument);
    return 0;
  }
  const Json instances[] = {nullptr,
                            "2024-01-31T12:00:00Z",
                            1.5,
                            Json::array({Json::object(), 7}),
                            {{"id", "f69a6e9b-9bac-3c9a-9cf6-eacb70ecc9a9"}, {"u", "x:y"}}};
  for (const Json& instance : instances) {
    CheckOutcome(registry->Validate("https://fuzz.test/schema.json", instance));
  }
  return 0;
}
