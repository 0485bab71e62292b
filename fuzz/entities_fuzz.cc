// libFuzzer target: Cedar JSON entities, context and values, with and without a schema.
// Must never crash, hang or trip a sanitizer (nlohmann exceptions stay inside the module).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/entities.h"
#include "policy/schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace custos::policy;  // NOLINT: fuzz target
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const Schema* schema = [] {
    auto s = Schema::ParseCedarSchema(
        "entity G; entity U in [G] { ip: ipaddr, d: decimal, t: datetime, s: Set<U>, "
        "r: { x?: duration } } tags Long;\n"
        "action a appliesTo { principal: U, resource: G, context: { when: datetime } };",
        "fuzz.cedarschema");
    return s.ok() ? new Schema(std::move(s).value()) : nullptr;
  }();
  auto plain = ParseEntitiesJson(text);
  (void)plain;
  auto typed = ParseEntitiesJson(text, schema);
  (void)typed;
  EntityUid action("Action", "a");
  auto ctx = ParseContextJson(text, schema, &action);
  (void)ctx;
  auto value = ParseValueJson(text);
  (void)value;
  return 0;
}
