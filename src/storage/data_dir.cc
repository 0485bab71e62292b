// Data directory: layout, format version, single-process lock, sealing and opening.
#include "storage/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/pkcs11_kek_backend.h"
#include "crypto/software_kek_backend.h"

namespace custos::storage {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFormatFile = "FORMAT";
constexpr std::string_view kLockFile = "LOCK";
constexpr std::string_view kSealFile = "seal.json";
constexpr std::string_view kDbDir = "db";
constexpr std::string_view kFormatHeader = "custos data directory\n";

std::string Join(const std::string& dir, std::string_view name) {
  return (fs::path(dir) / std::string(name)).string();
}

std::string Errno() { return std::strerror(errno); }

// Writes a file atomically: temp file, fsync, rename, fsync the directory.
Status WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return UnavailableError("cannot create " + tmp + ": " + Errno());
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return UnavailableError("cannot write " + tmp + ": " + Errno());
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return UnavailableError("cannot sync " + tmp + ": " + Errno());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return UnavailableError("cannot rename " + tmp + ": " + Errno());
  }
  int dir = ::open(fs::path(path).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path + ": " + Errno());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status CheckFormat(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return NotFoundError("data directory " + dir +
                         " does not exist; create one with 'custos init --dir " + dir + "'");
  }
  if (!fs::is_directory(dir, ec)) return InvalidArgumentError(dir + " is not a directory");
  const std::string format_path = Join(dir, kFormatFile);
  Result<std::string> format = ReadFile(format_path);
  if (!format.ok()) {
    return FailedPreconditionError(dir +
                                   " is not a custos data directory (no FORMAT file); "
                                   "create one with 'custos init'");
  }
  if (!format->starts_with(kFormatHeader)) {
    return DataLossError(format_path + " is damaged: expected it to start with '" +
                         std::string("custos data directory") + "'");
  }
  std::string_view rest = std::string_view(*format).substr(kFormatHeader.size());
  const std::string_view key = "format ";
  if (!rest.starts_with(key)) return DataLossError(format_path + " is damaged: no format line");
  int version = 0;
  for (char c : rest.substr(key.size())) {
    if (c == '\n') break;
    if (c < '0' || c > '9') return DataLossError(format_path + " is damaged: bad version");
    version = version * 10 + (c - '0');
    if (version > 1000000) return DataLossError(format_path + " is damaged: bad version");
  }
  if (version != kDataDirFormatVersion) {
    return FailedPreconditionError(
        dir + " has data directory format " + std::to_string(version) +
        "; this custos reads "
        "format " +
        std::to_string(kDataDirFormatVersion) +
        (version > kDataDirFormatVersion ? " (upgrade custos)" : " (run the migration)"));
  }
  return Status::Ok();
}

// Takes an exclusive, non-blocking lock that the kernel drops if the process dies.
Result<int> LockDir(const std::string& dir) {
  const std::string path = Join(dir, kLockFile);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot open " + path + ": " + Errno());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return UnavailableError("data directory " + dir +
                            " is in use by another custos process; stop it first");
  }
  return fd;
}

Result<std::unique_ptr<crypto::KekBackend>> MakeBackend(const crypto::SealConfig& seal,
                                                        crypto::SecretBytes root_key,
                                                        const UnsealMaterial& material,
                                                        crypto::KeyRecordStore& store) {
  if (seal.mode == crypto::SealMode::kPkcs11) {
    if (!material.pkcs11_pin) {
      return FailedPreconditionError("the data directory keeps its keys in PKCS#11 token '" +
                                     seal.pkcs11_token_label + "': give the token PIN");
    }
    crypto::Pkcs11Options options;
    options.module_path = seal.pkcs11_module;
    options.token_label = seal.pkcs11_token_label;
    options.key_label_prefix = seal.pkcs11_key_prefix;
    options.pin = material.pkcs11_pin->Clone();
    CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<crypto::Pkcs11KekBackend> backend,
                            crypto::Pkcs11KekBackend::Open(options));
    return std::unique_ptr<crypto::KekBackend>(std::move(backend));
  }
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<crypto::SoftwareKekBackend> backend,
                          crypto::SoftwareKekBackend::Create(std::move(root_key), store,
                                                             crypto::SealModeName(seal.mode)));
  return std::unique_ptr<crypto::KekBackend>(std::move(backend));
}

}  // namespace

