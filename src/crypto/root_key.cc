// Root key sealing: Shamir shares with a canary, Argon2id passphrase, PKCS#11 config.
#include "crypto/root_key.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "crypto/aead.h"
#include "crypto/random.h"
#include "crypto/shamir.h"

namespace custos::crypto {
namespace {

constexpr std::string_view kCanaryText = "custos root key canary v1";
constexpr std::string_view kCanaryAd = "custos/root-key/canary";
constexpr std::string_view kRootSealAd = "custos/root-key/passphrase-seal";
constexpr size_t kRootKeySize = 32;

common::Bytes MakeCanary(const SecretBytes& root_key) {
  Aead aead = *Aead::Create(root_key);
  return aead.Seal(common::AsBytes(kCanaryText), common::AsBytes(kCanaryAd));
}

bool CanaryMatches(const SecretBytes& root_key, const common::Bytes& canary) {
  Result<Aead> aead = Aead::Create(root_key);
  if (!aead.ok()) return false;
  Result<common::Bytes> opened = aead->Open(canary, common::AsBytes(kCanaryAd));
  return opened.ok() && ConstantTimeEquals(*opened, common::AsBytes(kCanaryText));
}

Result<SecretBytes> DeriveFromPassphrase(const SecretBytes& passphrase, const SealConfig& c) {
  if (c.salt.size() != crypto_pwhash_SALTBYTES) {
    return DataLossError("seal config: passphrase salt must be 16 bytes");
  }
  InitCrypto();
  SecretBytes key(kRootKeySize);
  if (crypto_pwhash(key.span().data(), key.size(),
                    reinterpret_cast<const char*>(passphrase.span().data()), passphrase.size(),
                    c.salt.data(), c.cost.ops_limit, c.cost.mem_limit_bytes,
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return ResourceExhaustedError("Argon2id could not allocate " +
                                  std::to_string(c.cost.mem_limit_bytes >> 20) + " MiB");
  }
  return key;
}

}  // namespace

std::string_view SealModeName(SealMode mode) {
  switch (mode) {
    case SealMode::kShamir:
      return "shamir";
    case SealMode::kPassphrase:
      return "passphrase";
    case SealMode::kPkcs11:
      return "pkcs11";
  }
  return "unknown";
}

std::string SealConfig::ToJson() const {
  nlohmann::ordered_json j;
  j["format"] = 1;
  j["mode"] = SealModeName(mode);
  switch (mode) {
    case SealMode::kShamir:
      j["shares"] = shares;
      j["threshold"] = threshold;
      j["share_tag"] = common::HexEncode(share_tag);
      j["canary"] = common::Base64Encode(canary);
      break;
    case SealMode::kPassphrase:
      j["canary"] = common::Base64Encode(canary);
      j["salt"] = common::Base64Encode(salt);
      j["argon2id_ops_limit"] = cost.ops_limit;
      j["argon2id_mem_limit_bytes"] = cost.mem_limit_bytes;
      j["sealed_root_key"] = common::Base64Encode(sealed_root_key);
      break;
    case SealMode::kPkcs11:
      j["pkcs11_module"] = pkcs11_module;
      j["pkcs11_token_label"] = pkcs11_token_label;
      j["pkcs11_key_prefix"] = pkcs11_key_prefix;
      break;
  }
  return j.dump(2) + "\n";
}

Result<SealConfig> SealConfig::FromJson(std::string_view json, std::string_view source) {
  const std::string where(source);
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLossError(where + ": not valid JSON (the file is truncated or was edited)");
  }
  SealConfig c;
  try {
    const int format =
        j.contains("format") && j["format"].is_number_integer() ? j["format"].get<int>() : 0;
    if (format == 0) return DataLossError(where + ": missing or non-integer 'format' field");
    if (format != 1) {
      return FailedPreconditionError(where + ": seal format " + std::to_string(format) +
                                     " is not known to this custos version; upgrade custos");
    }
    std::string mode = j.at("mode").get<std::string>();
    auto b64 = [&](const char* field) -> Result<common::Bytes> {
      Result<common::Bytes> r = common::Base64Decode(j.at(field).get<std::string>());
      if (!r.ok()) return DataLossError(where + ": field '" + field + "': " + r.status().message());
      return r;
    };
    if (mode == "shamir") {
      c.mode = SealMode::kShamir;
      c.shares = j.at("shares").get<int>();
      c.threshold = j.at("threshold").get<int>();
      CUSTOS_ASSIGN_OR_RETURN(common::Bytes tag,
                              common::HexDecode(j.at("share_tag").get<std::string>()));
      if (tag.size() != 4) return DataLossError(where + ": 'share_tag' must be 4 bytes");
      std::copy(tag.begin(), tag.end(), c.share_tag.begin());
      CUSTOS_ASSIGN_OR_RETURN(c.canary, b64("canary"));
    } else if (mode == "passphrase") {
      c.mode = SealMode::kPassphrase;
      CUSTOS_ASSIGN_OR_RETURN(c.canary, b64("canary"));
      CUSTOS_ASSIGN_OR_RETURN(c.salt, b64("salt"));
      CUSTOS_ASSIGN_OR_RETURN(c.sealed_root_key, b64("sealed_root_key"));
      c.cost.ops_limit = j.at("argon2id_ops_limit").get<uint64_t>();
      c.cost.mem_limit_bytes = j.at("argon2id_mem_limit_bytes").get<uint64_t>();
    } else if (mode == "pkcs11") {
      c.mode = SealMode::kPkcs11;
      c.pkcs11_module = j.at("pkcs11_module").get<std::string>();
      c.pkcs11_token_label = j.at("pkcs11_token_label").get<std::string>();
      c.pkcs11_key_prefix = j.at("pkcs11_key_prefix").get<std::string>();
      if (c.pkcs11_key_prefix.empty() || c.pkcs11_key_prefix.size() > 24) {
        return DataLossError(where + ": 'pkcs11_key_prefix' must be 1 to 24 characters");
      }
    } else {
      return DataLossError(where + ": unknown seal mode '" + mode +
                           "' (expected shamir, passphrase or pkcs11)");
    }
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(where + ": missing or mistyped field (" + e.what() + ")");
  }
  return c;
}

Result<ShamirInit> InitShamir(int shares, int threshold) {
  ShamirInit init;
  init.root_key = SecretBytes::Random(kRootKeySize);
  RandomFill(init.config.share_tag);
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Share> split,
                          SplitSecret(init.root_key, shares, threshold, init.config.share_tag));
  init.config.mode = SealMode::kShamir;
  init.config.shares = shares;
  init.config.threshold = threshold;
  init.config.canary = MakeCanary(init.root_key);
  for (const Share& s : split) init.shares.push_back(EncodeShare(s));
  return init;
}

