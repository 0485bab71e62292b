// SecretBytes and constant-time helpers over libsodium.
#include "crypto/secret.h"

#include <sodium.h>

#include <cstring>

namespace custos::crypto {

SecretBytes::SecretBytes(size_t size) : data_(new uint8_t[size]()), size_(size) {}

SecretBytes SecretBytes::Random(size_t size) {
  SecretBytes s(size);
  randombytes_buf(s.data_.get(), size);
  return s;
}

SecretBytes SecretBytes::CopyOf(common::ByteView src) {
  SecretBytes s(src.size());
  if (!src.empty()) std::memcpy(s.data_.get(), src.data(), src.size());
  return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::move(other.data_)), size_(other.size_) {
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    data_ = std::move(other.data_);
    size_ = other.size_;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() { Wipe(); }

SecretBytes SecretBytes::Clone() const { return CopyOf(span()); }

void SecretBytes::Wipe() {
  if (data_) sodium_memzero(data_.get(), size_);
  data_.reset();
  size_ = 0;
}

bool ConstantTimeEquals(common::ByteView a, common::ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void Zeroize(std::span<uint8_t> data) {
  if (!data.empty()) sodium_memzero(data.data(), data.size());
}

void ZeroizeString(std::string& s) {
  Zeroize(std::span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), s.size()));
  s.clear();
}

}  // namespace custos::crypto
