// Per-purpose pseudonyms: the persisted secret, stability, unlinkability across purposes, an
// independent recomputation with OpenSSL, and no plaintext secret on disk.
#include "features/pseudonym.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <thread>

#include "common/bytes.h"
#include "features_test_util.h"
#include "storage/encrypted_keyspace.h"

namespace custos::features {
namespace {

using catalog::ScalarType;
using catalog::Timestamp;
using catalog::Value;
using catalog::ValueType;

class PseudonymTest : public testing::OfflineFixture {
 protected:
  crypto::SecretBytes LoadSecret() {
    Result<crypto::SecretBytes> secret = LoadOrCreatePseudonymSecret(*kv_, *keyring_);
    EXPECT_TRUE(secret.ok()) << secret.status().ToString();
    return secret.ok() ? std::move(*secret) : crypto::SecretBytes();
  }
  std::unique_ptr<Pseudonymizer> MakePseudonymizer() {
    Result<std::unique_ptr<Pseudonymizer>> p = Pseudonymizer::Create(LoadSecret());
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(*p) : nullptr;
  }
};

std::string Ps(const PurposeKey& key, const Value& v) {
  Value out = key.Pseudonymize(v);
  const auto* s = std::get_if<std::string>(&out);
  return s != nullptr ? *s : "not a string";
}

// HMAC-SHA256 by OpenSSL directly, independent of crypto/hash.h.
std::string OpenSslHmac(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

TEST_F(PseudonymTest, SecretIsStableAcrossReopen) {
  crypto::SecretBytes first = LoadSecret();
  ASSERT_EQ(first.size(), 32u);
  crypto::SecretBytes again = LoadSecret();
  EXPECT_TRUE(crypto::ConstantTimeEquals(first.span(), again.span()));
  Close();
  Open();
  crypto::SecretBytes reopened = LoadSecret();
  EXPECT_TRUE(crypto::ConstantTimeEquals(first.span(), reopened.span()));
}

TEST_F(PseudonymTest, PseudonymsAreStableAcrossReopen) {
  std::string before = Ps(MakePseudonymizer()->ForPurpose("fraud"), Value{int64_t{1001}});
  EXPECT_EQ(before.size(), 3u + 32u);
  EXPECT_EQ(before.substr(0, 3), "ps_");
  Close();
  Open();
  EXPECT_EQ(Ps(MakePseudonymizer()->ForPurpose("fraud"), Value{int64_t{1001}}), before);
}

TEST_F(PseudonymTest, MatchesAnIndependentOpenSslComputation) {
  crypto::SecretBytes secret = LoadSecret();
  const std::string secret_bytes(common::AsChars(secret.span()));
  auto p = Pseudonymizer::Create(secret.Clone());
  ASSERT_TRUE(p.ok());
  const PurposeKey& key = (*p)->ForPurpose("training");

  const std::string purpose_key =
      OpenSslHmac(secret_bytes, std::string("custos/pseudonym/v1") + '\0' + "training");
  // int64 42: tag 0, then 8 bytes big-endian.
  const std::string message("\x00\x00\x00\x00\x00\x00\x00\x00\x2a", 9);
  const std::string mac = OpenSslHmac(purpose_key, message);
  const std::string expected = "ps_" + common::HexEncode(common::AsBytes(mac.substr(0, 16)));
  EXPECT_EQ(Ps(key, Value{int64_t{42}}), expected);
  EXPECT_EQ(key.PseudonymizeScalar(int64_t{42}), expected);

  // string "42": tag 2, then the bytes.
  const std::string mac_str = OpenSslHmac(purpose_key, std::string("\x02", 1) + "42");
  EXPECT_EQ(Ps(key, Value{std::string("42")}),
            "ps_" + common::HexEncode(common::AsBytes(mac_str.substr(0, 16))));
  // timestamp -1 µs: tag 4, then ff..ff.
  const std::string mac_ts = OpenSslHmac(purpose_key, std::string("\x04") + std::string(8, '\xff'));
  EXPECT_EQ(Ps(key, Value{Timestamp{-1}}),
            "ps_" + common::HexEncode(common::AsBytes(mac_ts.substr(0, 16))));
  // double 1.5 = 0x3ff8000000000000: tag 1; bool true: tag 3, byte 1.
  const std::string mac_dbl =
      OpenSslHmac(purpose_key, std::string("\x01\x3f\xf8\x00\x00\x00\x00\x00\x00", 9));
  EXPECT_EQ(Ps(key, Value{1.5}), "ps_" + common::HexEncode(common::AsBytes(mac_dbl.substr(0, 16))));
  const std::string mac_bool = OpenSslHmac(purpose_key, std::string("\x03\x01", 2));
  EXPECT_EQ(Ps(key, Value{true}),
            "ps_" + common::HexEncode(common::AsBytes(mac_bool.substr(0, 16))));
}

TEST_F(PseudonymTest, StableWithinAPurposeAndDistinctAcrossPurposes) {
  auto p = MakePseudonymizer();
  const PurposeKey& fraud = p->ForPurpose("fraud");
  const PurposeKey& marketing = p->ForPurpose("marketing");
  EXPECT_EQ(&p->ForPurpose("fraud"), &fraud);  // cached
  EXPECT_EQ(fraud.purpose(), "fraud");
  const Value v{std::string("alice@example.com")};
  EXPECT_EQ(Ps(fraud, v), Ps(fraud, v));
  EXPECT_NE(Ps(fraud, v), Ps(marketing, v));
  EXPECT_NE(Ps(fraud, v), Ps(p->ForPurpose("fraud "), v));
  EXPECT_NE(Ps(p->ForPurpose(""), v), Ps(fraud, v));
}

TEST_F(PseudonymTest, TypeTagSeparatesEqualLookingValues) {
  auto p = MakePseudonymizer();
  const PurposeKey& key = p->ForPurpose("fraud");
  std::set<std::string> seen = {Ps(key, Value{int64_t{42}}), Ps(key, Value{std::string("42")}),
                                Ps(key, Value{Timestamp{42}}), Ps(key, Value{42.0})};
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_NE(Ps(key, Value{true}), Ps(key, Value{int64_t{1}}));
  EXPECT_NE(Ps(key, Value{true}), Ps(key, Value{false}));
}

TEST_F(PseudonymTest, CanonicalDoubles) {
  auto p = MakePseudonymizer();
  const PurposeKey& key = p->ForPurpose("fraud");
  EXPECT_EQ(Ps(key, Value{-0.0}), Ps(key, Value{0.0}));
  EXPECT_EQ(Ps(key, Value{std::nan("1")}), Ps(key, Value{-std::nan("2")}));
  EXPECT_NE(Ps(key, Value{0.1}), Ps(key, Value{0.2}));
}

TEST_F(PseudonymTest, NullAndLists) {
  auto p = MakePseudonymizer();
  const PurposeKey& key = p->ForPurpose("fraud");
  EXPECT_EQ(key.Pseudonymize(Value{}), Value{});
  using L = std::vector<catalog::Scalar>;
  Value out = key.Pseudonymize(Value{L{int64_t{1}, int64_t{2}}});
  ASSERT_TRUE(std::holds_alternative<L>(out));
  const L& list = std::get<L>(out);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(std::get<std::string>(list[0]), Ps(key, Value{int64_t{1}}));
  EXPECT_EQ(std::get<std::string>(list[1]), Ps(key, Value{int64_t{2}}));
  EXPECT_EQ(key.Pseudonymize(Value{L{}}), Value{L{}});
}

TEST_F(PseudonymTest, TypesOfPseudonyms) {
  EXPECT_EQ(PseudonymType({ScalarType::kInt64, false}), (ValueType{ScalarType::kString, false}));
  EXPECT_EQ(PseudonymType({ScalarType::kBool, true}), (ValueType{ScalarType::kString, true}));
}

TEST_F(PseudonymTest, SameValueInTwoFeaturesGivesTheSamePseudonym) {
  // driver_id as a join key of driver_stats and as a feature of trips: a column carries no
  // feature name into the pseudonym, so joins across views still line up.
  auto p = MakePseudonymizer();
  const PurposeKey& key = p->ForPurpose("fraud");
  ColumnVector in_stats(ValueType{ScalarType::kInt64, false});
  ColumnVector in_trips(ValueType{ScalarType::kInt64, false});
  for (int64_t id : {7, 8, 9}) {
    in_stats.AppendInt64(id);
    in_trips.AppendInt64(10 - id + 6);  // 9, 8, 7
  }
  ColumnVector out_stats, out_trips;
  ASSERT_TRUE(PseudonymizeColumn(key, in_stats, out_stats).ok());
  ASSERT_TRUE(PseudonymizeColumn(key, in_trips, out_trips).ok());
  EXPECT_EQ(out_stats.BytesAt(0), out_trips.BytesAt(2));
  EXPECT_EQ(out_stats.BytesAt(1), out_trips.BytesAt(1));
  EXPECT_EQ(out_stats.BytesAt(2), out_trips.BytesAt(0));
  EXPECT_NE(out_stats.BytesAt(0), out_stats.BytesAt(1));
}

TEST_F(PseudonymTest, ColumnsAgreeWithValuesForEveryType) {
  auto p = MakePseudonymizer();
  const PurposeKey& key = p->ForPurpose("fraud");
  using L = std::vector<catalog::Scalar>;
  struct Case {
    ValueType type;
    std::vector<Value> cells;
  };
  const std::vector<Case> cases = {
      {{ScalarType::kInt64, false}, {Value{int64_t{-5}}, Value{}, Value{int64_t{0}}}},
      {{ScalarType::kDouble, false}, {Value{-0.0}, Value{2.5}, Value{}}},
      {{ScalarType::kString, false}, {Value{std::string("")}, Value{std::string("é")}}},
      {{ScalarType::kBool, false}, {Value{true}, Value{false}, Value{}}},
      {{ScalarType::kTimestamp, false}, {Value{Timestamp{-1}}, Value{Timestamp{1}}}},
      {{ScalarType::kString, true},
       {Value{L{std::string("a"), std::string("b")}}, Value{}, Value{L{}}}},
      {{ScalarType::kInt64, true}, {Value{L{int64_t{3}}}}},
  };
  for (const Case& c : cases) {
    ColumnVector in(c.type);
    for (const Value& v : c.cells) ASSERT_TRUE(in.AppendValue(v).ok());
    ColumnVector out;
    ASSERT_TRUE(PseudonymizeColumn(key, in, out).ok());
    EXPECT_EQ(out.type, PseudonymType(c.type));
    ASSERT_EQ(out.size(), c.cells.size());
    for (size_t i = 0; i < c.cells.size(); ++i) {
      EXPECT_EQ(out.ValueAt(i), key.Pseudonymize(c.cells[i]))
          << catalog::ValueTypeName(c.type) << " row " << i;
    }
  }
}

TEST_F(PseudonymTest, ColumnInPlace) {
  auto p = MakePseudonymizer();
  const PurposeKey& key = p->ForPurpose("fraud");
  ColumnVector c(ValueType{ScalarType::kInt64, false});
  c.AppendInt64(42);
  c.AppendNull();
  ASSERT_TRUE(PseudonymizeColumn(key, c, c).ok());
  EXPECT_EQ(c.type, (ValueType{ScalarType::kString, false}));
  EXPECT_EQ(c.BytesAt(0), Ps(key, Value{int64_t{42}}));
  EXPECT_TRUE(c.IsNull(1));
}

TEST_F(PseudonymTest, CorruptListCellIsDataLoss) {
  auto p = MakePseudonymizer();
  ColumnVector c(ValueType{ScalarType::kInt64, true});
  c.AppendBytes("\x05");  // claims five elements, has none
  ColumnVector out;
  Status s = PseudonymizeColumn(p->ForPurpose("fraud"), c, out);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.message().rfind("pseudonymizing row 0: ", 0), 0u) << s.message();
}

TEST_F(PseudonymTest, ConcurrentForPurposeYieldsOneKey) {
  auto p = MakePseudonymizer();
  std::vector<const PurposeKey*> got(4, nullptr);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) got[t] = &p->ForPurpose("purpose-" + std::to_string(i % 7));
    });
  }
  for (auto& th : threads) th.join();
  // Every thread's last call was for purpose-3 (199 % 7).
  for (const PurposeKey* k : got) EXPECT_EQ(k, &p->ForPurpose("purpose-3"));
}

