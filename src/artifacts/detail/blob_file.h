// The blob file format (see artifacts/blob_store.h for the layout) and the POSIX file
// plumbing under it: header encode/decode, record offsets and sizes, per-chunk associated
// data, and an owning fd with full-length pread/pwrite that report the path on failure.
// Thread-safety: free functions are pure; a File is one fd, and pread/pwrite on it are safe
// from several threads (positioned I/O), but moving/closing it is not.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/aead.h"

namespace custos::artifacts::detail {

inline constexpr std::string_view kBlobMagic = "CUSTOSB1";
inline constexpr uint32_t kBlobFormatVersion = 1;
inline constexpr uint64_t kBlobHeaderSize = 64;
inline constexpr size_t kMaxBlobIdSize = 44;  // header space left for the id
inline constexpr uint64_t kRecordOverhead = crypto::Aead::kOverhead;

struct BlobHeader {
  std::string blob_id;
  uint32_t chunk_size = 0;
};

// Exactly kBlobHeaderSize bytes. The id must be at most kMaxBlobIdSize bytes.
std::string EncodeHeader(const BlobHeader& header);
// DataLoss naming `path` when the bytes are not a header this build understands.
Result<BlobHeader> DecodeHeader(std::string_view bytes, const std::string& path);

// Where record `index` starts (every earlier record holds a full chunk).
inline uint64_t RecordOffset(uint32_t chunk_size, uint64_t index) {
  return kBlobHeaderSize + index * (uint64_t{chunk_size} + kRecordOverhead);
}
// Plaintext bytes in chunk `index` of a blob of `size` bytes (index < chunk count).
inline uint64_t ChunkPlainSize(uint64_t size, uint32_t chunk_size, uint64_t index) {
  uint64_t start = index * chunk_size;
  return size - start < chunk_size ? size - start : chunk_size;
}
inline uint64_t ChunkCount(uint64_t size, uint32_t chunk_size) {
  return (size + chunk_size - 1) / chunk_size;
}
// The exact file size of a finished blob.
inline uint64_t BlobFileSize(uint64_t size, uint32_t chunk_size) {
  return kBlobHeaderSize + size + ChunkCount(size, chunk_size) * kRecordOverhead;
}

// Associated data binding record `index` to its blob and position:
// "custos-artifact-chunk-v1" | u32 length + blob id | u64 index (big-endian).
// Writes into `out` (replacing it) so hot loops reuse one buffer.
void ChunkAssociatedData(std::string_view blob_id, uint64_t index, std::string& out);

// An owned file descriptor; closed on destruction.
class File {
 public:
  File() = default;
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  ~File();

  // flags as for open(2); O_CLOEXEC is always added.
  static Result<File> Open(const std::string& path, int flags, unsigned mode = 0600);

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  bool is_open() const { return fd_ >= 0; }
  // Hands the fd to the caller, who then owns it.
  int Release();

  // Full-length positioned I/O (loops over short transfers). ReadAt fails with DataLoss
  // if the file ends first.
  Status ReadAt(uint64_t offset, void* buf, size_t len) const;
  Status WriteAt(uint64_t offset, const void* buf, size_t len) const;
  Result<uint64_t> Size() const;
  Status Truncate(uint64_t size) const;
  Status DataSync() const;
  Status Close();

 private:
  int fd_ = -1;
  std::string path_;
};

// Starts writeback of written file ranges on one background thread, so a writer never waits
// for the disk while the disk still works during an upload (leaving little for the final
// fdatasync). Hints only: durability comes from fdatasync. Each queued range holds a dup of
// the fd, so the writer may close or rename its file at any time. When the queue is full,
// hints are dropped rather than blocking the writer. Safe for concurrent use.
class WritebackQueue {
 public:
  static constexpr size_t kMaxQueued = 64;
  WritebackQueue();
  ~WritebackQueue();  // drains the queue (without syncing) and joins the thread
  WritebackQueue(const WritebackQueue&) = delete;
  WritebackQueue& operator=(const WritebackQueue&) = delete;

  void Enqueue(int fd, uint64_t offset, uint64_t length);

 private:
  struct Range {
    int fd;
    uint64_t offset;
    uint64_t length;
  };
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Range> queue_;  // guarded by mu_
  bool stop_ = false;        // guarded by mu_
  std::thread thread_;
};

// fsyncs a directory so a rename or unlink inside it is durable.
Status SyncDir(const std::string& dir);

// "<what> '<path>': <strerror(err)>" as an error of a code fitting errno.
Status ErrnoError(int err, std::string_view what, const std::string& path);

}  // namespace custos::artifacts::detail
