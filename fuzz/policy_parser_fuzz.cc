// libFuzzer target: the Cedar policy parser, then evaluation of whatever parsed against a
// fixed request and a tiny entity store. Must never crash, hang or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/authorizer.h"
#include "policy/entities.h"
#include "policy/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace custos::policy;  // NOLINT: fuzz target
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policies = ParsePolicies(text);
  if (!policies.ok()) return 0;
  static const EntityStore* entities = [] {
    auto es = ParseEntitiesJson(R"([
      {"uid": {"type": "User", "id": "a"}, "attrs": {"n": 1, "s": "x", "r": {"k": [1, 2]}},
       "parents": [{"type": "Group", "id": "g"}], "tags": {"t": true}},
      {"uid": {"type": "Group", "id": "g"}, "attrs": {}, "parents": []}])");
    return new EntityStore(std::move(es).value());
  }();
  auto set = PolicySet::Create(std::move(policies).value());
  if (!set.ok()) return 0;
  Request req;
  req.principal = EntityUid("User", "a");
  req.action = EntityUid("Action", "view");
  req.resource = EntityUid("Group", "g");
  req.context = Value::Record({{"n", Value(int64_t{5})}, {"s", Value::String("y")}});
  Response response = set->IsAuthorized(req, *entities);
  (void)response;
  return 0;
}
