// SecretBytes: a move-only buffer for key material. Zeroized when destroyed or
// overwritten, never copied implicitly, never printed. Raw bytes are reachable only
// through `span()`, which crypto/ code uses to hand keys to OpenSSL and libsodium.
// Thread-safety: a plain value; one owner at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/bytes.h"

namespace custos::crypto {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size);                // zero-filled
  static SecretBytes Random(size_t size);           // from the CSPRNG
  static SecretBytes CopyOf(common::ByteView src);  // explicit copy in

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  // An explicit copy, so that duplicating key material is visible at the call site.
  SecretBytes Clone() const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<uint8_t> span() { return {data_.get(), size_}; }
  std::span<const uint8_t> span() const { return {data_.get(), size_}; }

 private:
  void Wipe();
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
};

// Constant-time equality of two byte strings (length is not secret).
bool ConstantTimeEquals(common::ByteView a, common::ByteView b);

// Overwrites memory in a way the compiler may not elide.
void Zeroize(std::span<uint8_t> data);
// Zeroizes a string's bytes (e.g. a decrypted secret read from storage) and empties it.
void ZeroizeString(std::string& s);

}  // namespace custos::crypto
