// C2SP tlog-checkpoint bodies over signed notes.
#include "audit/checkpoint.h"

#include <algorithm>

#include "audit/detail/text.h"
#include "common/bytes.h"

namespace custos::audit {
namespace {

std::string Where(size_t line) { return "checkpoint:" + std::to_string(line) + ": "; }

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

}  // namespace

Result<Checkpoint> ParseCheckpointText(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return InvalidArgumentError("checkpoint: text must end with a newline");
  }
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    size_t eol = rest.find('\n');
    lines.push_back(rest.substr(0, eol));
    rest.remove_prefix(eol + 1);
  }
  if (lines.size() < 3) {
    return InvalidArgumentError(
        "checkpoint: needs at least 3 lines (origin, size, root hash), "
        "got " +
        std::to_string(lines.size()));
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) return InvalidArgumentError(Where(i + 1) + "empty line");
    if (HasControl(lines[i])) {
      return InvalidArgumentError(Where(i + 1) + "control character (below U+0020) in the line");
    }
  }
  Checkpoint cp;
  cp.origin = std::string(lines[0]);
  std::optional<uint64_t> size = detail::ParseCanonicalDecimal(lines[1]);
  if (!size) {
    return InvalidArgumentError(Where(2) + "tree size '" + std::string(lines[1]) +
                                "' is not a decimal without leading zeros that fits 64 bits");
  }
  cp.size = *size;
  auto root = common::Base64Decode(lines[2]);
  if (!root.ok()) return root.status().WithContext(Where(3) + "root hash");
  if (root->size() != cp.root.size()) {
    return InvalidArgumentError(Where(3) + "root hash must be 32 bytes, got " +
                                std::to_string(root->size()));
  }
  std::copy(root->begin(), root->end(), cp.root.begin());
  for (size_t i = 3; i < lines.size(); ++i) cp.extensions.emplace_back(lines[i]);
  return cp;
}

Result<std::string> FormatCheckpointText(const Checkpoint& checkpoint) {
  auto check_line = [](std::string_view line, std::string_view what) -> Status {
    if (line.empty() || HasControl(line)) {
      return InvalidArgumentError("checkpoint " + std::string(what) +
                                  " must be non-empty and free of newlines and control "
                                  "characters");
    }
    return Status::Ok();
  };
  CUSTOS_RETURN_IF_ERROR(check_line(checkpoint.origin, "origin"));
  std::string text = checkpoint.origin + "\n" + std::to_string(checkpoint.size) + "\n" +
                     common::Base64Encode(checkpoint.root) + "\n";
  for (const std::string& ext : checkpoint.extensions) {
    CUSTOS_RETURN_IF_ERROR(check_line(ext, "extension line"));
    text += ext + "\n";
  }
  return text;
}

Result<std::string> SignCheckpoint(const Checkpoint& checkpoint,
                                   std::span<const NoteSigner> signers) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, FormatCheckpointText(checkpoint));
  return SignNote(text, signers);
}

Result<Checkpoint> OpenCheckpoint(std::string_view signed_note, std::string_view origin,
                                  const NoteVerifierSet& known) {
  CUSTOS_ASSIGN_OR_RETURN(VerifiedNote note, OpenNote(signed_note, known));
  CUSTOS_ASSIGN_OR_RETURN(Checkpoint checkpoint, ParseCheckpointText(note.text));
  if (!origin.empty() && checkpoint.origin != origin) {
    return InvalidArgumentError("checkpoint is for log '" + checkpoint.origin + "', expected '" +
                                std::string(origin) + "'");
  }
  return checkpoint;
}

Status VerifyCheckpointConsistency(const Checkpoint& older, const Checkpoint& newer,
                                   std::span<const Hash> proof) {
  if (older.origin != newer.origin) {
    return InvalidArgumentError("checkpoints of different logs ('" + older.origin + "' and '" +
                                newer.origin + "') cannot be consistent");
  }
  if (older.size == 0) {
    if (older.root != EmptyRoot()) {
      return DataLossError("checkpoint of size 0 for '" + older.origin +
                           "' does not carry the empty tree hash");
    }
    if (!proof.empty()) {
      return InvalidArgumentError("consistency from size 0 needs an empty proof, got " +
                                  std::to_string(proof.size()) + " hashes");
    }
    return Status::Ok();
  }
  return VerifyConsistency(older.size, newer.size, proof, older.root, newer.root)
      .WithContext("checkpoints of '" + older.origin + "'");
}

}  // namespace custos::audit
