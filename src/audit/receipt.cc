// C2SP tlog-proof receipts: parse, format, verify.
#include "audit/receipt.h"

#include <algorithm>
#include <optional>

#include "audit/detail/text.h"

namespace custos::audit {
namespace {

constexpr size_t kMaxProofHashes = 64;  // a tree of < 2^64 leaves is at most 64 deep
constexpr std::string_view kExtraPrefix = "extra ";
constexpr std::string_view kIndexPrefix = "index ";

std::string Where(size_t line) { return "tlog-proof:" + std::to_string(line) + ": "; }

}  // namespace

Result<Receipt> ParseReceipt(std::string_view text) {
  Receipt receipt;
  size_t line_no = 0;
  // Returns the next line without its newline; nullopt if the text ends first.
  auto next_line = [&]() -> std::optional<std::string_view> {
    size_t eol = text.find('\n');
    if (eol == std::string_view::npos) return std::nullopt;
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    ++line_no;
    return line;
  };
  auto header = next_line();
  if (!header || *header != kReceiptHeader) {
    return InvalidArgumentError(Where(1) + "expected the header line '" +
                                std::string(kReceiptHeader) + "'");
  }
  auto line = next_line();
  if (line && line->substr(0, kExtraPrefix.size()) == kExtraPrefix) {
    auto extra = common::Base64Decode(line->substr(kExtraPrefix.size()));
    if (!extra.ok()) return extra.status().WithContext(Where(line_no) + "extra data");
    if (extra->empty()) {
      return InvalidArgumentError(Where(line_no) + "empty extra data; omit the line instead");
    }
    receipt.extra = std::move(*extra);
    line = next_line();
  }
  if (!line || line->substr(0, kIndexPrefix.size()) != kIndexPrefix) {
    return InvalidArgumentError(Where(line_no + (line ? 0 : 1)) +
                                "expected 'index <decimal entry index>'");
  }
  std::optional<uint64_t> index = detail::ParseCanonicalDecimal(line->substr(kIndexPrefix.size()));
  if (!index) {
    return InvalidArgumentError(Where(line_no) + "index '" +
                                std::string(line->substr(kIndexPrefix.size())) +
                                "' is not a decimal without leading zeros that fits 64 bits");
  }
  receipt.index = *index;
  while (true) {
    line = next_line();
    if (!line) {
      return InvalidArgumentError(Where(line_no + 1) +
                                  "missing the empty line before the checkpoint");
    }
    if (line->empty()) break;
    if (receipt.proof.size() == kMaxProofHashes) {
      return InvalidArgumentError(Where(line_no) + "more than " + std::to_string(kMaxProofHashes) +
                                  " proof hashes");
    }
    auto hash = common::Base64Decode(*line);
    if (!hash.ok()) return hash.status().WithContext(Where(line_no) + "proof hash");
    if (hash->size() != 32) {
      return InvalidArgumentError(Where(line_no) + "proof hash must be 32 bytes, got " +
                                  std::to_string(hash->size()));
    }
    Hash h;
    std::copy(hash->begin(), hash->end(), h.begin());
    receipt.proof.push_back(h);
  }
  if (text.empty()) return InvalidArgumentError(Where(line_no + 1) + "missing the checkpoint");
  receipt.signed_checkpoint = std::string(text);
  return receipt;
}

std::string FormatReceipt(const Receipt& receipt) {
  std::string out(kReceiptHeader);
  out += '\n';
  if (!receipt.extra.empty()) {
    out += kExtraPrefix;
    out += common::Base64Encode(receipt.extra);
    out += '\n';
  }
  out += kIndexPrefix;
  out += std::to_string(receipt.index);
  out += '\n';
  for (const Hash& h : receipt.proof) {
    out += common::Base64Encode(h);
    out += '\n';
  }
  out += '\n';
  out += receipt.signed_checkpoint;
  return out;
}

Result<Receipt> BuildReceipt(uint64_t index, uint64_t size, const HashReader& reader,
                             std::string signed_checkpoint, common::Bytes extra) {
  Receipt receipt;
  receipt.extra = std::move(extra);
  receipt.index = index;
  CUSTOS_ASSIGN_OR_RETURN(receipt.proof, InclusionProof(index, size, reader));
  receipt.signed_checkpoint = std::move(signed_checkpoint);
  return receipt;
}

Result<Checkpoint> VerifyReceipt(const Receipt& receipt, const Hash& leaf_hash,
                                 std::string_view origin, const NoteVerifierSet& known) {
  CUSTOS_ASSIGN_OR_RETURN(Checkpoint checkpoint,
                          OpenCheckpoint(receipt.signed_checkpoint, origin, known));
  CUSTOS_RETURN_IF_ERROR(
      VerifyInclusion(receipt.index, checkpoint.size, leaf_hash, receipt.proof, checkpoint.root)
          .WithContext("receipt"));
  return checkpoint;
}

Result<Checkpoint> VerifyReceiptText(std::string_view text, common::ByteView entry,
                                     std::string_view origin, const NoteVerifierSet& known) {
  CUSTOS_ASSIGN_OR_RETURN(Receipt receipt, ParseReceipt(text));
  return VerifyReceipt(receipt, HashLeaf(entry), origin, known);
}

}  // namespace custos::audit
