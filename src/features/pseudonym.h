// Pseudonymized feature reads: a value becomes "ps_" + 32 hex digits, keyed per purpose, so
// that the same value gives the same pseudonym within one purpose (joins across features and
// views keep working) and unlinkable ones across purposes. The keys derive from one 256-bit
// secret kept sealed in the `catalog` keyspace.
//
//   purpose key = HMAC-SHA256(secret, "custos/pseudonym/v1" 0x00 purpose)
//   pseudonym   = "ps_" + lowercase hex of the first 16 bytes of
//                 HMAC-SHA256(purpose key, tag || canonical bytes)
//
// tag is one byte, the catalog::ScalarType's number (int64 0, double 1, string 2, bool 3,
// timestamp 4), so 42 (int64), "42" (string) and 42 µs (timestamp) differ. Canonical bytes:
// int64 and timestamp (UTC micros) as 8 bytes big-endian two's complement; double as the 8
// bytes big-endian of its IEEE-754 bits, with -0.0 written as 0.0 and every NaN as the quiet
// NaN 0x7ff8000000000000; bool as one byte 0 or 1; string as its bytes. The feature or view
// name is not mixed in.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "catalog/value_type.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "crypto/secret.h"
#include "features/offline_columns.h"
#include "storage/kv.h"

namespace custos::features {

// The keyring owner of the secret's data key. Shredding it makes every pseudonym issued so
// far unlinkable with new ones.
inline constexpr std::string_view kPseudonymSecretOwner = "features:pseudonym";
// The secret's record key in the `catalog` keyspace.
inline constexpr std::string_view kPseudonymSecretKey = "features/pseudonym-secret";

// Loads the pseudonym secret (32 bytes), creating and storing it durably on first use, so
// it is the same on every open. DataLoss when the stored secret does not authenticate or has
// the wrong size; NotFound when its data key was shredded.
// Thread-safety: do not race two first uses on one store (the second would overwrite).
Result<crypto::SecretBytes> LoadOrCreatePseudonymSecret(storage::Kv& kv, crypto::Keyring& keyring);

// The pseudonym type of a value of `type`: string, or list<string> for lists.
catalog::ValueType PseudonymType(catalog::ValueType type);

// One purpose's key, made only by Pseudonymizer::ForPurpose.
// Thread-safety: immutable after construction; safe for concurrent use.
class PurposeKey {
 public:
  PurposeKey(const PurposeKey&) = delete;
  PurposeKey& operator=(const PurposeKey&) = delete;

  const std::string& purpose() const { return purpose_; }

  // The pseudonym of one scalar ("ps_" + 32 lowercase hex digits).
  std::string PseudonymizeScalar(const catalog::Scalar& value) const;
  // Null stays null; a scalar becomes its pseudonym (a string); a list becomes the list of
  // its elements' pseudonyms (list<string>).
  catalog::Value Pseudonymize(const catalog::Value& value) const;

 private:
  friend class Pseudonymizer;
  friend Status PseudonymizeColumn(const PurposeKey&, const ColumnVector&, ColumnVector&);
  PurposeKey(std::string purpose, crypto::SecretBytes key)
      : purpose_(std::move(purpose)), key_(std::move(key)) {}

  // Pseudonym of a canonical message (tag byte and canonical bytes).
  std::string OfCanonical(std::string_view message) const;

  std::string purpose_;
  crypto::SecretBytes key_;  // zeroized when the key is destroyed
};

// Pseudonymizes every cell of `in` into `out`, replaced by a column of PseudonymType(in.type)
// with as many cells (`out` may be `in`). Null cells stay null. DataLoss when a list cell
// does not decode.
Status PseudonymizeColumn(const PurposeKey& key, const ColumnVector& in, ColumnVector& out);

// Derives and caches purpose keys from the secret.
// Thread-safety: safe for concurrent use. Purposes are a small set named by policy; keys are
// never evicted, so a reference from ForPurpose stays valid for the Pseudonymizer's lifetime.
class Pseudonymizer {
 public:
  // InvalidArgument unless the secret has 32 bytes.
  static Result<std::unique_ptr<Pseudonymizer>> Create(crypto::SecretBytes secret);

  Pseudonymizer(const Pseudonymizer&) = delete;
  Pseudonymizer& operator=(const Pseudonymizer&) = delete;

  const PurposeKey& ForPurpose(std::string_view purpose);

 private:
  explicit Pseudonymizer(crypto::SecretBytes secret) : secret_(std::move(secret)) {}

  const crypto::SecretBytes secret_;
  std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<PurposeKey>, std::less<>> keys_;  // guarded by mu_
};

}  // namespace custos::features
