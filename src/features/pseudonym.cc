// Per-purpose pseudonyms and the persisted secret they derive from (see pseudonym.h).
#include "features/pseudonym.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <mutex>
#include <vector>

#include "common/bytes.h"
#include "crypto/hash.h"
#include "storage/encrypted_keyspace.h"

namespace custos::features {
namespace {

using catalog::ScalarType;

constexpr size_t kSecretBytes = 32;
constexpr size_t kPseudonymBytes = 16;
constexpr std::string_view kPurposeLabel = "custos/pseudonym/v1";
constexpr uint64_t kCanonicalNan = 0x7ff8000000000000ULL;

void PutBigEndian64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

uint64_t CanonicalDoubleBits(double v) {
  if (std::isnan(v)) return kCanonicalNan;
  if (v == 0) return 0;  // -0.0 and 0.0 are one value
  return std::bit_cast<uint64_t>(v);
}

char Tag(ScalarType type) { return static_cast<char>(static_cast<uint8_t>(type)); }

// Replace `out` with the tag byte and canonical bytes of one scalar.
void CanonicalMessage(int64_t v, std::string& out) {
  out.assign(1, Tag(ScalarType::kInt64));
  PutBigEndian64(out, static_cast<uint64_t>(v));
}
void CanonicalMessage(double v, std::string& out) {
  out.assign(1, Tag(ScalarType::kDouble));
  PutBigEndian64(out, CanonicalDoubleBits(v));
}
void CanonicalMessage(const std::string& v, std::string& out) {
  out.assign(1, Tag(ScalarType::kString));
  out.append(v);
}
void CanonicalMessage(bool v, std::string& out) {
  out.assign(1, Tag(ScalarType::kBool));
  out.push_back(v ? 1 : 0);
}
void CanonicalMessage(catalog::Timestamp v, std::string& out) {
  out.assign(1, Tag(ScalarType::kTimestamp));
  PutBigEndian64(out, static_cast<uint64_t>(v.micros));
}
void CanonicalMessage(const catalog::Scalar& value, std::string& out) {
  std::visit([&out](const auto& v) { CanonicalMessage(v, out); }, value);
}

// The canonical message of a fixed-width column cell.
void CanonicalFixedCell(const ColumnVector& in, size_t i, std::string& out) {
  out.clear();
  out.push_back(Tag(in.type.scalar));
  switch (in.type.scalar) {
    case ScalarType::kInt64:
    case ScalarType::kTimestamp:
      PutBigEndian64(out, in.fixed[i]);
      break;
    case ScalarType::kDouble:
      PutBigEndian64(out, CanonicalDoubleBits(in.DoubleAt(i)));
      break;
    case ScalarType::kBool:
      out.push_back(in.BoolAt(i) ? 1 : 0);
      break;
    case ScalarType::kString:
      out.append(in.BytesAt(i));
      break;
  }
}

}  // namespace

Result<crypto::SecretBytes> LoadOrCreatePseudonymSecret(storage::Kv& kv, crypto::Keyring& keyring) {
  CUSTOS_ASSIGN_OR_RETURN(auto space,
                          storage::EncryptedKeyspace::Open(kv, storage::Keyspace::kCatalog, keyring,
                                                           kPseudonymSecretOwner));
  Result<std::optional<std::string>> stored = space.Get(kPseudonymSecretKey);
  if (!stored.ok()) {
    if (stored.status().code() != StatusCode::kDataLoss) return stored.status();
    return DataLossError("the stored pseudonym secret (catalog keyspace, key " +
                         std::string(kPseudonymSecretKey) + ") does not authenticate: " +
                         stored.status().message() + "; restore the data directory from a backup");
  }
  if (*stored) {
    crypto::SecretBytes secret = crypto::SecretBytes::CopyOf(common::AsBytes(**stored));
    crypto::ZeroizeString(**stored);
    if (secret.size() != kSecretBytes) {
      return DataLossError("the stored pseudonym secret has " + std::to_string(secret.size()) +
                           " bytes, expected 32; restore the data directory from a backup");
    }
    return secret;
  }
  crypto::SecretBytes secret = crypto::SecretBytes::Random(kSecretBytes);
  CUSTOS_RETURN_IF_ERROR(
      space.Put(kPseudonymSecretKey, common::AsChars(secret.span())));  // sync by default
  return secret;
}

catalog::ValueType PseudonymType(catalog::ValueType type) {
  return {ScalarType::kString, type.is_list};
}

std::string PurposeKey::OfCanonical(std::string_view message) const {
  crypto::Digest mac = crypto::HmacSha256(key_.span(), common::AsBytes(message));
  std::string out = "ps_";
  out += common::HexEncode(common::ByteView(mac.data(), kPseudonymBytes));
  return out;
}

std::string PurposeKey::PseudonymizeScalar(const catalog::Scalar& value) const {
  std::string message;
  CanonicalMessage(value, message);
  return OfCanonical(message);
}

catalog::Value PurposeKey::Pseudonymize(const catalog::Value& value) const {
  std::string message;
  return std::visit(
      [&](const auto& v) -> catalog::Value {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return catalog::Value{};
        } else if constexpr (std::is_same_v<T, std::vector<catalog::Scalar>>) {
          std::vector<catalog::Scalar> out;
          out.reserve(v.size());
          for (const catalog::Scalar& s : v) {
            CanonicalMessage(s, message);
            out.emplace_back(OfCanonical(message));
          }
          return catalog::Value{std::move(out)};
        } else {
          CanonicalMessage(v, message);
          return catalog::Value{OfCanonical(message)};
        }
      },
      value);
}

