// BlobStore and BlobReader: uploads sealed chunk by chunk into part files, finished blobs
// moved into blobs/, reads decrypting one record at a time.
#include "artifacts/blob_store.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <system_error>
#include <utility>

#include "artifacts/detail/blob_file.h"
#include "common/ids.h"

namespace custos::artifacts {

namespace fs = std::filesystem;
using detail::File;

namespace {

constexpr std::string_view kBlobsDir = "blobs";
constexpr std::string_view kUploadsDir = "uploads";
constexpr std::string_view kPartSuffix = ".part";
constexpr std::string_view kBlobSuffix = ".blob";

// Chunks at least this large are hashed (upload) or read ahead (download) on a helper
// thread beside the caller's work: on two cores a chunk then costs about the larger of the
// two halves rather than their sum, and the thread start (tens of microseconds) is small
// against a millisecond of work. Smaller chunks are done inline.
constexpr size_t kOverlapMinBytes = 1u << 20;

// Runs `fn` on a new thread, or returns an invalid future if no thread could be started
// (the caller then runs it inline).
template <typename Fn>
std::future<void> StartHelper(Fn&& fn) {
  try {
    return std::async(std::launch::async, std::forward<Fn>(fn));
  } catch (const std::system_error&) {
    return {};
  }
}

Status CheckChunkSize(uint32_t chunk_size) {
  if (chunk_size < kMinChunkSize || chunk_size > kMaxChunkSize) {
    return InvalidArgumentError(
        "chunk size " + std::to_string(chunk_size) + " is outside the allowed range [" +
        std::to_string(kMinChunkSize) + ", " + std::to_string(kMaxChunkSize) +
        "] bytes; pick one in range " + "(default " + std::to_string(kDefaultChunkSize) + ")");
  }
  return Status::Ok();
}

Status MakeDir(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) {
    return FailedPreconditionError("cannot create directory '" + path + "': " + ec.message() +
                                   "; check that the parent exists and is writable");
  }
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::replace, ec);
  return Status::Ok();
}

Status Unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return detail::ErrnoError(errno, "cannot remove", path);
  }
  return Status::Ok();
}

common::TimePoint ModificationTime(const File& file, common::TimePoint now) {
  struct stat st;
  if (::fstat(file.fd(), &st) != 0) return now;
  auto t = common::FromUnixMicros(static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000 +
                                  st.st_mtim.tv_nsec / 1000);
  return std::min(t, now);
}

// For a call that waited on an upload's lock while another call finished or rolled it back.
Status GoneError(const std::string& upload_id) {
  return NotFoundError("upload '" + upload_id +
                       "' was finished or rolled back while this call waited; begin a new upload");
}

std::string ChunkRange(uint64_t index, uint32_t chunk_size, uint64_t plain_size) {
  const uint64_t start = index * chunk_size;
  return "[" + std::to_string(start) + ", " + std::to_string(start + plain_size) + ")";
}

}  // namespace

std::string BlobKeyOwner(std::string_view blob_id) { return "artifact:" + std::string(blob_id); }

// One upload in progress. Fields below `mu` are guarded by it.
struct BlobStore::Upload {
  explicit Upload(std::string upload_id) : id(std::move(upload_id)) {}

  const std::string id;
  std::mutex mu;
  uint32_t chunk_size = 0;
  uint64_t next_index = 0;
  uint64_t bytes = 0;
  // The last chunk (shorter than chunk_size) was received: only FinishUpload may follow.
  bool closed = false;
  // Finished or rolled back: the object is unreachable from uploads_ and must not be used.
  bool gone = false;
  common::TimePoint last_activity{};
  crypto::Sha256 hash;  // over bytes [0, bytes)
  std::shared_ptr<const crypto::DataKey> key;
  File file;
  std::string sealed;  // reused record buffer
  std::string ad;      // reused associated-data buffer

  UploadStatus Status() const {
    return UploadStatus{id, chunk_size, next_index, bytes, last_activity};
  }
};

