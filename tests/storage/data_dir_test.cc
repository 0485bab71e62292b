// The data directory and encrypted keyspaces through the public API: layout and
// permissions, sealed/locked/unknown-format errors, associated-data binding, tamper
// detection, no plaintext or key material on disk, and crypto-shredding on disk.
#include "storage/data_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "crypto/shamir.h"
#include "storage/encrypted_keyspace.h"
#include "test_dirs.h"

namespace custos::storage {
namespace {

namespace fs = std::filesystem;
using testing::FilesContaining;
using testing::TempDir;

struct Initialized {
  std::unique_ptr<DataDir> dir;
  std::vector<std::string> shares;
};

Initialized Init(const std::string& path) {
  crypto::ShamirInit init = *crypto::InitShamir(5, 3);
  Initialized out;
  out.shares = init.shares;
  auto dir = DataDir::Create(path, init.config, std::move(init.root_key), {});
  EXPECT_TRUE(dir.ok()) << dir.status().ToString();
  out.dir = std::move(*dir);
  return out;
}

UnsealMaterial Shares(const std::vector<std::string>& s, std::vector<int> which) {
  UnsealMaterial m;
  for (int i : which) m.shares.push_back(s[i]);
  return m;
}

TEST(DataDirTest, LayoutAndPermissions) {
  TempDir tmp;
  const std::string path = tmp.Sub("data");
  Initialized d = Init(path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((path + "/seal.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream format(path + "/FORMAT");
  std::string content((std::istreambuf_iterator<char>(format)), {});
  EXPECT_EQ(content, "custos data directory\nformat 1\n");
  EXPECT_TRUE(fs::is_directory(path + "/db"));
}

TEST(DataDirTest, OpenErrorsAreClearAndChangeNothing) {
  TempDir tmp;
  const std::string path = tmp.Sub("data");
  Initialized d = Init(path);

  // Held by another opener.
  auto locked = DataDir::Open(path, Shares(d.shares, {0, 1, 2}));
  EXPECT_EQ(locked.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(locked.status().message(),
            "data directory " + path + " is in use by another custos process; stop it first");
  d.dir.reset();

  // Sealed: no material.
  auto sealed = DataDir::Open(path, {});
  EXPECT_EQ(sealed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(sealed.status().message(),
            "data directory " + path + " is sealed: give 3 of its 5 unseal shares");
  // Too few shares.
  EXPECT_EQ(DataDir::Open(path, Shares(d.shares, {0, 4})).status().message(),
            "need 3 of 5 unseal shares, got 2");

  // Existing directory is never overwritten.
  crypto::ShamirInit again = *crypto::InitShamir(3, 2);
  auto overwrite = DataDir::Create(path, again.config, std::move(again.root_key), {});
  EXPECT_EQ(overwrite.status().code(), StatusCode::kAlreadyExists);

  // Unknown format version.
  {
    std::ofstream f(path + "/FORMAT", std::ios::trunc);
    f << "custos data directory\nformat 9\n";
  }
  auto future = DataDir::Open(path, Shares(d.shares, {0, 1, 2}));
  EXPECT_EQ(future.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(future.status().message(), path +
                                           " has data directory format 9; this custos reads "
                                           "format 1 (upgrade custos)");
  {
    std::ofstream f(path + "/FORMAT", std::ios::trunc);
    f << "custos data directory\nformat 1\n";
  }
  // Truncated seal file.
  std::string seal_text;
  {
    std::ifstream f(path + "/seal.json");
    seal_text.assign((std::istreambuf_iterator<char>(f)), {});
  }
  {
    std::ofstream f(path + "/seal.json", std::ios::trunc);
    f << seal_text.substr(0, 40);
  }
  auto truncated = DataDir::Open(path, Shares(d.shares, {0, 1, 2}));
  EXPECT_EQ(truncated.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(truncated.status().message(),
            path + "/seal.json: not valid JSON (the file is truncated or was edited)");
  {
    std::ofstream f(path + "/seal.json", std::ios::trunc);
    f << seal_text;
  }
  // After all the failures, the directory still opens with any 3 shares.
  EXPECT_TRUE(DataDir::Open(path, Shares(d.shares, {4, 2, 0})).ok());
  EXPECT_EQ(DataDir::Open(tmp.Sub("nope"), {}).status().message(),
            "data directory " + tmp.Sub("nope") +
                " does not exist; create one with 'custos init --dir " + tmp.Sub("nope") + "'");
}

TEST(EncryptedKeyspaceTest, RoundTripAndBinding) {
  TempDir tmp;
  Initialized d = Init(tmp.Sub("data"));
  DataDir& dir = *d.dir;
  auto space = *EncryptedKeyspace::Open(dir.kv(), Keyspace::kOnline, dir.keyring(), "fv:a:1");
  ASSERT_TRUE(space.Put("row/1", "value one").ok());
  ASSERT_TRUE(space.Put("row/2", "value two").ok());
  EXPECT_EQ(**space.Get("row/1"), "value one");
  EXPECT_FALSE(space.Get("row/3")->has_value());

  // A ciphertext copied to another key fails authentication.
  std::string stored = **dir.kv().Get(Keyspace::kOnline, "row/1");
  ASSERT_TRUE(dir.kv().Put(Keyspace::kOnline, "row/2", stored).ok());
  Result<std::optional<std::string>> moved = space.Get("row/2");
  EXPECT_EQ(moved.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(moved.status().message().starts_with(
      "decrypting a value in keyspace 'online' of owner 'fv:a:1': authentication failed"))
      << moved.status().message();
  // ... to another keyspace.
  ASSERT_TRUE(dir.kv().Put(Keyspace::kOffline, "row/1", stored).ok());
  auto offline = *EncryptedKeyspace::Open(dir.kv(), Keyspace::kOffline, dir.keyring(), "fv:a:1");
  EXPECT_EQ(offline.Get("row/1").status().code(), StatusCode::kDataLoss);
  // ... or read under another owner's key.
  auto other = *EncryptedKeyspace::Open(dir.kv(), Keyspace::kOnline, dir.keyring(), "fv:b:1");
  EXPECT_EQ(other.Get("row/1").status().code(), StatusCode::kDataLoss);

  // Every flipped byte of a stored value is detected.
  for (size_t i = 0; i < stored.size(); ++i) {
    std::string flipped = stored;
    flipped[i] ^= 0x20;
    ASSERT_TRUE(dir.kv().Put(Keyspace::kOnline, "row/1", flipped).ok());
    EXPECT_EQ(space.Get("row/1").status().code(), StatusCode::kDataLoss) << "byte " << i;
  }
}

TEST(EncryptedKeyspaceTest, ScanDecryptsInOrder) {
  TempDir tmp;
  Initialized d = Init(tmp.Sub("data"));
  auto space = *EncryptedKeyspace::Open(d.dir->kv(), Keyspace::kOffline, d.dir->keyring(), "o");
  WriteBatch batch;
  for (int i = 9; i >= 0; --i)
    space.PutTo(batch, "r/" + std::to_string(i), "v" + std::to_string(i));
  ASSERT_TRUE(d.dir->kv().Write(batch).ok());
  std::string all;
  ASSERT_TRUE(space
                  .ScanPrefix("r/",
                              [&](std::string_view, std::string_view v) {
                                all += v;
                                return Status::Ok();
                              })
                  .ok());
  EXPECT_EQ(all, "v0v1v2v3v4v5v6v7v8v9");
}

// Writes markers through the public API, then reads every byte of the data directory
// (SST, WAL, MANIFEST, key files) and finds neither the plaintext nor key material.
TEST(PlaintextOnDiskTest, NoMarkerAndNoKeyBytesAnywhere) {
  TempDir tmp;
  const std::string path = tmp.Sub("data");
  const std::string marker = "CUSTOS-PLAINTEXT-MARKER-5e1f";
  crypto::ShamirInit init = *crypto::InitShamir(5, 3);
  crypto::SecretBytes root_copy = init.root_key.Clone();
  {
    auto dir = *DataDir::Create(path, init.config, std::move(init.root_key), {});
    auto space = *EncryptedKeyspace::Open(dir->kv(), Keyspace::kOffline, dir->keyring(), "fv:m:1");
    for (int i = 0; i < 2000; ++i) {
      ASSERT_TRUE(space
                      .Put("row/" + std::to_string(i), marker + std::to_string(i),
                           WriteOptions{.sync = false})
                      .ok());
    }
    ASSERT_TRUE(dir->kv().PurgeDeleted(Keyspace::kOffline).ok());  // some data in SSTs
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(space.Put("late/" + std::to_string(i), marker, {.sync = false}).ok());  // WAL
    }
    ASSERT_TRUE(dir->keyring().Rotate().ok());
  }
  EXPECT_EQ(FilesContaining(path, marker), std::vector<std::string>{});
  EXPECT_EQ(FilesContaining(path, common::AsChars(root_copy.span())), std::vector<std::string>{});

  // Control: the same search finds markers written without encryption, so it can fail.
  {
    auto kv = *RocksDbKv::Open({.path = tmp.Sub("raw")});
    ASSERT_TRUE(kv->Put(Keyspace::kOffline, "k", marker).ok());
  }
  EXPECT_FALSE(FilesContaining(tmp.Sub("raw"), marker).empty());
}

// After a shred the ciphertext is still on disk, but no copy of the wrapped DEK is,
// and no key the keyring holds opens the ciphertext.
TEST(ShredOnDiskTest, CiphertextStaysKeyIsGone) {
  TempDir tmp;
  const std::string path = tmp.Sub("data");
  Initialized d = Init(path);
  std::string stored;
  std::string wrapped_dek;
  {
    DataDir& dir = *d.dir;
    auto space = *EncryptedKeyspace::Open(dir.kv(), Keyspace::kArtifacts, dir.keyring(), "victim");
    ASSERT_TRUE(space.Put("blob", "erase me").ok());
    stored = **dir.kv().Get(Keyspace::kArtifacts, "blob");
    ASSERT_TRUE(dir.keyring().Rotate().ok());  // leaves an older wrapping in old files too
    wrapped_dek = **dir.kv().Get(Keyspace::kKeys, "dek/victim");
    ASSERT_TRUE(dir.kv().PurgeDeleted(Keyspace::kArtifacts).ok());
    ASSERT_TRUE(dir.keyring().ShredDataKey("victim").ok());
  }
  d.dir.reset();
  // The wrapped DEK (after its record header) appears in no file.
  std::string wrapped_body = wrapped_dek.substr(wrapped_dek.size() - 60);
  EXPECT_EQ(FilesContaining(path, wrapped_body), std::vector<std::string>{});
  // The ciphertext does.
  EXPECT_FALSE(FilesContaining(path, stored.substr(1)).empty());

  auto dir = *DataDir::Open(path, Shares(d.shares, {0, 1, 2}));
  int opened = 0;
  ASSERT_TRUE(dir->kv()
                  .ScanPrefix(Keyspace::kKeys, "dek/",
                              [&](std::string_view k, auto) {
                                auto key = dir->keyring().GetDataKey(k.substr(4));
                                if (!key.ok()) return Status::Ok();
                                auto probe = *EncryptedKeyspace::Open(
                                    dir->kv(), Keyspace::kArtifacts, dir->keyring(),
                                    std::string(k.substr(4)));
                                if (probe.Decrypt("blob", stored).ok()) ++opened;
                                return Status::Ok();
                              })
                  .ok());
  EXPECT_EQ(opened, 0);
  EXPECT_EQ(EncryptedKeyspace::Open(dir->kv(), Keyspace::kArtifacts, dir->keyring(), "victim")
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST(DataDirTest, PassphraseMode) {
  TempDir tmp;
  const std::string path = tmp.Sub("data");
  auto pass = crypto::SecretBytes::CopyOf(common::AsBytes("development only"));
  crypto::PassphraseInit init =
      *crypto::InitPassphrase(pass, crypto::PassphraseCost::Interactive());
  ASSERT_TRUE(DataDir::Create(path, init.config, std::move(init.root_key), {}).ok());
  UnsealMaterial wrong;
  wrong.passphrase = crypto::SecretBytes::CopyOf(common::AsBytes("development ONLY"));
  EXPECT_EQ(DataDir::Open(path, wrong).status().message(), "wrong passphrase");
  UnsealMaterial right;
  right.passphrase = pass.Clone();
  EXPECT_TRUE(DataDir::Open(path, right).ok());
}

}  // namespace
}  // namespace custos::storage
