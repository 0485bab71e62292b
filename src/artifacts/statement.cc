// Artifact names, references and the canonical statement text (see statement.h).
#include "artifacts/statement.h"

#include <array>
#include <string>

#include "common/bytes.h"

namespace custos::artifacts {
namespace {

constexpr std::string_view kStatementHeader = "custos-artifact-statement v1";
// The longest canonical statement: fixed labels plus the longest name and media type and
// two 20-digit decimals. A text longer than this cannot be canonical.
constexpr size_t kMaxStatementBytes = 1024;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// RFC 6838 restricted-name-chars beyond letters and digits.
bool IsRestrictedNameChar(char c) {
  return IsAlnum(c) || c == '!' || c == '#' || c == '$' || c == '&' || c == '-' || c == '^' ||
         c == '_' || c == '.' || c == '+';
}

std::string Offset(size_t offset) { return "at byte " + std::to_string(offset); }

// A printable rendering of one byte for error messages (never the raw control byte).
std::string ShowChar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xf];
}

// A positive or zero decimal in canonical form: digits only, no sign, no leading zero,
// no overflow. `what` names the value in the message.
Result<uint64_t> ParseDecimal(std::string_view text, std::string_view what) {
  if (text.empty()) return InvalidArgumentError(std::string(what) + " is empty; give a decimal");
  if (text.size() > 1 && text[0] == '0') {
    return InvalidArgumentError(std::string(what) + " '" + std::string(text) +
                                "' has a leading zero; write it without one");
  }
  uint64_t value = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c < '0' || c > '9') {
      return InvalidArgumentError(std::string(what) + ": " + ShowChar(c) + " " + Offset(i) +
                                  " is not a decimal digit");
    }
    auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) {
      return InvalidArgumentError(std::string(what) + " '" + std::string(text) +
                                  "' does not fit in 64 bits");
    }
    value = value * 10 + digit;
  }
  return value;
}