namespace {

// Reads and opens records 0.. of an upload's part file, feeding their plaintext to
// `on_chunk`, and stops at the first record that is absent, torn or fails to open: that is
// where a crash cut the upload off. Returns how many records are intact, the plaintext byte
// count and whether the last intact record was a short (final) chunk.
struct ScanResult {
  uint64_t records = 0;
  uint64_t bytes = 0;
  bool closed = false;
  uint64_t valid_end = detail::kBlobHeaderSize;
};

Result<ScanResult> ScanPart(const File& file, std::string_view id, uint32_t chunk_size,
                            const crypto::Aead& aead,
                            const std::function<void(common::ByteView)>& on_chunk) {
  CUSTOS_ASSIGN_OR_RETURN(uint64_t file_size, file.Size());
  ScanResult scan;
  std::string sealed;
  std::string ad;
  std::string plain;
  const uint64_t full_record = uint64_t{chunk_size} + detail::kRecordOverhead;
  while (scan.valid_end < file_size) {
    const uint64_t left = file_size - scan.valid_end;
    const uint64_t record = std::min(left, full_record);
    if (record <= detail::kRecordOverhead) break;  // too short to hold a chunk: torn
    sealed.resize(record);
    CUSTOS_RETURN_IF_ERROR(file.ReadAt(scan.valid_end, sealed.data(), sealed.size()));
    detail::ChunkAssociatedData(id, scan.records, ad);
    plain.clear();
    if (!aead.OpenTo(common::AsBytes(sealed), common::AsBytes(ad), plain).ok()) break;
    on_chunk(common::AsBytes(plain));
    ++scan.records;
    scan.bytes += plain.size();
    scan.valid_end += record;
    if (record < full_record) {
      scan.closed = true;
      break;
    }
  }
  return scan;
}

}  // namespace

BlobStore::BlobStore(std::string root, crypto::Keyring& keyring, const common::Clock& clock,
                     BlobStoreOptions options)
    : root_(std::move(root)),
      keyring_(keyring),
      clock_(clock),
      options_(options),
      writeback_(options.sync ? std::make_unique<detail::WritebackQueue>() : nullptr) {}

BlobStore::~BlobStore() = default;

Result<std::unique_ptr<BlobStore>> BlobStore::Open(std::string root, crypto::Keyring& keyring,
                                                   const common::Clock& clock,
                                                   BlobStoreOptions options) {
  if (root.empty()) {
    return InvalidArgumentError(
        "blob store root is empty; pass a directory such as "
        "<data_dir>/artifacts");
  }
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  CUSTOS_RETURN_IF_ERROR(MakeDir(root + "/" + std::string(kBlobsDir)));
  CUSTOS_RETURN_IF_ERROR(MakeDir(root + "/" + std::string(kUploadsDir)));
  std::unique_ptr<BlobStore> store(new BlobStore(std::move(root), keyring, clock, options));
  CUSTOS_RETURN_IF_ERROR(store->Recover());
  return store;
}

std::string BlobStore::PartPath(std::string_view id) const {
  return root_ + "/" + std::string(kUploadsDir) + "/" + std::string(id) + std::string(kPartSuffix);
}

std::string BlobStore::BlobPath(std::string_view id) const {
  return root_ + "/" + std::string(kBlobsDir) + "/" + std::string(id) + std::string(kBlobSuffix);
}

