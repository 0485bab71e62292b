// `custos keys status|rotate|min-decryption-version|destroy-retired|shred`.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/unseal_input.h"

namespace custos::cli {
namespace {

struct KeysFlags {
  std::string dir;
  UnsealFlags unseal;
  bool json = false;
  bool if_due = false;
  uint32_t version = 0;
  std::string owner;
};

void AddCommonFlags(CLI::App* cmd, KeysFlags& f) {
  cmd->add_option("--dir", f.dir, "Data directory")->required();
  cmd->add_option("--shares-file", f.unseal.shares_file, "Unseal shares, one per line (- = stdin)");
  cmd->add_option("--passphrase-file", f.unseal.passphrase_file, "Passphrase file (- = stdin)");
  cmd->add_option("--pin-file", f.unseal.pin_file, "PKCS#11 PIN file (- = stdin)");
  cmd->add_flag("--json", f.json, "Print the result as JSON");
}

nlohmann::ordered_json ReportJson(const crypto::ComplianceReport& r) {
  nlohmann::ordered_json j;
  j["compliant"] = r.compliant();
  j["rotation_due"] = r.rotation_due;
  j["stale_wrapping"] = r.stale_wrapping;
  j["current_kek_version"] = r.current_version;
  j["min_decryption_version"] = r.min_decryption_version;
  j["rotation_period_days"] = r.rotation_period.count() / 24;
  j["data_keys"] = r.deks_total;
  j["data_keys_shredded"] = r.deks_shredded;
  for (const auto& k : r.keks) {
    j["keks"].push_back({{"version", k.info.version},
                         {"state", crypto::KekStateName(k.info.state)},
                         {"created_at", common::FormatRfc3339(k.info.created_at)},
                         {"age_days", k.age.count() / 24},
                         {"data_keys", k.deks_wrapped}});
  }
  return j;
}

int RunStatus(const KeysFlags& f) {
  auto dir = OpenDataDir(f.dir, f.unseal);
  if (!dir.ok()) return Fail(dir.status());
  auto report = (*dir)->keyring().Compliance();
  if (!report.ok()) return Fail(report.status());
  if (f.json) {
    std::cout << ReportJson(*report).dump(2) << "\n";
  } else {
    std::cout << report->ToText();
  }
  return 0;
}

int RunRotate(const KeysFlags& f) {
  auto dir = OpenDataDir(f.dir, f.unseal);
  if (!dir.ok()) return Fail(dir.status());
  crypto::Keyring& keyring = (*dir)->keyring();
  if (f.if_due) {
    auto report = keyring.Compliance();
    if (!report.ok()) return Fail(report.status());
    if (report->compliant()) {
      std::cout << (f.json ? "{\"rotated\": false}\n"
                           : "No rotation due: KEK v" + std::to_string(report->current_version) +
                                 " is within the rotation period\n");
      return 0;
    }
  }
  auto result = keyring.Rotate();
  if (!result.ok()) return Fail(result.status());
  if (f.json) {
    nlohmann::ordered_json j{{"rotated", true},
                             {"kek_version", result->new_version},
                             {"data_keys_rewrapped", result->deks_rewrapped},
                             {"elapsed_ms", result->elapsed.count() / 1000.0}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "Rotated to KEK v" << result->new_version << ": rewrapped "
              << result->deks_rewrapped << " data keys in " << result->elapsed.count() / 1000.0
              << " ms (no data rewritten)\n";
  }
  return 0;
}

int RunMinVersion(const KeysFlags& f) {
  auto dir = OpenDataDir(f.dir, f.unseal);
  if (!dir.ok()) return Fail(dir.status());
  Status s = (*dir)->keyring().SetMinDecryptionVersion(f.version);
  if (!s.ok()) return Fail(s);
  std::cout << "Minimum decryption version is now v" << f.version << "\n";
  return 0;
}

int RunDestroyRetired(const KeysFlags& f) {
  auto dir = OpenDataDir(f.dir, f.unseal);
  if (!dir.ok()) return Fail(dir.status());
  auto destroyed = (*dir)->keyring().DestroyRetiredKeks();
  if (!destroyed.ok()) return Fail(destroyed.status());
  if (f.json) {
    std::cout << nlohmann::json{{"destroyed", *destroyed}}.dump() << "\n";
  } else if (destroyed->empty()) {
    std::cout << "No KEK below the minimum decryption version to destroy\n";
  } else {
    for (uint32_t v : *destroyed) std::cout << "Destroyed KEK v" << v << "\n";
  }
  return 0;
}

int RunShred(const KeysFlags& f) {
  auto dir = OpenDataDir(f.dir, f.unseal);
  if (!dir.ok()) return Fail(dir.status());
  Status s = (*dir)->keyring().ShredDataKey(f.owner);
  if (!s.ok()) return Fail(s);
  std::cout << "Shredded the data key of '" << f.owner
            << "': every record sealed under it is now unreadable\n";
  return 0;
}

}  // namespace

void AddKeysCommands(CLI::App& app, int* exit_code) {
  CLI::App* keys = app.add_subcommand("keys", "Key hierarchy: status, rotation, shredding");
  keys->require_subcommand(1);

  auto status = std::make_shared<KeysFlags>();
  CLI::App* cmd = keys->add_subcommand("status", "Key ages against the rotation policy");
  AddCommonFlags(cmd, *status);
  cmd->callback([status, exit_code] { *exit_code = RunStatus(*status); });

  auto rotate = std::make_shared<KeysFlags>();
  cmd = keys->add_subcommand("rotate", "New KEK version; rewrap every data key (no downtime)");
  AddCommonFlags(cmd, *rotate);
  cmd->add_flag("--if-due", rotate->if_due, "Rotate only when the schedule says so");
  cmd->callback([rotate, exit_code] { *exit_code = RunRotate(*rotate); });

  auto min = std::make_shared<KeysFlags>();
  cmd = keys->add_subcommand("min-decryption-version",
                             "Refuse data keys wrapped by KEKs older than VERSION");
  AddCommonFlags(cmd, *min);
  cmd->add_option("version", min->version, "KEK version")->required();
  cmd->callback([min, exit_code] { *exit_code = RunMinVersion(*min); });

  auto destroy = std::make_shared<KeysFlags>();
  cmd =
      keys->add_subcommand("destroy-retired", "Destroy KEKs below the minimum decryption version");
  AddCommonFlags(cmd, *destroy);
  cmd->callback([destroy, exit_code] { *exit_code = RunDestroyRetired(*destroy); });

  auto shred = std::make_shared<KeysFlags>();
  cmd = keys->add_subcommand("shred", "Destroy one owner's data key (crypto-shredding)");
  AddCommonFlags(cmd, *shred);
  cmd->add_option("owner", shred->owner, "Data key owner, e.g. fv:driver_stats:1")->required();
  cmd->callback([shred, exit_code] { *exit_code = RunShred(*shred); });
}

}  // namespace custos::cli
