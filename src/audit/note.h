// C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures: the envelope of
// custos checkpoints and receipts. Parsing is strict (valid UTF-8, no control characters
// but newline, canonical base64, at most kMaxNoteSignatures signatures and kMaxNoteBytes).
// Thread-safety: all types are immutable values after construction; safe to share.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/ed25519.h"

namespace custos::audit {

// The spec requires accepting at least 16 signatures; beyond these limits a note is
// rejected as malformed before any signature is checked.
inline constexpr size_t kMaxNoteSignatures = 100;
inline constexpr size_t kMaxNoteBytes = 1 << 20;

// The signature type byte of plain Ed25519 note signatures.
inline constexpr uint8_t kNoteEd25519Type = 0x01;

// Key names must be non-empty and contain neither '+' nor Unicode spaces.
Status ValidateNoteKeyName(std::string_view name);

// SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian.
uint32_t NoteKeyId(std::string_view name, const crypto::Ed25519PublicKey& key);

// A trusted Ed25519 note key.
class NoteVerifier {
 public:
  static Result<NoteVerifier> Create(std::string name, const crypto::Ed25519PublicKey& key);
  // Parses the verifier key string "name+hash+base64(0x01 || 32-byte key)", where hash is
  // the key ID as 8 lowercase hex digits; the ID must match the key.
  static Result<NoteVerifier> FromVkey(std::string_view vkey);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  const crypto::Ed25519PublicKey& public_key() const { return key_; }
  // The vkey string FromVkey accepts.
  std::string Vkey() const;

  // Whether `signature` (without the 4-byte key ID) signs `text` under this key.
  bool Verify(std::string_view text, common::ByteView signature) const;

 private:
  NoteVerifier(std::string name, uint32_t key_id, crypto::Ed25519PublicKey key)
      : name_(std::move(name)), key_id_(key_id), key_(key) {}
  std::string name_;
  uint32_t key_id_ = 0;
  crypto::Ed25519PublicKey key_;
};

// One "— name base64(key ID || signature)" line.
struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  common::Bytes signature;  // without the key ID
  friend bool operator==(const NoteSignature&, const NoteSignature&) = default;
};

// An Ed25519 note signing key.
class NoteSigner {
 public:
  static Result<NoteSigner> Create(std::string name, crypto::Ed25519PrivateKey key);
  // Parses "PRIVATE+KEY+name+hash+base64(0x01 || 32-byte seed)" (the Go sumdb form).
  static Result<NoteSigner> FromSkey(std::string_view skey);

  const std::string& name() const { return verifier_.name(); }
  uint32_t key_id() const { return verifier_.key_id(); }
  const NoteVerifier& verifier() const { return verifier_; }

  // Signs the note text (which must end in a newline; SignNote checks the whole note).
  NoteSignature Sign(std::string_view text) const;

 private:
  NoteSigner(NoteVerifier verifier, crypto::Ed25519PrivateKey key)
      : verifier_(std::move(verifier)), key_(std::move(key)) {}
  NoteVerifier verifier_;
  crypto::Ed25519PrivateKey key_;
};

// A parsed note whose signatures are not yet checked.
struct Note {
  std::string text;  // including its final newline
  std::vector<NoteSignature> signatures;
};

// Splits a signed note into text and signature lines; InvalidArgument says which line is
// malformed and why. Does not check signatures.
Result<Note> ParseNote(std::string_view message);

// The wire form: text, blank line, one line per signature.
std::string FormatNote(const Note& note);

// Signs `text` with every signer and formats the note. InvalidArgument if the text is not
// a valid note text (empty, no final newline, control characters, invalid UTF-8).
Result<std::string> SignNote(std::string_view text, std::span<const NoteSigner> signers);

// The keys a reader trusts. At most one verifier per (name, key ID).
class NoteVerifierSet {
 public:
  NoteVerifierSet() = default;
  explicit NoteVerifierSet(std::vector<NoteVerifier> verifiers);

  // AlreadyExists if a verifier with the same name and key ID is present.
  Status Add(NoteVerifier verifier);
  const NoteVerifier* Find(std::string_view name, uint32_t key_id) const;
  bool empty() const { return verifiers_.empty(); }

 private:
  std::vector<NoteVerifier> verifiers_;
};

// A note with at least one verified signature from a known key.
struct VerifiedNote {
  std::string text;
  std::vector<NoteSignature> verified;  // from known keys, all of which verified
  std::vector<NoteSignature> unknown;   // from keys not in the set (ignored, kept for relay)
};

// Parses and verifies per the spec: signatures from unknown keys are ignored; a known
// key's signature that fails rejects the whole note (DataLoss: altered text or forged
// signature); a known key that signs twice rejects it (InvalidArgument); no signature from
// a known key at all is Unauthenticated.
Result<VerifiedNote> OpenNote(std::string_view message, const NoteVerifierSet& known);

}  // namespace custos::audit
