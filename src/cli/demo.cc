// `custos demo`: a guided tour of the foundation, in a fresh data directory:
// init with Shamir shares, unseal, encrypted writes and reads, KEK rotation,
// crypto-shredding, and reopening. Each step prints what it did and checks it.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "storage/data_dir.h"
#include "storage/encrypted_keyspace.h"

namespace custos::cli {
namespace {

namespace fs = std::filesystem;

struct Record {
  const char* key;
  const char* value;
};

constexpr Record kDriverRows[] = {
    {"driver:1001", R"({"conv_rate":0.82,"acc_rate":0.91,"avg_daily_trips":14})"},
    {"driver:1002", R"({"conv_rate":0.47,"acc_rate":0.88,"avg_daily_trips":9})"},
    {"driver:1003", R"({"conv_rate":0.65,"acc_rate":0.79,"avg_daily_trips":21})"}};
constexpr Record kCustomerRows[] = {
    {"customer:77", R"({"email":"ana@example.org","lifetime_value":1250.40})"},
    {"customer:78", R"({"email":"ben@example.org","lifetime_value":310.00})"}};

constexpr const char* kDriverOwner = "fv:driver_stats:1";
constexpr const char* kCustomerOwner = "fv:customer_profile:1";

void Step(int n, std::string_view title) { std::cout << "\n[" << n << "] " << title << "\n"; }

Status Check(bool ok, std::string_view what) {
  if (ok) return Status::Ok();
  return InternalError("demo check failed: " + std::string(what));
}

// Counts files under `dir` whose raw bytes contain `needle`.
int FilesContaining(const std::string& dir, std::string_view needle) {
  int hits = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::FILE* f = std::fopen(entry.path().c_str(), "rb");
    if (!f) continue;
    std::string content;
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) content.append(buf, n);
    std::fclose(f);
    if (content.find(needle) != std::string::npos) ++hits;
  }
  return hits;
}

Status WriteRows(storage::DataDir& dir, const char* owner, std::span<const Record> rows) {
  CUSTOS_ASSIGN_OR_RETURN(
      auto space,
      storage::EncryptedKeyspace::Open(dir.kv(), storage::Keyspace::kOnline, dir.keyring(), owner));
  storage::WriteBatch batch;
  for (const Record& r : rows) space.PutTo(batch, std::string(owner) + "/" + r.key, r.value);
  CUSTOS_RETURN_IF_ERROR(dir.kv().Write(batch));
  std::cout << "    wrote " << rows.size() << " records for " << owner << " (DEK " << space.dek_id()
            << ")\n";
  return Status::Ok();
}

Status ReadRows(storage::DataDir& dir, const char* owner, std::span<const Record> rows) {
  CUSTOS_ASSIGN_OR_RETURN(auto key, dir.keyring().GetDataKey(owner));
  CUSTOS_ASSIGN_OR_RETURN(
      auto space,
      storage::EncryptedKeyspace::Open(dir.kv(), storage::Keyspace::kOnline, dir.keyring(), owner));
  for (const Record& r : rows) {
    CUSTOS_ASSIGN_OR_RETURN(auto value, space.Get(std::string(owner) + "/" + r.key));
    CUSTOS_RETURN_IF_ERROR(Check(value && *value == r.value, "read back equals what was written"));
    std::cout << "    " << owner << " " << r.key << " -> " << *value << "\n";
  }
  return Status::Ok();
}

