// The blob file format and its POSIX file plumbing.
#include "artifacts/detail/blob_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "common/binary_io.h"

namespace custos::artifacts::detail {

namespace {

constexpr std::string_view kChunkAdLabel = "custos-artifact-chunk-v1";

void PutU32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

std::string EncodeHeader(const BlobHeader& header) {
  std::string out;
  out.reserve(kBlobHeaderSize);
  out.append(kBlobMagic);
  PutU32(out, kBlobFormatVersion);
  PutU32(out, header.chunk_size);
  PutU32(out, static_cast<uint32_t>(header.blob_id.size()));
  out.append(header.blob_id);
  out.resize(kBlobHeaderSize, '\0');
  return out;
}

Result<BlobHeader> DecodeHeader(std::string_view bytes, const std::string& path) {
  if (bytes.size() != kBlobHeaderSize) {
    return DataLossError("blob file '" + path + "': header is " + std::to_string(bytes.size()) +
                         " bytes, expected " + std::to_string(kBlobHeaderSize) +
                         "; the file is truncated or not a custos blob");
  }
  if (bytes.substr(0, kBlobMagic.size()) != kBlobMagic) {
    return DataLossError("blob file '" + path + "': bad magic (expected \"CUSTOSB1\"); the file " +
                         "is not a custos blob or its header was overwritten");
  }
  common::ByteReader reader(bytes.substr(kBlobMagic.size()), "blob file '" + path + "' header");
  CUSTOS_ASSIGN_OR_RETURN(uint32_t version, reader.U32());
  if (version != kBlobFormatVersion) {
    return DataLossError("blob file '" + path + "': format version " + std::to_string(version) +
                         " is not supported (this build reads version " +
                         std::to_string(kBlobFormatVersion) + "); upgrade custos to read it");
  }
  BlobHeader header;
  CUSTOS_ASSIGN_OR_RETURN(header.chunk_size, reader.U32());
  CUSTOS_ASSIGN_OR_RETURN(uint32_t id_size, reader.U32());
  if (id_size == 0 || id_size > kMaxBlobIdSize) {
    return DataLossError("blob file '" + path + "': header blob id length " +
                         std::to_string(id_size) + " is outside [1, " +
                         std::to_string(kMaxBlobIdSize) + "]; the header is corrupt");
  }
  const size_t id_at = kBlobMagic.size() + 12;
  header.blob_id = std::string(bytes.substr(id_at, id_size));
  for (char c : bytes.substr(id_at + id_size)) {
    if (c != '\0') {
      return DataLossError("blob file '" + path +
                           "': header padding after the blob id is not zero; the header is "
                           "corrupt");
    }
  }
  return header;
}

void ChunkAssociatedData(std::string_view blob_id, uint64_t index, std::string& out) {
  out.clear();
  out.append(kChunkAdLabel);
  PutU32(out, static_cast<uint32_t>(blob_id.size()));
  out.append(blob_id);
  PutU64(out, index);
}

Status ErrnoError(int err, std::string_view what, const std::string& path) {
  std::string message = std::string(what) + " '" + path + "': " + ::strerror(err);
  switch (err) {
    case ENOENT:
      return NotFoundError(std::move(message));
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
      return ResourceExhaustedError(std::move(message) + "; free disk space or file handles");
    case EACCES:
    case EPERM:
    case EROFS:
      return FailedPreconditionError(std::move(message) +
                                     "; check the permissions of the artifacts directory");
    case EIO:
      return DataLossError(std::move(message) + "; the disk reported an I/O error");
    default:
      return InternalError(std::move(message));
  }
}

File::File(File&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

Result<File> File::Open(const std::string& path, int flags, unsigned mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return ErrnoError(errno, "cannot open", path);
  return File(fd, path);
}

int File::Release() { return std::exchange(fd_, -1); }

Status File::ReadAt(uint64_t offset, void* buf, size_t len) const {
  auto* p = static_cast<uint8_t*>(buf);
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd_, p + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "cannot read", path_);
    }
    if (n == 0) {
      return DataLossError("blob file '" + path_ + "' ends at byte " +
                           std::to_string(offset + done) + " but " + std::to_string(len - done) +
                           " more bytes were expected there; " + "the file is truncated");
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status File::WriteAt(uint64_t offset, const void* buf, size_t len) const {
  const auto* p = static_cast<const uint8_t*>(buf);
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pwrite(fd_, p + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "cannot write", path_);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<uint64_t> File::Size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return ErrnoError(errno, "cannot stat", path_);
  return static_cast<uint64_t>(st.st_size);
}

Status File::Truncate(uint64_t size) const {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return ErrnoError(errno, "cannot truncate", path_);
  }
  return Status::Ok();
}

Status File::DataSync() const {
  if (::fdatasync(fd_) != 0) return ErrnoError(errno, "cannot fdatasync", path_);
  return Status::Ok();
}

Status File::Close() {
  if (fd_ < 0) return Status::Ok();
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return ErrnoError(errno, "cannot close", path_);
  return Status::Ok();
}

WritebackQueue::WritebackQueue() : thread_([this] { Run(); }) {}

WritebackQueue::~WritebackQueue() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  for (const Range& r : queue_) ::close(r.fd);
}

void WritebackQueue::Enqueue(int fd, uint64_t offset, uint64_t length) {
  std::unique_lock lock(mu_);
  if (stop_ || queue_.size() >= kMaxQueued) return;
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return;
  queue_.push_back({dup, offset, length});
  lock.unlock();
  cv_.notify_one();
}

void WritebackQueue::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    Range r = queue_.front();
    queue_.pop_front();
    lock.unlock();
#ifdef __linux__
    // May block while the device queue is full: that is the point of doing it here.
    (void)::sync_file_range(r.fd, static_cast<off64_t>(r.offset), static_cast<off64_t>(r.length),
                            SYNC_FILE_RANGE_WRITE);
#endif
    ::close(r.fd);
    lock.lock();
  }
}

Status SyncDir(const std::string& dir) {
  CUSTOS_ASSIGN_OR_RETURN(File f, File::Open(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(f.fd()) != 0) return ErrnoError(errno, "cannot fsync directory", dir);
  return f.Close();
}

}  // namespace custos::artifacts::detail
