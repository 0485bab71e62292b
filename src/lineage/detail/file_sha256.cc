// Streaming SHA-256 of a file (see file_sha256.h).
#include "lineage/detail/file_sha256.h"

#include <fstream>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "crypto/hash.h"

namespace custos::lineage::detail {

Result<std::string> FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path + " to hash it");
  crypto::Sha256 hash;
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<size_t>(in.gcount());
    if (got > 0) hash.Update(common::AsBytes(std::string_view(buffer.data(), got)));
  }
  if (in.bad()) return DataLossError("reading " + path + " failed while hashing it");
  return common::HexEncode(hash.Finish());
}

}  // namespace custos::lineage::detail
