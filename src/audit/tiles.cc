// C2SP tlog-tiles paths, contents and a tile-backed HashReader.
#include "audit/tiles.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "audit/detail/text.h"

namespace custos::audit {
namespace {

constexpr std::string_view kTilePrefix = "tile/";
constexpr std::string_view kEntriesComponent = "entries";
constexpr std::string_view kPartialMarker = ".p/";

// v >> bits, defined for any bits >= 0 (tile levels reach shifts of 512 bits).
uint64_t ShiftRight(uint64_t v, int bits) { return bits >= 64 ? 0 : v >> bits; }

bool IsThreeDigits(std::string_view s) {
  return s.size() == 3 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status PathError(std::string_view path, const std::string& why) {
  return InvalidArgumentError("tile path '" + std::string(path) + "': " + why);
}

}  // namespace

std::string EncodeTileIndex(uint64_t index) {
  std::vector<std::string> groups;
  do {
    std::string g = std::to_string(index % 1000);
    groups.push_back(std::string(3 - g.size(), '0') + g);
    index /= 1000;
  } while (index > 0);
  std::string out;
  for (size_t i = groups.size(); i-- > 0;) {
    if (i > 0) {
      out += 'x';
      out += groups[i];
      out += '/';
    } else {
      out += groups[i];
    }
  }
  return out;
}

std::string TilePath(const TileId& tile) {
  std::string out(kTilePrefix);
  out += tile.level == kEntriesLevel ? std::string(kEntriesComponent) : std::to_string(tile.level);
  out += '/';
  out += EncodeTileIndex(tile.index);
  if (tile.width < kTileWidth) {
    out += kPartialMarker;
    out += std::to_string(tile.width);
  }
  return out;
}

Result<TileId> ParseTilePath(std::string_view path) {
  if (path.substr(0, kTilePrefix.size()) != kTilePrefix) {
    return PathError(path, "must start with 'tile/'");
  }
  std::string_view rest = path.substr(kTilePrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return PathError(path, "missing the tile index");
  std::string_view level_text = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  TileId tile;
  if (level_text == kEntriesComponent) {
    tile.level = kEntriesLevel;
  } else {
    std::optional<uint64_t> level = detail::ParseCanonicalDecimal(level_text);
    if (!level || *level > kMaxTileLevel) {
      return PathError(path, "level '" + std::string(level_text) +
                                 "' must be 0..63 without leading zeros, or 'entries'");
    }
    tile.level = static_cast<int>(*level);
  }
  std::string_view index_text = rest;
  size_t partial = rest.find(kPartialMarker);
  if (partial != std::string_view::npos) {
    index_text = rest.substr(0, partial);
    std::optional<uint64_t> width = detail::ParseCanonicalDecimal(rest.substr(partial + 3));
    if (!width || *width == 0 || *width >= kTileWidth) {
      return PathError(path, "partial width must be 1..255 without leading zeros");
    }
    tile.width = static_cast<uint32_t>(*width);
  }
  uint64_t index = 0;
  size_t groups = 0;
  for (std::string_view left = index_text;; ++groups) {
    size_t next = left.find('/');
    std::string_view group = left.substr(0, next);
    bool last = next == std::string_view::npos;
    if (!last) {
      if (group.empty() || group[0] != 'x') {
        return PathError(path, "index groups before the last must start with 'x'");
      }
      group.remove_prefix(1);
    }
    if (!IsThreeDigits(group)) return PathError(path, "index groups must be 3 digits");
    uint64_t g = static_cast<uint64_t>(std::stoi(std::string(group)));
    if (index > (UINT64_MAX - g) / 1000) return PathError(path, "index overflows 64 bits");
    index = index * 1000 + g;
    if (last) break;
    left.remove_prefix(next + 1);
  }
  // Leading all-zero groups ("x000/001") would give one index two paths.
  if (EncodeTileIndex(index) != index_text) {
    return PathError(path, "index is not in canonical form ('" + EncodeTileIndex(index) + "')");
  }
  tile.index = index;
  return tile;
}

uint32_t TileWidth(int level, uint64_t index, uint64_t tree_size) {
  int l = std::max(level, 0);
  uint64_t full = ShiftRight(tree_size, kTileHeight * (l + 1));
  if (index < full) return kTileWidth;
  if (index > full) return 0;
  return static_cast<uint32_t>(ShiftRight(tree_size, kTileHeight * l) & 0xFF);
}

std::vector<TileId> PartialTiles(uint64_t tree_size) {
  std::vector<TileId> out;
  for (int l = 0; ShiftRight(tree_size, kTileHeight * l) > 0; ++l) {
    uint32_t width = static_cast<uint32_t>(ShiftRight(tree_size, kTileHeight * l) & 0xFF);
    if (width > 0) out.push_back({l, ShiftRight(tree_size, kTileHeight * (l + 1)), width});
  }
  return out;
}

std::vector<TileId> TilesToWrite(uint64_t old_size, uint64_t new_size) {
  std::vector<TileId> out;
  if (new_size <= old_size) return out;
  for (int l = 0; ShiftRight(new_size, kTileHeight * l) > 0; ++l) {
    uint64_t first = ShiftRight(old_size, kTileHeight * (l + 1));
    uint64_t last = ShiftRight(new_size, kTileHeight * (l + 1));
    for (uint64_t n = first; n <= last; ++n) {
      uint32_t width = TileWidth(l, n, new_size);
      if (width != 0 && width != TileWidth(l, n, old_size)) out.push_back({l, n, width});
    }
  }
  return out;
}

common::Bytes EncodeTile(std::span<const Hash> hashes) {
  common::Bytes out;
  out.reserve(hashes.size() * 32);
  for (const Hash& h : hashes) out.insert(out.end(), h.begin(), h.end());
  return out;
}

Result<std::vector<Hash>> DecodeTile(common::ByteView data, uint32_t width) {
  if (width == 0 || width > kTileWidth || data.size() != size_t{width} * 32) {
    return InvalidArgumentError("tile of width " + std::to_string(width) + " must be " +
                                std::to_string(size_t{width} * 32) + " bytes, got " +
                                std::to_string(data.size()));
  }
  std::vector<Hash> out(width);
  for (uint32_t i = 0; i < width; ++i) {
    std::copy_n(data.begin() + size_t{i} * 32, 32, out[i].begin());
  }
  return out;
}

Result<common::Bytes> EncodeEntryBundle(std::span<const common::Bytes> entries) {
  if (entries.size() > kTileWidth) {
    return InvalidArgumentError("an entry bundle holds at most 256 entries, got " +
                                std::to_string(entries.size()));
  }
  common::Bytes out;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].size() > kMaxBundleEntrySize) {
      return InvalidArgumentError("entry " + std::to_string(i) + " of the bundle is " +
                                  std::to_string(entries[i].size()) +
                                  " bytes; tlog-tiles entries are at most 65535 bytes");
    }
    out.push_back(static_cast<uint8_t>(entries[i].size() >> 8));
    out.push_back(static_cast<uint8_t>(entries[i].size()));
    out.insert(out.end(), entries[i].begin(), entries[i].end());
  }
  return out;
}

