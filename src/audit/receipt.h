// Receipts in the C2SP tlog-proof format (c2sp.org/tlog-proof@v1): an offline-verifiable
// proof that an entry is in the log, made of the entry's index, its RFC 9162 inclusion
// proof and the signed checkpoint the proof leads to. custos returns one per audited
// request, so the caller can later prove what was logged.
// Thread-safety: plain values and free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "common/bytes.h"

namespace custos::audit {

inline constexpr std::string_view kReceiptHeader = "c2sp.org/tlog-proof@v1";

struct Receipt {
  // Opaque, unauthenticated application data ("extra" line); empty means absent.
  common::Bytes extra;
  uint64_t index = 0;
  std::vector<Hash> proof;        // leaf's sibling first, up to the root's child
  std::string signed_checkpoint;  // the checkpoint note, verbatim
  friend bool operator==(const Receipt&, const Receipt&) = default;
};

// Strict parse: header line, optional "extra <base64>", "index <decimal>", one base64
// 32-byte hash per line (at most 64), an empty line, then the checkpoint note (not yet
// verified). InvalidArgument names the line ("tlog-proof:3: ...").
Result<Receipt> ParseReceipt(std::string_view text);

std::string FormatReceipt(const Receipt& receipt);

// A receipt for entry `index` of the tree of `size` leaves, with its inclusion proof read
// from `reader` and `signed_checkpoint` (which must be for that size; not re-checked).
Result<Receipt> BuildReceipt(uint64_t index, uint64_t size, const HashReader& reader,
                             std::string signed_checkpoint, common::Bytes extra = {});

// Verifies that the entry whose RFC 9162 leaf hash is `leaf_hash` is in the log `origin`:
// the checkpoint must be signed by a trusted key (OpenCheckpoint's rules and codes) and
// the inclusion proof must lead from the leaf at `index` to its root (VerifyInclusion's
// codes). Returns the checkpoint.
Result<Checkpoint> VerifyReceipt(const Receipt& receipt, const Hash& leaf_hash,
                                 std::string_view origin, const NoteVerifierSet& known);

// Parses and verifies in one step, for callers holding the receipt text and the entry.
Result<Checkpoint> VerifyReceiptText(std::string_view text, common::ByteView entry,
                                     std::string_view origin, const NoteVerifierSet& known);

}  // namespace custos::audit
