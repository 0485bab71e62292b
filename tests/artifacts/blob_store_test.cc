// BlobStore: round trips, tamper and truncation detection, resumable uploads (including
// crash recovery), rollback, expiry, shredding, range reads and that no plaintext is stored.
#include "artifacts/blob_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../audit/log_test_util.h"
#include "artifacts/detail/blob_file.h"
#include "crypto/hash.h"

namespace custos::artifacts {
namespace {

namespace fs = std::filesystem;
using custos::testing::TempDir;

constexpr uint32_t kChunk = kMinChunkSize;  // 64 KiB keeps the tests fast
constexpr uint64_t kRecord = uint64_t{kChunk} + crypto::Aead::kOverhead;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void AppendToFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

common::ByteView View(const std::string& s) { return common::AsBytes(s); }

class BlobStoreTest : public ::testing::Test {
 protected:
  BlobStoreTest() : clock_(common::FromUnixSeconds(1'800'000'000)) {
    data_ = audit::testing::CreateDataDir(tmp_.Sub("data"));
    options_.sync = false;
    OpenStore();
  }

  void OpenStore() {
    auto store = BlobStore::Open(root(), keyring(), clock_, options_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  std::string root() const { return tmp_.Sub("artifacts"); }
  std::string BlobPath(const std::string& id) const { return root() + "/blobs/" + id + ".blob"; }
  std::string PartPath(const std::string& id) const { return root() + "/uploads/" + id + ".part"; }
  crypto::Keyring& keyring() { return data_.dir->keyring(); }

  BlobInfo Write(const std::string& plaintext, uint32_t chunk_size = kChunk) {
    size_t pos = 0;
    auto info = store_->WriteBlob(
        [&](std::span<uint8_t> buf) -> Result<size_t> {
          // Deliberately short reads, so WriteBlob has to fill each chunk itself.
          size_t n = std::min({buf.size(), plaintext.size() - pos, size_t{50'000}});
          std::copy_n(plaintext.data() + pos, n, buf.data());
          pos += n;
          return n;
        },
        chunk_size);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : BlobInfo{};
  }

  std::string ReadAll(const BlobInfo& info) {
    auto reader = store_->OpenBlob(info);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return "";
    std::string out;
    Status s = (*reader)->CopyTo([&](common::ByteView b) {
      out.append(common::AsChars(b));
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  TempDir tmp_;
  audit::testing::TestDataDir data_;
  common::FakeClock clock_;
  BlobStoreOptions options_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(BlobStoreTest, RoundTripsEverySizeAroundChunkBoundaries) {
  const std::vector<size_t> sizes = {0, 1, kChunk - 1, kChunk, kChunk + 1, 3 * kChunk + 17};
  uint32_t seed = 1;
  for (size_t size : sizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string plaintext = RandomBytes(size, seed++);
    BlobInfo info = Write(plaintext);
    EXPECT_TRUE(info.blob_id.starts_with("blb_"));
    EXPECT_EQ(info.size, size);
    EXPECT_EQ(info.chunk_size, kChunk);
    EXPECT_EQ(info.chunks, (size + kChunk - 1) / kChunk);
    EXPECT_EQ(info.sha256, crypto::Sha256Of(View(plaintext)));
    EXPECT_EQ(fs::file_size(BlobPath(info.blob_id)),
              detail::kBlobHeaderSize + size + info.chunks * crypto::Aead::kOverhead);
    EXPECT_FALSE(fs::exists(PartPath(info.blob_id)));
    EXPECT_EQ(ReadAll(info), plaintext);
  }
  EXPECT_TRUE(store_->ListUploads().empty());
}

TEST_F(BlobStoreTest, SyncedStoreRoundTripsAndChunksReadIndividually) {
  options_.sync = true;
  OpenStore();
  const std::string plaintext = RandomBytes(2 * kChunk + 5, 7);
  BlobInfo info = Write(plaintext);
  auto reader = store_->OpenBlob(info);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::string chunk;
  ASSERT_TRUE((*reader)->ReadChunk(2, chunk).ok());
  EXPECT_EQ(chunk, plaintext.substr(2 * kChunk));
  ASSERT_TRUE((*reader)->ReadChunk(0, chunk).ok());
  EXPECT_EQ(chunk, plaintext.substr(0, kChunk));
  Status past = (*reader)->ReadChunk(3, chunk);
  EXPECT_EQ(past.code(), StatusCode::kInvalidArgument) << past.ToString();
  EXPECT_NE(past.message().find("chunk 3 does not exist"), std::string::npos) << past.message();
}

TEST_F(BlobStoreTest, LargeChunksUseTheOverlappedPathsCorrectly) {
  // Chunks of 1 MiB and more hash on a helper thread and CopyTo reads ahead.
  constexpr uint32_t kBig = 1u << 20;
  options_.sync = true;  // also exercises the writeback thread
  OpenStore();
  const std::string plaintext = RandomBytes(3 * kBig + 4321, 50);
  BlobInfo info = Write(plaintext, kBig);
  EXPECT_EQ(info.chunks, 4u);
  EXPECT_EQ(info.sha256, crypto::Sha256Of(View(plaintext)));
  EXPECT_EQ(ReadAll(info), plaintext);

  // A tampered chunk 2: the read-ahead must still deliver chunks 0 and 1, then DataLoss.
  std::string bytes = ReadFile(BlobPath(info.blob_id));
  bytes[detail::kBlobHeaderSize + 2 * (uint64_t{kBig} + crypto::Aead::kOverhead) + 7] ^= 0x80;
  WriteFile(BlobPath(info.blob_id), bytes);
  auto reader = store_->OpenBlob(info);
  ASSERT_TRUE(reader.ok());
  std::string copied;
  Status s = (*reader)->CopyTo([&](common::ByteView b) {
    copied.append(common::AsChars(b));
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("chunk 2 "), std::string::npos);
  EXPECT_EQ(copied, plaintext.substr(0, 2 * kBig));
  // A sink error while the next chunk is read ahead is returned as is.
  int calls = 0;
  Status stop = (*reader)->CopyTo([&](common::ByteView) {
    return ++calls == 1 ? UnavailableError("client went away") : Status::Ok();
  });
  EXPECT_EQ(stop.code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);

  // Idempotent retry and resume also hold with helper-thread hashing.
  auto upload = store_->BeginUpload(kBig);
  ASSERT_TRUE(upload.ok());
  const std::string id = upload->upload_id;
  ASSERT_TRUE(store_->AppendChunk(id, 0, View(plaintext).subspan(0, kBig)).ok());
  ASSERT_TRUE(store_->AppendChunk(id, 0, View(plaintext).subspan(0, kBig)).ok());
  store_.reset();
  OpenStore();
  ASSERT_TRUE(store_->AppendChunk(id, 1, View(plaintext).subspan(kBig, kBig)).ok());
  auto finished = store_->FinishUpload(id, crypto::Sha256Of(View(plaintext).subspan(0, 2 * kBig)));
  ASSERT_TRUE(finished.ok()) << finished.status().ToString();
  EXPECT_EQ(ReadAll(*finished), plaintext.substr(0, 2 * kBig));
}

TEST_F(BlobStoreTest, ChunkSizeOutsideRangeIsRejected) {
  for (uint32_t bad : {0u, kMinChunkSize - 1, kMaxChunkSize + 1}) {
    auto upload = store_->BeginUpload(bad);
    EXPECT_EQ(upload.status().code(), StatusCode::kInvalidArgument) << bad;
    if (!upload.ok()) {
      EXPECT_NE(upload.status().message().find(std::to_string(bad)), std::string::npos);
    }
  }
  EXPECT_TRUE(store_->BeginUpload(kMinChunkSize).ok());
  EXPECT_TRUE(store_->BeginUpload(kMaxChunkSize).ok());
}

TEST_F(BlobStoreTest, FlippedByteInChunkTwoIsDataLossNamingChunkAndPath) {
  const std::string plaintext = RandomBytes(4 * kChunk, 11);
  BlobInfo info = Write(plaintext);
  const std::string path = BlobPath(info.blob_id);
  std::string bytes = ReadFile(path);
  bytes[detail::kBlobHeaderSize + 2 * kRecord + 100] ^= 0x01;
  WriteFile(path, bytes);

  auto reader = store_->OpenBlob(info);  // the size still matches: opening succeeds
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::string out;
  EXPECT_TRUE((*reader)->ReadChunk(1, out).ok());  // other chunks stay readable
  Status s = (*reader)->ReadChunk(2, out);
  ASSERT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("chunk 2 "), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[131072, 196608)"), std::string::npos) << s.message();

  // CopyTo delivers chunks 0 and 1, then stops with the same error.
  std::string copied;
  Status copy = (*reader)->CopyTo([&](common::ByteView b) {
    copied.append(common::AsChars(b));
    return Status::Ok();
  });
  EXPECT_EQ(copy.code(), StatusCode::kDataLoss);
  EXPECT_EQ(copied, plaintext.substr(0, 2 * kChunk));
}

TEST_F(BlobStoreTest, SwappedRecordsAreDataLoss) {
  const std::string plaintext = RandomBytes(3 * kChunk, 12);
  BlobInfo info = Write(plaintext);
  const std::string path = BlobPath(info.blob_id);
  std::string bytes = ReadFile(path);
  const size_t r1 = detail::kBlobHeaderSize + kRecord;
  const size_t r2 = r1 + kRecord;
  std::string one = bytes.substr(r1, kRecord);
  std::string two = bytes.substr(r2, kRecord);
  bytes.replace(r1, kRecord, two);
  bytes.replace(r2, kRecord, one);
  WriteFile(path, bytes);

  auto reader = store_->OpenBlob(info);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::string out;
  Status s = (*reader)->ReadChunk(1, out);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("chunk 1 "), std::string::npos) << s.message();
  EXPECT_EQ((*reader)->ReadChunk(2, out).code(), StatusCode::kDataLoss);
}

TEST_F(BlobStoreTest, RecordMovedFromAnotherBlobIsDataLoss) {
  BlobInfo a = Write(RandomBytes(2 * kChunk, 13));
  BlobInfo b = Write(RandomBytes(2 * kChunk, 14));
  std::string a_bytes = ReadFile(BlobPath(a.blob_id));
  std::string b_bytes = ReadFile(BlobPath(b.blob_id));
  b_bytes.replace(detail::kBlobHeaderSize, kRecord,
                  a_bytes.substr(detail::kBlobHeaderSize, kRecord));
  WriteFile(BlobPath(b.blob_id), b_bytes);
  auto reader = store_->OpenBlob(b);
  ASSERT_TRUE(reader.ok());
  std::string out;
  EXPECT_EQ((*reader)->ReadChunk(0, out).code(), StatusCode::kDataLoss);
  EXPECT_TRUE((*reader)->ReadChunk(1, out).ok());
}

TEST_F(BlobStoreTest, TruncatedOrExtendedFileIsDataLoss) {
  const std::string plaintext = RandomBytes(3 * kChunk, 15);
  BlobInfo info = Write(plaintext);
  const std::string path = BlobPath(info.blob_id);
  const std::string original = ReadFile(path);

  // Cut exactly at a record boundary: every remaining record still authenticates.
  WriteFile(path, original.substr(0, original.size() - kRecord));
  auto truncated = store_->OpenBlob(info);
  ASSERT_EQ(truncated.status().code(), StatusCode::kDataLoss) << truncated.status().ToString();
  EXPECT_NE(truncated.status().message().find(path), std::string::npos);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos);

  WriteFile(path, original + "x");
  EXPECT_EQ(store_->OpenBlob(info).status().code(), StatusCode::kDataLoss);

  // A header naming another blob (same size) is caught before any chunk is read.
  std::string other = original;
  other.replace(24, 4, "qqqq");  // the id starts at byte 20 ("blb_" first)
  WriteFile(path, other);
  auto renamed = store_->OpenBlob(info);
  ASSERT_EQ(renamed.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(renamed.status().message().find("header names blob"), std::string::npos);
  std::string padded = original;
  padded[detail::kBlobHeaderSize - 1] = 'z';
  WriteFile(path, padded);
  EXPECT_EQ(store_->OpenBlob(info).status().code(), StatusCode::kDataLoss);

  WriteFile(path, original);
  EXPECT_EQ(ReadAll(info), plaintext);
}

TEST_F(BlobStoreTest, InconsistentOrMalformedInfoIsRejected) {
  BlobInfo info = Write(RandomBytes(kChunk + 1, 16));
  BlobInfo wrong_chunks = info;
  wrong_chunks.chunks = 1;
  EXPECT_EQ(store_->OpenBlob(wrong_chunks).status().code(), StatusCode::kInvalidArgument);
  BlobInfo traversal = info;
  traversal.blob_id = "../../data/seal";
  EXPECT_EQ(store_->OpenBlob(traversal).status().code(), StatusCode::kInvalidArgument);
  BlobInfo bigger = info;
  bigger.size += 1;
  EXPECT_EQ(store_->OpenBlob(bigger).status().code(), StatusCode::kDataLoss);
}

TEST_F(BlobStoreTest, UnfinishedUploadIsNotOpenable) {
  auto upload = store_->BeginUpload(kChunk);
  ASSERT_TRUE(upload.ok());
  const std::string chunk = RandomBytes(kChunk, 17);
  ASSERT_TRUE(store_->AppendChunk(upload->upload_id, 0, View(chunk)).ok());
  BlobInfo info{upload->upload_id, kChunk, kChunk, 1, crypto::Sha256Of(View(chunk))};
  auto reader = store_->OpenBlob(info);
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound) << reader.status().ToString();
  EXPECT_NE(reader.status().message().find("unfinished upload"), std::string::npos);
}

TEST_F(BlobStoreTest, ResumesAfterCrashWithTornTrailingRecord) {
  const std::string plaintext = RandomBytes(4 * kChunk + 999, 18);
  auto chunk = [&](uint64_t i) {
    return View(plaintext).subspan(i * kChunk,
                                   std::min<size_t>(kChunk, plaintext.size() - i * kChunk));
  };
  auto upload = store_->BeginUpload(kChunk);
  ASSERT_TRUE(upload.ok());
  const std::string id = upload->upload_id;
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(store_->AppendChunk(id, i, chunk(i)).ok());

  // Crash: the store goes away, and chunk 3 was half written.
  store_.reset();
  AppendToFile(PartPath(id), RandomBytes(kRecord / 2, 19));
  OpenStore();

  EXPECT_EQ(fs::file_size(PartPath(id)), detail::kBlobHeaderSize + 3 * kRecord);
  auto status = store_->GetUpload(id);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->next_index, 3u);
  EXPECT_EQ(status->bytes_received, 3u * kChunk);
  EXPECT_EQ(status->chunk_size, kChunk);
  ASSERT_EQ(store_->ListUploads().size(), 1u);
  EXPECT_EQ(store_->ListUploads()[0].upload_id, id);

  // The client re-sends chunk 2 (lost ack, idempotent) and continues at 3.
  EXPECT_TRUE(store_->AppendChunk(id, 2, chunk(2)).ok());
  ASSERT_TRUE(store_->AppendChunk(id, 3, chunk(3)).ok());
  ASSERT_TRUE(store_->AppendChunk(id, 4, chunk(4)).ok());
  auto info = store_->FinishUpload(id, crypto::Sha256Of(View(plaintext)));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sha256, crypto::Sha256Of(View(plaintext)));
  EXPECT_EQ(info->size, plaintext.size());
  EXPECT_EQ(info->chunks, 5u);
  EXPECT_EQ(ReadAll(*info), plaintext);
}

TEST_F(BlobStoreTest, RecoveryKeepsAFinalShortChunkAndDropsAFlippedTail) {
  const std::string plaintext = RandomBytes(2 * kChunk + 10, 20);
  auto upload = store_->BeginUpload(kChunk);
  ASSERT_TRUE(upload.ok());
  const std::string id = upload->upload_id;
  ASSERT_TRUE(store_->AppendChunk(id, 0, View(plaintext).subspan(0, kChunk)).ok());
  ASSERT_TRUE(store_->AppendChunk(id, 1, View(plaintext).subspan(kChunk, kChunk)).ok());
  ASSERT_TRUE(store_->AppendChunk(id, 2, View(plaintext).subspan(2 * kChunk)).ok());
  store_.reset();
  OpenStore();
  auto status = store_->GetUpload(id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->next_index, 3u);
  EXPECT_EQ(status->bytes_received, plaintext.size());
  // The short chunk closed the upload before the crash, and still does.
  EXPECT_EQ(store_->AppendChunk(id, 3, View(plaintext).subspan(0, 5)).status().code(),
            StatusCode::kFailedPrecondition);

  // A corrupted last record is treated as never written: the upload resumes before it.
  store_.reset();
  std::string bytes = ReadFile(PartPath(id));
  bytes[bytes.size() - 3] ^= 0x40;
  WriteFile(PartPath(id), bytes);
  OpenStore();
  status = store_->GetUpload(id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->next_index, 2u);
  ASSERT_TRUE(store_->AppendChunk(id, 2, View(plaintext).subspan(2 * kChunk)).ok());
  auto info = store_->FinishUpload(id);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sha256, crypto::Sha256Of(View(plaintext)));
}

TEST_F(BlobStoreTest, WrongIndexNamesTheExpectedIndex) {
  auto upload = store_->BeginUpload(kChunk);
  ASSERT_TRUE(upload.ok());
  const std::string chunk = RandomBytes(kChunk, 21);
  ASSERT_TRUE(store_->AppendChunk(upload->upload_id, 0, View(chunk)).ok());
  ASSERT_TRUE(store_->AppendChunk(upload->upload_id, 1, View(chunk)).ok());
  for (uint64_t bad : {uint64_t{0}, uint64_t{3}, uint64_t{100}}) {
    auto r = store_->AppendChunk(upload->upload_id, bad, View(chunk));
    ASSERT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << bad;
    EXPECT_NE(r.status().message().find("next expected chunk index is 2"), std::string::npos)
        << r.status().message();
  }
  auto status = store_->GetUpload(upload->upload_id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->next_index, 2u);
}

TEST_F(BlobStoreTest, RetryOfLastChunkIsIdempotentOnlyWithIdenticalBytes) {
  const std::string a = RandomBytes(kChunk, 22);
  const std::string b = RandomBytes(kChunk, 23);
  auto upload = store_->BeginUpload(kChunk);
  ASSERT_TRUE(upload.ok());
  const std::string id = upload->upload_id;
  ASSERT_TRUE(store_->AppendChunk(id, 0, View(a)).ok());
  ASSERT_TRUE(store_->AppendChunk(id, 1, View(b)).ok());
  auto retry = store_->AppendChunk(id, 1, View(b));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(retry->next_index, 2u);
  EXPECT_EQ(retry->bytes_received, 2u * kChunk);

  std::string changed = b;
  changed[500] ^= 1;
  auto differs = store_->AppendChunk(id, 1, View(changed));
  ASSERT_EQ(differs.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(differs.status().message().find("next expected chunk index is 2"), std::string::npos);
  EXPECT_EQ(store_->AppendChunk(id, 1, View(b).subspan(0, 10)).status().code(),
            StatusCode::kFailedPrecondition);

  auto info = store_->FinishUpload(id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->sha256, crypto::Sha256Of(View(a + b)));
  EXPECT_EQ(ReadAll(*info), a + b);
}

TEST_F(BlobStoreTest, BadAppendsAreRejected) {
  EXPECT_EQ(store_->AppendChunk("blb_nosuchupload", 0, {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetUpload("blb_nosuchupload").status().code(), StatusCode::kNotFound);
  auto upload = store_->BeginUpload(kChunk);
  ASSERT_TRUE(upload.ok());
  const std::string id = upload->upload_id;
  const std::string big = RandomBytes(kChunk + 1, 24);
  EXPECT_EQ(store_->AppendChunk(id, 0, View(big)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AppendChunk(id, 0, {}).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->AppendChunk(id, 0, View(big).subspan(0, 100)).ok());  // the last chunk
  auto after = store_->AppendChunk(id, 1, View(big).subspan(0, 100));
  ASSERT_EQ(after.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(after.status().message().find("last chunk"), std::string::npos);
  auto info = store_->FinishUpload(id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 100u);
  EXPECT_EQ(store_->AppendChunk(id, 1, View(big)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->FinishUpload(id).status().code(), StatusCode::kNotFound);
}

TEST_F(BlobStoreTest, ExpectedShaMismatchKeepsTheUploadOpen) {
  const std::string a = RandomBytes(kChunk, 25);
  const std::string b = RandomBytes(kChunk / 2, 26);
  auto upload = store_->BeginUpload(kChunk);
  ASSERT_TRUE(upload.ok());
  const std::string id = upload->upload_id;
  ASSERT_TRUE(store_->AppendChunk(id, 0, View(a)).ok());

  auto wrong = store_->FinishUpload(id, crypto::Sha256Of(View(a + b)));
  ASSERT_EQ(wrong.status().code(), StatusCode::kFailedPrecondition) << wrong.status().ToString();
  EXPECT_NE(wrong.status().message().find(common::HexEncode(crypto::Sha256Of(View(a)))),
            std::string::npos);
  EXPECT_FALSE(fs::exists(BlobPath(id)));
  ASSERT_TRUE(store_->GetUpload(id).ok());

  // Still open: the rest arrives and the running hash covers everything.
  ASSERT_TRUE(store_->AppendChunk(id, 1, View(b)).ok());
  auto info = store_->FinishUpload(id, crypto::Sha256Of(View(a + b)));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(ReadAll(*info), a + b);
}

TEST_F(BlobStoreTest, AbortRemovesThePartFileAndShredsTheKey) {
  auto upload = store_->BeginUpload(kChunk);
  ASSERT_TRUE(upload.ok());
  const std::string id = upload->upload_id;
  ASSERT_TRUE(store_->AppendChunk(id, 0, View(RandomBytes(kChunk, 27))).ok());
  ASSERT_TRUE(fs::exists(PartPath(id)));
  EXPECT_FALSE(keyring().IsShredded(BlobKeyOwner(id)));

  ASSERT_TRUE(store_->AbortUpload(id).ok());
  EXPECT_FALSE(fs::exists(PartPath(id)));
  EXPECT_TRUE(keyring().IsShredded("artifact:" + id));
  EXPECT_EQ(store_->GetUpload(id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->AppendChunk(id, 1, View(RandomBytes(10, 1))).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->AbortUpload(id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->ListUploads().empty());
}

TEST_F(BlobStoreTest, RecoveryRollsBackAnUploadWhoseKeyWasShredded) {
  auto upload = store_->BeginUpload(kChunk);
  ASSERT_TRUE(upload.ok());
  const std::string id = upload->upload_id;
  ASSERT_TRUE(store_->AppendChunk(id, 0, View(RandomBytes(kChunk, 28))).ok());
  store_.reset();
  // A crash between shredding the key and unlinking the part file.
  ASSERT_TRUE(keyring().ShredDataKey(BlobKeyOwner(id)).ok());
  OpenStore();
  EXPECT_FALSE(fs::exists(PartPath(id)));
  EXPECT_TRUE(store_->ListUploads().empty());
}

TEST_F(BlobStoreTest, RecoveryRollsBackATornHeaderAndIgnoresForeignFiles) {
  auto upload = store_->BeginUpload(kChunk);
  ASSERT_TRUE(upload.ok());
  const std::string id = upload->upload_id;
  store_.reset();
  // A crash while the header was written: nothing was acknowledged.
  WriteFile(PartPath(id), "CUSTOSB1\0\0");
  WriteFile(root() + "/uploads/notes.part", "not ours");
  OpenStore();
  EXPECT_FALSE(fs::exists(PartPath(id)));
  EXPECT_TRUE(keyring().IsShredded(BlobKeyOwner(id)));
  EXPECT_TRUE(fs::exists(root() + "/uploads/notes.part"));
  EXPECT_TRUE(store_->ListUploads().empty());
}

TEST_F(BlobStoreTest, ShredBlobMakesItUnreadableForGood) {
  BlobInfo info = Write(RandomBytes(2 * kChunk, 29));
  ASSERT_TRUE(store_->OpenBlob(info).ok());
  ASSERT_TRUE(store_->ShredBlob(info.blob_id).ok());
  EXPECT_TRUE(keyring().IsShredded(BlobKeyOwner(info.blob_id)));
  EXPECT_FALSE(fs::exists(BlobPath(info.blob_id)));
  auto reader = store_->OpenBlob(info);
  EXPECT_EQ(reader.status().code(), StatusCode::kFailedPrecondition) << reader.status().ToString();
  EXPECT_NE(reader.status().message().find("shredded"), std::string::npos);
  EXPECT_TRUE(store_->ShredBlob(info.blob_id).ok());  // idempotent

  EXPECT_EQ(store_->ShredBlob("blb_aaaaaaaaaaaaaaaaaaaaaaaaaa").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ShredBlob("../x").code(), StatusCode::kInvalidArgument);
  auto upload = store_->BeginUpload(kChunk);
  ASSERT_TRUE(upload.ok());
  EXPECT_EQ(store_->ShredBlob(upload->upload_id).code(), StatusCode::kFailedPrecondition);
}

TEST_F(BlobStoreTest, ShredSurvivesARestart) {
  BlobInfo info = Write(RandomBytes(kChunk, 30));
  ASSERT_TRUE(store_->ShredBlob(info.blob_id).ok());
  store_.reset();
  OpenStore();
  EXPECT_EQ(store_->OpenBlob(info).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(BlobStoreTest, ExpireUploadsRollsBackOnlyIdleOnes) {
  options_.upload_idle_timeout = std::chrono::hours(24);
  OpenStore();
  auto idle = store_->BeginUpload(kChunk);
  auto active = store_->BeginUpload(kChunk);
  ASSERT_TRUE(idle.ok() && active.ok());
  clock_.Advance(std::chrono::hours(23));
  ASSERT_TRUE(store_->AppendChunk(active->upload_id, 0, View(RandomBytes(kChunk, 31))).ok());
  auto none = store_->ExpireUploads();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0u);

  clock_.Advance(std::chrono::hours(2));
  auto expired = store_->ExpireUploads();
  ASSERT_TRUE(expired.ok()) << expired.status().ToString();
  EXPECT_EQ(*expired, 1u);
  EXPECT_EQ(store_->GetUpload(idle->upload_id).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(PartPath(idle->upload_id)));
  EXPECT_TRUE(keyring().IsShredded(BlobKeyOwner(idle->upload_id)));
  auto status = store_->GetUpload(active->upload_id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->last_activity, clock_.Now() - std::chrono::hours(2));
}

TEST_F(BlobStoreTest, ReadRangeSpansChunkBoundaries) {
  const std::string plaintext = RandomBytes(3 * kChunk + 100, 32);
  BlobInfo info = Write(plaintext);
  auto reader = store_->OpenBlob(info);
  ASSERT_TRUE(reader.ok());
  struct Case {
    uint64_t offset, length;
  };
  const std::vector<Case> cases = {{0, 1},
                                   {kChunk - 1, 2},
                                   {kChunk - 10, kChunk + 20},
                                   {5, 3 * kChunk + 95},
                                   {3 * kChunk, 100},
                                   {plaintext.size() - 1, 1},
                                   {0, plaintext.size()},
                                   {kChunk, 0}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.offset) + "+" + std::to_string(c.length));
    std::string out;
    int calls = 0;
    Status s = (*reader)->ReadRange(c.offset, c.length, [&](common::ByteView b) {
      out.append(common::AsChars(b));
      ++calls;
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(out, plaintext.substr(c.offset, c.length));
    EXPECT_EQ(calls, c.length == 0 ? 0
                                   : static_cast<int>((c.offset + c.length - 1) / kChunk -
                                                      c.offset / kChunk + 1));
  }
  auto sink = [](common::ByteView) { return Status::Ok(); };
  EXPECT_EQ((*reader)->ReadRange(plaintext.size(), 1, sink).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*reader)->ReadRange(10, plaintext.size(), sink).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*reader)->ReadRange(UINT64_MAX, 2, sink).code(), StatusCode::kInvalidArgument);
  // A sink's error stops the read and is returned as is.
  Status stop = (*reader)->ReadRange(
      0, 2 * kChunk, [](common::ByteView) { return UnavailableError("client went away"); });
  EXPECT_EQ(stop.code(), StatusCode::kUnavailable);
}

TEST_F(BlobStoreTest, PlaintextNeverAppearsOnDisk) {
  const std::string marker = "CUSTOS-PLAINTEXT-MARKER-7f3a91";
  std::string plaintext;
  while (plaintext.size() < 2 * kChunk + 300) plaintext += marker;
  auto upload = store_->BeginUpload(kChunk);
  ASSERT_TRUE(upload.ok());
  const std::string id = upload->upload_id;
  ASSERT_TRUE(store_->AppendChunk(id, 0, View(plaintext).subspan(0, kChunk)).ok());
  const std::string part = ReadFile(PartPath(id));
  EXPECT_GT(part.size(), kChunk);
  EXPECT_EQ(part.find(marker.substr(0, 12)), std::string::npos);
  ASSERT_TRUE(store_->AppendChunk(id, 1, View(plaintext).subspan(kChunk, kChunk)).ok());
  ASSERT_TRUE(store_->AppendChunk(id, 2, View(plaintext).subspan(2 * kChunk)).ok());
  auto info = store_->FinishUpload(id);
  ASSERT_TRUE(info.ok());
  const std::string blob = ReadFile(BlobPath(id));
  EXPECT_EQ(blob.size(), detail::kBlobHeaderSize + plaintext.size() + 3 * crypto::Aead::kOverhead);
  EXPECT_EQ(blob.find(marker.substr(0, 12)), std::string::npos);
  EXPECT_EQ(ReadAll(*info), plaintext);
}

TEST_F(BlobStoreTest, WriteBlobAbortsWhenTheSourceFails) {
  int calls = 0;
  auto info = store_->WriteBlob(
      [&](std::span<uint8_t> buf) -> Result<size_t> {
        if (++calls > 3) return UnavailableError("source disconnected");
        std::fill(buf.begin(), buf.end(), uint8_t{7});
        return buf.size();
      },
      kChunk);
  EXPECT_EQ(info.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(store_->ListUploads().empty());
  EXPECT_TRUE(fs::is_empty(root() + "/uploads"));
  EXPECT_TRUE(fs::is_empty(root() + "/blobs"));
}

TEST_F(BlobStoreTest, DifferentUploadsProceedInParallel) {
  constexpr int kThreads = 4;
  std::vector<std::string> plaintexts;
  for (int t = 0; t < kThreads; ++t) plaintexts.push_back(RandomBytes(5 * kChunk + t, 40 + t));
  std::vector<BlobInfo> infos(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto upload = store_->BeginUpload(kChunk);
      if (!upload.ok()) return void(++failures);
      const std::string& p = plaintexts[t];
      for (uint64_t i = 0; i * kChunk < p.size(); ++i) {
        auto piece = View(p).subspan(i * kChunk, std::min<size_t>(kChunk, p.size() - i * kChunk));
        if (!store_->AppendChunk(upload->upload_id, i, piece).ok()) ++failures;
      }
      auto info = store_->FinishUpload(upload->upload_id, crypto::Sha256Of(View(p)));
      if (!info.ok()) return void(++failures);
      infos[t] = *info;
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(ReadAll(infos[t]), plaintexts[t]);
}

}  // namespace
}  // namespace custos::artifacts
