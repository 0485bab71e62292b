// RFC 9162 Merkle tree hashing, inclusion and consistency proofs (sections 2.1.1-2.1.4),
// the subtree proofs of the Merkle Tree Certificates draft, and the incremental append.
//
// Proofs are computed from stored hashes of *full* subtrees (level L, index I covers
// leaves [I * 2^L, (I + 1) * 2^L)), the unit that C2SP tlog-tiles stores, so a proof or a
// root costs O(log n) hash reads and append costs O(log n) hash computations.
// Thread-safety: free functions are safe from any thread; CompactRange and
// MemoryHashStore are plain values for one thread at a time (MemoryHashStore's const
// reads may run concurrently when nobody writes).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/hash.h"

namespace custos::audit {

using Hash = crypto::Digest;

// SHA-256(0x00 || data): the leaf hash of RFC 9162 section 2.1.1.
Hash HashLeaf(common::ByteView data);
// SHA-256(0x01 || left || right): an interior node.
Hash HashChildren(const Hash& left, const Hash& right);
// SHA-256 of the empty string: the root of the empty tree.
Hash EmptyRoot();

// A full (perfect) subtree: level 0 is a leaf, level L covers 2^L leaves starting at
// index << L.
struct NodeId {
  int level = 0;
  uint64_t index = 0;
  friend bool operator==(const NodeId&, const NodeId&) = default;
};

// Where proofs read stored hashes from (tiles in a log, a map in tests).
class HashReader {
 public:
  virtual ~HashReader() = default;
  // Fills out[i] with the hash of the full subtree nodes[i] (nodes.size() == out.size()).
  // Returns NotFound if one is not stored (e.g. not yet complete), DataLoss if storage is
  // corrupt. Batched so that a tile-backed reader can fetch each tile once.
  virtual Status ReadHashes(std::span<const NodeId> nodes, std::span<Hash> out) const = 0;
};

// The root of the tree over the given leaf hashes (O(n), no reads).
Hash RootFromLeafHashes(std::span<const Hash> leaf_hashes);

// The root of the tree of `size` leaves, from at most log2(size)+1 stored hashes.
Result<Hash> RootHash(uint64_t size, const HashReader& reader);

// RFC 9162 2.1.3.1: the inclusion proof of leaf `index` in the tree of `size` leaves,
// ordered from the leaf's sibling up to the root's child.
Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const HashReader& reader);

// RFC 9162 2.1.4.1: the consistency proof from `size1` to `size2` (0 < size1 <= size2).
Result<std::vector<Hash>> ConsistencyProof(uint64_t size1, uint64_t size2,
                                           const HashReader& reader);

// RFC 9162 2.1.3.2. OK if `proof` proves that `leaf_hash` is leaf `index` of the tree of
// `size` leaves whose root is `root`. InvalidArgument if the proof's shape is wrong for
// (index, size); DataLoss if the hashes do not lead to `root`.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root);
// The root that `proof` leads to (the shape is still checked).
Result<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                    std::span<const Hash> proof);

// RFC 9162 2.1.4.2. OK if the tree of `size2` leaves with root `root2` extends the tree
// of `size1` leaves with root `root1`. size1 == 0 is an error (nothing to prove); equal
// sizes need an empty proof and equal roots. Error codes as for VerifyInclusion.
Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                         const Hash& root1, const Hash& root2);

// Subtrees [start, end) of the Merkle Tree Certificates draft (section 4): valid when
// start < end and start is a multiple of the smallest power of two >= end - start. Such
// a subtree's hash is the root of the tree over leaves start..end-1.
bool IsValidSubtree(uint64_t start, uint64_t end);

// The hash of subtree [start, end) from stored hashes.
Result<Hash> SubtreeHash(uint64_t start, uint64_t end, const HashReader& reader);

// Inclusion of leaf `index` in the valid subtree [start, end) whose hash is
// `subtree_hash` (the RFC proof within the subtree).
Result<std::vector<Hash>> SubtreeInclusionProof(uint64_t index, uint64_t start, uint64_t end,
                                                const HashReader& reader);
Status VerifySubtreeInclusion(uint64_t index, uint64_t start, uint64_t end, const Hash& leaf_hash,
                              std::span<const Hash> proof, const Hash& subtree_hash);

// Consistency of the valid subtree [start, end) (hash `subtree_hash`) with the tree of
// `size` >= end leaves whose root is `root`. With start == 0 this is the RFC consistency
// proof from end to size. An empty subtree (start == end <= size) is consistent with any
// tree when its hash is EmptyRoot() and the proof is empty.
Result<std::vector<Hash>> SubtreeConsistencyProof(uint64_t start, uint64_t end, uint64_t size,
                                                  const HashReader& reader);
Status VerifySubtreeConsistency(uint64_t start, uint64_t end, uint64_t size,
                                std::span<const Hash> proof, const Hash& subtree_hash,
                                const Hash& root);

// The right edge of a tree: the hashes of the full subtrees that make up the first
// `size` leaves (one per set bit of size, largest first). Appending a leaf costs
// O(log n) hashes and reports every full subtree it completes, which is exactly what a
// log must persist so that later proofs need only stored reads.
class CompactRange {
 public:
  CompactRange() = default;  // the empty tree

  // From a saved right edge; InvalidArgument unless frontier.size() == popcount(size).
  static Result<CompactRange> FromFrontier(uint64_t size, std::vector<Hash> frontier);
  // Reads the right edge of a stored tree of `size` leaves.
  static Result<CompactRange> Load(uint64_t size, const HashReader& reader);

  // Appends a leaf hash. `on_complete` (may be empty) is called for the leaf itself
  // (level 0) and then for each higher full subtree the append completes, bottom-up.
  void Append(const Hash& leaf_hash,
              const std::function<void(const NodeId&, const Hash&)>& on_complete);

  uint64_t size() const { return size_; }
  const std::vector<Hash>& frontier() const { return frontier_; }
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> frontier_;  // largest subtree first
};

// An in-memory HashReader that is fed by CompactRange::Append: tests, the verifier
// (which recomputes the tree from entries) and small logs.
class MemoryHashStore : public HashReader {
 public:
  // Appends a leaf hash and stores every full subtree it completes.
  void AppendLeafHash(const Hash& leaf_hash);
  uint64_t size() const { return range_.size(); }
  Hash Root() const { return range_.Root(); }

  Status ReadHashes(std::span<const NodeId> nodes, std::span<Hash> out) const override;

 private:
  CompactRange range_;
  std::vector<std::vector<Hash>> levels_;  // levels_[L][I] = NodeId{L, I}
};

}  // namespace custos::audit
