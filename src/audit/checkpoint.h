// C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the signed statement "the log with this
// origin had this many entries and this root", carried in a C2SP signed note.
// Thread-safety: plain values and free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/merkle.h"
#include "audit/note.h"
#include "common/status.h"

namespace custos::audit {

struct Checkpoint {
  std::string origin;                   // non-empty; identifies the log
  uint64_t size = 0;                    // number of leaves
  Hash root{};                          // RFC 9162 root of those leaves
  std::vector<std::string> extensions;  // optional opaque lines, each non-empty
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// Parses a checkpoint note text: origin, decimal size without leading zeros, base64 of a
// 32-byte root, then optional non-empty extension lines, each line ending in a newline.
// InvalidArgument names the offending line ("checkpoint:2: ...").
Result<Checkpoint> ParseCheckpointText(std::string_view text);

// The note text for `checkpoint`; InvalidArgument if a field would not parse back
// (empty origin or extension, newlines or control characters inside a line).
Result<std::string> FormatCheckpointText(const Checkpoint& checkpoint);

// Formats and signs a checkpoint as a signed note.
Result<std::string> SignCheckpoint(const Checkpoint& checkpoint,
                                   std::span<const NoteSigner> signers);

// Verifies a signed checkpoint against trusted keys (OpenNote's rules and codes) and
// parses it. If `origin` is non-empty the checkpoint must be for that log
// (InvalidArgument otherwise), so that a valid checkpoint of another log signed by a
// shared key is not taken for this one.
Result<Checkpoint> OpenCheckpoint(std::string_view signed_note, std::string_view origin,
                                  const NoteVerifierSet& known);

// Whether `newer` extends `older` (same origin, RFC 9162 consistency proof between their
// sizes). A checkpoint of size 0 is extended by every tree and needs an empty proof;
// equal sizes need equal roots. Codes as for VerifyConsistency; a different origin is
// InvalidArgument.
Status VerifyCheckpointConsistency(const Checkpoint& older, const Checkpoint& newer,
                                   std::span<const Hash> proof);

}  // namespace custos::audit