Status RunDemo(std::string dir_path) {
  const bool temporary = dir_path.empty();
  if (temporary) {
    dir_path = (fs::temp_directory_path() / ("custos-demo-" + std::to_string(::getpid()))).string();
  }
  std::cout << "custos demo: the key hierarchy and encrypted storage\n"
            << "data directory: " << dir_path << "\n";

  Step(1, "init: a 256-bit root key, split into 5 Shamir shares (any 3 unseal)");
  CUSTOS_ASSIGN_OR_RETURN(crypto::ShamirInit init, crypto::InitShamir(5, 3));
  std::vector<std::string> shares = init.shares;
  {
    CUSTOS_ASSIGN_OR_RETURN(
        auto dir, storage::DataDir::Create(dir_path, init.config, std::move(init.root_key), {}));
    for (size_t i = 0; i < shares.size(); ++i) {
      std::cout << "    share " << i + 1 << ": " << shares[i].substr(0, 28) << "...\n";
    }
    std::cout << "    KEK v" << dir->keyring().current_kek_version()
              << " created, sealed by the root key\n";
  }

  Step(2, "unseal: wrong inputs are refused with a clear reason");
  {
    auto two = storage::DataDir::Open(dir_path, {.shares = {shares[0], shares[3]}});
    std::cout << "    with 2 shares:         " << two.status().ToString() << "\n";
    CUSTOS_RETURN_IF_ERROR(Check(!two.ok(), "2 shares must not unseal"));
    std::string typo = shares[2];
    typo[30] = typo[30] == 'A' ? 'B' : 'A';
    auto bad = storage::DataDir::Open(dir_path, {.shares = {shares[0], shares[1], typo}});
    std::cout << "    with a mistyped share: " << bad.status().ToString() << "\n";
    CUSTOS_RETURN_IF_ERROR(Check(!bad.ok(), "a mistyped share must not unseal"));
  }

  Step(3, "unseal with shares 4, 1 and 3 (any order), write encrypted records");
  CUSTOS_ASSIGN_OR_RETURN(
      auto dir, storage::DataDir::Open(dir_path, {.shares = {shares[3], shares[0], shares[2]}}));
  std::cout << "    unsealed: root key matches its canary\n";
  CUSTOS_RETURN_IF_ERROR(WriteRows(*dir, kDriverOwner, kDriverRows));
  CUSTOS_RETURN_IF_ERROR(WriteRows(*dir, kCustomerOwner, kCustomerRows));

  Step(4, "read back and decrypt");
  CUSTOS_RETURN_IF_ERROR(ReadRows(*dir, kDriverOwner, kDriverRows));
  CUSTOS_RETURN_IF_ERROR(ReadRows(*dir, kCustomerOwner, kCustomerRows));

  Step(5, "rotate the KEK: every data key rewrapped, no data rewritten");
  CUSTOS_ASSIGN_OR_RETURN(crypto::RotationResult rotation, dir->keyring().Rotate());
  std::cout << "    KEK v" << rotation.new_version << ": rewrapped " << rotation.deks_rewrapped
            << " data keys in " << rotation.elapsed.count() / 1000.0 << " ms\n";
  CUSTOS_RETURN_IF_ERROR(dir->keyring().SetMinDecryptionVersion(rotation.new_version));
  CUSTOS_ASSIGN_OR_RETURN(auto destroyed, dir->keyring().DestroyRetiredKeks());
  std::cout << "    minimum decryption version v" << rotation.new_version << "; destroyed "
            << destroyed.size() << " retired KEK(s)\n";
  CUSTOS_RETURN_IF_ERROR(ReadRows(*dir, kDriverOwner, kDriverRows));
  CUSTOS_ASSIGN_OR_RETURN(crypto::ComplianceReport report, dir->keyring().Compliance());
  std::cout << "    compliance report:\n";
  std::string text = report.ToText();
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    std::cout << "      " << text.substr(start, end - start) << "\n";
    start = end + 1;
  }

  Step(6, "shred the data key of " + std::string(kCustomerOwner));
  const std::string customer_key = std::string(kCustomerOwner) + "/" + kCustomerRows[0].key;
  CUSTOS_ASSIGN_OR_RETURN(auto before, dir->kv().Get(storage::Keyspace::kOnline, customer_key));
  CUSTOS_RETURN_IF_ERROR(dir->keyring().ShredDataKey(kCustomerOwner));
  CUSTOS_ASSIGN_OR_RETURN(auto after, dir->kv().Get(storage::Keyspace::kOnline, customer_key));
  std::cout << "    ciphertext still stored: " << (after && after == before ? "yes" : "no") << " ("
            << (after ? after->size() : 0) << " bytes)\n";
  auto gone = dir->keyring().GetDataKey(kCustomerOwner);
  std::cout << "    reading it: " << gone.status().ToString() << "\n";
  CUSTOS_RETURN_IF_ERROR(Check(!gone.ok(), "a shredded key must be gone"));
  CUSTOS_RETURN_IF_ERROR(ReadRows(*dir, kDriverOwner, kDriverRows));
  std::cout << "    other owners are untouched\n";

  Step(7, "reopen with shares 5, 2 and 1: everything persisted");
  dir.reset();
  CUSTOS_ASSIGN_OR_RETURN(
      dir, storage::DataDir::Open(dir_path, {.shares = {shares[4], shares[1], shares[0]}}));
  std::cout << "    current KEK v" << dir->keyring().current_kek_version() << "\n";
  CUSTOS_RETURN_IF_ERROR(ReadRows(*dir, kDriverOwner, kDriverRows));
  CUSTOS_RETURN_IF_ERROR(
      Check(!dir->keyring().GetDataKey(kCustomerOwner).ok(), "the shred survives a restart"));
  std::cout << "    " << kCustomerOwner << " stays shredded\n";

  Step(8, "no plaintext on disk");
  dir.reset();
  int hits = FilesContaining(dir_path, "avg_daily_trips") + FilesContaining(dir_path, "@example");
  std::cout << "    files containing a plaintext value: " << hits << "\n";
  CUSTOS_RETURN_IF_ERROR(Check(hits == 0, "no plaintext in the data directory"));

  if (temporary) fs::remove_all(dir_path);
  std::cout << "\ndemo complete\n";
  return Status::Ok();
}

}  // namespace

void AddDemoCommand(CLI::App& app, int* exit_code) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("demo", "A guided tour in a fresh data directory");
  cmd->add_option("--dir", *dir, "Keep the demo's data directory here (default: temporary)");
  cmd->callback([dir, exit_code] {
    Status s = RunDemo(*dir);
    *exit_code = s.ok() ? 0 : Fail(s);
  });
}

}  // namespace custos::cli
