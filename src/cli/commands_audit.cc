// `custos audit verify|replicate|tail|query|proof|pubkey|checkpoint`: the audit log from
// the command line. verify, replicate and proof need only public data (no unseal).
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "audit/checkpoint.h"
#include "audit/hash_store.h"
#include "audit/log.h"
#include "audit/log_signer.h"
#include "audit/receipt.h"
#include "audit/replica.h"
#include "audit/verifier.h"
#include "cli/commands.h"
#include "cli/instance_flags.h"
#include "cli/output.h"
#include "cli/unseal_input.h"
#include "server/json_views.h"
#include "storage/rocksdb_kv.h"

namespace custos::cli {
namespace {

using server::EventJson;

struct AuditFlags {
  std::string dir;
  UnsealFlags unseal;
  bool json = false;
  std::string pubkey;
  std::string origin = "custos.local/audit";
  std::string to;
  uint64_t index = 0;
  size_t count = 10;
  std::string principal, resource, action, decision, from, to_time, page_token;
};

void AddDirFlag(CLI::App* cmd, AuditFlags& f) {
  cmd->add_option("--dir", f.dir, "Data (or replica) directory")->required();
  cmd->add_flag("--json", f.json, "Print the result as JSON");
}
void AddUnsealFlags(CLI::App* cmd, AuditFlags& f) {
  cmd->add_option("--shares-file", f.unseal.shares_file, "Unseal shares, one per line (- = stdin)");
  cmd->add_option("--passphrase-file", f.unseal.passphrase_file, "Passphrase file (- = stdin)");
  cmd->add_option("--pin-file", f.unseal.pin_file, "PKCS#11 PIN file (- = stdin)");
}
void AddKeyFlags(CLI::App* cmd, AuditFlags& f) {
  cmd->add_option("--pubkey", f.pubkey, "The log's public key file (default: <dir>/audit.pub)");
  cmd->add_option("--origin", f.origin, "The log's origin line")->capture_default_str();
}

std::string PubkeyPath(const AuditFlags& f) {
  return f.pubkey.empty() ? f.dir + "/" + std::string(audit::kPublicKeyFileName) : f.pubkey;
}

struct OpenLog {
  std::unique_ptr<storage::DataDir> dir;
  std::unique_ptr<audit::AuditLog> log;
};

Result<OpenLog> OpenAuditLog(const AuditFlags& f) {
  OpenLog out;
  CUSTOS_ASSIGN_OR_RETURN(out.dir, OpenDataDir(f.dir, f.unseal));
  audit::LogOptions options;
  options.origin = f.origin;
  options.background_checkpoints = false;
  options.public_key_path = f.dir + "/" + std::string(audit::kPublicKeyFileName);
  CUSTOS_ASSIGN_OR_RETURN(out.log,
                          audit::AuditLog::Open(out.dir->kv(), out.dir->keyring(), options));
  return out;
}

void PrintEvent(uint64_t index, const audit::AuditEvent& e, bool json) {
  if (json) {
    std::cout << EventJson(index, e).dump() << "\n";
    return;
  }
  std::string resources;
  for (const auto& r : e.resources)
    resources += (resources.empty() ? "" : ",") + r.type + "::" + r.id;
  std::cout << index << "  " << common::FormatRfc3339(e.time) << "  " << e.principal_id << "  "
            << e.action << "  " << resources << "  "
            << (e.decision == audit::Decision::kAllow ? "allow" : "deny") << "\n";
}

int RunVerify(const AuditFlags& f) {
  auto key = audit::ReadPublicKeyFile(PubkeyPath(f));
  if (!key.ok()) return Fail(key.status());
  auto store = audit::OpenReadOnlyAuditStore(f.dir);
  if (!store.ok()) return Fail(store.status());
  auto report = audit::VerifyLog(**store, *key, {f.origin});
  if (!report.ok()) return Fail(report.status());
  if (f.json) {
    nlohmann::ordered_json j{{"ok", true},
                             {"entries", report->entries},
                             {"checkpoints", report->checkpoints},
                             {"tile_hashes", report->tile_hashes},
                             {"latest_checkpoint_size", report->latest_checkpoint_size},
                             {"root", common::Base64Encode(report->root)}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "Audit log OK: " << report->entries << " entries, " << report->checkpoints
              << " checkpoints (newest at size " << report->latest_checkpoint_size << "), "
              << report->tile_hashes << " tile hashes checked; root "
              << common::Base64Encode(report->root) << "\n";
  }
  return 0;
}

int RunReplicate(const AuditFlags& f) {
  auto key = audit::ReadPublicKeyFile(PubkeyPath(f));
  if (!key.ok()) return Fail(key.status());
  auto source = audit::OpenReadOnlyAuditStore(f.dir);
  if (!source.ok()) return Fail(source.status());
  std::error_code ec;
  std::filesystem::create_directories(f.to, ec);
  if (ec) return Fail(UnavailableError("cannot create " + f.to + ": " + ec.message()));
  auto replica = storage::RocksDbKv::Open({.path = f.to + "/db"});
  if (!replica.ok()) return Fail(replica.status());
  auto report = audit::Replicate(**source, **replica, *key, f.origin);
  if (!report.ok()) return Fail(report.status());
  Status written =
      audit::WritePublicKeyFile(*key, f.to + "/" + std::string(audit::kPublicKeyFileName));
  if (!written.ok()) return Fail(written);
  if (f.json) {
    std::cout << nlohmann::ordered_json{{"from_size", report->from_size},
                                        {"to_size", report->to_size},
                                        {"checkpoints_copied", report->checkpoints_copied}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "Replicated " << report->to_size - report->from_size << " entries ("
              << report->from_size << " -> " << report->to_size << "), "
              << report->checkpoints_copied << " checkpoints, all verified\n";
  }
  return 0;
}

int RunTail(const AuditFlags& f) {
  auto open = OpenAuditLog(f);
  if (!open.ok()) return Fail(open.status());
  audit::AuditLog& log = *open->log;
  uint64_t size = log.size();
  uint64_t first = size > f.count ? size - f.count : 0;
  for (uint64_t i = first; i < size; ++i) {
    auto event = log.ReadEvent(i);
    if (!event.ok()) {
      if (f.json) {
        std::cout << nlohmann::json{{"index", i}, {"unreadable", event.status().message()}}.dump()
                  << "\n";
      } else {
        std::cout << i << "  (unreadable: " << event.status().message() << ")\n";
      }
      continue;
    }
    PrintEvent(i, *event, f.json);
  }
  return 0;
}

int RunQuery(const AuditFlags& f) {
  audit::EventQuery query;
  // Both spellings work: User::alice or User::"alice".
  if (!f.principal.empty()) query.principal = QuotedUidText(f.principal);
  if (!f.resource.empty()) query.resource = UnquotedUidText(f.resource);
  if (!f.action.empty()) query.action = f.action;
  if (!f.decision.empty()) {
    if (f.decision != "allow" && f.decision != "deny") {
      return Fail(
          InvalidArgumentError("--decision must be allow or deny, got '" + f.decision + "'"));
    }
    query.decision = f.decision == "allow" ? audit::Decision::kAllow : audit::Decision::kDeny;
  }
  if (!f.from.empty()) {
    auto t = common::ParseRfc3339(f.from);
    if (!t.ok()) return Fail(t.status().WithContext("--from"));
    query.from = *t;
  }
  if (!f.to_time.empty()) {
    auto t = common::ParseRfc3339(f.to_time);
    if (!t.ok()) return Fail(t.status().WithContext("--until"));
    query.to = *t;
  }
  query.limit = f.count;
  query.page_token = f.page_token;
  auto open = OpenAuditLog(f);
  if (!open.ok()) return Fail(open.status());
  auto page = open->log->Query(query);
  if (!page.ok()) return Fail(page.status());
  for (const auto& hit : page->hits) PrintEvent(hit.index, hit.event, f.json);
  if (!page->next_page_token.empty()) {
    if (f.json) {
      std::cout << nlohmann::json{{"next_page_token", page->next_page_token}}.dump() << "\n";
    } else {
      std::cout << "More: --page-token " << page->next_page_token << "\n";
    }
  }
  return 0;
}

int RunProof(const AuditFlags& f) {
  auto store = audit::OpenReadOnlyAuditStore(f.dir);
  if (!store.ok()) return Fail(store.status());
  auto note = audit::ReadLatestCheckpoint(**store);
  if (!note.ok()) return Fail(note.status());
  if (!*note) {
    return Fail(
        FailedPreconditionError("the audit log has no checkpoint yet; run `custos audit "
                                "checkpoint --dir " +
                                f.dir + "`"));
  }
  auto parsed = audit::ParseNote(**note);
  if (!parsed.ok()) return Fail(parsed.status());
  auto checkpoint = audit::ParseCheckpointText(parsed->text);
  if (!checkpoint.ok()) return Fail(checkpoint.status());
  if (f.index >= checkpoint->size) {
    return Fail(FailedPreconditionError(
        "index " + std::to_string(f.index) + " is not covered by the newest checkpoint (size " +
        std::to_string(checkpoint->size) + "); wait a second or run `custos audit checkpoint`"));
  }
  audit::KvHashStore hashes(**store, checkpoint->size);
  audit::Receipt receipt;
  receipt.index = f.index;
  auto proof = audit::InclusionProof(f.index, checkpoint->size, hashes);
  if (!proof.ok()) return Fail(proof.status());
  receipt.proof = std::move(*proof);
  receipt.signed_checkpoint = **note;
  std::cout << audit::FormatReceipt(receipt);
  return 0;
}

int RunPubkey(const AuditFlags& f) {
  auto key = audit::ReadPublicKeyFile(PubkeyPath(f));
  if (key.ok()) {
    std::cout << key->Vkey() << "\n";
    return 0;
  }
  // No exported key yet: open the log (needs unseal), which creates and exports it.
  auto open = OpenAuditLog(f);
  if (!open.ok()) return Fail(open.status());
  std::cout << open->log->verifier().Vkey() << "\n";
  return 0;
}

int RunCheckpoint(const AuditFlags& f) {
  auto open = OpenAuditLog(f);
  if (!open.ok()) return Fail(open.status());
  auto note = open->log->CheckpointNow();
  if (!note.ok()) return Fail(note.status());
  std::cout << *note;
  return 0;
}

}  // namespace

void AddAuditCommands(CLI::App& app, int* exit_code) {
  CLI::App* audit = app.add_subcommand("audit", "The tamper-evident audit log");
  audit->require_subcommand(1);

  auto verify = std::make_shared<AuditFlags>();
  CLI::App* cmd = audit->add_subcommand(
      "verify", "Recompute the Merkle tree and check every tile and signed checkpoint (no keys)");
  AddDirFlag(cmd, *verify);
  AddKeyFlags(cmd, *verify);
  cmd->callback([verify, exit_code] { *exit_code = RunVerify(*verify); });

  auto replicate = std::make_shared<AuditFlags>();
  cmd = audit->add_subcommand("replicate",
                              "Copy new entries, tiles and checkpoints, verified, "
                              "into a replica directory (no keys)");
  AddDirFlag(cmd, *replicate);
  AddKeyFlags(cmd, *replicate);
  cmd->add_option("--to", replicate->to, "Replica directory (created if missing)")->required();
  cmd->callback([replicate, exit_code] { *exit_code = RunReplicate(*replicate); });

  auto tail = std::make_shared<AuditFlags>();
  cmd = audit->add_subcommand("tail", "The newest events, decrypted");
  AddDirFlag(cmd, *tail);
  AddUnsealFlags(cmd, *tail);
  cmd->add_option("-n,--count", tail->count, "How many events")->capture_default_str();
  cmd->add_option("--origin", tail->origin, "The log's origin line")->capture_default_str();
  cmd->callback([tail, exit_code] { *exit_code = RunTail(*tail); });

  auto query = std::make_shared<AuditFlags>();
  cmd = audit->add_subcommand("query", "Events by principal, resource, action, decision, time");
  AddDirFlag(cmd, *query);
  AddUnsealFlags(cmd, *query);
  cmd->add_option("--principal", query->principal, "e.g. User::alice");
  cmd->add_option("--resource", query->resource, "Type::id, e.g. FeatureView::fraud_v1");
  cmd->add_option("--action", query->action, "e.g. read");
  cmd->add_option("--decision", query->decision, "allow or deny");
  cmd->add_option("--from", query->from, "RFC 3339 time, inclusive");
  cmd->add_option("--until", query->to_time, "RFC 3339 time, exclusive");
  cmd->add_option("-n,--limit", query->count, "Events per page (1..1000)")->capture_default_str();
  cmd->add_option("--page-token", query->page_token, "From the previous page");
  cmd->add_option("--origin", query->origin, "The log's origin line")->capture_default_str();
  cmd->callback([query, exit_code] { *exit_code = RunQuery(*query); });

  auto proof = std::make_shared<AuditFlags>();
  cmd = audit->add_subcommand("proof", "A C2SP tlog-proof receipt for one entry (no keys)");
  AddDirFlag(cmd, *proof);
  cmd->add_option("--index", proof->index, "Entry index")->required();
  cmd->callback([proof, exit_code] { *exit_code = RunProof(*proof); });

  auto pubkey = std::make_shared<AuditFlags>();
  cmd = audit->add_subcommand("pubkey", "Print the log's public key (vkey) for verifiers");
  AddDirFlag(cmd, *pubkey);
  AddUnsealFlags(cmd, *pubkey);
  AddKeyFlags(cmd, *pubkey);
  cmd->callback([pubkey, exit_code] { *exit_code = RunPubkey(*pubkey); });

  auto checkpoint = std::make_shared<AuditFlags>();
  cmd = audit->add_subcommand("checkpoint", "Sign a checkpoint of the log now and print it");
  AddDirFlag(cmd, *checkpoint);
  AddUnsealFlags(cmd, *checkpoint);
  cmd->add_option("--origin", checkpoint->origin, "The log's origin line")->capture_default_str();
  cmd->callback([checkpoint, exit_code] { *exit_code = RunCheckpoint(*checkpoint); });
}

}  // namespace custos::cli