Result<std::vector<common::Bytes>> DecodeEntryBundle(common::ByteView data, uint32_t width) {
  std::vector<common::Bytes> out;
  size_t pos = 0;
  while (pos < data.size()) {
    if (out.size() == width) {
      return InvalidArgumentError("entry bundle has bytes after its " + std::to_string(width) +
                                  " entries, at offset " + std::to_string(pos));
    }
    if (data.size() - pos < 2) {
      return InvalidArgumentError("entry bundle truncated in a length prefix at offset " +
                                  std::to_string(pos));
    }
    size_t len = size_t{data[pos]} << 8 | data[pos + 1];
    pos += 2;
    if (data.size() - pos < len) {
      return InvalidArgumentError("entry bundle truncated: entry " + std::to_string(out.size()) +
                                  " needs " + std::to_string(len) + " bytes at offset " +
                                  std::to_string(pos));
    }
    out.emplace_back(data.begin() + pos, data.begin() + pos + len);
    pos += len;
  }
  if (out.size() != width) {
    return InvalidArgumentError("entry bundle has " + std::to_string(out.size()) +
                                " entries, expected " + std::to_string(width));
  }
  return out;
}

Result<std::vector<Hash>> ReadTileHashes(const HashReader& reader, int level, uint64_t index,
                                         uint32_t width) {
  if (level < 0 || level > kMaxTileLevel || width == 0 || width > kTileWidth) {
    return InvalidArgumentError("no hash tile at level " + std::to_string(level) + " with width " +
                                std::to_string(width));
  }
  int merkle_level = level * kTileHeight;
  if (merkle_level > kMaxTileLevel || index > (UINT64_MAX >> kTileHeight)) {
    return NotFoundError(TilePath({level, index, width}) +
                         ": its hashes would be above Merkle level 63");
  }
  std::vector<NodeId> nodes(width);
  for (uint32_t i = 0; i < width; ++i) nodes[i] = {merkle_level, index * kTileWidth + i};
  std::vector<Hash> out(width);
  CUSTOS_RETURN_IF_ERROR(reader.ReadHashes(nodes, out));
  return out;
}

