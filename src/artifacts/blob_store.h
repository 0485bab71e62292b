// BlobStore: the vault's encrypted, chunked blob files and the resumable uploads that
// produce them. Each blob is sealed chunk by chunk under its own data key (keyring owner
// "artifact:<blob_id>"), so one blob is crypto-shredded by destroying one DEK, and memory
// stays O(chunk_size) however large the blob is.
//
// On-disk layout under root:
//   blobs/<blob_id>.blob      finished blobs (read-only from here on)
//   uploads/<blob_id>.part    uploads in progress (never readable as a blob)
//
// File format (a finished blob and a part file are the same format; integers big-endian):
//   header, kBlobHeaderSize = 64 bytes:
//     magic "CUSTOSB1" (8) | format version u32 (= 1) | chunk size u32 |
//     blob id length u32 | blob id (ASCII, zero-padded to 44 bytes)
//   then one record per chunk i = 0, 1, ...:
//     nonce (12) | AES-256-GCM ciphertext (chunk bytes) | tag (16)   (crypto::Aead sealed form)
//   Every chunk but the last holds exactly chunk_size plaintext bytes, so record i starts at
//   kBlobHeaderSize + i * (chunk_size + crypto::Aead::kOverhead).
//   Associated data of record i: "custos-artifact-chunk-v1" | u32 length + blob id | u64 i,
//   so a record moved to another position or into another blob fails authentication.
//   Truncation at a record boundary authenticates record by record; it is caught by
//   comparing the file size with BlobInfo (which the vault keeps sealed in its metadata).
//
// Performance: a chunk of 1 MiB or more is hashed on a helper thread while the caller seals
// and writes it, and BlobReader::CopyTo reads and decrypts chunk i+1 while the sink takes
// chunk i; with sync on, a background thread starts writeback of each record as it is
// written (sync_file_range), so FinishUpload's fdatasync finds little left to do.
//
// Thread-safety: a BlobStore is safe for concurrent use. Each upload has its own lock, so
// different uploads proceed in parallel; calls on the same upload are serialized. A
// BlobReader is for one thread at a time (open one reader per thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/hash.h"
#include "crypto/keyring.h"

namespace custos::artifacts {

namespace detail {
class WritebackQueue;
}

inline constexpr uint32_t kDefaultChunkSize = 4u << 20;  // 4 MiB
inline constexpr uint32_t kMinChunkSize = 64u << 10;     // 64 KiB
inline constexpr uint32_t kMaxChunkSize = 64u << 20;     // 64 MiB

// What identifies a finished blob's bytes; the vault stores it (sealed) in its metadata.
struct BlobInfo {
  std::string blob_id;  // "blb_..." (common::NewId("blb"))
  uint64_t size = 0;    // plaintext bytes
  uint32_t chunk_size = 0;
  uint64_t chunks = 0;      // ceil(size / chunk_size); 0 for an empty blob
  crypto::Digest sha256{};  // SHA-256 of the whole plaintext: the content address

