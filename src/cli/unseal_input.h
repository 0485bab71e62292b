// Reading unseal material (shares, passphrase, PKCS#11 PIN) for CLI commands.
// Secrets come from files or standard input, never from argv (visible in ps).
// Thread-safety: free functions; call from one thread.
#pragma once

#include <string>

#include "storage/data_dir.h"

namespace custos::cli {

struct UnsealFlags {
  std::string shares_file;      // one share per line; "-" = standard input
  std::string passphrase_file;  // first line; "-" = standard input
  std::string pin_file;         // first line; "-" = standard input
};

// Reads what the data directory's seal mode needs; says which flag is missing.
Result<storage::UnsealMaterial> ReadUnsealMaterial(const std::string& dir,
                                                   const UnsealFlags& flags);

// Reads a secret's first line from a file or "-" (standard input).
Result<crypto::SecretBytes> ReadSecretLine(const std::string& path, std::string_view what);

// Opens and unseals the data directory, reading material per `flags`.
Result<std::unique_ptr<storage::DataDir>> OpenDataDir(const std::string& dir,
                                                      const UnsealFlags& flags);

}  // namespace custos::cli
