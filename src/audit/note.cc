// C2SP signed notes: strict parsing, Ed25519 signing and verification.
#include "audit/note.h"

#include <algorithm>
#include <array>

#include "crypto/hash.h"
#include "crypto/secret.h"

namespace custos::audit {
namespace {

constexpr std::string_view kEmDashSpace = "\xE2\x80\x94 ";  // U+2014, U+0020
constexpr std::string_view kSkeyPrefix = "PRIVATE+KEY+";

// Decodes one UTF-8 code point at s[i]; returns its length, or 0 if the bytes there are
// not valid UTF-8 (overlong forms, surrogates and values above U+10FFFF included).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(i);
  size_t len;
  uint32_t min;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Unicode White_Space (what Go's unicode.IsSpace reports).
bool IsUnicodeSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// Valid UTF-8 with no control character other than newline; errors name line:column
// (1-based, column in bytes).
Status ValidateNoteCharacters(std::string_view s, std::string_view what) {
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(s, i, cp);
    auto where = [&] {
      return std::string(what) + ":" + std::to_string(line) + ":" +
             std::to_string(i - line_start + 1) + ": ";
    };
    if (len == 0) return InvalidArgumentError(where() + "invalid UTF-8; notes must be UTF-8");
    if (cp == '\n') {
      ++line;
      line_start = i + 1;
    } else if (cp < 0x20) {  // the spec bans only C0 controls, not DEL
      return InvalidArgumentError(where() + "control character 0x" +
                                  common::HexEncode(common::AsBytes(s.substr(i, 1))) +
                                  " is not allowed in a note (only newline is)");
    }
    i += len;
  }
  return Status::Ok();
}

Status ValidateNoteText(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return InvalidArgumentError("note text must be non-empty and end with a newline");
  }
  if (text.size() > kMaxNoteBytes) {
    return InvalidArgumentError("note text of " + std::to_string(text.size()) +
                                " bytes exceeds the limit of " + std::to_string(kMaxNoteBytes));
  }
  return ValidateNoteCharacters(text, "note text");
}

uint32_t ReadBigEndian32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

std::string KeyIdHex(uint32_t id) {
  std::array<uint8_t, 4> be = {static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16),
                               static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)};
  return common::HexEncode(be);
}

struct KeyString {
  std::string name;
  uint32_t key_id = 0;
  common::Bytes key_data;  // type byte || key
};

// Splits "name+hash+base64" (the name cannot contain '+', the base64 can).
Result<KeyString> SplitKeyString(std::string_view s, std::string_view what) {
  size_t plus1 = s.find('+');
  size_t plus2 = plus1 == std::string_view::npos ? plus1 : s.find('+', plus1 + 1);
  if (plus2 == std::string_view::npos) {
    return InvalidArgumentError(std::string(what) +
                                ": expected name+keyid+base64key (three fields joined by '+')");
  }
  KeyString out;
  out.name = std::string(s.substr(0, plus1));
  CUSTOS_RETURN_IF_ERROR(ValidateNoteKeyName(out.name).WithContext(what));
  std::string_view hash = s.substr(plus1 + 1, plus2 - plus1 - 1);
  bool hex_ok = hash.size() == 8 && std::all_of(hash.begin(), hash.end(), [](char c) {
                  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                });
  if (!hex_ok) {
    return InvalidArgumentError(std::string(what) + ": key ID '" + std::string(hash) +
                                "' must be 8 lowercase hex digits");
  }
  auto id_bytes = common::HexDecode(hash);
  out.key_id = ReadBigEndian32(id_bytes->data());
  auto data = common::Base64Decode(s.substr(plus2 + 1));
  if (!data.ok()) return data.status().WithContext(std::string(what) + ": key data");
  out.key_data = std::move(*data);
  if (out.key_data.empty() || out.key_data[0] != kNoteEd25519Type) {
    return UnimplementedError(
        std::string(what) + ": signature type " +
        (out.key_data.empty() ? std::string("(none)")
                              : "0x" + common::HexEncode(common::ByteView(out.key_data).first(1))) +
        " is not supported; custos notes use Ed25519 (0x01)");
  }
  if (out.key_data.size() != 33) {
    return InvalidArgumentError(std::string(what) +
                                ": Ed25519 key data must be 33 bytes "
                                "(0x01 and a 32-byte key), got " +
                                std::to_string(out.key_data.size()));
  }
  return out;
}

}  // namespace

Status ValidateNoteKeyName(std::string_view name) {
  if (name.empty()) return InvalidArgumentError("note key name must not be empty");
  for (size_t i = 0; i < name.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(name, i, cp);
    if (len == 0) {
      return InvalidArgumentError("note key name: invalid UTF-8 at byte " + std::to_string(i));
    }
    if (cp == '+' || IsUnicodeSpace(cp) || cp < 0x20) {
      return InvalidArgumentError("note key name '" + std::string(name) +
                                  "' contains a '+', a space or a control character at byte " +
                                  std::to_string(i));
    }
    i += len;
  }
  return Status::Ok();
}