Status BlobStore::Recover() {
  const std::string dir = root_ + "/" + std::string(kUploadsDir);
  std::error_code ec;
  std::vector<std::string> ids;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= kPartSuffix.size() || !name.ends_with(kPartSuffix)) continue;
    ids.push_back(name.substr(0, name.size() - kPartSuffix.size()));
  }
  if (ec) {
    return FailedPreconditionError("cannot list uploads directory '" + dir + "': " + ec.message());
  }
  const common::TimePoint now = clock_.Now();
  for (const std::string& id : ids) {
    // Files not named after an upload id are not ours: leave them alone.
    if (!common::ValidateId(id, "blb").ok()) continue;
    const std::string path = PartPath(id);
    Result<std::shared_ptr<const crypto::DataKey>> key = keyring_.GetDataKey(BlobKeyOwner(id));
    if (!key.ok() && key.status().code() != StatusCode::kNotFound) return key.status();
    CUSTOS_ASSIGN_OR_RETURN(File file, File::Open(path, O_RDWR));
    std::string header_bytes(detail::kBlobHeaderSize, '\0');
    Status header_read = file.ReadAt(0, header_bytes.data(), header_bytes.size());
    Result<detail::BlobHeader> header =
        header_read.ok() ? detail::DecodeHeader(header_bytes, path) : header_read;
    const bool header_usable =
        header.ok() && header->blob_id == id && CheckChunkSize(header->chunk_size).ok();
    if (!key.ok() || !header_usable) {
      // Either the upload was being rolled back (its key is already shredded) or the crash
      // hit while the header was written, before any chunk was acknowledged (a header that
      // names another upload or an impossible chunk size is no better): roll it back.
      CUSTOS_RETURN_IF_ERROR(file.Close());
      if (key.ok()) CUSTOS_RETURN_IF_ERROR(keyring_.ShredDataKey(BlobKeyOwner(id)));
      CUSTOS_RETURN_IF_ERROR(Unlink(path));
      continue;
    }
    auto upload = std::make_shared<Upload>(id);
    upload->chunk_size = header->chunk_size;
    upload->key = std::move(*key);
    CUSTOS_ASSIGN_OR_RETURN(ScanResult scan,
                            ScanPart(file, id, header->chunk_size, upload->key->aead(),
                                     [&](common::ByteView chunk) { upload->hash.Update(chunk); }));
    CUSTOS_ASSIGN_OR_RETURN(uint64_t file_size, file.Size());
    if (scan.valid_end < file_size) {
      // A torn trailing record (the crash hit mid-write), never acknowledged: cut it off.
      CUSTOS_RETURN_IF_ERROR(file.Truncate(scan.valid_end));
      CUSTOS_RETURN_IF_ERROR(file.DataSync());
    }
    upload->next_index = scan.records;
    upload->bytes = scan.bytes;
    upload->closed = scan.closed;
    upload->last_activity = ModificationTime(file, now);
    upload->file = std::move(file);
    uploads_.emplace(id, std::move(upload));
  }
  return Status::Ok();
}

Result<UploadStatus> BlobStore::BeginUpload(uint32_t chunk_size) {
  CUSTOS_RETURN_IF_ERROR(CheckChunkSize(chunk_size));
  auto upload = std::make_shared<Upload>(common::NewId("blb"));
  upload->chunk_size = chunk_size;
  CUSTOS_ASSIGN_OR_RETURN(upload->key, keyring_.GetOrCreateDataKey(BlobKeyOwner(upload->id)));
  CUSTOS_ASSIGN_OR_RETURN(upload->file,
                          File::Open(PartPath(upload->id), O_RDWR | O_CREAT | O_EXCL));
  const std::string header = detail::EncodeHeader({upload->id, chunk_size});
  Status written = upload->file.WriteAt(0, header.data(), header.size());
  if (!written.ok()) {
    (void)upload->file.Close();
    (void)Unlink(PartPath(upload->id));
    (void)keyring_.ShredDataKey(BlobKeyOwner(upload->id));
    return written;
  }
  upload->last_activity = clock_.Now();
  UploadStatus status = upload->Status();
  std::lock_guard lock(mu_);
  uploads_.emplace(upload->id, std::move(upload));
  return status;
}

Result<std::shared_ptr<BlobStore::Upload>> BlobStore::FindUpload(std::string_view upload_id) {
  std::lock_guard lock(mu_);
  auto it = uploads_.find(upload_id);
  if (it == uploads_.end()) {
    return NotFoundError("no open upload '" + std::string(upload_id) +
                         "'; it was finished, aborted or expired, or never begun — begin a "
                         "new upload");
  }
  return it->second;
}