Status PseudonymizeColumn(const PurposeKey& key, const ColumnVector& in, ColumnVector& out) {
  ColumnVector result(PseudonymType(in.type));
  const size_t n = in.size();
  result.Reserve(n);
  std::string message;
  for (size_t i = 0; i < n; ++i) {
    if (in.IsNull(i)) {
      result.AppendNull();
      continue;
    }
    if (!in.type.is_list) {
      CanonicalFixedCell(in, i, message);
      result.AppendBytes(key.OfCanonical(message));
      continue;
    }
    Result<std::vector<catalog::Scalar>> list = DecodeList(in.BytesAt(i), in.type.scalar);
    if (!list.ok()) {
      return DataLossError("pseudonymizing row " + std::to_string(i) + ": " +
                           list.status().message());
    }
    CUSTOS_RETURN_IF_ERROR(result.AppendValue(key.Pseudonymize(catalog::Value{std::move(*list)})));
  }
  out = std::move(result);
  return Status::Ok();
}

Result<std::unique_ptr<Pseudonymizer>> Pseudonymizer::Create(crypto::SecretBytes secret) {
  if (secret.size() != kSecretBytes) {
    return InvalidArgumentError("the pseudonym secret has " + std::to_string(secret.size()) +
                                " bytes, expected 32; load it with LoadOrCreatePseudonymSecret");
  }
  return std::unique_ptr<Pseudonymizer>(new Pseudonymizer(std::move(secret)));
}

const PurposeKey& Pseudonymizer::ForPurpose(std::string_view purpose) {
  {
    std::shared_lock lock(mu_);
    auto it = keys_.find(purpose);
    if (it != keys_.end()) return *it->second;
  }
  std::string message(kPurposeLabel);
  message.push_back('\0');
  message.append(purpose);
  crypto::Digest derived = crypto::HmacSha256(secret_.span(), common::AsBytes(message));
  std::unique_ptr<PurposeKey> key(
      new PurposeKey(std::string(purpose), crypto::SecretBytes::CopyOf(derived)));
  crypto::Zeroize(derived);
  std::unique_lock lock(mu_);
  // Another thread may have derived the same key meanwhile; keep the first one.
  return *keys_.try_emplace(std::string(purpose), std::move(key)).first->second;
}

}  // namespace custos::features
