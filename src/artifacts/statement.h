// The artifact statement: what an artifact signature covers (name, version, kind, SHA-256,
// size and media type of one version's bytes), its one canonical text form, and the name
// and reference ("NAME@VERSION") rules the vault and the CLI share.
//
// Canonical form (version 1), the exact bytes that are signed:
//   custos-artifact-statement v1\n
//   name <name>\n
//   version <decimal, no leading zeros>\n
//   kind <model|dataset>\n
//   sha256 <64 lowercase hex>\n
//   size <decimal, no leading zeros>\n
//   media-type <type/subtype>\n
// The first line domain-separates these bytes from anything else an Ed25519 key signs.
// ParseCanonicalStatement accepts exactly the texts CanonicalStatement produces, so one
// statement has one signed form.
// Thread-safety: plain values and free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "crypto/hash.h"

namespace custos::artifacts {

enum class ArtifactKind : uint8_t { kModel = 0, kDataset = 1 };

// "model" | "dataset".
std::string_view ArtifactKindName(ArtifactKind kind);
// The inverse; InvalidArgument naming the accepted choices.
Result<ArtifactKind> ParseArtifactKind(std::string_view text);

inline constexpr size_t kMaxArtifactNameBytes = 256;
inline constexpr size_t kMaxArtifactSegmentBytes = 128;
inline constexpr size_t kMaxMediaTypeBytes = 127;

// Artifact names: one or more '/'-separated segments, each [a-z0-9][a-z0-9._-]{0,127}
// (e.g. "fraud/scorer"), at most 256 bytes in all. InvalidArgument says which rule failed
// and at which byte offset.
Status ValidateArtifactName(std::string_view name);

// A media type in RFC 6838 type/subtype syntax (restricted-name on both sides, no
// parameters), at most 127 bytes, e.g. "application/octet-stream".
Status ValidateMediaType(std::string_view media_type);

// "NAME@VERSION": VERSION is a positive decimal without leading zeros.
struct ArtifactRef {
  std::string name;
  uint64_t version = 0;
  friend bool operator==(const ArtifactRef&, const ArtifactRef&) = default;
};
// InvalidArgument naming the part that is wrong (missing '@', bad name, bad version).
Result<ArtifactRef> ParseArtifactRef(std::string_view text);
std::string FormatArtifactRef(const ArtifactRef& ref);

// What a signature covers: everything that identifies the version's bytes.
struct ArtifactStatement {
  std::string name;
  uint64_t version = 0;  // >= 1
  ArtifactKind kind = ArtifactKind::kModel;
  crypto::Digest sha256{};
  uint64_t size = 0;
  std::string media_type;  // e.g. "application/octet-stream"
  friend bool operator==(const ArtifactStatement&, const ArtifactStatement&) = default;
};

// OK when every field is well formed (name, version >= 1, media type); InvalidArgument
// naming the field otherwise.
Status ValidateStatement(const ArtifactStatement& statement);

// The canonical text above. Precondition: ValidateStatement(statement) is OK (the text of
// an invalid statement is still produced but will not parse back).
std::string CanonicalStatement(const ArtifactStatement& statement);

// The inverse: accepts only the canonical form. InvalidArgument naming the line (1-based)
// and what was expected there.
Result<ArtifactStatement> ParseCanonicalStatement(std::string_view text);

}  // namespace custos::artifacts
