// Secure randomness from libsodium's CSPRNG (getrandom(2) underneath).
// Thread-safety: safe from any thread.
#pragma once

#include <cstdint>
#include <span>

#include "common/bytes.h"

namespace custos::crypto {

void RandomFill(std::span<uint8_t> out);
common::Bytes RandomBytes(size_t n);
uint64_t RandomUint64();
// Uniform in [0, upper_bound); upper_bound must be > 0.
uint32_t RandomUniform(uint32_t upper_bound);

// Must run once before any other crypto call (idempotent); the library calls it
// from every entry point that needs it, so callers rarely need to.
void InitCrypto();

}  // namespace custos::crypto
