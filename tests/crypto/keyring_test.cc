// Keyring: DEK creation and caching, rotation without touching data, minimum
// decryption version, KEK destruction, shredding, tamper detection, compliance.
#include "crypto/keyring.h"

#include <gtest/gtest.h>

#include <thread>

#include "crypto/software_kek_backend.h"

namespace custos::crypto {
namespace {

using std::chrono::hours;

class KeyringTest : public ::testing::Test {
 protected:
  KeyringTest() : clock_(common::FromUnixSeconds(1'800'000'000)) {}

  std::unique_ptr<Keyring> OpenKeyring(KeyringOptions options = {}) {
    auto backend = *SoftwareKekBackend::Create(root_.Clone(), store_, "shamir");
    return *Keyring::Open(std::move(backend), store_, clock_, options);
  }

  SecretBytes root_ = SecretBytes::Random(32);
  InMemoryKeyRecordStore store_;
  common::FakeClock clock_;
};

common::Bytes SealWith(const DataKey& key, std::string_view text) {
  return key.aead().Seal(common::AsBytes(text), common::AsBytes(key.id()));
}

TEST_F(KeyringTest, NewKeyringStartsAtKekOne) {
  auto keyring = OpenKeyring();
  EXPECT_EQ(keyring->current_kek_version(), 1u);
  EXPECT_EQ(keyring->min_decryption_version(), 1u);
  ASSERT_EQ(keyring->Keks().size(), 1u);
  EXPECT_EQ(keyring->Keks()[0].state, KekState::kActive);
}

TEST_F(KeyringTest, DataKeyIsStableAcrossReopen) {
  common::Bytes sealed;
  std::string id;
  {
    auto keyring = OpenKeyring();
    auto key = *keyring->GetOrCreateDataKey("fv:a:1");
    EXPECT_EQ(key->owner(), "fv:a:1");
    EXPECT_TRUE(key->id().starts_with("dek_"));
    EXPECT_EQ(key.get(), keyring->GetOrCreateDataKey("fv:a:1")->get());  // cached
    sealed = SealWith(*key, "row");
    id = key->id();
  }
  auto keyring = OpenKeyring();
  auto key = *keyring->GetDataKey("fv:a:1");
  EXPECT_EQ(key->id(), id);
  EXPECT_EQ(common::AsChars(*key->aead().Open(sealed, common::AsBytes(id))), "row");
  EXPECT_EQ(keyring->GetDataKey("fv:missing:1").status().message(),
            "no data key exists for 'fv:missing:1'");
}

TEST_F(KeyringTest, RotationRewrapsEveryDekAndKeepsDataReadable) {
  std::vector<std::pair<std::string, common::Bytes>> sealed;
  {
    auto keyring = OpenKeyring({.rewrap_batch_size = 7});
    for (int i = 0; i < 50; ++i) {
      std::string owner = "fv:v:" + std::to_string(i);
      sealed.emplace_back(owner, SealWith(**keyring->GetOrCreateDataKey(owner), owner));
    }
    RotationResult r = *keyring->Rotate();
    EXPECT_EQ(r.new_version, 2u);
    EXPECT_EQ(r.deks_rewrapped, 50u);
    ComplianceReport report = *keyring->Compliance();
    EXPECT_FALSE(report.stale_wrapping);
    ASSERT_EQ(report.keks.size(), 2u);
    EXPECT_EQ(report.keks[0].info.state, KekState::kRetired);
    EXPECT_EQ(report.keks[0].deks_wrapped, 0u);
    EXPECT_EQ(report.keks[1].deks_wrapped, 50u);
    // Raise the minimum and destroy KEK v1: everything must still open via v2.
    ASSERT_TRUE(keyring->SetMinDecryptionVersion(2).ok());
    EXPECT_EQ(*keyring->DestroyRetiredKeks(), std::vector<uint32_t>{1});
  }
  auto keyring = OpenKeyring();  // fresh process: nothing cached
  EXPECT_EQ(keyring->current_kek_version(), 2u);
  for (const auto& [owner, blob] : sealed) {
    auto key = *keyring->GetDataKey(owner);
    EXPECT_EQ(common::AsChars(*key->aead().Open(blob, common::AsBytes(key->id()))), owner);
  }
}

TEST_F(KeyringTest, MinimumDecryptionVersionRules) {
  auto keyring = OpenKeyring();
  ASSERT_TRUE(keyring->GetOrCreateDataKey("o").ok());
  EXPECT_EQ(keyring->SetMinDecryptionVersion(2).message(),
            "minimum decryption version must be between 1 and the current KEK version 1, got 2");
  ASSERT_TRUE(keyring->Rotate().ok());
  ASSERT_TRUE(keyring->SetMinDecryptionVersion(2).ok());
  EXPECT_EQ(keyring->SetMinDecryptionVersion(1).message(),
            "minimum decryption version can only increase (it is 2)");
}

TEST_F(KeyringTest, DekBelowMinimumIsRefused) {
  common::Bytes wrapped_by_v1;
  {
    auto keyring = OpenKeyring();
    ASSERT_TRUE(keyring->GetOrCreateDataKey("old").ok());
    wrapped_by_v1 = **store_.Get("dek/old");
    ASSERT_TRUE(keyring->Rotate().ok());
    ASSERT_TRUE(keyring->SetMinDecryptionVersion(2).ok());
  }
  // A record still wrapped by v1 (as after an interrupted rewrap) must be refused.
  ASSERT_TRUE(store_.Apply({{"dek/old", wrapped_by_v1}}).ok());
  Result<std::shared_ptr<const DataKey>> r = OpenKeyring()->GetDataKey("old");
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "the data key of 'old' is wrapped by KEK version 1, below the minimum decryption "
            "version 2; finish a rotation or lower the minimum decryption version");
}

TEST_F(KeyringTest, ShreddingMakesDataUnreadableForGood) {
  auto keyring = OpenKeyring();
  auto key = *keyring->GetOrCreateDataKey("artifact:x");
  common::Bytes sealed = SealWith(*key, "secret model weights");
  auto wrapped_before = *store_.Get("dek/artifact:x");
  ASSERT_TRUE(wrapped_before.has_value());

  ASSERT_TRUE(keyring->ShredDataKey("artifact:x").ok());
  EXPECT_FALSE(store_.Get("dek/artifact:x")->has_value());
  Result<std::shared_ptr<const DataKey>> gone = keyring->GetDataKey("artifact:x");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message(),
            "the data key of 'artifact:x' was shredded; its data can no longer be decrypted");
  // Never silently re-created under the same owner.
  EXPECT_EQ(keyring->GetOrCreateDataKey("artifact:x").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(keyring->IsShredded("artifact:x"));
  EXPECT_TRUE(keyring->ShredDataKey("artifact:x").ok());  // idempotent
  EXPECT_EQ(keyring->ShredDataKey("never").code(), StatusCode::kNotFound);

  // No remaining key in the store opens the ciphertext.
  auto reopened = OpenKeyring();
  int opened = 0;
  ASSERT_TRUE(store_
                  .Scan("dek/",
                        [&](std::string_view k, common::ByteView) {
                          auto other = reopened->GetDataKey(k.substr(4));
                          if (other.ok() &&
                              (*other)->aead().Open(sealed, common::AsBytes(key->id())).ok())
                            ++opened;
                          return Status::Ok();
                        })
                  .ok());
  EXPECT_EQ(opened, 0);
  EXPECT_EQ((*reopened->Compliance()).deks_shredded, 1u);
}

TEST_F(KeyringTest, TamperedDekRecordIsDetected) {
  auto keyring = OpenKeyring();
  ASSERT_TRUE(keyring->GetOrCreateDataKey("fv:t:1").ok());
  common::Bytes record = **store_.Get("dek/fv:t:1");
  record[record.size() - 5] ^= 0x01;  // inside the wrapped DEK
  ASSERT_TRUE(store_.Apply({{"dek/fv:t:1", record}}).ok());
  auto fresh = OpenKeyring();
  Result<std::shared_ptr<const DataKey>> r = fresh->GetDataKey("fv:t:1");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(r.status().message().starts_with("unwrapping the data key of 'fv:t:1': "))
      << r.status().message();

  // A wrapped DEK copied to another owner fails too (owner bound as associated data).
  ASSERT_TRUE(keyring->GetOrCreateDataKey("fv:u:1").ok());
  ASSERT_TRUE(store_.Apply({{"dek/fv:v:1", **store_.Get("dek/fv:u:1")}}).ok());
  EXPECT_EQ(OpenKeyring()->GetDataKey("fv:v:1").status().code(), StatusCode::kDataLoss);

  common::Bytes truncated = **store_.Get("dek/fv:u:1");
  truncated.resize(10);
  ASSERT_TRUE(store_.Apply({{"dek/fv:u:1", truncated}}).ok());
  Result<std::shared_ptr<const DataKey>> t = OpenKeyring()->GetDataKey("fv:u:1");
  EXPECT_EQ(t.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(t.status().message().find("is truncated") != std::string::npos);
}

TEST_F(KeyringTest, ComplianceFollowsTheClock) {
  auto keyring = OpenKeyring({.kek_rotation_period = hours(24 * 30)});
  ASSERT_TRUE(keyring->GetOrCreateDataKey("a").ok());
  EXPECT_TRUE(keyring->Compliance()->compliant());
  clock_.Advance(hours(24 * 31));
  ComplianceReport due = *keyring->Compliance();
  EXPECT_TRUE(due.rotation_due);
  EXPECT_FALSE(due.compliant());
  EXPECT_EQ(due.keks[0].age, hours(24 * 31));
  EXPECT_NE(due.ToText().find("compliant: no (current KEK is older than the rotation period"),
            std::string::npos);
  ASSERT_TRUE(keyring->Rotate().ok());
  EXPECT_TRUE(keyring->Compliance()->compliant());
}

TEST_F(KeyringTest, ConcurrentReadersDuringRotation) {
  auto keyring = OpenKeyring();
  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE(keyring->GetOrCreateDataKey("o" + std::to_string(i)).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread reader([&] {
    while (!stop) {
      for (int i = 0; i < 200; ++i) {
        if (!keyring->GetDataKey("o" + std::to_string(i)).ok()) ++failures;
      }
    }
  });
  for (int r = 0; r < 5; ++r) ASSERT_TRUE(keyring->Rotate().ok());
  stop = true;
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(keyring->current_kek_version(), 6u);
}

}  // namespace
}  // namespace custos::crypto
