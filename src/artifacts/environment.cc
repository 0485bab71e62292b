// Environment names and order (see environment.h).
#include "artifacts/environment.h"

namespace custos::artifacts {

std::optional<Environment> PreviousEnvironment(Environment env) {
  if (env == Environment::kDev) return std::nullopt;
  return static_cast<Environment>(static_cast<uint8_t>(env) - 1);
}

}  // namespace custos::artifacts
