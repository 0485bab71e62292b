// Unseal material from files or standard input.
#include "cli/unseal_input.h"

#include <fstream>
#include <iostream>

namespace custos::cli {
namespace {

Result<std::vector<std::string>> ReadLines(const std::string& path, std::string_view what) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) return NotFoundError("cannot read " + std::string(what) + " file " + path);
    in = &file;
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(*in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  return lines;
}

}  // namespace

Result<crypto::SecretBytes> ReadSecretLine(const std::string& path, std::string_view what) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> lines, ReadLines(path, what));
  if (lines.empty()) {
    return InvalidArgumentError(std::string(what) + " file " + path + " is empty");
  }
  crypto::SecretBytes secret = crypto::SecretBytes::CopyOf(common::AsBytes(lines[0]));
  for (auto& l : lines) crypto::Zeroize({reinterpret_cast<uint8_t*>(l.data()), l.size()});
  return secret;
}

Result<storage::UnsealMaterial> ReadUnsealMaterial(const std::string& dir,
                                                   const UnsealFlags& flags) {
  CUSTOS_ASSIGN_OR_RETURN(crypto::SealConfig seal, storage::DataDir::ReadSealConfig(dir));
  storage::UnsealMaterial material;
  switch (seal.mode) {
    case crypto::SealMode::kShamir: {
      if (flags.shares_file.empty()) {
        return FailedPreconditionError("data directory " + dir + " is sealed with " +
                                       std::to_string(seal.threshold) + "-of-" +
                                       std::to_string(seal.shares) +
                                       " unseal shares: pass --shares-file FILE (or - for stdin)");
      }
      CUSTOS_ASSIGN_OR_RETURN(material.shares, ReadLines(flags.shares_file, "shares"));
      break;
    }
    case crypto::SealMode::kPassphrase: {
      if (flags.passphrase_file.empty()) {
        return FailedPreconditionError("data directory " + dir +
                                       " is sealed with a passphrase: "
                                       "pass --passphrase-file FILE (or - for stdin)");
      }
      CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes p,
                              ReadSecretLine(flags.passphrase_file, "passphrase"));
      material.passphrase = std::move(p);
      break;
    }
    case crypto::SealMode::kPkcs11: {
      if (flags.pin_file.empty()) {
        return FailedPreconditionError("data directory " + dir +
                                       " keeps its keys in PKCS#11 "
                                       "token '" +
                                       seal.pkcs11_token_label +
                                       "': pass --pin-file FILE (or - for stdin)");
      }
      CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes pin, ReadSecretLine(flags.pin_file, "PIN"));
      material.pkcs11_pin = std::move(pin);
      break;
    }
  }
  return material;
}

Result<std::unique_ptr<storage::DataDir>> OpenDataDir(const std::string& dir,
                                                      const UnsealFlags& flags) {
  CUSTOS_ASSIGN_OR_RETURN(storage::UnsealMaterial material, ReadUnsealMaterial(dir, flags));
  return storage::DataDir::Open(dir, material);
}

}  // namespace custos::cli