Result<UploadStatus> BlobStore::AppendChunk(std::string_view upload_id, uint64_t index,
                                            common::ByteView data) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<Upload> upload, FindUpload(upload_id));
  std::lock_guard lock(upload->mu);
  if (upload->gone) return GoneError(upload->id);
  const std::string where = "upload '" + upload->id + "' chunk " + std::to_string(index);
  if (data.size() > upload->chunk_size) {
    return InvalidArgumentError(where + " is " + std::to_string(data.size()) +
                                " bytes, more than the upload's chunk size " +
                                std::to_string(upload->chunk_size) +
                                "; split the data into chunk-size pieces");
  }
  if (upload->next_index > 0 && index == upload->next_index - 1) {
    // An idempotent retry of the chunk just received (its acknowledgement may have been
    // lost): accept it only if it is byte-for-byte the chunk stored.
    const uint64_t stored = upload->bytes - index * upload->chunk_size;
    bool same = stored == data.size();
    if (same) {
      upload->sealed.resize(stored + detail::kRecordOverhead);
      CUSTOS_RETURN_IF_ERROR(upload->file.ReadAt(detail::RecordOffset(upload->chunk_size, index),
                                                 upload->sealed.data(), upload->sealed.size()));
      detail::ChunkAssociatedData(upload->id, index, upload->ad);
      std::string plain;
      Status opened = upload->key->aead().OpenTo(common::AsBytes(upload->sealed),
                                                 common::AsBytes(upload->ad), plain);
      if (!opened.ok()) {
        return DataLossError(where + " in '" + upload->file.path() +
                             "' failed authentication on re-read: the part file was tampered "
                             "with or corrupted; abort the upload and start again");
      }
      same = ::memcmp(plain.data(), data.data(), data.size()) == 0;
    }
    if (!same) {
      return FailedPreconditionError(where + " was already received with different bytes; " +
                                     "the next expected chunk index is " +
                                     std::to_string(upload->next_index) +
                                     " (resume from there, or abort the upload)");
    }
    upload->last_activity = clock_.Now();
    return upload->Status();
  }
  if (upload->closed) {
    return FailedPreconditionError(where + ": the upload already received its last chunk (chunk " +
                                   std::to_string(upload->next_index - 1) +
                                   " was shorter than the chunk size " +
                                   std::to_string(upload->chunk_size) + "); call FinishUpload");
  }
  if (index != upload->next_index) {
    return FailedPreconditionError(where + " is out of order: the next expected chunk index is " +
                                   std::to_string(upload->next_index) + "; resume from there");
  }
  if (data.empty()) {
    return InvalidArgumentError(where + " is empty; a chunk holds at least one byte (an empty " +
                                "or chunk-aligned blob needs no empty chunk: call FinishUpload)");
  }
  // The running hash advances beside sealing and writing (both hold only this upload's lock).
  std::future<void> hashed;
  if (data.size() >= kOverlapMinBytes) {
    hashed = StartHelper([&upload, data] { upload->hash.Update(data); });
  }
  detail::ChunkAssociatedData(upload->id, index, upload->ad);
  upload->sealed.clear();
  upload->key->aead().SealTo(data, common::AsBytes(upload->ad), upload->sealed);
  const uint64_t offset = detail::RecordOffset(upload->chunk_size, index);
  Status written = upload->file.WriteAt(offset, upload->sealed.data(), upload->sealed.size());
  if (hashed.valid()) {
    hashed.wait();
  } else {
    upload->hash.Update(data);
  }
  if (!written.ok()) {
    // Leave no partial record behind, so a retry of this index starts clean, and make the
    // running hash cover only the chunks stored again.
    (void)upload->file.Truncate(offset);
    upload->hash.Finish();
    (void)ScanPart(upload->file, upload->id, upload->chunk_size, upload->key->aead(),
                   [&](common::ByteView c) { upload->hash.Update(c); });
    return written;
  }
  if (writeback_) writeback_->Enqueue(upload->file.fd(), offset, upload->sealed.size());
  upload->next_index = index + 1;
  upload->bytes += data.size();
  upload->closed = data.size() < upload->chunk_size;
  upload->last_activity = clock_.Now();
  return upload->Status();
}