TEST_F(PseudonymTest, SecretOfWrongSizeIsRejected) {
  auto p = Pseudonymizer::Create(crypto::SecretBytes::Random(16));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);

  auto space = storage::EncryptedKeyspace::Open(*kv_, storage::Keyspace::kCatalog, *keyring_,
                                                kPseudonymSecretOwner);
  ASSERT_TRUE(space.ok());
  ASSERT_TRUE(space->Put(kPseudonymSecretKey, std::string(31, 'k')).ok());
  Result<crypto::SecretBytes> secret = LoadOrCreatePseudonymSecret(*kv_, *keyring_);
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(secret.status().message(),
            "the stored pseudonym secret has 31 bytes, expected 32; restore the data directory "
            "from a backup");
}

TEST_F(PseudonymTest, TamperedSecretIsDataLoss) {
  crypto::SecretBytes original = LoadSecret();
  Result<std::optional<std::string>> stored =
      kv_->Get(storage::Keyspace::kCatalog, kPseudonymSecretKey);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  std::string tampered = **stored;
  tampered.back() = static_cast<char>(tampered.back() ^ 1);
  ASSERT_TRUE(kv_->Put(storage::Keyspace::kCatalog, kPseudonymSecretKey, tampered).ok());
  Result<crypto::SecretBytes> secret = LoadOrCreatePseudonymSecret(*kv_, *keyring_);
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(secret.status().message().rfind(
                "the stored pseudonym secret (catalog keyspace, key features/pseudonym-secret) "
                "does not authenticate: ",
                0),
            0u)
      << secret.status().message();
}

