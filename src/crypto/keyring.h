// Keyring: the key hierarchy below the root of trust.
//
//   root key (sealed: Shamir shares / passphrase)  or  PKCS#11 token
//     └─ KEK versions 1..N (KekBackend)             — rotated on a schedule
//          └─ DEKs, one per owner                   — wrapped by the newest KEK
//               └─ data (AES-256-GCM)               — never rewritten by rotation
//
// Owners are stable names such as "features:driver_stats:v3" (a feature-view version),
// "artifact:<sha256>", "audit-seg:42". A DEK is wrapped with associated data binding
// its owner, id and KEK version, so a wrapped DEK moved to another owner fails.
//
// Rotation adds a KEK version and rewraps every DEK under it (data untouched).
// A minimum decryption version (as in Vault's transit engine) refuses DEKs still
// wrapped by older KEKs, and KEKs below it may then be destroyed. Shredding destroys
// one owner's DEK: every record sealed under it becomes unreadable for good.
//
// Thread-safety: safe for concurrent use. Reads of a cached data key take a shared
// lock only; key creation, rotation and shredding are serialized among themselves,
// and rotation does not block reads of cached keys.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/aead.h"
#include "crypto/kek_backend.h"
#include "crypto/key_record_store.h"

namespace custos::crypto {

struct KeyringOptions {
  // A KEK older than this is due for rotation (compliance report, `rotate --if-due`).
  // Default 90 days.
  std::chrono::hours kek_rotation_period = std::chrono::hours(24 * 90);
  // DEKs rewrapped per atomic write during rotation (written unsynced; one synced
  // write at the end). Default 4096.
  size_t rewrap_batch_size = 4096;
};

// A data-encryption key by handle: callers seal and open, never see key bytes.
class DataKey {
 public:
  DataKey(std::string owner, std::string id, Aead aead)
      : owner_(std::move(owner)), id_(std::move(id)), aead_(std::move(aead)) {}
  const std::string& owner() const { return owner_; }
  const std::string& id() const { return id_; }
  const Aead& aead() const { return aead_; }

 private:
  std::string owner_;
  std::string id_;
  Aead aead_;
};

enum class KekState { kActive, kRetired, kDestroyed };
std::string_view KekStateName(KekState state);

struct KekInfo {
  uint32_t version = 0;
  common::TimePoint created_at;
  KekState state = KekState::kActive;
  common::TimePoint destroyed_at;  // when state == kDestroyed
};

struct RotationResult {
  uint32_t new_version = 0;
  size_t deks_rewrapped = 0;
  std::chrono::microseconds elapsed{0};
};

struct ComplianceReport {
  struct Kek {
    KekInfo info;
    std::chrono::hours age{0};
    size_t deks_wrapped = 0;  // DEKs currently wrapped by this version
  };
  std::vector<Kek> keks;
  uint32_t current_version = 0;
  uint32_t min_decryption_version = 1;
  std::chrono::hours rotation_period{0};
  size_t deks_total = 0;
  size_t deks_shredded = 0;
  bool rotation_due = false;    // the current KEK is older than the period
  bool stale_wrapping = false;  // some DEK is wrapped by a non-current KEK
  bool compliant() const { return !rotation_due && !stale_wrapping; }
  std::string ToText() const;
};

class Keyring {
 public:
  // Opens the keyring over `backend` and `store` (both must outlive it); on a new
  // store, creates KEK version 1.
  static Result<std::unique_ptr<Keyring>> Open(std::unique_ptr<KekBackend> backend,
                                               KeyRecordStore& store, const common::Clock& clock,
                                               KeyringOptions options = {});

  // The owner's data key, created (and wrapped by the newest KEK) on first use.
  // NotFound when the owner's key was shredded: shredded owners never get a new key
  // under the same name, so old ciphertext can never be confused with new.
  Result<std::shared_ptr<const DataKey>> GetOrCreateDataKey(std::string_view owner);
  // The owner's existing data key; NotFound if none or shredded.
  Result<std::shared_ptr<const DataKey>> GetDataKey(std::string_view owner);

  Result<RotationResult> Rotate();
  Status SetMinDecryptionVersion(uint32_t version);
  // Destroys every KEK below the minimum decryption version that no DEK uses.
  Result<std::vector<uint32_t>> DestroyRetiredKeks();

  // Destroys the owner's DEK for good and purges it from the store's files.
  Status ShredDataKey(std::string_view owner);
  bool IsShredded(std::string_view owner);
  // Increases with every shred: a caller that keeps data keys of its own (an open keyspace)
  // drops them when it moved, so a shred takes effect at once without a lookup per read.
  uint64_t shred_epoch() const { return shred_epoch_.load(std::memory_order_acquire); }

  Result<ComplianceReport> Compliance();
  uint32_t current_kek_version() const;
  uint32_t min_decryption_version() const;
  std::vector<KekInfo> Keks() const;
  std::string_view backend_kind() const { return backend_->Kind(); }

 private:
  struct DekRecord;
  Keyring(std::unique_ptr<KekBackend> backend, KeyRecordStore& store, const common::Clock& clock,
          KeyringOptions options);
  Status Load();
  Status SaveMeta(std::vector<KeyRecordWrite>& writes) const;
  Result<std::shared_ptr<const DataKey>> Unwrap(std::string_view owner, const DekRecord& rec);
  Result<std::shared_ptr<const DataKey>> LoadDataKey(std::string_view owner, bool create);

  std::unique_ptr<KekBackend> backend_;
  KeyRecordStore& store_;
  const common::Clock& clock_;
  KeyringOptions options_;

  // Serializes key creation, rotation, shredding and KEK state changes.
  mutable std::mutex admin_mu_;
  // Guards the fields below it.
  mutable std::shared_mutex state_mu_;
  std::map<uint32_t, KekInfo> keks_;
  uint32_t current_version_ = 0;
  uint32_t min_decryption_version_ = 1;
  std::unordered_map<std::string, std::shared_ptr<const DataKey>> cache_;
  std::atomic<uint64_t> shred_epoch_{0};
};

}  // namespace custos::crypto
