// `custos data put|get|list`: encrypted records by owner, for operators and tests.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/unseal_input.h"
#include "storage/encrypted_keyspace.h"

namespace custos::cli {
namespace {

struct DataFlags {
  std::string dir;
  UnsealFlags unseal;
  std::string owner;
  std::string keyspace = "offline";
  std::string key;
  std::string value;
  bool json = false;
};

Result<storage::Keyspace> ParseKeyspace(const std::string& name) {
  for (storage::Keyspace ks : storage::kAllKeyspaces) {
    if (storage::KeyspaceName(ks) == name && ks != storage::Keyspace::kKeys) return ks;
  }
  return InvalidArgumentError("unknown keyspace '" + name +
                              "' (use catalog, online, offline, audit, lineage, identity, "
                              "access or artifacts)");
}

void AddCommonFlags(CLI::App* cmd, DataFlags& f) {
  cmd->add_option("--dir", f.dir, "Data directory")->required();
  cmd->add_option("--shares-file", f.unseal.shares_file, "Unseal shares, one per line (- = stdin)");
  cmd->add_option("--passphrase-file", f.unseal.passphrase_file, "Passphrase file (- = stdin)");
  cmd->add_option("--pin-file", f.unseal.pin_file, "PKCS#11 PIN file (- = stdin)");
  cmd->add_option("--owner", f.owner, "Data key owner, e.g. fv:driver_stats:1")->required();
  cmd->add_option("--keyspace", f.keyspace, "Keyspace (default offline)");
  cmd->add_flag("--json", f.json, "Print the result as JSON");
}

int Run(const DataFlags& f, const std::string& op) {
  auto ks = ParseKeyspace(f.keyspace);
  if (!ks.ok()) return Fail(ks.status());
  auto dir = OpenDataDir(f.dir, f.unseal);
  if (!dir.ok()) return Fail(dir.status());
  // Reads must not create a key for an owner that never had one.
  if (op != "put") {
    auto key = (*dir)->keyring().GetDataKey(f.owner);
    if (!key.ok()) return Fail(key.status());
  }
  auto space = storage::EncryptedKeyspace::Open((*dir)->kv(), *ks, (*dir)->keyring(), f.owner);
  if (!space.ok()) return Fail(space.status());
  const std::string prefix = f.owner + "/";
  if (op == "put") {
    Status s = space->Put(prefix + f.key, f.value);
    if (!s.ok()) return Fail(s);
    std::cout << (f.json ? "{\"written\": true}" : "Wrote 1 encrypted record") << "\n";
    return 0;
  }
  if (op == "get") {
    auto value = space->Get(prefix + f.key);
    if (!value.ok()) return Fail(value.status());
    if (!value->has_value()) {
      return Fail(NotFoundError("no record '" + f.key + "' for owner '" + f.owner + "'"));
    }
    std::cout << (f.json ? nlohmann::json{{"key", f.key}, {"value", **value}}.dump() : **value)
              << "\n";
    return 0;
  }
  nlohmann::json rows = nlohmann::json::array();
  Status s = space->ScanPrefix(prefix, [&](std::string_view k, std::string_view v) {
    std::string key(k.substr(prefix.size()));
    if (f.json) {
      rows.push_back({{"key", key}, {"value", std::string(v)}});
    } else {
      std::cout << key << "\t" << v << "\n";
    }
    return Status::Ok();
  });
  if (!s.ok()) return Fail(s);
  if (f.json) std::cout << rows.dump() << "\n";
  return 0;
}

}  // namespace

void AddDataCommands(CLI::App& app, int* exit_code) {
  CLI::App* data = app.add_subcommand("data", "Encrypted records, sealed under an owner's key");
  data->require_subcommand(1);

  auto put = std::make_shared<DataFlags>();
  CLI::App* cmd = data->add_subcommand("put", "Encrypt and store one record");
  AddCommonFlags(cmd, *put);
  cmd->add_option("key", put->key, "Record key")->required();
  cmd->add_option("value", put->value, "Record value")->required();
  cmd->callback([put, exit_code] { *exit_code = Run(*put, "put"); });

  auto get = std::make_shared<DataFlags>();
  cmd = data->add_subcommand("get", "Read and decrypt one record");
  AddCommonFlags(cmd, *get);
  cmd->add_option("key", get->key, "Record key")->required();
  cmd->callback([get, exit_code] { *exit_code = Run(*get, "get"); });

  auto list = std::make_shared<DataFlags>();
  cmd = data->add_subcommand("list", "Read and decrypt every record of an owner");
  AddCommonFlags(cmd, *list);
  cmd->callback([list, exit_code] { *exit_code = Run(*list, "list"); });
}

}  // namespace custos::cli
