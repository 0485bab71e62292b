// `custos init` and `custos unseal`.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/unseal_input.h"
#include "server/instance.h"

namespace custos::cli {
namespace {

struct InitFlags {
  std::string dir;
  int shares = 5;
  int threshold = 3;
  std::string passphrase_file;
  std::string kdf = "moderate";
  std::string pkcs11_module;
  std::string pkcs11_token;
  std::string pin_file;
  bool json = false;
};

int RunInit(const InitFlags& f) {
  crypto::SecretBytes root_key;
  crypto::SealConfig seal;
  storage::UnsealMaterial pkcs11_material;
  std::vector<std::string> shares;
  if (!f.pkcs11_module.empty() || !f.pkcs11_token.empty()) {
    if (f.pkcs11_module.empty() || f.pkcs11_token.empty() || f.pin_file.empty()) {
      return Fail(InvalidArgumentError(
          "PKCS#11 mode needs --pkcs11-module, --pkcs11-token and --pin-file together"));
    }
    Result<crypto::SecretBytes> pin = ReadSecretLine(f.pin_file, "PIN");
    if (!pin.ok()) return Fail(pin.status());
    pkcs11_material.pkcs11_pin = std::move(*pin);
    seal = crypto::InitPkcs11(f.pkcs11_module, f.pkcs11_token);
  } else if (!f.passphrase_file.empty()) {
    Result<crypto::SecretBytes> pass = ReadSecretLine(f.passphrase_file, "passphrase");
    if (!pass.ok()) return Fail(pass.status());
    crypto::PassphraseCost cost;
    if (f.kdf == "interactive") {
      cost = crypto::PassphraseCost::Interactive();
    } else if (f.kdf != "moderate") {
      return Fail(
          InvalidArgumentError("--kdf must be 'interactive' or 'moderate', got '" + f.kdf + "'"));
    }
    Result<crypto::PassphraseInit> init = crypto::InitPassphrase(*pass, cost);
    if (!init.ok()) return Fail(init.status());
    seal = std::move(init->config);
    root_key = std::move(init->root_key);
  } else {
    Result<crypto::ShamirInit> init = crypto::InitShamir(f.shares, f.threshold);
    if (!init.ok()) return Fail(init.status());
    seal = std::move(init->config);
    root_key = std::move(init->root_key);
    shares = std::move(init->shares);
  }
  Result<std::unique_ptr<storage::DataDir>> dir =
      storage::DataDir::Create(f.dir, seal, std::move(root_key), pkcs11_material);
  if (!dir.ok()) return Fail(dir.status());
  const uint32_t kek_version = (*dir)->keyring().current_kek_version();
  // The local CA for TLS and mTLS identities (DESIGN: TLS on by default), made once here;
  // opening every service also creates the audit log's keys and its salt.
  server::InstanceOptions options;
  options.background_checkpoints = false;
  auto instance = server::Instance::Open(std::move(*dir), std::move(options));
  if (!instance.ok()) return Fail(instance.status());
  identity::Caller operator_caller;
  operator_caller.principal_id = "cli";
  auto ca = (*instance)->CreateCa(operator_caller);
  if (!ca.ok()) return Fail(ca.status());

  if (f.json) {
    nlohmann::ordered_json j;
    j["dir"] = f.dir;
    j["seal_mode"] = crypto::SealModeName(seal.mode);
    if (!shares.empty()) {
      j["threshold"] = f.threshold;
      j["shares"] = shares;
    }
    j["kek_version"] = kek_version;
    j["ca_certificate"] = (*ca)->certificate_pem();
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "Initialized custos data directory " << f.dir
            << " (seal: " << crypto::SealModeName(seal.mode) << ", KEK v" << kek_version
            << ") with its certificate authority (custos ca certificate)\n";
  if (!shares.empty()) {
    std::cout << "\nUnseal shares (" << f.threshold << " of " << f.shares
              << " rebuild the root key). They are shown ONCE and stored nowhere:\n"
              << "give each to a different person and keep them apart.\n\n";
    for (size_t i = 0; i < shares.size(); ++i) {
      std::cout << "  share " << (i + 1) << ": " << shares[i] << "\n";
    }
  }
  return 0;
}

int RunUnseal(const std::string& dir, const UnsealFlags& flags, bool json) {
  Result<std::unique_ptr<storage::DataDir>> opened = OpenDataDir(dir, flags);
  if (!opened.ok()) return Fail(opened.status());
  crypto::Keyring& keyring = (*opened)->keyring();
  if (json) {
    nlohmann::ordered_json j;
    j["dir"] = dir;
    j["unsealed"] = true;
    j["kek_version"] = keyring.current_kek_version();
    j["key_backend"] = keyring.backend_kind();
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "Unsealed " << dir << ": root of trust verified (" << keyring.backend_kind()
              << "), current KEK v" << keyring.current_kek_version() << "\n";
  }
  return 0;
}

}  // namespace

void AddInitCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<InitFlags>();
  CLI::App* cmd = app.add_subcommand(
      "init", "Create a data directory and its root of trust (Shamir shares by default)");
  cmd->add_option("--dir", flags->dir, "Data directory to create")->required();
  cmd->add_option("--shares", flags->shares, "Number of unseal shares")->check(CLI::Range(2, 255));
  cmd->add_option("--threshold", flags->threshold, "Shares needed to unseal")
      ->check(CLI::Range(2, 255));
  cmd->add_option("--passphrase-file", flags->passphrase_file,
                  "Development mode: seal with an Argon2id passphrase read from FILE (- = stdin)");
  cmd->add_option("--kdf", flags->kdf, "Argon2id cost for --passphrase-file: moderate|interactive");
  cmd->add_option("--pkcs11-module", flags->pkcs11_module, "PKCS#11 module (.so) holding KEKs");
  cmd->add_option("--pkcs11-token", flags->pkcs11_token, "PKCS#11 token label");
  cmd->add_option("--pin-file", flags->pin_file, "PKCS#11 user PIN file (- = stdin)");
  cmd->add_flag("--json", flags->json, "Print the result as JSON");
  cmd->callback([flags, exit_code] { *exit_code = RunInit(*flags); });
}

void AddUnsealCommand(CLI::App& app, int* exit_code) {
  auto dir = std::make_shared<std::string>();
  auto flags = std::make_shared<UnsealFlags>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "unseal", "Check unseal material: rebuild the root key from shares (any order)");
  cmd->add_option("--dir", *dir, "Data directory")->required();
  cmd->add_option("--shares-file", flags->shares_file, "Unseal shares, one per line (- = stdin)");
  cmd->add_option("--passphrase-file", flags->passphrase_file, "Passphrase file (- = stdin)");
  cmd->add_option("--pin-file", flags->pin_file, "PKCS#11 PIN file (- = stdin)");
  cmd->add_flag("--json", *json, "Print the result as JSON");
  cmd->callback([=] { *exit_code = RunUnseal(*dir, *flags, *json); });
}

}  // namespace custos::cli
