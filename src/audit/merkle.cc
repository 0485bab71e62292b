// RFC 9162 tree hashing and proofs over stored full-subtree hashes.
//
// Proof generation and verification share one walk: descend from the root range
// [0, size) towards the leaf (inclusion) or the subtree (consistency), recording at each
// level which way the walk went and which sibling range the proof must carry. The proof
// lists those siblings bottom-up, which is the order of RFC 9162's recursive PATH and
// SUBPROOF definitions; a verifier replays the walk bottom-up over the proof hashes.
#include "audit/merkle.h"

#include <algorithm>
#include <array>
#include <bit>
#include <string>

namespace custos::audit {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;
constexpr int kMaxDepth = 64;  // a tree of < 2^64 leaves has at most 64 levels of splits

struct Range {
  uint64_t lo = 0;
  uint64_t hi = 0;
};

// RFC 9162's k: the largest power of two smaller than n (n >= 2).
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

enum class Step : uint8_t {
  kLeft,      // the target lies in the left child; the right child is the sibling
  kRight,     // the target lies in the right child; the left child is the sibling
  kStraddle,  // consistency only: the old tree covers the left child and part of the right
};

struct Walk {
  std::array<Step, kMaxDepth> steps{};
  std::array<Range, kMaxDepth> siblings{};
  int depth = 0;
  // Consistency only: whether the proof starts with the hash of the node where the walk
  // stopped (RFC 9162's b == false case).
  bool include_base = false;
  Range base;
};

Walk InclusionWalk(uint64_t index, uint64_t lo, uint64_t hi) {
  Walk walk;
  while (hi - lo > 1) {
    uint64_t mid = lo + SplitPoint(hi - lo);
    if (index < mid) {
      walk.steps[walk.depth] = Step::kLeft;
      walk.siblings[walk.depth] = {mid, hi};
      hi = mid;
    } else {
      walk.steps[walk.depth] = Step::kRight;
      walk.siblings[walk.depth] = {lo, mid};
      lo = mid;
    }
    ++walk.depth;
  }
  walk.base = {lo, hi};
  return walk;
}

// SUBPROOF of RFC 9162 2.1.4.1, generalised to a subtree [start, end) of the tree
// [0, size) as in the Merkle Tree Certificates draft. Precondition: [start, end) is a
// valid non-empty subtree and end <= size, which guarantees that a straddling subtree
// starts at the node's left edge.
Result<Walk> ConsistencyWalk(uint64_t start, uint64_t end, uint64_t size) {
  Walk walk;
  uint64_t lo = 0;
  uint64_t hi = size;
  bool known = true;  // RFC 9162's b: the verifier already knows the current node's hash
  while (!(start == lo && end == hi)) {
    uint64_t mid = lo + SplitPoint(hi - lo);
    if (end <= mid) {
      walk.steps[walk.depth] = Step::kLeft;
      walk.siblings[walk.depth] = {mid, hi};
      hi = mid;
    } else if (start >= mid) {
      walk.steps[walk.depth] = Step::kRight;
      walk.siblings[walk.depth] = {lo, mid};
      lo = mid;
    } else {
      if (start != lo) {
        return InternalError("consistency walk: subtree [" + std::to_string(start) + ", " +
                             std::to_string(end) + ") straddles a split; not a valid subtree");
      }
      walk.steps[walk.depth] = Step::kStraddle;
      walk.siblings[walk.depth] = {lo, mid};
      lo = mid;
      start = mid;
      known = false;
    }
    ++walk.depth;
  }
  walk.include_base = !known;
  walk.base = {lo, hi};
  return walk;
}

// Splits [lo, hi) into maximal aligned full subtrees, left to right. For a range that is
// a node of an RFC 9162 tree, folding their hashes from the right gives MTH(D[lo:hi]).
void AppendFullSubtrees(Range range, std::vector<NodeId>& out) {
  uint64_t lo = range.lo;
  while (lo < range.hi) {
    int level = std::bit_width(range.hi - lo) - 1;
    if (lo != 0) level = std::min(level, std::countr_zero(lo));
    out.push_back({level, lo >> level});
    lo += uint64_t{1} << level;
  }
}

// The hashes of `ranges`, from one batched read of their full subtrees.
Result<std::vector<Hash>> ReadRanges(std::span<const Range> ranges, const HashReader& reader) {
  std::vector<NodeId> nodes;
  std::vector<size_t> ends;  // nodes[ends[i-1] .. ends[i]) make up ranges[i]
  nodes.reserve(ranges.size() + kMaxDepth);
  ends.reserve(ranges.size());
  for (const Range& range : ranges) {
    AppendFullSubtrees(range, nodes);
    ends.push_back(nodes.size());
  }
  std::vector<Hash> hashes(nodes.size());
  CUSTOS_RETURN_IF_ERROR(reader.ReadHashes(nodes, hashes));
  std::vector<Hash> out;
  out.reserve(ranges.size());
  size_t begin = 0;
  for (size_t end : ends) {
    Hash h = hashes[end - 1];
    for (size_t j = end - 1; j > begin; --j) h = HashChildren(hashes[j - 1], h);
    out.push_back(h);
    begin = end;
  }
  return out;
}

std::string Interval(uint64_t a, uint64_t b) {
  // Appended piecewise: GCC 12 at -O3 warns (-Wrestrict, falsely) on "[" + to_string().
  std::string out = "[";
  out += std::to_string(a);
  out += ", ";
  out += std::to_string(b);
  out += ')';
  return out;
}

Status ProofLengthError(std::string_view what, size_t got, size_t want) {
  return InvalidArgumentError(std::string(what) + " has " + std::to_string(got) +
                              " hashes, expected " + std::to_string(want) +
                              "; the proof was made for other sizes or is truncated/padded");
}

// Replays a consistency walk bottom-up over `proof`; checks both ends.
Status VerifyWalk(const Walk& walk, std::span<const Hash> proof, const Hash& subtree_hash,
                  const Hash& root, std::string_view what) {
  size_t want = static_cast<size_t>(walk.depth) + (walk.include_base ? 1 : 0);
  if (proof.size() != want) return ProofLengthError(what, proof.size(), want);
  size_t p = 0;
  Hash old_hash = walk.include_base ? proof[p++] : subtree_hash;
  Hash new_hash = old_hash;
  for (int i = walk.depth - 1; i >= 0; --i) {
    const Hash& sibling = proof[p++];
    switch (walk.steps[i]) {
      case Step::kLeft:
        new_hash = HashChildren(new_hash, sibling);
        break;
      case Step::kRight:
        new_hash = HashChildren(sibling, new_hash);
        break;
      case Step::kStraddle:
        new_hash = HashChildren(sibling, new_hash);
        old_hash = HashChildren(sibling, old_hash);
        break;
    }
  }
  if (old_hash != subtree_hash) {
    return DataLossError(std::string(what) +
                         " does not lead to the old root: the old tree "
                         "is not a prefix of the new one, or the proof was altered");
  }
  if (new_hash != root) {
    return DataLossError(std::string(what) +
                         " does not lead to the new root: the trees are "
                         "inconsistent, or the proof was altered");
  }
  return Status::Ok();
}

}  // namespace