Result<SecretBytes> UnsealShamir(const SealConfig& config,
                                 const std::vector<std::string>& share_texts) {
  if (config.mode != SealMode::kShamir) {
    return FailedPreconditionError("this data directory is sealed with " +
                                   std::string(SealModeName(config.mode)) + ", not unseal shares");
  }
  std::vector<Share> shares;
  for (size_t i = 0; i < share_texts.size(); ++i) {
    CUSTOS_ASSIGN_OR_RETURN(Share s, DecodeShare(share_texts[i], static_cast<int>(i + 1)));
    if (s.tag != config.share_tag) {
      return InvalidArgumentError("unseal share " + std::to_string(i + 1) +
                                  " belongs to another data directory (or an earlier init)");
    }
    shares.push_back(std::move(s));
  }
  if (static_cast<int>(shares.size()) < config.threshold) {
    return InvalidArgumentError("need " + std::to_string(config.threshold) + " of " +
                                std::to_string(config.shares) + " unseal shares, got " +
                                std::to_string(shares.size()));
  }
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes root, CombineShares(shares));
  if (!CanaryMatches(root, config.canary)) {
    return UnauthenticatedError(
        "the unseal shares do not rebuild the root key: at least one share is wrong");
  }
  return root;
}

Result<PassphraseInit> InitPassphrase(const SecretBytes& passphrase, PassphraseCost cost) {
  if (passphrase.size() < 8) {
    return InvalidArgumentError("passphrase must be at least 8 characters");
  }
  PassphraseInit init;
  init.config.mode = SealMode::kPassphrase;
  init.config.cost = cost;
  init.config.salt = RandomBytes(crypto_pwhash_SALTBYTES);
  init.root_key = SecretBytes::Random(kRootKeySize);
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes kek, DeriveFromPassphrase(passphrase, init.config));
  Aead aead = *Aead::Create(kek);
  init.config.sealed_root_key = aead.Seal(init.root_key.span(), common::AsBytes(kRootSealAd));
  init.config.canary = MakeCanary(init.root_key);
  return init;
}

Result<SecretBytes> UnsealPassphrase(const SealConfig& config, const SecretBytes& passphrase) {
  if (config.mode != SealMode::kPassphrase) {
    return FailedPreconditionError("this data directory is sealed with " +
                                   std::string(SealModeName(config.mode)) + ", not a passphrase");
  }
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes kek, DeriveFromPassphrase(passphrase, config));
  Aead aead = *Aead::Create(kek);
  Result<common::Bytes> root = aead.Open(config.sealed_root_key, common::AsBytes(kRootSealAd));
  if (!root.ok()) return UnauthenticatedError("wrong passphrase");
  SecretBytes root_key = SecretBytes::CopyOf(*root);
  Zeroize(*root);
  if (!CanaryMatches(root_key, config.canary)) {
    return DataLossError("the root key does not match its canary: the seal file is damaged");
  }
  return root_key;
}

SealConfig InitPkcs11(std::string module_path, std::string token_label) {
  SealConfig c;
  c.mode = SealMode::kPkcs11;
  c.pkcs11_module = std::move(module_path);
  c.pkcs11_token_label = std::move(token_label);
  c.pkcs11_key_prefix = "custos-" + common::HexEncode(RandomBytes(4)) + "-kek-v";
  return c;
}

}  // namespace custos::crypto