Result<UploadStatus> BlobStore::GetUpload(std::string_view upload_id) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<Upload> upload, FindUpload(upload_id));
  std::lock_guard lock(upload->mu);
  if (upload->gone) return GoneError(upload->id);
  return upload->Status();
}

std::vector<UploadStatus> BlobStore::ListUploads() {
  std::vector<std::shared_ptr<Upload>> snapshot;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, upload] : uploads_) snapshot.push_back(upload);
  }
  std::vector<UploadStatus> out;
  for (const auto& upload : snapshot) {
    std::lock_guard lock(upload->mu);
    if (!upload->gone) out.push_back(upload->Status());
  }
  return out;
}

Result<BlobInfo> BlobStore::FinishUpload(std::string_view upload_id,
                                         std::optional<crypto::Digest> expected_sha256) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<Upload> upload, FindUpload(upload_id));
  std::lock_guard lock(upload->mu);
  if (upload->gone) return GoneError(upload->id);
  BlobInfo info;
  info.blob_id = upload->id;
  info.size = upload->bytes;
  info.chunk_size = upload->chunk_size;
  info.chunks = upload->next_index;
  info.sha256 = upload->hash.Finish();  // resets the hash; rebuilt below if we stay open
  if (expected_sha256 && *expected_sha256 != info.sha256) {
    // The upload stays open, so the running hash must again cover what was received.
    CUSTOS_ASSIGN_OR_RETURN(
        ScanResult scan, ScanPart(upload->file, upload->id, upload->chunk_size, upload->key->aead(),
                                  [&](common::ByteView c) { upload->hash.Update(c); }));
    if (scan.records != upload->next_index || scan.bytes != upload->bytes) {
      return DataLossError("upload '" + upload->id + "' part file '" + upload->file.path() +
                           "' holds " + std::to_string(scan.records) + " intact chunks but " +
                           std::to_string(upload->next_index) +
                           " were acknowledged: it was tampered with or corrupted; abort the "
                           "upload and start again");
    }
    return FailedPreconditionError(
        "upload '" + upload->id + "': the SHA-256 of the " + std::to_string(upload->bytes) +
        " bytes received is " + common::HexEncode(info.sha256) + ", not the expected " +
        common::HexEncode(*expected_sha256) +
        "; the upload stays open: re-send from the first wrong chunk or abort it");
  }
  if (options_.sync) CUSTOS_RETURN_IF_ERROR(upload->file.DataSync());
  const std::string part = upload->file.path();
  const std::string blob = BlobPath(upload->id);
  if (::rename(part.c_str(), blob.c_str()) != 0) {
    Status error =
        detail::ErrnoError(errno, "cannot move finished upload to '" + blob + "' from", part);
    // The part file is unchanged; the running hash must be rebuilt to stay open.
    (void)ScanPart(upload->file, upload->id, upload->chunk_size, upload->key->aead(),
                   [&](common::ByteView c) { upload->hash.Update(c); });
    return error;
  }
  upload->gone = true;
  {
    std::lock_guard map_lock(mu_);
    uploads_.erase(upload->id);
  }
  CUSTOS_RETURN_IF_ERROR(upload->file.Close());
  if (options_.sync) {
    CUSTOS_RETURN_IF_ERROR(detail::SyncDir(root_ + "/" + std::string(kBlobsDir)));
    CUSTOS_RETURN_IF_ERROR(detail::SyncDir(root_ + "/" + std::string(kUploadsDir)));
  }
  return info;
}

