// The access-token issuer keys: Ed25519 key pairs whose seeds are sealed in the `identity`
// keyspace under the keyring data key of owner "identity-token-signing-key" (never on
// disk in clear), each named by its PASERK k4.pid, which tokens carry in their footer.
//
// Rotation: Rotate() makes a new key current and retires the old one; a retired key still
// verifies for kMaxTokenLifetime (plus the clock skew allowance) after its retirement, so
// every token it signed expires before the key stops being accepted.
// Thread-safety: safe for concurrent use; lookups take a shared lock, Rotate an exclusive one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "crypto/paseto.h"
#include "storage/kv.h"

namespace custos::identity {

inline constexpr std::string_view kTokenSigningKeyOwner = "identity-token-signing-key";

struct TokenKeyInfo {
  uint32_t version = 0;
  std::string key_id;  // k4.pid.…
  common::TimePoint created_at;
  std::optional<common::TimePoint> retired_at;  // nullopt: the current key
};

// One issuer key: its id, signing half (only for the current key) and verifying half.
struct TokenSigningKey {
  TokenKeyInfo info;
  crypto::PasetoV4SecretKey secret;
  crypto::PasetoV4PublicKey public_key;
};

class TokenKeySet {
 public:
  // Loads the key set from `kv`, creating version 1 on first use. `kv`, `keyring` and
  // `clock` must outlive the set. NotFound if the keys' data key was shredded.
  static Result<std::unique_ptr<TokenKeySet>> LoadOrCreate(storage::Kv& kv,
                                                           crypto::Keyring& keyring,
                                                           const common::Clock& clock);

  // Makes a fresh key current (stored before it is used) and retires the previous one.
  Result<TokenKeyInfo> Rotate();

  // The key new tokens are signed with.
  std::shared_ptr<const TokenSigningKey> Current() const;
  // The verifying key for `key_id`, or nullptr if unknown or retired for longer than
  // kMaxTokenLifetime + `skew` at `now`.
  std::shared_ptr<const TokenSigningKey> FindForVerify(std::string_view key_id,
                                                       common::TimePoint now,
                                                       std::chrono::seconds skew) const;
  // Every stored key, oldest first.
  std::vector<TokenKeyInfo> Keys() const;

 private:
  TokenKeySet(storage::Kv& kv, crypto::Keyring& keyring, const common::Clock& clock)
      : kv_(kv), keyring_(keyring), clock_(clock) {}
  Status Load();
  Status Store(const TokenSigningKey& key);

  storage::Kv& kv_;
  crypto::Keyring& keyring_;
  const common::Clock& clock_;
  mutable std::shared_mutex mu_;
  std::vector<std::shared_ptr<const TokenSigningKey>> keys_;  // by version, oldest first
};

}  // namespace custos::identity