uint32_t NoteKeyId(std::string_view name, const crypto::Ed25519PublicKey& key) {
  crypto::Sha256 sha;
  sha.Update(common::AsBytes(name)).Update(uint8_t{'\n'}).Update(kNoteEd25519Type);
  sha.Update(key.bytes());
  crypto::Digest d = sha.Finish();
  return ReadBigEndian32(d.data());
}

Result<NoteVerifier> NoteVerifier::Create(std::string name, const crypto::Ed25519PublicKey& key) {
  CUSTOS_RETURN_IF_ERROR(ValidateNoteKeyName(name));
  uint32_t id = NoteKeyId(name, key);
  return NoteVerifier(std::move(name), id, key);
}

Result<NoteVerifier> NoteVerifier::FromVkey(std::string_view vkey) {
  CUSTOS_ASSIGN_OR_RETURN(KeyString parts, SplitKeyString(vkey, "verifier key"));
  CUSTOS_ASSIGN_OR_RETURN(
      crypto::Ed25519PublicKey key,
      crypto::Ed25519PublicKey::FromBytes(common::ByteView(parts.key_data).subspan(1)));
  CUSTOS_ASSIGN_OR_RETURN(NoteVerifier verifier, Create(parts.name, key));
  if (verifier.key_id() != parts.key_id) {
    return InvalidArgumentError("verifier key for '" + parts.name + "': key ID " +
                                KeyIdHex(parts.key_id) + " does not match the key (expected " +
                                KeyIdHex(verifier.key_id()) + "); the vkey is corrupt");
  }
  return verifier;
}

std::string NoteVerifier::Vkey() const {
  common::Bytes data{kNoteEd25519Type};
  data.insert(data.end(), key_.bytes().begin(), key_.bytes().end());
  return name_ + "+" + KeyIdHex(key_id_) + "+" + common::Base64Encode(data);
}

bool NoteVerifier::Verify(std::string_view text, common::ByteView signature) const {
  return key_.Verify(common::AsBytes(text), signature);
}

Result<NoteSigner> NoteSigner::Create(std::string name, crypto::Ed25519PrivateKey key) {
  CUSTOS_ASSIGN_OR_RETURN(NoteVerifier verifier,
                          NoteVerifier::Create(std::move(name), key.public_key()));
  return NoteSigner(std::move(verifier), std::move(key));
}

Result<NoteSigner> NoteSigner::FromSkey(std::string_view skey) {
  if (skey.substr(0, kSkeyPrefix.size()) != kSkeyPrefix) {
    return InvalidArgumentError("signer key must start with '" + std::string(kSkeyPrefix) + "'");
  }
  CUSTOS_ASSIGN_OR_RETURN(KeyString parts,
                          SplitKeyString(skey.substr(kSkeyPrefix.size()), "signer key"));
  crypto::SecretBytes seed =
      crypto::SecretBytes::CopyOf(common::ByteView(parts.key_data).subspan(1));
  crypto::Zeroize(parts.key_data);
  CUSTOS_ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key, crypto::Ed25519PrivateKey::FromSeed(seed));
  CUSTOS_ASSIGN_OR_RETURN(NoteSigner signer, Create(parts.name, std::move(key)));
  if (signer.key_id() != parts.key_id) {
    return InvalidArgumentError("signer key for '" + parts.name + "': key ID " +
                                KeyIdHex(parts.key_id) + " does not match the key (expected " +
                                KeyIdHex(signer.key_id()) + "); the skey is corrupt");
  }
  return signer;
}

NoteSignature NoteSigner::Sign(std::string_view text) const {
  crypto::Ed25519Signature sig = key_.Sign(common::AsBytes(text));
  return NoteSignature{name(), key_id(), common::Bytes(sig.begin(), sig.end())};
}