Status BlobStore::RollBack(const std::shared_ptr<Upload>& upload) {
  // Shred first: once the key is gone the part file's bytes are unreadable, whatever
  // happens to the unlink.
  CUSTOS_RETURN_IF_ERROR(keyring_.ShredDataKey(BlobKeyOwner(upload->id)));
  upload->gone = true;
  {
    std::lock_guard map_lock(mu_);
    uploads_.erase(upload->id);
  }
  const std::string part = upload->file.path();
  (void)upload->file.Close();
  return Unlink(part);
}

Status BlobStore::AbortUpload(std::string_view upload_id) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<Upload> upload, FindUpload(upload_id));
  std::lock_guard lock(upload->mu);
  if (upload->gone) return GoneError(upload->id);
  return RollBack(upload);
}

Result<size_t> BlobStore::ExpireUploads() {
  std::vector<std::shared_ptr<Upload>> snapshot;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, upload] : uploads_) snapshot.push_back(upload);
  }
  const common::TimePoint now = clock_.Now();
  size_t expired = 0;
  for (const auto& upload : snapshot) {
    std::lock_guard lock(upload->mu);
    if (upload->gone || now - upload->last_activity <= options_.upload_idle_timeout) continue;
    CUSTOS_RETURN_IF_ERROR(RollBack(upload));
    ++expired;
  }
  return expired;
}

Result<std::unique_ptr<BlobReader>> BlobStore::OpenBlob(const BlobInfo& info) {
  CUSTOS_RETURN_IF_ERROR(common::ValidateId(info.blob_id, "blb"));
  CUSTOS_RETURN_IF_ERROR(CheckChunkSize(info.chunk_size).WithContext("blob " + info.blob_id));
  if (info.chunks != detail::ChunkCount(info.size, info.chunk_size)) {
    return InvalidArgumentError(
        "blob " + info.blob_id + ": info says " + std::to_string(info.chunks) + " chunks but " +
        std::to_string(info.size) + " bytes in chunks of " + std::to_string(info.chunk_size) +
        " make " + std::to_string(detail::ChunkCount(info.size, info.chunk_size)) +
        "; pass the BlobInfo that FinishUpload returned");
  }
  const std::string owner = BlobKeyOwner(info.blob_id);
  const std::string path = BlobPath(info.blob_id);
  if (keyring_.IsShredded(owner)) {
    return FailedPreconditionError("blob " + info.blob_id +
                                   " was crypto-shredded; its bytes can never be read again");
  }
  Result<File> file = File::Open(path, O_RDONLY);
  if (!file.ok()) {
    if (file.status().code() != StatusCode::kNotFound) return file.status();
    return NotFoundError("blob " + info.blob_id + ": no blob file '" + path +
                         "'; an unfinished upload is not readable until FinishUpload, and a "
                         "missing finished blob must be restored from a backup");
  }
  Result<std::shared_ptr<const crypto::DataKey>> key = keyring_.GetDataKey(owner);
  if (!key.ok()) {
    if (keyring_.IsShredded(owner)) {
      return FailedPreconditionError("blob " + info.blob_id +
                                     " was crypto-shredded; its bytes can never be read again");
    }
    return key.status().WithContext("blob " + info.blob_id);
  }
  CUSTOS_ASSIGN_OR_RETURN(uint64_t file_size, file->Size());
  const uint64_t expected = detail::BlobFileSize(info.size, info.chunk_size);
  if (file_size != expected) {
    return DataLossError("blob file '" + path + "' is " + std::to_string(file_size) +
                         " bytes but a blob of " + std::to_string(info.size) +
                         " bytes in chunks of " + std::to_string(info.chunk_size) + " is " +
                         std::to_string(expected) +
                         " bytes: it was truncated or extended; restore it from a backup");
  }
  std::string header_bytes(detail::kBlobHeaderSize, '\0');
  CUSTOS_RETURN_IF_ERROR(file->ReadAt(0, header_bytes.data(), header_bytes.size()));
  CUSTOS_ASSIGN_OR_RETURN(detail::BlobHeader header, detail::DecodeHeader(header_bytes, path));
  if (header.blob_id != info.blob_id || header.chunk_size != info.chunk_size) {
    return DataLossError("blob file '" + path + "' header names blob '" + header.blob_id +
                         "' with chunk size " + std::to_string(header.chunk_size) +
                         ", but the blob is '" + info.blob_id + "' with chunk size " +
                         std::to_string(info.chunk_size) +
                         ": the file was replaced or its header altered; restore it from a "
                         "backup");
  }
  ::posix_fadvise(file->fd(), 0, 0, POSIX_FADV_SEQUENTIAL);
  const int fd = file->Release();
  return std::unique_ptr<BlobReader>(new BlobReader(info, path, fd, std::move(*key)));
}

