// C2SP tlog-proof receipts: the real sum.golang.org receipt verifies against its leaf;
// flipping any bit of the proof, index, leaf or checkpoint makes it fail.
#include "audit/receipt.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/bytes.h"
#include "crypto/secret.h"

namespace custos::audit {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kOrigin = "go.sum database tree";
constexpr std::string_view kSumGolangVkey =
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

std::string ReadFile(const std::string& name) {
  std::ifstream in(fs::path(CUSTOS_SHARED_DIR) / "vectors/tlog-proof" / name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class RealReceipt : public ::testing::Test {
 protected:
  RealReceipt()
      : text_(ReadFile("go.sum-database-tree-43930254.tlog-proof")),
        leaf_(ReadFile("go.sum-database-tree-43930254.raw")),
        known_({*NoteVerifier::FromVkey(kSumGolangVkey)}) {}

  std::string text_;
  std::string leaf_;
  NoteVerifierSet known_;
};

TEST_F(RealReceipt, ParsesAndRoundTrips) {
  ASSERT_EQ(leaf_.size(), 189u);
  Result<Receipt> receipt = ParseReceipt(text_);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_EQ(receipt->index, 43930254u);
  EXPECT_EQ(receipt->proof.size(), 26u);
  EXPECT_TRUE(receipt->extra.empty());
  EXPECT_EQ(common::Base64Encode(receipt->proof.front()),
            "Q2cuq1e21q4UC1RQ6wtmXmCxk2q3Wqz/yFvD12P2KSM=");
  EXPECT_EQ(FormatReceipt(*receipt), text_);
}

TEST_F(RealReceipt, VerifiesAgainstItsLeaf) {
  Result<Checkpoint> cp = VerifyReceiptText(text_, common::AsBytes(leaf_), kOrigin, known_);
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->size, 58253265u);
  EXPECT_EQ(common::Base64Encode(cp->root), "lIyLAEe4zJUQAda6pFFg3yPOf7j1SgfMEDrpgoX39JU=");
}

TEST_F(RealReceipt, EveryFlippedProofBitFails) {
  Receipt receipt = *ParseReceipt(text_);
  Hash leaf_hash = HashLeaf(common::AsBytes(leaf_));
  int failures = 0;
  for (size_t h = 0; h < receipt.proof.size(); ++h) {
    for (int bit = 0; bit < 256; bit += 37) {  // a spread of bit positions in each hash
      Receipt bad = receipt;
      bad.proof[h][bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      Result<Checkpoint> cp = VerifyReceipt(bad, leaf_hash, kOrigin, known_);
      EXPECT_EQ(cp.status().code(), StatusCode::kDataLoss) << "hash " << h << " bit " << bit;
      ++failures;
    }
  }
  EXPECT_EQ(failures, 26 * 7);
}

TEST_F(RealReceipt, WrongIndexLeafOrCheckpointFails) {
  Receipt receipt = *ParseReceipt(text_);
  Hash leaf_hash = HashLeaf(common::AsBytes(leaf_));
  for (int bit = 0; bit < 26; ++bit) {
    Receipt bad = receipt;
    bad.index ^= uint64_t{1} << bit;
    EXPECT_FALSE(VerifyReceipt(bad, leaf_hash, kOrigin, known_).ok()) << "index bit " << bit;
  }
  // Index beyond the tree: the shape is wrong, not the hashes.
  Receipt beyond = receipt;
  beyond.index = 58253265;
  EXPECT_EQ(VerifyReceipt(beyond, leaf_hash, kOrigin, known_).status().code(),
            StatusCode::kInvalidArgument);
  for (size_t i = 0; i < leaf_.size(); i += 17) {
    std::string bad_leaf = leaf_;
    bad_leaf[i] ^= 0x01;
    EXPECT_EQ(VerifyReceiptText(text_, common::AsBytes(bad_leaf), kOrigin, known_).status().code(),
              StatusCode::kDataLoss)
        << "leaf byte " << i;
  }
  // Tampering with the checkpoint's size breaks its signature.
  Receipt bad_cp = receipt;
  size_t pos = bad_cp.signed_checkpoint.find("58253265");
  ASSERT_NE(pos, std::string::npos);
  bad_cp.signed_checkpoint[pos + 7] = '6';
  EXPECT_EQ(VerifyReceipt(bad_cp, leaf_hash, kOrigin, known_).status().code(),
            StatusCode::kDataLoss);
  // Untrusted key, wrong origin.
  EXPECT_EQ(VerifyReceipt(receipt, leaf_hash, kOrigin, NoteVerifierSet()).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyReceipt(receipt, leaf_hash, "sum.golang.org", known_).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Receipt, ProduceAndVerifyWithExtra) {
  auto signer = *NoteSigner::Create(
      "custos.example/audit",
      *crypto::Ed25519PrivateKey::FromSeed(crypto::SecretBytes::CopyOf(common::Bytes(32, 9))));
  MemoryHashStore store;
  for (int i = 0; i < 1000; ++i) store.AppendLeafHash(HashLeaf(common::AsBytes(std::to_string(i))));
  Checkpoint cp{"custos.example/audit", store.size(), store.Root(), {}};
  Result<Receipt> built = BuildReceipt(777, store.size(), store, *SignCheckpoint(cp, {&signer, 1}),
                                       common::ToBytes("request 42"));
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  const Receipt& receipt = *built;
  EXPECT_EQ(receipt.proof, *InclusionProof(777, store.size(), store));
  EXPECT_EQ(BuildReceipt(1000, 1000, store, "").status().code(), StatusCode::kInvalidArgument);
  std::string text = FormatReceipt(receipt);
  EXPECT_EQ(text.rfind("c2sp.org/tlog-proof@v1\nextra cmVxdWVzdCA0Mg==\nindex 777\n", 0), 0u);
  Result<Receipt> parsed = ParseReceipt(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, receipt);
  NoteVerifierSet known({signer.verifier()});
  EXPECT_TRUE(VerifyReceiptText(text, common::AsBytes("777"), cp.origin, known).ok());
  EXPECT_EQ(VerifyReceiptText(text, common::AsBytes("778"), cp.origin, known).status().code(),
            StatusCode::kDataLoss);
}

TEST(Receipt, MalformedReceiptsAreRejectedWithTheLine) {
  const std::string h = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  const std::string cp = "log\n1\n" + h + "\n\n\xE2\x80\x94 log AAAAAAA=\n";
  const struct {
    std::string text;
    std::string error_part;
  } kCases[] = {
      {"c2sp.org/tlog-proof@v2\nindex 0\n\n" + cp, "tlog-proof:1: expected the header"},
      {"c2sp.org/tlog-proof@v1\n", "tlog-proof:2: expected 'index"},
      {"c2sp.org/tlog-proof@v1\nindex 01\n\n" + cp, "tlog-proof:2: index '01'"},
      {"c2sp.org/tlog-proof@v1\nindex -1\n\n" + cp, "tlog-proof:2: index"},
      {"c2sp.org/tlog-proof@v1\nextra !!\nindex 0\n\n" + cp, "tlog-proof:2: extra data"},
      {"c2sp.org/tlog-proof@v1\nextra \nindex 0\n\n" + cp, "tlog-proof:2: empty extra"},
      {"c2sp.org/tlog-proof@v1\nindex 0\nAAAA\n\n" + cp, "tlog-proof:3: proof hash must be 32"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n" + h + "\n", "tlog-proof:4: missing the empty line"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n" + h + "\n\n", "tlog-proof:5: missing the checkpoint"},
      {"c2sp.org/tlog-proof@v1\nindex 0\nindex 1\n\n" + cp, "tlog-proof:3: proof hash"},
  };
  for (const auto& c : kCases) {
    Result<Receipt> r = ParseReceipt(c.text);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(r.status().message().find(c.error_part), std::string::npos)
        << r.status().message() << " | wanted: " << c.error_part;
  }
  std::string too_long = "c2sp.org/tlog-proof@v1\nindex 0\n";
  for (int i = 0; i < 65; ++i) too_long += h + "\n";
  EXPECT_NE(ParseReceipt(too_long + "\n" + cp).status().message().find("more than 64"),
            std::string::npos);
}

}  // namespace
}  // namespace custos::audit