Status CheckRestrictedName(std::string_view part, std::string_view which, size_t base) {
  if (part.empty()) {
    return InvalidArgumentError("media type: the " + std::string(which) +
                                " is empty; write type/subtype, e.g. application/octet-stream");
  }
  if (!IsAlnum(part[0])) {
    return InvalidArgumentError("media type: the " + std::string(which) + " must start with " +
                                "a letter or digit, found " + ShowChar(part[0]) + " " +
                                Offset(base));
  }
  for (size_t i = 1; i < part.size(); ++i) {
    if (!IsRestrictedNameChar(part[i])) {
      return InvalidArgumentError("media type: " + ShowChar(part[i]) + " " + Offset(base + i) +
                                  " is not allowed in the " + std::string(which) +
                                  " (RFC 6838: letters, digits and !#$&-^_.+; no parameters)");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view ArtifactKindName(ArtifactKind kind) {
  switch (kind) {
    case ArtifactKind::kModel:
      return "model";
    case ArtifactKind::kDataset:
      return "dataset";
  }
  return "unknown";
}

Result<ArtifactKind> ParseArtifactKind(std::string_view text) {
  if (text == "model") return ArtifactKind::kModel;
  if (text == "dataset") return ArtifactKind::kDataset;
  return InvalidArgumentError("unknown artifact kind '" + std::string(text.substr(0, 64)) +
                              "'; choose model or dataset");
}

Status ValidateArtifactName(std::string_view name) {
  if (name.empty()) {
    return InvalidArgumentError("artifact name is empty; give a name such as fraud/scorer");
  }
  if (name.size() > kMaxArtifactNameBytes) {
    return InvalidArgumentError("artifact name of " + std::to_string(name.size()) +
                                " bytes is too long; at most " +
                                std::to_string(kMaxArtifactNameBytes) + " allowed");
  }
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    std::string_view segment = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.empty()) {
      return InvalidArgumentError("artifact name '" + std::string(name) + "': empty segment " +
                                  Offset(start) +
                                  "; segments are separated by single '/' with none at the ends");
    }
    if (segment.size() > kMaxArtifactSegmentBytes) {
      return InvalidArgumentError("artifact name '" + std::string(name) + "': the segment " +
                                  Offset(start) + " has " + std::to_string(segment.size()) +
                                  " bytes; at most " + std::to_string(kMaxArtifactSegmentBytes) +
                                  " allowed");
    }
    if (!IsLowerAlnum(segment[0])) {
      return InvalidArgumentError("artifact name '" + std::string(name) +
                                  "': " + ShowChar(segment[0]) + " " + Offset(start) +
                                  " cannot start a segment; use a lowercase letter or digit");
    }
    for (size_t i = 1; i < segment.size(); ++i) {
      char c = segment[i];
      if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') {
        return InvalidArgumentError("artifact name '" + std::string(name) + "': " + ShowChar(c) +
                                    " " + Offset(start + i) +
                                    " is not allowed; use lowercase letters, digits, '.', '_', "
                                    "'-' and '/' between segments");
      }
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

Status ValidateMediaType(std::string_view media_type) {
  if (media_type.empty()) {
    return InvalidArgumentError(
        "media type is empty; give type/subtype, e.g. application/octet-stream");
  }
  if (media_type.size() > kMaxMediaTypeBytes) {
    return InvalidArgumentError("media type of " + std::to_string(media_type.size()) +
                                " bytes is too long; at most " +
                                std::to_string(kMaxMediaTypeBytes) + " allowed");
  }
  size_t slash = media_type.find('/');
  if (slash == std::string_view::npos) {
    return InvalidArgumentError("media type '" + std::string(media_type) +
                                "' has no '/'; write type/subtype, e.g. application/octet-stream");
  }
  CUSTOS_RETURN_IF_ERROR(CheckRestrictedName(media_type.substr(0, slash), "type", 0));
  return CheckRestrictedName(media_type.substr(slash + 1), "subtype", slash + 1);
}

Result<ArtifactRef> ParseArtifactRef(std::string_view text) {
  size_t at = text.find('@');
  if (at == std::string_view::npos) {
    return InvalidArgumentError("artifact reference '" + std::string(text.substr(0, 300)) +
                                "' has no '@'; write NAME@VERSION, e.g. fraud/scorer@3");
  }
  ArtifactRef ref;
  ref.name = std::string(text.substr(0, at));
  Status name_ok = ValidateArtifactName(ref.name);
  if (!name_ok.ok()) return name_ok.WithContext("artifact reference: name");
  CUSTOS_ASSIGN_OR_RETURN(ref.version,
                          ParseDecimal(text.substr(at + 1), "artifact reference: version"));
  if (ref.version == 0) {
    return InvalidArgumentError(
        "artifact reference: version 0 does not exist; versions start at 1");
  }
  return ref;
}

std::string FormatArtifactRef(const ArtifactRef& ref) {
  return ref.name + "@" + std::to_string(ref.version);
}

Status ValidateStatement(const ArtifactStatement& statement) {
  if (Status s = ValidateArtifactName(statement.name); !s.ok()) {
    return s.WithContext("statement name");
  }
  if (statement.version == 0) {
    return InvalidArgumentError("statement version: 0 is not a version; versions start at 1");
  }
  if (statement.kind != ArtifactKind::kModel && statement.kind != ArtifactKind::kDataset) {
    return InvalidArgumentError("statement kind: value " +
                                std::to_string(static_cast<int>(statement.kind)) +
                                " is not a kind; choose model or dataset");
  }
  if (Status s = ValidateMediaType(statement.media_type); !s.ok()) {
    return s.WithContext("statement media_type");
  }
  return Status::Ok();
}

std::string CanonicalStatement(const ArtifactStatement& statement) {
  std::string out;
  out.reserve(160 + statement.name.size() + statement.media_type.size());
  out.append(kStatementHeader).append("\n");
  out.append("name ").append(statement.name).append("\n");
  out.append("version ").append(std::to_string(statement.version)).append("\n");
  out.append("kind ").append(ArtifactKindName(statement.kind)).append("\n");
  out.append("sha256 ").append(common::HexEncode(statement.sha256)).append("\n");
  out.append("size ").append(std::to_string(statement.size)).append("\n");
  out.append("media-type ").append(statement.media_type).append("\n");
  return out;
}

Result<ArtifactStatement> ParseCanonicalStatement(std::string_view text) {
  if (text.size() > kMaxStatementBytes) {
    return InvalidArgumentError("statement of " + std::to_string(text.size()) +
                                " bytes is longer than any canonical statement (" +
                                std::to_string(kMaxStatementBytes) + " bytes)");
  }
  // Lines in order: the header, then one "label value" line per field.
  static constexpr std::array<std::string_view, 6> kLabels = {"name",   "version", "kind",
                                                              "sha256", "size",    "media-type"};
  // Each line is checked as it is read, so a missing or reordered line is reported where
  // it went wrong rather than as a short text.
  std::array<std::string_view, 6> values;
  std::string_view rest = text;
  for (size_t i = 0; i <= kLabels.size(); ++i) {
    const std::string_view expected = i == 0 ? kStatementHeader : kLabels[i - 1];
    const std::string where = "statement line " + std::to_string(i + 1) +
                              (i == 0 ? "" : " (" + std::string(expected) + ")");
    size_t newline = rest.find('\n');
    if (newline == std::string_view::npos) {
      return InvalidArgumentError(where + ": " +
                                  (rest.empty() ? "missing; expected '" + std::string(expected) +
                                                      (i == 0 ? "'" : " <value>'")
                                                : std::string("not terminated by '\\n'")));
    }
    std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline + 1);
    if (i == 0) {
      if (line != kStatementHeader) {
        return InvalidArgumentError(where + ": expected '" + std::string(kStatementHeader) +
                                    "' (the only statement format this version reads)");
      }
      continue;
    }
    if (line.size() <= expected.size() || line.substr(0, expected.size()) != expected ||
        line[expected.size()] != ' ') {
      return InvalidArgumentError(where + ": expected '" + std::string(expected) +
                                  " <value>' with one space");
    }
    values[i - 1] = line.substr(expected.size() + 1);
  }
  if (!rest.empty()) {
    return InvalidArgumentError("statement: " + std::to_string(rest.size()) +
                                " bytes after line 7 (media-type); the statement ends there");
  }
  auto at = [&](size_t i, const Status& s) {
    return s.WithContext("statement line " + std::to_string(i + 2) + " (" +
                         std::string(kLabels[i]) + ")");
  };
  ArtifactStatement statement;
  if (Status s = ValidateArtifactName(values[0]); !s.ok()) return at(0, s);
  statement.name = std::string(values[0]);
  auto version = ParseDecimal(values[1], "version");
  if (!version.ok()) return at(1, version.status());
  if (*version == 0) {
    return at(1, InvalidArgumentError("0 is not a version; versions start at 1"));
  }
  statement.version = *version;
  auto kind = ParseArtifactKind(values[2]);
  if (!kind.ok()) return at(2, kind.status());
  statement.kind = *kind;
  std::string_view hex = values[3];
  if (hex.size() != 64) {
    return at(3, InvalidArgumentError("expected 64 lowercase hex digits, found " +
                                      std::to_string(hex.size()) + " characters"));
  }
  for (size_t i = 0; i < hex.size(); ++i) {
    char c = hex[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return at(3, InvalidArgumentError(ShowChar(c) + " at digit " + std::to_string(i) +
                                        " is not a lowercase hex digit"));
    }
  }
  auto digest = common::HexDecode(hex);
  if (!digest.ok()) return at(3, digest.status());
  std::copy(digest->begin(), digest->end(), statement.sha256.begin());
  auto size = ParseDecimal(values[4], "size");
  if (!size.ok()) return at(4, size.status());
  statement.size = *size;
  if (Status s = ValidateMediaType(values[5]); !s.ok()) return at(5, s);
  statement.media_type = std::string(values[5]);
  return statement;
}

}  // namespace custos::artifacts