Status BlobStore::ShredBlob(std::string_view blob_id) {
  CUSTOS_RETURN_IF_ERROR(common::ValidateId(blob_id, "blb"));
  {
    std::lock_guard lock(mu_);
    if (uploads_.contains(blob_id)) {
      return FailedPreconditionError("'" + std::string(blob_id) +
                                     "' is an open upload, not a finished blob; use "
                                     "AbortUpload to roll it back");
    }
  }
  const std::string path = BlobPath(blob_id);
  Status shred = keyring_.ShredDataKey(BlobKeyOwner(blob_id));
  if (!shred.ok()) {
    // No key ever existed: only a stray file (if any) is left to remove.
    if (shred.code() != StatusCode::kNotFound) return shred;
    if (::access(path.c_str(), F_OK) != 0) {
      return NotFoundError("no blob '" + std::string(blob_id) + "' (no data key and no file '" +
                           path + "'); check the id");
    }
  }
  CUSTOS_RETURN_IF_ERROR(Unlink(path));
  if (options_.sync) CUSTOS_RETURN_IF_ERROR(detail::SyncDir(root_ + "/" + std::string(kBlobsDir)));
  return Status::Ok();
}

Result<BlobInfo> BlobStore::WriteBlob(const std::function<Result<size_t>(std::span<uint8_t>)>& read,
                                      uint32_t chunk_size) {
  CUSTOS_ASSIGN_OR_RETURN(UploadStatus upload, BeginUpload(chunk_size));
  std::vector<uint8_t> buffer(chunk_size);
  auto stream = [&]() -> Status {
    for (uint64_t index = 0;; ++index) {
      size_t filled = 0;
      while (filled < buffer.size()) {
        CUSTOS_ASSIGN_OR_RETURN(size_t n, read(std::span<uint8_t>(buffer).subspan(filled)));
        if (n == 0) break;
        filled += n;
      }
      if (filled == 0) return Status::Ok();
      CUSTOS_RETURN_IF_ERROR(
          AppendChunk(upload.upload_id, index, common::ByteView(buffer.data(), filled)));
      if (filled < buffer.size()) return Status::Ok();
    }
  };
  Status streamed = stream();
  if (!streamed.ok()) {
    (void)AbortUpload(upload.upload_id);
    return streamed;
  }
  Result<BlobInfo> info = FinishUpload(upload.upload_id);
  if (!info.ok()) (void)AbortUpload(upload.upload_id);
  return info;
}

BlobReader::BlobReader(BlobInfo info, std::string path, int fd,
                       std::shared_ptr<const crypto::DataKey> key)
    : info_(std::move(info)), path_(std::move(path)), fd_(fd), key_(std::move(key)) {}

BlobReader::~BlobReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status BlobReader::ReadRecord(uint64_t index, std::string& sealed) {
  const uint64_t plain = detail::ChunkPlainSize(info_.size, info_.chunk_size, index);
  sealed.resize(plain + detail::kRecordOverhead);
  File file(fd_, path_);
  Status read =
      file.ReadAt(detail::RecordOffset(info_.chunk_size, index), sealed.data(), sealed.size());
  (void)file.Release();  // the reader keeps owning fd_
  return read;
}

