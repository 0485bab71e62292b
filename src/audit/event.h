// The audit event: what custos records for every request, and its one canonical byte
// encoding, which is the Merkle leaf (so the same event always hashes the same).
//
// Raw sensitive values never appear in an event: a value that must stay correlatable
// (a token id, a client address, an entity key) is stored as HMAC-SHA256 under the
// audit salt, as Vault's audit devices do, so equal values can be matched across events
// by someone holding the salt, and nobody can read them back.
//
// Encoding (version 1): the version byte, then the fields in declaration order.
// Unsigned integers are minimal LEB128 varints; the time is 8 bytes big-endian (signed
// microseconds since the Unix epoch); strings and lists are varint-length-prefixed;
// enums are one byte; a MAC is a presence byte (0 or 1) and 32 bytes. Decoding accepts
// exactly the encodings Encode produces: non-minimal varints, unknown enum values, bad
// presence bytes, over-limit lengths and trailing bytes are rejected.
// Thread-safety: AuditEvent is a plain value; AuditSalt is immutable and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/merkle.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/secret.h"

namespace custos::audit {

inline constexpr uint8_t kEventVersion = 1;
inline constexpr size_t kMaxEventString = 4096;     // bytes per string field
inline constexpr size_t kMaxEventListItems = 4096;  // items per list field
inline constexpr uint32_t kMaxRiskScore = 1000;     // risk in per-mille

// The key under which correlatable sensitive values are MACed. Distinct fields are
// domain-separated, so a token id and an address with equal text get unrelated MACs.
class AuditSalt {
 public:
  // InvalidArgument unless the key has at least 32 bytes.
  static Result<AuditSalt> Create(crypto::SecretBytes key);

  // HMAC-SHA256(key, field || 0x00 || value).
  Hash Mac(std::string_view field, std::string_view value) const;

 private:
  explicit AuditSalt(crypto::SecretBytes key) : key_(std::move(key)) {}
  crypto::SecretBytes key_;
};

enum class AuthMethod : uint8_t { kNone = 0, kToken = 1, kMtls = 2, kEmbedded = 3 };
enum class Decision : uint8_t { kAllow = 0, kDeny = 1 };
enum class AccessMode : uint8_t {
  kRaw = 0,
  kPseudonymized = 1,
  kMasked = 2,
  kAggregateOnly = 3,
  kDenied = 4,
};
enum class Outcome : uint8_t { kOk = 0, kDenied = 1, kError = 2 };

// A resource the request touched, with the version it saw (0: unversioned).
struct ResourceRef {
  std::string type;  // Cedar entity type, e.g. "FeatureView"
  std::string id;
  uint64_t version = 0;
  friend bool operator==(const ResourceRef&, const ResourceRef&) = default;
};

struct FeatureAccess {
  std::string feature;
  AccessMode mode = AccessMode::kDenied;
  friend bool operator==(const FeatureAccess&, const FeatureAccess&) = default;
};

// A correlatable sensitive value: its field name and MAC (never the value).
struct HashedValue {
  std::string field;  // e.g. "entity_key"
  Hash mac{};
  friend bool operator==(const HashedValue&, const HashedValue&) = default;
};

struct AuditEvent {
  common::TimePoint time;
  std::string request_id;
  // Who: the principal id is public within the organisation; the token id is a bearer
  // secret's handle, so only its MAC is kept.
  std::string principal_id;
  AuthMethod auth_method = AuthMethod::kNone;
  std::optional<Hash> token_id_mac;
  // What, why and where.
  std::string action;
  std::vector<ResourceRef> resources;
  std::string purpose;
  std::string environment;
  // The policy decision and what made it.
  Decision decision = Decision::kDeny;
  std::vector<std::string> determining_policies;
  uint64_t policy_set_version = 0;
  std::string grant_id;  // empty when no grant applied
  std::vector<FeatureAccess> feature_modes;
  // What happened.
  uint64_t rows_returned = 0;
  std::optional<Hash> client_address_mac;
  uint32_t risk_score = 0;  // 0..kMaxRiskScore per-mille
  Outcome outcome = Outcome::kError;
  std::string outcome_detail;  // e.g. a status code name; never data
  std::vector<HashedValue> hashed_values;
  friend bool operator==(const AuditEvent&, const AuditEvent&) = default;
};

// The canonical encoding. InvalidArgument if a field exceeds its limit or the risk score
// is above kMaxRiskScore (so every encoded event decodes).
Result<common::Bytes> EncodeEvent(const AuditEvent& event);

// The inverse; InvalidArgument names the field and byte offset of the first problem.
Result<AuditEvent> DecodeEvent(common::ByteView data);

}  // namespace custos::audit