Result<Note> ParseNote(std::string_view message) {
  if (message.size() > kMaxNoteBytes) {
    return InvalidArgumentError("note of " + std::to_string(message.size()) +
                                " bytes exceeds the limit of " + std::to_string(kMaxNoteBytes));
  }
  CUSTOS_RETURN_IF_ERROR(ValidateNoteCharacters(message, "note"));
  size_t split = message.rfind("\n\n");
  if (split == std::string_view::npos) {
    return InvalidArgumentError("note: no blank line separates the text from the signatures");
  }
  Note note;
  note.text = std::string(message.substr(0, split + 1));
  std::string_view sigs = message.substr(split + 2);
  if (sigs.empty()) return InvalidArgumentError("note: no signature lines after the blank line");
  if (sigs.back() != '\n') {
    return InvalidArgumentError("note: the last signature line does not end with a newline");
  }
  size_t line_no = static_cast<size_t>(std::count(note.text.begin(), note.text.end(), '\n')) + 2;
  while (!sigs.empty()) {
    size_t eol = sigs.find('\n');
    std::string_view line = sigs.substr(0, eol);
    sigs.remove_prefix(eol + 1);
    std::string where = "note:" + std::to_string(line_no) + ": ";
    if (note.signatures.size() == kMaxNoteSignatures) {
      return InvalidArgumentError(where + "more than " + std::to_string(kMaxNoteSignatures) +
                                  " signatures");
    }
    if (line.substr(0, kEmDashSpace.size()) != kEmDashSpace) {
      return InvalidArgumentError(where +
                                  "signature lines must start with an em dash (U+2014) "
                                  "and a space");
    }
    line.remove_prefix(kEmDashSpace.size());
    size_t space = line.find(' ');
    if (space == std::string_view::npos) {
      return InvalidArgumentError(where + "expected '— <key name> <base64 signature>'");
    }
    NoteSignature sig;
    sig.name = std::string(line.substr(0, space));
    CUSTOS_RETURN_IF_ERROR(ValidateNoteKeyName(sig.name).WithContext(where + "signature"));
    auto raw = common::Base64Decode(line.substr(space + 1));
    if (!raw.ok()) return raw.status().WithContext(where + "signature by " + sig.name);
    if (raw->size() < 5) {
      return InvalidArgumentError(where + "signature by " + sig.name + " has " +
                                  std::to_string(raw->size()) +
                                  " bytes; it needs a 4-byte key ID and a signature");
    }
    sig.key_id = ReadBigEndian32(raw->data());
    sig.signature.assign(raw->begin() + 4, raw->end());
    note.signatures.push_back(std::move(sig));
    ++line_no;
  }
  return note;
}

std::string FormatNote(const Note& note) {
  std::string out = note.text;
  out += '\n';
  for (const NoteSignature& sig : note.signatures) {
    common::Bytes raw = {static_cast<uint8_t>(sig.key_id >> 24),
                         static_cast<uint8_t>(sig.key_id >> 16),
                         static_cast<uint8_t>(sig.key_id >> 8), static_cast<uint8_t>(sig.key_id)};
    raw.insert(raw.end(), sig.signature.begin(), sig.signature.end());
    out += kEmDashSpace;
    out += sig.name;
    out += ' ';
    out += common::Base64Encode(raw);
    out += '\n';
  }
  return out;
}

Result<std::string> SignNote(std::string_view text, std::span<const NoteSigner> signers) {
  CUSTOS_RETURN_IF_ERROR(ValidateNoteText(text));
  if (signers.empty()) return InvalidArgumentError("a signed note needs at least one signer");
  if (signers.size() > kMaxNoteSignatures) {
    return InvalidArgumentError("more than " + std::to_string(kMaxNoteSignatures) + " signers");
  }
  Note note;
  note.text = std::string(text);
  for (const NoteSigner& signer : signers) note.signatures.push_back(signer.Sign(text));
  return FormatNote(note);
}

NoteVerifierSet::NoteVerifierSet(std::vector<NoteVerifier> verifiers) {
  for (NoteVerifier& v : verifiers) (void)Add(std::move(v));  // duplicates collapse
}

Status NoteVerifierSet::Add(NoteVerifier verifier) {
  if (Find(verifier.name(), verifier.key_id()) != nullptr) {
    return AlreadyExistsError("a verifier for " + verifier.name() + " with key ID " +
                              KeyIdHex(verifier.key_id()) + " is already trusted");
  }
  verifiers_.push_back(std::move(verifier));
  return Status::Ok();
}

const NoteVerifier* NoteVerifierSet::Find(std::string_view name, uint32_t key_id) const {
  for (const NoteVerifier& v : verifiers_) {
    if (v.key_id() == key_id && v.name() == name) return &v;
  }
  return nullptr;
}

Result<VerifiedNote> OpenNote(std::string_view message, const NoteVerifierSet& known) {
  CUSTOS_ASSIGN_OR_RETURN(Note note, ParseNote(message));
  VerifiedNote out;
  for (NoteSignature& sig : note.signatures) {
    const NoteVerifier* verifier = known.Find(sig.name, sig.key_id);
    if (verifier == nullptr) {
      out.unknown.push_back(std::move(sig));
      continue;
    }
    for (const NoteSignature& seen : out.verified) {
      if (seen.name == sig.name && seen.key_id == sig.key_id) {
        return InvalidArgumentError("note: key " + sig.name + " (" + KeyIdHex(sig.key_id) +
                                    ") signed more than once");
      }
    }
    if (!verifier->Verify(note.text, sig.signature)) {
      return DataLossError("note: the signature by " + sig.name + " (key ID " +
                           KeyIdHex(sig.key_id) +
                           ") does not verify; the text was altered or the signature forged");
    }
    out.verified.push_back(std::move(sig));
  }
  if (out.verified.empty()) {
    std::string names;
    for (const NoteSignature& sig : out.unknown) {
      names += (names.empty() ? "" : ", ") + sig.name + " (" + KeyIdHex(sig.key_id) + ")";
    }
    return UnauthenticatedError("note: no signature from a trusted key (signed by " + names +
                                "); add the signer's verifier key if it should be trusted");
  }
  out.text = std::move(note.text);
  return out;
}

}  // namespace custos::audit