Status BlobReader::OpenRecord(uint64_t index, const std::string& sealed, std::string& out) {
  std::string ad;
  detail::ChunkAssociatedData(info_.blob_id, index, ad);
  out.clear();
  Status opened = key_->aead().OpenTo(common::AsBytes(sealed), common::AsBytes(ad), out);
  if (!opened.ok()) {
    const uint64_t plain = detail::ChunkPlainSize(info_.size, info_.chunk_size, index);
    return DataLossError("blob " + info_.blob_id + " file '" + path_ + "': chunk " +
                         std::to_string(index) + " (plaintext bytes " +
                         ChunkRange(index, info_.chunk_size, plain) +
                         ") failed authentication: the file was tampered with, corrupted or "
                         "its records reordered; restore it from a backup");
  }
  return Status::Ok();
}

Status BlobReader::ReadChunk(uint64_t index, std::string& out) {
  if (index >= info_.chunks) {
    return InvalidArgumentError("blob " + info_.blob_id + " has " + std::to_string(info_.chunks) +
                                " chunks; chunk " + std::to_string(index) +
                                " does not exist (valid: 0.." +
                                std::to_string(info_.chunks == 0 ? 0 : info_.chunks - 1) + ")");
  }
  CUSTOS_RETURN_IF_ERROR(ReadRecord(index, sealed_));
  return OpenRecord(index, sealed_, out);
}

Status BlobReader::CopyTo(const std::function<Status(common::ByteView)>& sink) {
  // Two buffers: while the sink consumes chunk i, a helper reads and decrypts chunk i+1.
  std::string plain[2];
  if (info_.chunks == 0) return Status::Ok();
  CUSTOS_RETURN_IF_ERROR(ReadChunk(0, plain[0]));
  const bool overlap = info_.chunk_size >= kOverlapMinBytes;
  for (uint64_t i = 0; i < info_.chunks; ++i) {
    std::string& current = plain[i % 2];
    std::string& next = plain[(i + 1) % 2];
    const bool more = i + 1 < info_.chunks;
    Status ahead = Status::Ok();
    std::future<void> reading;
    if (more && overlap) reading = StartHelper([&] { ahead = ReadChunk(i + 1, next); });
    Status sunk = sink(common::AsBytes(current));
    if (reading.valid()) reading.wait();
    CUSTOS_RETURN_IF_ERROR(sunk);
    if (more && !reading.valid()) ahead = ReadChunk(i + 1, next);
    CUSTOS_RETURN_IF_ERROR(ahead);
  }
  return Status::Ok();
}

Status BlobReader::ReadRange(uint64_t offset, uint64_t length,
                             const std::function<Status(common::ByteView)>& sink) {
  if (offset > info_.size || length > info_.size - offset) {
    return InvalidArgumentError("range [" + std::to_string(offset) + ", +" +
                                std::to_string(length) + ") is past the end of blob " +
                                info_.blob_id + " (" + std::to_string(info_.size) +
                                " bytes); ask for bytes below " + std::to_string(info_.size));
  }
  if (length == 0) return Status::Ok();
  const uint64_t first = offset / info_.chunk_size;
  const uint64_t last = (offset + length - 1) / info_.chunk_size;
  std::string plain;
  for (uint64_t i = first; i <= last; ++i) {
    CUSTOS_RETURN_IF_ERROR(ReadChunk(i, plain));
    const uint64_t chunk_start = i * info_.chunk_size;
    const uint64_t from = std::max(offset, chunk_start) - chunk_start;
    const uint64_t to = std::min(offset + length, chunk_start + plain.size()) - chunk_start;
    CUSTOS_RETURN_IF_ERROR(sink(common::AsBytes(std::string_view(plain).substr(from, to - from))));
  }
  return Status::Ok();
}

}  // namespace custos::artifacts