Hash HashLeaf(common::ByteView data) {
  // Events are small: hashing one stack buffer avoids creating a digest context per leaf.
  std::array<uint8_t, 1024> buf;
  if (data.size() < buf.size()) {
    buf[0] = kLeafPrefix;
    std::copy(data.begin(), data.end(), buf.begin() + 1);
    return crypto::Sha256Of(common::ByteView(buf).first(data.size() + 1));
  }
  crypto::Sha256 sha;
  sha.Update(kLeafPrefix).Update(data);
  return sha.Finish();
}

Hash HashChildren(const Hash& left, const Hash& right) {
  std::array<uint8_t, 65> buf;
  buf[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 33);
  return crypto::Sha256Of(buf);
}

Hash EmptyRoot() { return crypto::Sha256Of({}); }

Hash RootFromLeafHashes(std::span<const Hash> leaf_hashes) {
  CompactRange range;
  for (const Hash& h : leaf_hashes) range.Append(h, nullptr);
  return range.Root();
}

Result<Hash> RootHash(uint64_t size, const HashReader& reader) {
  if (size == 0) return EmptyRoot();
  Range all{0, size};
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Hash> hashes, ReadRanges({&all, 1}, reader));
  return hashes[0];
}

Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const HashReader& reader) {
  if (index >= size) {
    return InvalidArgumentError("inclusion proof: leaf index " + std::to_string(index) +
                                " is not in a tree of size " + std::to_string(size));
  }
  Walk walk = InclusionWalk(index, 0, size);
  std::vector<Range> ranges(walk.depth);
  for (int i = 0; i < walk.depth; ++i) ranges[i] = walk.siblings[walk.depth - 1 - i];
  return ReadRanges(ranges, reader);
}

