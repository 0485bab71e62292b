// DataDir: a custos data directory and everything opened from it.
//
//   <dir>/            mode 0700
//     FORMAT          "custos data directory" and the format version
//     LOCK            flock(2)ed by the one process that has the directory open
//     seal.json       how the root key is sealed (crypto/root_key.h), mode 0600
//     db/             RocksDB: one column family per keyspace
//
// Opening checks, in order: the directory exists, its format version is known, no
// other process holds it, and the caller's unseal material opens the root key.
// Each failure is a clear error and changes nothing on disk.
// Thread-safety: a DataDir is safe for concurrent use once open (its Kv and Keyring
// are); Create/Open are not meant to race on the same path.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "crypto/keyring.h"
#include "crypto/root_key.h"
#include "storage/key_record_store_kv.h"
#include "storage/rocksdb_kv.h"

namespace custos::storage {

inline constexpr int kDataDirFormatVersion = 1;

// What the operator supplies to unseal: one of these, matching the seal mode.
struct UnsealMaterial {
  std::vector<std::string> shares;                // shamir: any `threshold` shares
  std::optional<crypto::SecretBytes> passphrase;  // passphrase mode
  std::optional<crypto::SecretBytes> pkcs11_pin;  // pkcs11 mode
};

struct DataDirOptions {
  // Clock for key ages and rotation schedules; nullptr means the system clock.
  const common::Clock* clock = nullptr;
  crypto::KeyringOptions keyring;
  size_t block_cache_mib = 64;
};

class DataDir {
 public:
  // Creates a new data directory at `path` (which must not exist, or be empty)
  // sealed as `seal` says, and opens it with `root_key` (empty for pkcs11).
  static Result<std::unique_ptr<DataDir>> Create(const std::string& path,
                                                 const crypto::SealConfig& seal,
                                                 crypto::SecretBytes root_key,
                                                 const UnsealMaterial& pkcs11_material,
                                                 const DataDirOptions& options = {});

  // Opens and unseals an existing data directory.
  static Result<std::unique_ptr<DataDir>> Open(const std::string& path,
                                               const UnsealMaterial& material,
                                               const DataDirOptions& options = {});

  // Reads the seal configuration without opening anything (no lock taken).
  static Result<crypto::SealConfig> ReadSealConfig(const std::string& path);

  ~DataDir();

  Kv& kv() { return *kv_; }
  crypto::Keyring& keyring() { return *keyring_; }
  const std::string& path() const { return path_; }
  const crypto::SealConfig& seal() const { return seal_; }

 private:
  DataDir() = default;
  static Result<std::unique_ptr<DataDir>> OpenUnsealed(const std::string& path,
                                                       crypto::SealConfig seal,
                                                       crypto::SecretBytes root_key,
                                                       const UnsealMaterial& material,
                                                       const DataDirOptions& options);

  std::string path_;
  int lock_fd_ = -1;
  crypto::SealConfig seal_;
  std::unique_ptr<common::SystemClock> own_clock_;
  std::unique_ptr<RocksDbKv> kv_;
  std::unique_ptr<KvKeyRecordStore> key_store_;
  std::unique_ptr<crypto::Keyring> keyring_;
};

}  // namespace custos::storage