TEST_F(PseudonymTest, ShreddedSecretIsNotFoundAndNeverRecreated) {
  LoadSecret();
  ASSERT_TRUE(keyring_->ShredDataKey(kPseudonymSecretOwner).ok());
  Result<crypto::SecretBytes> secret = LoadOrCreatePseudonymSecret(*kv_, *keyring_);
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().code(), StatusCode::kNotFound) << secret.status().ToString();
  // Still refused after a reopen: no fresh secret quietly takes the shredded one's place.
  Close();
  Open();
  EXPECT_EQ(LoadOrCreatePseudonymSecret(*kv_, *keyring_).status().code(), StatusCode::kNotFound);
}

TEST_F(PseudonymTest, SecretIsNotOnDiskInPlaintext) {
  crypto::SecretBytes secret = LoadSecret();
  const std::string raw(common::AsChars(secret.span()));
  const std::string hex = common::HexEncode(secret.span());
  Close();  // flushes RocksDB's files
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.Sub("db"))) {
    if (!entry.is_regular_file()) continue;
    std::ifstream f(entry.path(), std::ios::binary);
    all.append(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  ASSERT_GT(all.size(), 0u);
  // The record key is stored in clear (keys are not secret), so the grep does see the record.
  EXPECT_NE(all.find(kPseudonymSecretKey), std::string::npos);
  EXPECT_EQ(all.find(raw), std::string::npos);
  EXPECT_EQ(all.find(hex), std::string::npos);
  Open();
}

}  // namespace
}  // namespace custos::features
