// Property and unit tests of audit/merkle.h: random trees against a naive recursive
// RFC 9162 root; generated proofs verify, altered ones fail with the right code.
#include "audit/merkle.h"

#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <string>
#include <vector>

#include "common/bytes.h"

namespace custos::audit {
namespace {

using common::Bytes;

// MTH(D[lo:hi]) straight from RFC 9162 section 2.1.1.
Hash NaiveRoot(const std::vector<Bytes>& leaves, size_t lo, size_t hi) {
  if (hi == lo) return crypto::Sha256Of({});
  if (hi - lo == 1) {
    Bytes buf{0x00};
    buf.insert(buf.end(), leaves[lo].begin(), leaves[lo].end());
    return crypto::Sha256Of(buf);
  }
  size_t k = 1;
  while (k * 2 < hi - lo) k *= 2;
  Hash l = NaiveRoot(leaves, lo, lo + k);
  Hash r = NaiveRoot(leaves, lo + k, hi);
  Bytes buf{0x01};
  buf.insert(buf.end(), l.begin(), l.end());
  buf.insert(buf.end(), r.begin(), r.end());
  return crypto::Sha256Of(buf);
}

std::vector<Bytes> RandomLeaves(std::mt19937_64& rng, size_t n) {
  std::vector<Bytes> leaves(n);
  for (auto& leaf : leaves) {
    leaf.resize(rng() % 40);
    for (auto& b : leaf) b = static_cast<uint8_t>(rng());
  }
  return leaves;
}

MemoryHashStore StoreOf(const std::vector<Bytes>& leaves) {
  MemoryHashStore store;
  for (const auto& leaf : leaves) store.AppendLeafHash(HashLeaf(leaf));
  return store;
}

TEST(Merkle, HashesFollowRfc9162Prefixes) {
  EXPECT_EQ(common::HexEncode(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // SHA-256(0x00): the leaf hash of the empty entry (RFC 6962 reference tree, leaf 0).
  EXPECT_EQ(common::HexEncode(HashLeaf({})),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  Hash a = HashLeaf(common::AsBytes("a"));
  Hash b = HashLeaf(common::AsBytes("b"));
  Bytes buf{0x01};
  buf.insert(buf.end(), a.begin(), a.end());
  buf.insert(buf.end(), b.begin(), b.end());
  EXPECT_EQ(HashChildren(a, b), crypto::Sha256Of(buf));
  EXPECT_NE(HashChildren(a, b), HashChildren(b, a));
}

TEST(Merkle, ReferenceTreeRootOfEightLeaves) {
  std::vector<Bytes> leaves;
  for (const char* hex : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"}) {
    leaves.push_back(*common::HexDecode(hex));
  }
  MemoryHashStore store = StoreOf(leaves);
  EXPECT_EQ(common::HexEncode(store.Root()),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
}

TEST(Merkle, RandomTreesMatchNaiveRootAtEverySize) {
  std::mt19937_64 rng(9162);
  for (int trial = 0; trial < 8; ++trial) {
    size_t n = 1 + rng() % 300;
    std::vector<Bytes> leaves = RandomLeaves(rng, n);
    MemoryHashStore store = StoreOf(leaves);
    std::vector<Hash> leaf_hashes;
    for (const auto& leaf : leaves) leaf_hashes.push_back(HashLeaf(leaf));
    ASSERT_EQ(store.Root(), NaiveRoot(leaves, 0, n));
    ASSERT_EQ(RootFromLeafHashes(leaf_hashes), NaiveRoot(leaves, 0, n));
    for (size_t size = 0; size <= n; ++size) {
      Result<Hash> root = RootHash(size, store);
      ASSERT_TRUE(root.ok()) << root.status().ToString();
      ASSERT_EQ(*root, NaiveRoot(leaves, 0, size)) << "size " << size;
    }
    EXPECT_EQ(RootHash(n + 1, store).status().code(), StatusCode::kNotFound);
  }
}

TEST(Merkle, InclusionProofsVerifyAndTamperedOnesFail) {
  std::mt19937_64 rng(6962);
  std::vector<Bytes> leaves = RandomLeaves(rng, 517);
  MemoryHashStore store = StoreOf(leaves);
  for (int trial = 0; trial < 400; ++trial) {
    uint64_t size = 1 + rng() % leaves.size();
    uint64_t index = rng() % size;
    Hash root = NaiveRoot(leaves, 0, size);
    Hash leaf = HashLeaf(leaves[index]);
    Result<std::vector<Hash>> proof = InclusionProof(index, size, store);
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    ASSERT_TRUE(VerifyInclusion(index, size, leaf, *proof, root).ok())
        << "index " << index << " size " << size;
    // Proof length is the RFC's: depth of the leaf.
    EXPECT_LE(proof->size(), static_cast<size_t>(std::bit_width(size)));

    if (!proof->empty()) {
      std::vector<Hash> bad = *proof;
      size_t at = rng() % bad.size();
      bad[at][rng() % 32] ^= static_cast<uint8_t>(1u << (rng() % 8));
      EXPECT_EQ(VerifyInclusion(index, size, leaf, bad, root).code(), StatusCode::kDataLoss);
      std::vector<Hash> longer = *proof;
      longer.push_back(root);
      EXPECT_EQ(VerifyInclusion(index, size, leaf, longer, root).code(),
                StatusCode::kInvalidArgument);
      std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
      EXPECT_EQ(VerifyInclusion(index, size, leaf, shorter, root).code(),
                StatusCode::kInvalidArgument);
    }
    Hash wrong_leaf = leaf;
    wrong_leaf[0] ^= 1;
    EXPECT_FALSE(VerifyInclusion(index, size, wrong_leaf, *proof, root).ok());
    if (size > 1) {
      uint64_t other = (index + 1) % size;
      if (HashLeaf(leaves[other]) != leaf) {
        EXPECT_FALSE(VerifyInclusion(other, size, leaf, *proof, root).ok());
      }
    }
    EXPECT_EQ(VerifyInclusion(size, size, leaf, *proof, root).code(), StatusCode::kInvalidArgument);
  }
}

TEST(Merkle, ConsistencyProofsVerifyAndTamperedOnesFail) {
  std::mt19937_64 rng(2104);
  std::vector<Bytes> leaves = RandomLeaves(rng, 300);
  MemoryHashStore store = StoreOf(leaves);
  for (int trial = 0; trial < 400; ++trial) {
    uint64_t size2 = 1 + rng() % leaves.size();
    uint64_t size1 = 1 + rng() % size2;
    Hash root1 = NaiveRoot(leaves, 0, size1);
    Hash root2 = NaiveRoot(leaves, 0, size2);
    Result<std::vector<Hash>> proof = ConsistencyProof(size1, size2, store);
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    ASSERT_TRUE(VerifyConsistency(size1, size2, *proof, root1, root2).ok())
        << size1 << " -> " << size2;
    if (proof->empty()) {
      EXPECT_EQ(size1, size2);
      continue;
    }
    std::vector<Hash> bad = *proof;
    bad[rng() % bad.size()][rng() % 32] ^= 0x80;
    EXPECT_EQ(VerifyConsistency(size1, size2, bad, root1, root2).code(), StatusCode::kDataLoss);
    Hash forked = root1;
    forked[31] ^= 1;
    EXPECT_FALSE(VerifyConsistency(size1, size2, *proof, forked, root2).ok());
    EXPECT_FALSE(VerifyConsistency(size1, size2, *proof, root1, forked).ok());
    std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
    EXPECT_EQ(VerifyConsistency(size1, size2, shorter, root1, root2).code(),
              StatusCode::kInvalidArgument);
  }
}

TEST(Merkle, ConsistencyEdgeCases) {
  Hash r = HashLeaf(common::AsBytes("x"));
  EXPECT_TRUE(VerifyConsistency(5, 5, {}, r, r).ok());
  EXPECT_EQ(VerifyConsistency(0, 5, {}, EmptyRoot(), r).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(6, 5, {}, r, r).code(), StatusCode::kInvalidArgument);
  std::vector<Hash> one{r};
  EXPECT_EQ(VerifyConsistency(5, 5, one, r, r).code(), StatusCode::kInvalidArgument);
  MemoryHashStore store;
  for (int i = 0; i < 4; ++i) store.AppendLeafHash(r);
  EXPECT_EQ(ConsistencyProof(0, 4, store).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(3, 5, store).status().code(), StatusCode::kNotFound);
}

TEST(Merkle, HugeTreeSizesDoNotOverflow) {
  const uint64_t kMax = ~uint64_t{0};
  Hash leaf = HashLeaf({});
  std::vector<Hash> proof(64, leaf);
  // A leaf at the far right of a tree of 2^64-1 leaves sits 63 levels deep.
  Result<Hash> root = RootFromInclusionProof(kMax - 1, kMax, leaf, std::span(proof).first(63));
  EXPECT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(RootFromInclusionProof(kMax - 1, kMax, leaf, proof).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(IsValidSubtree(1, (uint64_t{1} << 63) + 2));
  EXPECT_TRUE(IsValidSubtree(0, kMax));
  EXPECT_TRUE(IsValidSubtree(uint64_t{1} << 63, kMax));
}

TEST(Merkle, SubtreesAreValidExactlyWhenAligned) {
  EXPECT_TRUE(IsValidSubtree(0, 1));
  EXPECT_TRUE(IsValidSubtree(8, 16));
  EXPECT_TRUE(IsValidSubtree(8, 13));
  EXPECT_TRUE(IsValidSubtree(4, 6));
  EXPECT_FALSE(IsValidSubtree(4, 9));  // width 5 rounds up to 8; 4 is not a multiple
  EXPECT_FALSE(IsValidSubtree(2, 6));
  EXPECT_FALSE(IsValidSubtree(3, 3));  // empty
  EXPECT_FALSE(IsValidSubtree(5, 4));
}

TEST(Merkle, SubtreeProofsOverEveryValidSubtree) {
  std::mt19937_64 rng(4242);
  const size_t n = 45;
  std::vector<Bytes> leaves = RandomLeaves(rng, n);
  MemoryHashStore store = StoreOf(leaves);
  int subtrees = 0;
  for (uint64_t start = 0; start < n; ++start) {
    for (uint64_t end = start + 1; end <= n; ++end) {
      if (!IsValidSubtree(start, end)) continue;
      ++subtrees;
      Hash subtree_hash = NaiveRoot(leaves, start, end);
      Result<Hash> got = SubtreeHash(start, end, store);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(*got, subtree_hash) << "[" << start << ", " << end << ")";
      for (uint64_t index = start; index < end; ++index) {
        auto proof = SubtreeInclusionProof(index, start, end, store);
        ASSERT_TRUE(proof.ok());
        ASSERT_TRUE(
            VerifySubtreeInclusion(index, start, end, HashLeaf(leaves[index]), *proof, subtree_hash)
                .ok());
      }
      for (uint64_t size = end; size <= n; size += 1 + rng() % 5) {
        Hash root = NaiveRoot(leaves, 0, size);
        auto proof = SubtreeConsistencyProof(start, end, size, store);
        ASSERT_TRUE(proof.ok()) << proof.status().ToString();
        ASSERT_TRUE(VerifySubtreeConsistency(start, end, size, *proof, subtree_hash, root).ok())
            << "[" << start << ", " << end << ") in " << size;
        if (!proof->empty()) {
          std::vector<Hash> bad = *proof;
          bad[rng() % bad.size()][0] ^= 4;
          EXPECT_EQ(VerifySubtreeConsistency(start, end, size, bad, subtree_hash, root).code(),
                    StatusCode::kDataLoss);
        }
        Hash other = subtree_hash;
        other[5] ^= 1;
        EXPECT_FALSE(VerifySubtreeConsistency(start, end, size, *proof, other, root).ok());
      }
    }
  }
  EXPECT_EQ(subtrees, 160);  // pairs with start a multiple of bit_ceil(end - start)
}

TEST(Merkle, CompactRangeReportsEveryCompletedSubtree) {
  CompactRange range;
  std::vector<NodeId> completed;
  for (uint64_t i = 0; i < 8; ++i) {
    range.Append(HashLeaf(common::AsBytes(std::to_string(i))),
                 [&](const NodeId& node, const Hash&) { completed.push_back(node); });
  }
  std::vector<NodeId> want = {{0, 0}, {0, 1}, {1, 0}, {0, 2}, {0, 3}, {1, 1}, {2, 0}, {0, 4},
                              {0, 5}, {1, 2}, {0, 6}, {0, 7}, {1, 3}, {2, 1}, {3, 0}};
  EXPECT_EQ(completed, want);
  EXPECT_EQ(range.frontier().size(), 1u);

  // n leaves complete 2n - popcount(n) full subtrees in total.
  CompactRange big;
  uint64_t count = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    big.Append(HashLeaf({}), [&](const NodeId&, const Hash&) { ++count; });
  }
  EXPECT_EQ(count, 2 * 1000 - std::popcount(uint64_t{1000}));
  EXPECT_EQ(big.frontier().size(), static_cast<size_t>(std::popcount(uint64_t{1000})));
}

TEST(Merkle, CompactRangeReloadsFromStorageAndFrontier) {
  std::mt19937_64 rng(77);
  std::vector<Bytes> leaves = RandomLeaves(rng, 100);
  MemoryHashStore store = StoreOf(leaves);
  for (uint64_t size : {0, 1, 2, 3, 37, 64, 99, 100}) {
    Result<CompactRange> loaded = CompactRange::Load(size, store);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->Root(), NaiveRoot(leaves, 0, size));
    // Continue appending from the reloaded edge: the root must track the full tree.
    CompactRange range = *loaded;
    for (uint64_t i = size; i < leaves.size(); ++i) range.Append(HashLeaf(leaves[i]), nullptr);
    EXPECT_EQ(range.Root(), store.Root());
    auto rebuilt = CompactRange::FromFrontier(size, loaded->frontier());
    ASSERT_TRUE(rebuilt.ok());
    EXPECT_EQ(rebuilt->Root(), loaded->Root());
  }
  EXPECT_EQ(CompactRange::FromFrontier(3, {EmptyRoot()}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CompactRange::Load(101, store).status().code(), StatusCode::kNotFound);
}

// Counts reads so that the O(log n) claim is checked, not just stated.
class CountingReader : public HashReader {
 public:
  explicit CountingReader(const HashReader& inner) : inner_(inner) {}
  Status ReadHashes(std::span<const NodeId> nodes, std::span<Hash> out) const override {
    reads_ += nodes.size();
    ++calls_;
    return inner_.ReadHashes(nodes, out);
  }
  mutable size_t reads_ = 0;
  mutable size_t calls_ = 0;

 private:
  const HashReader& inner_;
};

TEST(Merkle, ProofsReadLogarithmicallyManyHashesInOneBatch) {
  MemoryHashStore store;
  for (int i = 0; i < 5000; ++i) store.AppendLeafHash(HashLeaf(common::AsBytes(std::to_string(i))));
  CountingReader reader(store);
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    uint64_t size = 1 + rng() % 5000;
    reader.reads_ = reader.calls_ = 0;
    ASSERT_TRUE(InclusionProof(rng() % size, size, reader).ok());
    EXPECT_LE(reader.reads_, 2u * 13);  // log2(5000) < 13
    EXPECT_EQ(reader.calls_, 1u);
    reader.reads_ = reader.calls_ = 0;
    ASSERT_TRUE(ConsistencyProof(1 + rng() % size, size, reader).ok());
    EXPECT_LE(reader.reads_, 3u * 13);
    EXPECT_EQ(reader.calls_, 1u);
  }
}

}  // namespace
}  // namespace custos::audit
