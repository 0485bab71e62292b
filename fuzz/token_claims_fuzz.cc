// libFuzzer target for identity/token_claims.h: arbitrary bytes as a token payload must be
// refused cleanly with InvalidArgument (never crash, never throw); the fast reader must
// agree with the generic parser; whatever parses must re-encode to a payload that parses
// to the same claims and passes validation.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "identity/token_claims.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The fast reader may only accept what the generic parser maps to the same claims.
  auto fast = custos::identity::detail::ParseTokenClaimsFast(input);
  auto generic = custos::identity::detail::ParseTokenClaimsGeneric(input);
  if (fast) {
    const bool valid = custos::identity::ValidateTokenClaims(*fast).ok();
    Check(generic.ok() == valid);
    if (valid) Check(*generic == *fast);
  }
  auto claims = custos::identity::ParseTokenClaims(input);
  Check(claims.ok() == generic.ok());
  if (claims.ok()) Check(*claims == *generic);
  if (!claims.ok()) {
    Check(claims.status().code() == custos::StatusCode::kInvalidArgument);
    Check(!claims.status().message().empty());
  } else {
    Check(custos::identity::ValidateTokenClaims(*claims).ok());
    const std::string again = custos::identity::EncodeTokenClaims(*claims);
    auto reparsed = custos::identity::ParseTokenClaims(again);
    Check(reparsed.ok());
    Check(*reparsed == *claims);
    Check(custos::identity::EncodeTokenClaims(*reparsed) == again);
  }
  // Scope matching on arbitrary text: the input split into a pattern and a resource.
  const size_t half = size / 2;
  custos::identity::TokenScope scope({std::string(input.substr(0, half))}, {"read"});
  const bool allowed = scope.Allows("read", input.substr(half));
  Check(!scope.Allows("write", input.substr(half)));
  if (input.substr(0, half) == input.substr(half)) Check(allowed);
  (void)custos::identity::ParseEnvironment(input);
  return 0;
}
