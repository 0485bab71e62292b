// AES-256-GCM: round trips, associated-data binding, tamper detection, NIST vector.
#include "crypto/aead.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "common/bytes.h"

namespace custos::crypto {
namespace {

SecretBytes Key(uint8_t fill) {
  SecretBytes k(32);
  for (auto& b : k.span()) b = fill;
  return k;
}

TEST(AeadTest, RoundTripWithAssociatedData) {
  Aead aead = *Aead::Create(Key(7));
  common::Bytes sealed = aead.Seal(common::AsBytes("feature row"), common::AsBytes("ad"));
  EXPECT_EQ(sealed.size(), 11 + Aead::kOverhead);
  EXPECT_EQ(common::AsChars(*aead.Open(sealed, common::AsBytes("ad"))), "feature row");
}

TEST(AeadTest, NoncesAreFresh) {
  Aead aead = *Aead::Create(Key(7));
  EXPECT_NE(aead.Seal(common::AsBytes("x"), {}), aead.Seal(common::AsBytes("x"), {}));
}

TEST(AeadTest, WrongAssociatedDataIsDataLoss) {
  Aead aead = *Aead::Create(Key(7));
  common::Bytes sealed = aead.Seal(common::AsBytes("v"), common::AsBytes("online|k1"));
  Result<common::Bytes> r = aead.Open(sealed, common::AsBytes("online|k2"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
}

TEST(AeadTest, EveryFlippedBitIsDetected) {
  Aead aead = *Aead::Create(Key(7));
  common::Bytes sealed = aead.Seal(common::AsBytes("0123456789"), common::AsBytes("ad"));
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      common::Bytes copy = sealed;
      copy[i] ^= static_cast<uint8_t>(1 << bit);
      EXPECT_EQ(aead.Open(copy, common::AsBytes("ad")).status().code(), StatusCode::kDataLoss)
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST(AeadTest, WrongKeyAndShortInput) {
  Aead a = *Aead::Create(Key(1));
  Aead b = *Aead::Create(Key(2));
  EXPECT_EQ(b.Open(a.Seal(common::AsBytes("v"), {}), {}).status().code(), StatusCode::kDataLoss);
  Result<common::Bytes> short_input = a.Open(common::Bytes(27), {});
  EXPECT_EQ(short_input.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(short_input.status().message(),
            "sealed value is 27 bytes, shorter than the 28-byte nonce and tag");
  EXPECT_EQ(Aead::Create(SecretBytes(16)).status().message(),
            "AES-256-GCM key must be 32 bytes, got 16");
}

// NIST GCM test vector (gcmEncryptExtIV256.rsp, Count 0 with 128-bit PT, AAD empty)
// checked through Open: nonce | ciphertext | tag must decrypt to the known plaintext.
TEST(AeadTest, NistVectorOpens) {
  auto key = *common::HexDecode("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  auto iv = *common::HexDecode("cafebabefacedbaddecaf888");
  auto ct = *common::HexDecode(
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056"
      "828838c5f61e6393ba7a0abcc9f662898015ad");
  auto tag = *common::HexDecode("b094dac5d93471bdec1a502270e3cc6c");
  auto pt = *common::HexDecode(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449"
      "a6b525b16aedf5aa0de657ba637b391aafd255");
  common::Bytes sealed = iv;
  sealed.insert(sealed.end(), ct.begin(), ct.end());
  sealed.insert(sealed.end(), tag.begin(), tag.end());
  Aead aead = *Aead::Create(SecretBytes::CopyOf(key));
  EXPECT_EQ(*aead.Open(sealed, {}), pt);
}

}  // namespace
}  // namespace custos::crypto

namespace custos::crypto {
namespace {

// Buffered nonces must not repeat across fork: the child refills its buffer.
TEST(AeadTest, ForkedChildDrawsFreshNonces) {
  Aead aead = *Aead::Create(SecretBytes::Random(32));
  (void)aead.Seal(common::AsBytes("warm the buffer"), {});
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    common::Bytes sealed = aead.Seal(common::AsBytes("x"), {});
    (void)!::write(fds[1], sealed.data(), Aead::kNonceSize);
    ::_exit(0);
  }
  common::Bytes parent = aead.Seal(common::AsBytes("x"), {});
  uint8_t child_nonce[Aead::kNonceSize];
  ASSERT_EQ(::read(fds[0], child_nonce, sizeof child_nonce),
            static_cast<ssize_t>(sizeof child_nonce));
  ::waitpid(pid, nullptr, 0);
  EXPECT_NE(common::Bytes(child_nonce, child_nonce + Aead::kNonceSize),
            common::Bytes(parent.begin(), parent.begin() + Aead::kNonceSize));
}

TEST(AeadTest, ManyNoncesAreDistinct) {
  Aead aead = *Aead::Create(SecretBytes::Random(32));
  std::set<common::Bytes> nonces;
  for (int i = 0; i < 5000; ++i) {  // crosses several 4 KiB refills
    common::Bytes s = aead.Seal(common::AsBytes("v"), {});
    nonces.insert(common::Bytes(s.begin(), s.begin() + Aead::kNonceSize));
  }
  EXPECT_EQ(nonces.size(), 5000u);
}

}  // namespace
}  // namespace custos::crypto