  friend bool operator==(const BlobInfo&, const BlobInfo&) = default;
};

struct UploadStatus {
  std::string upload_id;  // == the blob id
  uint32_t chunk_size = 0;
  uint64_t next_index = 0;  // chunks received so far (the index to send next)
  uint64_t bytes_received = 0;
  common::TimePoint last_activity{};
};

struct BlobStoreOptions {
  // Uploads idle this long are rolled back by ExpireUploads (part file removed, DEK
  // shredded). Default 24 hours.
  std::chrono::seconds upload_idle_timeout = std::chrono::hours(24);
  // fdatasync a finished blob (and its directory) before FinishUpload returns. Default true.
  bool sync = true;
};

// The keyring owner of a blob's data key: "artifact:<blob_id>".
std::string BlobKeyOwner(std::string_view blob_id);

class BlobReader;  // reads one finished blob, chunk by chunk (constant memory)

class BlobStore {
 public:
  // root: a directory (created if missing, with blobs/ and uploads/ inside), normally
  // <data_dir>/artifacts. Each blob is sealed under its own DEK: keyring owner
  // "artifact:<blob_id>". On open, part files of interrupted uploads are recovered (a torn
  // trailing record is cut off; the running SHA-256 is recomputed by decrypting); a part
  // file whose header is torn, or whose key is already shredded (an interrupted rollback),
  // is rolled back; files in uploads/ not named "blb_*.part" are left alone. An upload
  // recovered this way counts as last active at its file's modification time.
  // `keyring` and `clock` must outlive the store.
  static Result<std::unique_ptr<BlobStore>> Open(std::string root, crypto::Keyring& keyring,
                                                 const common::Clock& clock,
                                                 BlobStoreOptions options = {});
  ~BlobStore();
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  // A new upload (its id is the future blob id). chunk_size in [kMinChunkSize,
  // kMaxChunkSize]; InvalidArgument otherwise.
  Result<UploadStatus> BeginUpload(uint32_t chunk_size = kDefaultChunkSize);
  // Appends chunk `index`. Every chunk but the last must be exactly chunk_size bytes; a
  // chunk shorter than chunk_size is the last one (after it, further appends fail with
  // FailedPrecondition). Resuming: index must equal next_index; re-sending the chunk just
  // before next_index is accepted if its bytes are identical (idempotent retry) and
  // otherwise FailedPrecondition naming the expected index. NotFound for unknown ids.
  Result<UploadStatus> AppendChunk(std::string_view upload_id, uint64_t index,
                                   common::ByteView data);
  Result<UploadStatus> GetUpload(std::string_view upload_id);
  // Every open upload, ordered by id.
  std::vector<UploadStatus> ListUploads();
  // Seals the upload into a blob: syncs, moves the part file into blobs/, returns its info.
  // When expected_sha256 is given and differs, FailedPrecondition (the upload stays open).
  // An unfinished upload is never readable as a blob.
  Result<BlobInfo> FinishUpload(std::string_view upload_id,
                                std::optional<crypto::Digest> expected_sha256 = std::nullopt);
  // Rolls an upload back: removes the part file and shreds its DEK. NotFound for unknown ids.
  Status AbortUpload(std::string_view upload_id);
  // Rolls back every upload idle longer than options.upload_idle_timeout; returns how many.
  Result<size_t> ExpireUploads();
  // Opens a finished blob for reading. DataLoss if the file's size/header disagree with
  // info. FailedPrecondition if the blob was shredded; NotFound if there is no such file.
  Result<std::unique_ptr<BlobReader>> OpenBlob(const BlobInfo& info);
  // Crypto-shreds a blob: shreds its DEK first, then unlinks its file. Idempotent.
  Status ShredBlob(std::string_view blob_id);
  // Convenience for CLI/bench/tests: streams `read(buf)` (returns bytes read, 0 at end,
  // or an error) through an upload in chunk_size pieces and finishes it. On error the
  // upload is aborted.
  Result<BlobInfo> WriteBlob(const std::function<Result<size_t>(std::span<uint8_t>)>& read,
                             uint32_t chunk_size = kDefaultChunkSize);
  const std::string& root() const { return root_; }

 private:
  struct Upload;
  BlobStore(std::string root, crypto::Keyring& keyring, const common::Clock& clock,
            BlobStoreOptions options);
  Status Recover();
  Result<std::shared_ptr<Upload>> FindUpload(std::string_view upload_id);
  Status RollBack(const std::shared_ptr<Upload>& upload);
  std::string PartPath(std::string_view id) const;
  std::string BlobPath(std::string_view id) const;

  const std::string root_;
  crypto::Keyring& keyring_;
  const common::Clock& clock_;
  const BlobStoreOptions options_;

  // Starts writeback of appended records early when options.sync (nullptr otherwise).
  std::unique_ptr<detail::WritebackQueue> writeback_;
  // Guards uploads_ (the map only; each Upload has its own mutex).
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Upload>, std::less<>> uploads_;
};

class BlobReader {
 public:
  ~BlobReader();
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;

  const BlobInfo& info() const { return info_; }
  // Decrypts chunk `index` into `out` (replacing its contents). DataLoss naming the chunk
  // index, its plaintext byte range and the file path when authentication fails;
  // InvalidArgument for an index past the last chunk.
  Status ReadChunk(uint64_t index, std::string& out);
  // Every chunk in order to `sink`; stops at the first error (sink's or DataLoss).
  Status CopyTo(const std::function<Status(common::ByteView)>& sink);
  // Plaintext bytes [offset, offset+length) (range requests); InvalidArgument past the end.
  Status ReadRange(uint64_t offset, uint64_t length,
                   const std::function<Status(common::ByteView)>& sink);

 private:
  friend class BlobStore;
  BlobReader(BlobInfo info, std::string path, int fd, std::shared_ptr<const crypto::DataKey> key);
  Status ReadRecord(uint64_t index, std::string& sealed);
  Status OpenRecord(uint64_t index, const std::string& sealed, std::string& out);

  BlobInfo info_;
  std::string path_;
  int fd_ = -1;
  std::shared_ptr<const crypto::DataKey> key_;
  std::string sealed_;  // reused record buffer
};

}  // namespace custos::artifacts