Status TileHashReader::ReadHashes(std::span<const NodeId> nodes, std::span<Hash> out) const {
  if (nodes.size() != out.size()) {
    return InternalError("ReadHashes: " + std::to_string(nodes.size()) + " nodes but " +
                         std::to_string(out.size()) + " outputs");
  }
  struct CachedTile {
    int level;
    uint64_t index;
    std::vector<Hash> hashes;
  };
  std::vector<CachedTile> cache;  // a proof touches a handful of tiles
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodeId& node = nodes[i];
    if (node.level < 0 || node.level > kMaxTileLevel) {
      return InvalidArgumentError("no Merkle level " + std::to_string(node.level));
    }
    int tile_level = node.level / kTileHeight;
    int below = node.level % kTileHeight;  // levels between the tile's entries and the node
    uint64_t first = node.index << below;  // first tile entry under the node, in its level
    uint64_t tile_index = first >> kTileHeight;
    uint32_t offset = static_cast<uint32_t>(first & 0xFF);
    uint32_t count = uint32_t{1} << below;
    uint32_t width = TileWidth(tile_level, tile_index, tree_size_);
    if (offset + count > width) {
      return NotFoundError("Merkle node level " + std::to_string(node.level) + " index " +
                           std::to_string(node.index) + " is not complete in a tree of size " +
                           std::to_string(tree_size_));
    }
    auto it = std::find_if(cache.begin(), cache.end(), [&](const CachedTile& t) {
      return t.level == tile_level && t.index == tile_index;
    });
    if (it == cache.end()) {
      CUSTOS_ASSIGN_OR_RETURN(std::vector<Hash> hashes,
                              tiles_.ReadTile(tile_level, tile_index, width));
      if (hashes.size() != width) {
        return DataLossError(TilePath({tile_level, tile_index, width}) + " has " +
                             std::to_string(hashes.size()) + " hashes, expected " +
                             std::to_string(width));
      }
      cache.push_back({tile_level, tile_index, std::move(hashes)});
      it = cache.end() - 1;
    }
    // Fold the 2^below entries pairwise up to the node.
    std::array<Hash, kTileWidth / 2> level_hashes;
    std::copy_n(it->hashes.begin() + offset, count, level_hashes.begin());
    for (uint32_t n = count; n > 1; n /= 2) {
      for (uint32_t j = 0; j < n / 2; ++j) {
        level_hashes[j] = HashChildren(level_hashes[2 * j], level_hashes[2 * j + 1]);
      }
    }
    out[i] = level_hashes[0];
  }
  return Status::Ok();
}

}  // namespace custos::audit
