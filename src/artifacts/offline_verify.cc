// Offline verification of an artifact file (see offline_verify.h).
#include "artifacts/offline_verify.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "crypto/hash.h"
#include "crypto/secret.h"

namespace custos::artifacts {
namespace {

struct FileDigest {
  crypto::Digest sha256{};
  uint64_t size = 0;
};

// Closes a file descriptor when it goes out of scope.
class FileHandle {
 public:
  explicit FileHandle(int fd) : fd_(fd) {}
  ~FileHandle() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Streams the file through SHA-256 in fixed-size reads: memory stays constant whatever
// the artifact's size.
Result<FileDigest> DigestFile(const std::string& path) {
  FileHandle file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) {
    int err = errno;
    return NotFoundError(path + ": cannot open the artifact file (" + std::strerror(err) +
                         "); check the path and its permissions");
  }
  struct stat info {};
  if (::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return InvalidArgumentError(path + ": not a regular file; give the path of the artifact file");
  }
  crypto::Sha256 hasher;
  FileDigest out;
  std::array<uint8_t, 64 * 1024> buffer;
  while (true) {
    ssize_t n = ::read(file.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      return DataLossError(path + ": read failed after " + std::to_string(out.size) + " bytes (" +
                           std::strerror(err) + ")");
    }
    if (n == 0) break;
    hasher.Update(common::ByteView(buffer.data(), static_cast<size_t>(n)));
    out.size += static_cast<uint64_t>(n);
  }
  out.sha256 = hasher.Finish();
  return out;
}

// Why a signature did not verify, for the report.
std::string SignatureProblem(size_t index, const ArtifactSignature& sig,
                             const std::vector<TrustedKey>& trusted) {
  std::string head =
      "signature " + std::to_string(index) + " by '" + sig.signer + "' (key " + sig.key_id + "): ";
  const TrustedKey* same_id = nullptr;
  for (const TrustedKey& key : trusted) {
    if (key.key_id == sig.key_id) {
      same_id = &key;
      if (key.signer == sig.signer) {
        return head +
               "does not verify over this statement with the trusted key; the bundle or the "
               "statement was altered, or it was signed over another statement";
      }
    }
  }
  if (same_id != nullptr) {
    return head + "the key is trusted for '" + same_id->signer + "', not '" + sig.signer +
           "'; a signature counts only for the signer its key is trusted for";
  }
  return head +
         "the key is not in the trusted keys; fetch the current trusted-keys document "
         "(custos artifact keys) if this signer should be trusted";
}

}  // namespace

Result<OfflineVerifyReport> VerifyArtifactFile(const ArtifactRef& ref, const std::string& file_path,
                                               const SignatureBundle& bundle,
                                               const std::vector<TrustedKey>& trusted) {
  CUSTOS_ASSIGN_OR_RETURN(FileDigest file, DigestFile(file_path));
  const ArtifactStatement& statement = bundle.statement;
  OfflineVerifyReport report;

  if (Status valid = ValidateStatement(statement); !valid.ok()) {
    report.problems.push_back("the bundle's statement is malformed (" + valid.message() +
                              "); get the bundle again from the vault");
  }
  report.ref_matches = statement.name == ref.name && statement.version == ref.version;
  if (!report.ref_matches) {
    report.problems.push_back(
        "the bundle is for " + FormatArtifactRef({statement.name, statement.version}) + ", not " +
        FormatArtifactRef(ref) + "; use the bundle of the version you asked for");
  }
  report.size_matches = file.size == statement.size;
  if (!report.size_matches) {
    report.problems.push_back(file_path + " has " + std::to_string(file.size) +
                              " bytes, the statement says " + std::to_string(statement.size) +
                              "; the file is truncated, extended or another file: download it "
                              "again");
  }
  // The digest is public; the constant-time compare costs nothing and keeps one idiom.
  report.digest_matches = crypto::ConstantTimeEquals(file.sha256, statement.sha256);
  if (!report.digest_matches) {
    report.problems.push_back(file_path + " has SHA-256 " + common::HexEncode(file.sha256) +
                              ", the statement says " + common::HexEncode(statement.sha256) +
                              "; the file's bytes differ from the signed ones: do not use it, "
                              "download it again");
  }

  const size_t problems_before_signatures = report.problems.size();
  for (size_t i = 0; i < bundle.signatures.size(); ++i) {
    const ArtifactSignature& sig = bundle.signatures[i];
    if (VerifySignature(statement, sig, trusted)) {
      if (std::find(report.trusted_signers.begin(), report.trusted_signers.end(), sig.signer) ==
          report.trusted_signers.end()) {
        report.trusted_signers.push_back(sig.signer);
      }
    } else {
      report.problems.push_back(SignatureProblem(i, sig, trusted));
    }
  }
  if (report.trusted_signers.empty()) {
    report.problems.push_back(
        bundle.signatures.empty()
            ? std::string("the bundle carries no signature; get a signed bundle from the vault")
            : std::string("no signature verified with a trusted key; the artifact's origin is "
                          "unproven"));
  }
  // Every signature must verify: a bundle carrying a bad one has been altered (or names a
  // key this verifier does not trust, e.g. a revoked one), and a pipeline gate must not
  // pass it on the strength of the others.
  const bool every_signature_verified = report.problems.size() == problems_before_signatures;
  report.ok = report.ref_matches && report.size_matches && report.digest_matches &&
              !report.trusted_signers.empty() && every_signature_verified &&
              ValidateStatement(statement).ok();
  return report;
}

std::string OfflineVerifyReportToJson(const OfflineVerifyReport& report) {
  nlohmann::ordered_json doc;
  doc["ok"] = report.ok;
  doc["ref_matches"] = report.ref_matches;
  doc["size_matches"] = report.size_matches;
  doc["digest_matches"] = report.digest_matches;
  doc["trusted_signers"] = report.trusted_signers;
  doc["problems"] = report.problems;
  return doc.dump(2, ' ', /*ensure_ascii=*/false,
                  nlohmann::ordered_json::error_handler_t::replace) +
         "\n";
}

}  // namespace custos::artifacts
