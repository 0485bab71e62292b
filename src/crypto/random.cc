// CSPRNG access through libsodium.
#include "crypto/random.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace custos::crypto {

void InitCrypto() {
  // sodium_init is thread-safe and idempotent; failure means no usable RNG, so there
  // is nothing safe left to do.
  if (sodium_init() < 0) {
    std::fputs("custos: libsodium failed to initialize (no secure random source)\n", stderr);
    std::abort();
  }
}

void RandomFill(std::span<uint8_t> out) {
  InitCrypto();
  randombytes_buf(out.data(), out.size());
}

common::Bytes RandomBytes(size_t n) {
  common::Bytes out(n);
  RandomFill(out);
  return out;
}

uint64_t RandomUint64() {
  uint64_t v;
  RandomFill({reinterpret_cast<uint8_t*>(&v), sizeof v});
  return v;
}

uint32_t RandomUniform(uint32_t upper_bound) {
  InitCrypto();
  return randombytes_uniform(upper_bound);
}

}  // namespace custos::crypto