Result<std::vector<Hash>> ConsistencyProof(uint64_t size1, uint64_t size2,
                                           const HashReader& reader) {
  if (size1 == 0 || size1 > size2) {
    return InvalidArgumentError("consistency proof: need 0 < size1 <= size2, got size1=" +
                                std::to_string(size1) + " size2=" + std::to_string(size2));
  }
  return SubtreeConsistencyProof(0, size1, size2, reader);
}

Result<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                    std::span<const Hash> proof) {
  if (index >= size) {
    return InvalidArgumentError("inclusion proof: leaf index " + std::to_string(index) +
                                " is not in a tree of size " + std::to_string(size));
  }
  Walk walk = InclusionWalk(index, 0, size);
  if (proof.size() != static_cast<size_t>(walk.depth)) {
    return ProofLengthError("inclusion proof for leaf " + std::to_string(index) + " in tree size " +
                                std::to_string(size),
                            proof.size(), walk.depth);
  }
  Hash h = leaf_hash;
  size_t p = 0;
  for (int i = walk.depth - 1; i >= 0; --i) {
    h = walk.steps[i] == Step::kLeft ? HashChildren(h, proof[p]) : HashChildren(proof[p], h);
    ++p;
  }
  return h;
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root) {
  CUSTOS_ASSIGN_OR_RETURN(Hash computed, RootFromInclusionProof(index, size, leaf_hash, proof));
  if (computed != root) {
    return DataLossError("inclusion proof for leaf " + std::to_string(index) + " in tree size " +
                         std::to_string(size) +
                         " does not lead to the expected root: wrong leaf, root or proof");
  }
  return Status::Ok();
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                         const Hash& root1, const Hash& root2) {
  if (size1 == 0) {
    return InvalidArgumentError(
        "consistency proof from size 0: every tree extends the empty tree, there is nothing "
        "to prove; check the old checkpoint");
  }
  if (size1 > size2) {
    return InvalidArgumentError("consistency proof: old size " + std::to_string(size1) +
                                " is larger than new size " + std::to_string(size2));
  }
  CUSTOS_ASSIGN_OR_RETURN(Walk walk, ConsistencyWalk(0, size1, size2));
  return VerifyWalk(
      walk, proof, root1, root2,
      "consistency proof from size " + std::to_string(size1) + " to " + std::to_string(size2));
}

bool IsValidSubtree(uint64_t start, uint64_t end) {
  if (start >= end) return false;
  if (start == 0) return true;
  uint64_t width = end - start;
  if (width > (uint64_t{1} << 63)) return false;  // its bit ceiling is 2^64 > start
  return start % std::bit_ceil(width) == 0;
}

Result<Hash> SubtreeHash(uint64_t start, uint64_t end, const HashReader& reader) {
  if (!IsValidSubtree(start, end)) {
    return InvalidArgumentError("subtree " + Interval(start, end) + " is not a valid subtree");
  }
  Range range{start, end};
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Hash> hashes, ReadRanges({&range, 1}, reader));
  return hashes[0];
}

Result<std::vector<Hash>> SubtreeInclusionProof(uint64_t index, uint64_t start, uint64_t end,
                                                const HashReader& reader) {
  if (!IsValidSubtree(start, end) || index < start || index >= end) {
    return InvalidArgumentError("subtree inclusion proof: leaf " + std::to_string(index) +
                                " is not in the valid subtree " + Interval(start, end));
  }
  Walk walk = InclusionWalk(index, start, end);
  std::vector<Range> ranges(walk.depth);
  for (int i = 0; i < walk.depth; ++i) ranges[i] = walk.siblings[walk.depth - 1 - i];
  return ReadRanges(ranges, reader);
}

Status VerifySubtreeInclusion(uint64_t index, uint64_t start, uint64_t end, const Hash& leaf_hash,
                              std::span<const Hash> proof, const Hash& subtree_hash) {
  if (!IsValidSubtree(start, end)) {
    return InvalidArgumentError("subtree inclusion proof: " + Interval(start, end) +
                                " is not a valid subtree");
  }
  if (index < start || index >= end) {
    return InvalidArgumentError("subtree inclusion proof: leaf " + std::to_string(index) +
                                " is outside the subtree " + Interval(start, end));
  }
  return VerifyInclusion(index - start, end - start, leaf_hash, proof, subtree_hash)
      .WithContext("subtree " + Interval(start, end));
}

