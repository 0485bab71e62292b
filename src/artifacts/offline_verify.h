// Offline verification of an artifact file against its signature bundle and a set of
// trusted keys: what `custos artifact verify NAME@VERSION` runs. It needs no secrets and
// no server: it streams the file through SHA-256 (constant memory), compares size and
// digest with the statement, and checks the signatures against the trusted keys.
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "artifacts/signature_bundle.h"
#include "artifacts/statement.h"
#include "common/status.h"

namespace custos::artifacts {

struct OfflineVerifyReport {
  bool ok = false;  // integrity AND ref matches AND every signature verified with a trusted key
  bool ref_matches = false;                  // bundle statement's name/version == the ref asked for
  bool size_matches = false;                 // file size == statement.size
  bool digest_matches = false;               // SHA-256 of the file == statement.sha256
  std::vector<std::string> trusted_signers;  // signers whose signature verified
  std::vector<std::string> problems;         // one line each: what failed and what to do
};

// Result error only when the file cannot be read (NotFound when it cannot be opened,
// DataLoss when reading fails); every mismatch goes into the report.
Result<OfflineVerifyReport> VerifyArtifactFile(const ArtifactRef& ref, const std::string& file_path,
                                               const SignatureBundle& bundle,
                                               const std::vector<TrustedKey>& trusted);

// {"ok":..,"ref_matches":..,"size_matches":..,"digest_matches":..,
//  "trusted_signers":[..],"problems":[..]}
std::string OfflineVerifyReportToJson(const OfflineVerifyReport& report);

}  // namespace custos::artifacts
