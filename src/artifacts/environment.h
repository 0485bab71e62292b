// Deployment environments of an artifact version, in promotion order: dev < staging < prod.
// A new version starts in dev; ArtifactVault::Promote moves it up one step at a time.
// The type is identity's (the environment a token is scoped to), so a token's environment
// and a version's compare directly.
// Thread-safety: plain values and free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "identity/token_claims.h"

namespace custos::artifacts {

// Ordered: each value is one step above the previous one.
using identity::Environment;
using identity::EnvironmentName;   // "dev" | "staging" | "prod"
using identity::ParseEnvironment;  // InvalidArgument naming the accepted values

inline constexpr Environment kAllEnvironments[] = {Environment::kDev, Environment::kStaging,
                                                   Environment::kProd};

// The environment one step below `env` (nullopt for dev): where a version must already be
// before it can be promoted to `env`.
std::optional<Environment> PreviousEnvironment(Environment env);

}  // namespace custos::artifacts