DataDir::~DataDir() {
  keyring_.reset();
  key_store_.reset();
  kv_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<crypto::SealConfig> DataDir::ReadSealConfig(const std::string& path) {
  CUSTOS_RETURN_IF_ERROR(CheckFormat(path));
  const std::string seal_path = Join(path, kSealFile);
  Result<std::string> text = ReadFile(seal_path);
  if (!text.ok()) {
    return DataLossError(seal_path +
                         " is missing: the root key cannot be unsealed without it; "
                         "restore it from backup");
  }
  return crypto::SealConfig::FromJson(*text, seal_path);
}

Result<std::unique_ptr<DataDir>> DataDir::Create(const std::string& path,
                                                 const crypto::SealConfig& seal,
                                                 crypto::SecretBytes root_key,
                                                 const UnsealMaterial& pkcs11_material,
                                                 const DataDirOptions& options) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    if (!fs::is_directory(path, ec)) return AlreadyExistsError(path + " exists and is a file");
    if (!fs::is_empty(path, ec)) {
      return AlreadyExistsError(path +
                                " already exists and is not empty; choose a new "
                                "directory (custos never overwrites a data directory)");
    }
  } else if (!fs::create_directories(path, ec)) {
    return UnavailableError("cannot create " + path + ": " + ec.message());
  }
  if (::chmod(path.c_str(), 0700) != 0) {
    return UnavailableError("cannot set mode 0700 on " + path + ": " + Errno());
  }
  CUSTOS_RETURN_IF_ERROR(WriteFileAtomically(Join(path, kSealFile), seal.ToJson(), 0600));
  // FORMAT last: a directory without it is an unfinished init, never opened as valid.
  CUSTOS_RETURN_IF_ERROR(WriteFileAtomically(
      Join(path, kFormatFile),
      std::string(kFormatHeader) + "format " + std::to_string(kDataDirFormatVersion) + "\n", 0600));
  return OpenUnsealed(path, seal, std::move(root_key), pkcs11_material, options);
}

Result<std::unique_ptr<DataDir>> DataDir::Open(const std::string& path,
                                               const UnsealMaterial& material,
                                               const DataDirOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(crypto::SealConfig seal, ReadSealConfig(path));
  crypto::SecretBytes root_key;
  switch (seal.mode) {
    case crypto::SealMode::kShamir: {
      if (material.shares.empty()) {
        return FailedPreconditionError("data directory " + path + " is sealed: give " +
                                       std::to_string(seal.threshold) + " of its " +
                                       std::to_string(seal.shares) + " unseal shares");
      }
      CUSTOS_ASSIGN_OR_RETURN(root_key, crypto::UnsealShamir(seal, material.shares));
      break;
    }
    case crypto::SealMode::kPassphrase: {
      if (!material.passphrase) {
        return FailedPreconditionError("data directory " + path +
                                       " is sealed: give its passphrase");
      }
      CUSTOS_ASSIGN_OR_RETURN(root_key, crypto::UnsealPassphrase(seal, *material.passphrase));
      break;
    }
    case crypto::SealMode::kPkcs11:
      break;  // the token itself is the root of trust
  }
  return OpenUnsealed(path, std::move(seal), std::move(root_key), material, options);
}

Result<std::unique_ptr<DataDir>> DataDir::OpenUnsealed(const std::string& path,
                                                       crypto::SealConfig seal,
                                                       crypto::SecretBytes root_key,
                                                       const UnsealMaterial& material,
                                                       const DataDirOptions& options) {
  std::unique_ptr<DataDir> dir(new DataDir());
  dir->path_ = path;
  dir->seal_ = std::move(seal);
  CUSTOS_ASSIGN_OR_RETURN(dir->lock_fd_, LockDir(path));
  RocksDbOptions db_options;
  db_options.path = Join(path, kDbDir);
  db_options.block_cache_mib = options.block_cache_mib;
  CUSTOS_ASSIGN_OR_RETURN(dir->kv_, RocksDbKv::Open(db_options));
  dir->key_store_ = std::make_unique<KvKeyRecordStore>(*dir->kv_);
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<crypto::KekBackend> backend,
                          MakeBackend(dir->seal_, std::move(root_key), material, *dir->key_store_));
  const common::Clock* clock = options.clock;
  if (clock == nullptr) {
    dir->own_clock_ = std::make_unique<common::SystemClock>();
    clock = dir->own_clock_.get();
  }
  CUSTOS_ASSIGN_OR_RETURN(dir->keyring_, crypto::Keyring::Open(std::move(backend), *dir->key_store_,
                                                               *clock, options.keyring));
  return dir;
}

}  // namespace custos::storage