Result<std::vector<Hash>> SubtreeConsistencyProof(uint64_t start, uint64_t end, uint64_t size,
                                                  const HashReader& reader) {
  if (start == end && end <= size) return std::vector<Hash>{};
  if (!IsValidSubtree(start, end) || end > size) {
    return InvalidArgumentError("subtree consistency proof: " + Interval(start, end) +
                                " is not a valid subtree of a tree of size " +
                                std::to_string(size));
  }
  CUSTOS_ASSIGN_OR_RETURN(Walk walk, ConsistencyWalk(start, end, size));
  std::vector<Range> ranges;
  ranges.reserve(walk.depth + 1);
  if (walk.include_base) ranges.push_back(walk.base);
  for (int i = walk.depth - 1; i >= 0; --i) ranges.push_back(walk.siblings[i]);
  return ReadRanges(ranges, reader);
}

Status VerifySubtreeConsistency(uint64_t start, uint64_t end, uint64_t size,
                                std::span<const Hash> proof, const Hash& subtree_hash,
                                const Hash& root) {
  if (start == end && end <= size) {
    // The empty subtree is part of every tree; only its hash and the proof can be wrong.
    if (!proof.empty()) return ProofLengthError("empty-subtree consistency proof", proof.size(), 0);
    if (subtree_hash != EmptyRoot()) {
      return DataLossError("empty subtree " + Interval(start, end) +
                           " must have the empty tree hash");
    }
    return Status::Ok();
  }
  if (!IsValidSubtree(start, end) || end > size) {
    return InvalidArgumentError("subtree consistency proof: " + Interval(start, end) +
                                " is not a valid subtree of a tree of size " +
                                std::to_string(size));
  }
  CUSTOS_ASSIGN_OR_RETURN(Walk walk, ConsistencyWalk(start, end, size));
  return VerifyWalk(walk, proof, subtree_hash, root,
                    "consistency proof of subtree " + Interval(start, end) + " in tree size " +
                        std::to_string(size));
}

Result<CompactRange> CompactRange::FromFrontier(uint64_t size, std::vector<Hash> frontier) {
  if (frontier.size() != static_cast<size_t>(std::popcount(size))) {
    return InvalidArgumentError("compact range of size " + std::to_string(size) + " needs " +
                                std::to_string(std::popcount(size)) + " hashes, got " +
                                std::to_string(frontier.size()));
  }
  CompactRange range;
  range.size_ = size;
  range.frontier_ = std::move(frontier);
  return range;
}

Result<CompactRange> CompactRange::Load(uint64_t size, const HashReader& reader) {
  std::vector<NodeId> nodes;
  AppendFullSubtrees({0, size}, nodes);
  std::vector<Hash> hashes(nodes.size());
  CUSTOS_RETURN_IF_ERROR(reader.ReadHashes(nodes, hashes));
  return FromFrontier(size, std::move(hashes));
}

void CompactRange::Append(const Hash& leaf_hash,
                          const std::function<void(const NodeId&, const Hash&)>& on_complete) {
  Hash h = leaf_hash;
  uint64_t index = size_;
  int level = 0;
  if (on_complete) on_complete({0, index}, h);
  // Each trailing 1 bit of the old size is a full subtree on the right edge that the new
  // leaf completes into one twice its size.
  while (index & 1) {
    h = HashChildren(frontier_.back(), h);
    frontier_.pop_back();
    index >>= 1;
    ++level;
    if (on_complete) on_complete({level, index}, h);
  }
  frontier_.push_back(h);
  ++size_;
}

Hash CompactRange::Root() const {
  if (frontier_.empty()) return EmptyRoot();
  Hash h = frontier_.back();
  for (size_t i = frontier_.size() - 1; i > 0; --i) h = HashChildren(frontier_[i - 1], h);
  return h;
}

void MemoryHashStore::AppendLeafHash(const Hash& leaf_hash) {
  range_.Append(leaf_hash, [this](const NodeId& node, const Hash& hash) {
    if (levels_.size() <= static_cast<size_t>(node.level)) levels_.resize(node.level + 1);
    levels_[node.level].push_back(hash);  // completed in index order, so index == size
  });
}

Status MemoryHashStore::ReadHashes(std::span<const NodeId> nodes, std::span<Hash> out) const {
  if (nodes.size() != out.size()) {
    return InternalError("ReadHashes: " + std::to_string(nodes.size()) + " nodes but " +
                         std::to_string(out.size()) + " outputs");
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodeId& node = nodes[i];
    if (node.level < 0 || static_cast<size_t>(node.level) >= levels_.size() ||
        node.index >= levels_[node.level].size()) {
      return NotFoundError("no stored hash for the full subtree at level " +
                           std::to_string(node.level) + " index " + std::to_string(node.index) +
                           " (tree size " + std::to_string(size()) + ")");
    }
    out[i] = levels_[node.level][node.index];
  }
  return Status::Ok();
}

}  // namespace custos::audit
