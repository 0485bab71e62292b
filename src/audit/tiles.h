// C2SP tlog-tiles (c2sp.org/tlog-tiles): tile and entry-bundle paths, tile contents, and a
// HashReader over tiles so that proofs can be computed from a tiled log (ours, or a copy
// being verified).
//
// A tile at level l, index n holds up to 256 hashes: entry i is the hash of the full
// Merkle subtree at Merkle level 8*l, index n*256 + i. Full tiles have 256 entries;
// the rightmost tiles of a tree are partial ("tile/l/n.p/w", 1 <= w <= 255).
// Thread-safety: free functions are pure; TileHashReader is as thread-safe as its
// TileReader (it keeps no state between calls).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/merkle.h"
#include "common/bytes.h"
#include "common/status.h"

namespace custos::audit {

inline constexpr int kTileHeight = 8;
inline constexpr uint32_t kTileWidth = 256;
inline constexpr int kMaxTileLevel = 63;
inline constexpr size_t kMaxBundleEntrySize = 0xFFFF;  // uint16 length prefix

// A tile or an entry bundle (level == kEntriesLevel) of a given width.
inline constexpr int kEntriesLevel = -1;
struct TileId {
  int level = 0;                // 0..63, or kEntriesLevel for "tile/entries/..."
  uint64_t index = 0;           // n
  uint32_t width = kTileWidth;  // 1..256; 256 is a full tile (no ".p/W" suffix)
  friend bool operator==(const TileId&, const TileId&) = default;
};

// "x001/x234/067" for 1234067: zero-padded 3-digit groups, all but the last prefixed 'x'.
std::string EncodeTileIndex(uint64_t index);

// "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]", without the log's URL prefix.
std::string TilePath(const TileId& tile);

// Strict inverse of TilePath: rejects leading zeros, missing or extra 'x' groups,
// ".p/256", widths of 0, levels above 63 (InvalidArgument with what is wrong).
Result<TileId> ParseTilePath(std::string_view path);

// The width of tile (level, index) in a tree of `tree_size` entries: 256 if full, the
// partial width if it is the rightmost tile of its level, 0 if it does not exist yet.
// Entry bundles (kEntriesLevel) have the widths of level-0 tiles.
uint32_t TileWidth(int level, uint64_t index, uint64_t tree_size);

// The partial tiles (level >= 0) a checkpoint of `tree_size` requires, lowest level first.
std::vector<TileId> PartialTiles(uint64_t tree_size);

// The tiles (hash tiles only) that exist at `new_size` but not, with the same width, at
// `old_size`: what a log must write when it grows from old_size to new_size.
std::vector<TileId> TilesToWrite(uint64_t old_size, uint64_t new_size);

// Tile contents: the hashes concatenated (32 bytes each).
common::Bytes EncodeTile(std::span<const Hash> hashes);
// InvalidArgument unless `data` holds exactly `width` hashes.
Result<std::vector<Hash>> DecodeTile(common::ByteView data, uint32_t width);

// Entry bundles: each entry as a big-endian uint16 length and its bytes.
// InvalidArgument if an entry exceeds 65535 bytes or there are more than 256 entries.
Result<common::Bytes> EncodeEntryBundle(std::span<const common::Bytes> entries);
// InvalidArgument unless `data` holds exactly `width` well-formed entries.
Result<std::vector<common::Bytes>> DecodeEntryBundle(common::ByteView data, uint32_t width);

// The hashes of hash tile (level, index) with `width` entries, read from a hash store
// (Merkle level 8*level, indices index*256 ..): how a log serves tiles from the full
// subtree hashes it persists.
Result<std::vector<Hash>> ReadTileHashes(const HashReader& reader, int level, uint64_t index,
                                         uint32_t width);

// Where tile contents come from (a directory, storage, an HTTP client).
class TileReader {
 public:
  virtual ~TileReader() = default;
  // The hashes of hash tile (level, index) with exactly `width` entries, or NotFound.
  virtual Result<std::vector<Hash>> ReadTile(int level, uint64_t index, uint32_t width) const = 0;
};

// A HashReader over the tiles of a tree of `tree_size` entries. A Merkle node whose level
// is a multiple of 8 is one tile entry; a node in between is hashed from up to 128
// entries of the tile below it, so a log that needs fast proofs should also keep those
// levels (this reader is for following and verifying tiled logs).
class TileHashReader : public HashReader {
 public:
  TileHashReader(const TileReader& tiles, uint64_t tree_size)
      : tiles_(tiles), tree_size_(tree_size) {}
  Status ReadHashes(std::span<const NodeId> nodes, std::span<Hash> out) const override;

 private:
  const TileReader& tiles_;
  uint64_t tree_size_;
};

}  // namespace custos::audit
