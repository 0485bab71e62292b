// Online feature-read benchmark (issue 6), custos' side: one entity x 10 features read in
// process through FeatureStore::AuthorizeRead (Cedar, ~25 policies, 36 principals) and
// GetOnlineFeatures (RocksDB read, AES-256-GCM open, masking), single thread, with the
// latency of every request. The data is the generator's features.csv (run it with as many
// rows as entities, so each entity has exactly its latest row); it is ingested through
// FeatureStore::Ingest in chunks (untimed). Every response is checked: 7 raw features equal
// the plaintext exactly and PRESENT, the 3 masked ones equal the mask of the plaintext.
// Usage: custos_bench_features_online --data DIR --db DIR [--requests 200000]
//        [--warmup 10000] [--chunk 100000] [--seed 42] [--block-cache-mib 64] [--compact 1]
//        [--pin-online-index 0] [--dump PREFIX]
// Prints JSON lines: {"system":"custos","phase":"authorize+get","p50_us":...,...}.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "audit/event.h"
#include "audit/log.h"
#include "bench_util.h"
#include "catalog/catalog_store.h"
#include "catalog/governance.h"
#include "catalog/repository.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/hash.h"
#include "crypto/keyring.h"
#include "crypto/root_key.h"
#include "crypto/secret.h"
#include "crypto/software_kek_backend.h"
#include "features/entity_rows.h"
#include "features/feature_store.h"
#include "features/masking.h"
#include "identity/directory.h"
#include "identity/identity_audit.h"
#include "policy/parser.h"
#include "storage/data_dir.h"
#include "storage/key_record_store_kv.h"
#include "storage/rocksdb_kv.h"

namespace {

using namespace custos;            // NOLINT(google-build-using-namespace): a benchmark program
using namespace custos::features;  // NOLINT(google-build-using-namespace)
using Clock = std::chrono::steady_clock;

constexpr int kFeatures = 10;
constexpr int64_t kFirstEntity = 1000;  // the generator's first driver_id

using custos::bench::Must;
using custos::bench::MustOk;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "online bench: %s\n", what.c_str());
  std::exit(1);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename T>
T ParseNumber(std::string_view s) {
  T v{};
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
    Fail("bad number '" + std::string(s) + "'");
  }
  return v;
}

using Rng = custos::bench::SplitMix64;

// The generator's plaintext of one entity: f0-f5 doubles, f6-f8 int64, f9 "city_<n>".
struct Plain {
  double d[6];
  int64_t i[3];
  int32_t city;
};

// The repository: the generator's 10 columns as one view's features. Three are restricted
// and masked (f0 range, f6 hash, f9 show_last); the rest mix public/internal/confidential.
constexpr const char* kRepository = R"(
kind: Entity
name: customer
description: A card holder.
join_keys:
  - name: customer_id
    type: int64
---
kind: DataSource
name: customer_stats
type: csv
path: data/customer_stats.csv
description: The online benchmark's generated rows (ingested from memory).
timestamp_field: event_ts
created_timestamp_field: created_ts
fields:
  customer_id: int64
  event_ts: timestamp
  created_ts: timestamp
  f0: double
  f1: double
  f2: double
  f3: double
  f4: double
  f5: double
  f6: int64
  f7: int64
  f8: int64
  f9: string
---
kind: FeatureView
name: customer_features
description: Ten generated customer features.
entities: [customer]
source: customer_stats
classification: confidential
owners: ['Group::"fraud-team"']
tags: {team: fraud, domain: payments}
ttl: 0
retention: 3650d
online: true
features:
  - name: f0
    type: double
    classification: restricted
    mask: range:100
  - name: f1
    type: double
    classification: internal
  - name: f2
    type: double
    classification: confidential
  - name: f3
    type: double
    classification: public
  - name: f4
    type: double
    classification: internal
  - name: f5
    type: double
    classification: confidential
  - name: f6
    type: int64
    classification: restricted
    tags: {pii: "true"}
    mask: hash
  - name: f7
    type: int64
    classification: internal
  - name: f8
    type: int64
    classification: confidential
  - name: f9
    type: string
    classification: restricted
    tags: {pii: "true"}
    mask: show_last:4
)";

// About 25 realistic policies: RBAC by group, ABAC on classification and purpose, raw reads
// of restricted features forbidden with masked reads permitted, and noise for other views,
// groups and users (which the engine must still consider). The forbids name their actions:
// a forbid on every action would also be a read_row policy, which turns the row filter on
// for every principal it covers and, with no read_row permit, hides every row
// (feature_access.h, fail closed).
constexpr const char* kPolicies = R"(
@id("fraud-raw")
permit(principal in Group::"fraud-team", action == Action::"read",
       resource in FeatureView::"customer_features")
when { context.purpose == "fraud-model" };
@id("fraud-masked")
permit(principal in Group::"fraud-team", action == Action::"read_masked",
       resource in FeatureView::"customer_features")
when { context.purpose == "fraud-model" };
@id("restricted-never-raw")
forbid(principal, action == Action::"read", resource in FeatureView::"customer_features")
when { resource.classification == "restricted" };
@id("pii-never-raw")
forbid(principal, action == Action::"read", resource)
when { resource.tags has pii && resource.tags.pii == "true" };
@id("no-purpose-no-read")
forbid(principal,
       action in [Action::"read", Action::"read_pseudonymized", Action::"read_masked",
                  Action::"read_aggregate"],
       resource)
when { context.purpose == "" };
@id("high-risk-sessions")
forbid(principal,
       action in [Action::"read", Action::"read_pseudonymized", Action::"read_masked",
                  Action::"read_aggregate"],
       resource)
when { context.risk > 800 };
@id("ds-training-pseudonymized")
permit(principal in Group::"data-science", action == Action::"read_pseudonymized",
       resource in FeatureView::"customer_features")
when { context.purpose == "training" };
@id("ds-public-raw")
permit(principal in Group::"data-science", action == Action::"read", resource)
when { resource.classification == "public" || resource.classification == "internal" };
@id("ds-staging-confidential")
permit(principal in Group::"data-science", action == Action::"read",
       resource in FeatureView::"customer_features")
when { context.environment == "staging" && resource.classification == "confidential" };
@id("risk-merchant-raw")
permit(principal in Group::"risk", action == Action::"read",
       resource in FeatureView::"merchant_risk");
@id("risk-customer-aggregate")
permit(principal in Group::"risk", action == Action::"read_aggregate",
       resource in FeatureView::"customer_features");
@id("risk-masked-investigations")
permit(principal in Group::"risk", action == Action::"read_masked", resource)
when { context.purpose == "investigation" && context.mfa };
@id("crm-profile")
permit(principal in Group::"crm", action == Action::"read",
       resource in FeatureView::"customer_profile")
when { context.purpose == "crm" };
@id("crm-needs-mfa")
forbid(principal in Group::"crm",
       action in [Action::"read", Action::"read_pseudonymized", Action::"read_masked",
                  Action::"read_aggregate"],
       resource)
unless { context.mfa };
@id("crm-rows-eu")
permit(principal in Group::"crm", action == Action::"read_row", resource)
when { context.zone == "eu" };
@id("auditors-aggregate")
permit(principal in Group::"auditors", action == Action::"read_aggregate", resource);
@id("auditors-no-raw")
forbid(principal in Group::"auditors", action == Action::"read", resource);
@id("u03-f1")
permit(principal == User::"u03", action == Action::"read",
       resource == Feature::"customer_features.f1");
@id("u11-profile-segment")
permit(principal == User::"u11", action == Action::"read",
       resource == Feature::"customer_profile.segment");
@id("u17-merchant-masked")
permit(principal == User::"u17", action == Action::"read_masked",
       resource in FeatureView::"merchant_risk");
@id("u29-offboarded")
forbid(principal == User::"u29",
       action in [Action::"read", Action::"read_pseudonymized", Action::"read_masked",
                  Action::"read_aggregate"],
       resource);
@id("u22-grant-lapsed")
permit(principal == User::"u22", action == Action::"read",
       resource in FeatureView::"customer_features")
when { context.now < 1700000000 };
@id("service-scorer-merchant")
permit(principal == User::"scorer", action == Action::"read",
       resource in FeatureView::"merchant_risk")
when { context.purpose == "fraud-model" };
@id("prod-only-scoring")
forbid(principal == User::"scorer",
       action in [Action::"read", Action::"read_pseudonymized", Action::"read_masked",
                  Action::"read_aggregate"],
       resource)
unless { context.environment == "prod" };
@id("internal-dashboards")
permit(principal in Group::"fraud-team", action == Action::"read_aggregate", resource)
when { context.purpose == "reporting" };
)";

const char* const kGroups[] = {"fraud-team", "data-science", "risk", "crm", "auditors"};

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Percentiles {
  double p50, p90, p99, p999, mean, max;
};

Percentiles Summarize(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(us.size())));
    return us[std::min(us.size() - 1, rank == 0 ? 0 : rank - 1)];
  };
  double sum = 0;
  for (double v : us) sum += v;
  return {at(0.50), at(0.90), at(0.99), at(0.999), sum / static_cast<double>(us.size()), us.back()};
}

// The machine's own stalls: a busy loop reading the clock for 200 ms counts the gaps above
// 10 us that nothing in this process caused (timer interrupts, hypervisor exits, other
// tenants). A request that spans one is slower by the gap: at about one gap per ms, a 14 us
// request meets one about 1.4% of the time, which is enough to set the p99.
void PrintStallProbe() {
  const auto start = Clock::now();
  auto prev = start;
  std::vector<double> gaps;
  while (prev - start < std::chrono::milliseconds(200)) {
    const auto t = Clock::now();
    const double gap = Micros(t - prev);
    if (gap > 10) gaps.push_back(gap);
    prev = t;
  }
  const double ms = Micros(prev - start) / 1000;
  std::sort(gaps.begin(), gaps.end());
  double stalled = 0;
  for (double g : gaps) stalled += g;
  std::printf(
      "{\"system\":\"machine\",\"phase\":\"stall_probe\",\"gaps_over_10us_per_ms\":%.2f,"
      "\"median_gap_us\":%.1f,\"stalled_fraction\":%.4f}\n",
      static_cast<double>(gaps.size()) / ms, gaps.empty() ? 0.0 : gaps[gaps.size() / 2],
      stalled / (ms * 1000));
  std::fflush(stdout);
}

// One latency per line, in request order (to look for periodic stalls).
void DumpLatencies(const std::string& prefix, const char* phase, const std::vector<double>& us) {
  if (prefix.empty()) return;
  const std::string path = prefix + phase + ".txt";
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) Fail("cannot write " + path);
  for (double v : us) std::fprintf(f, "%.3f\n", v);
  std::fclose(f);
}

void PrintPhase(const char* phase, size_t requests, const Percentiles& p) {
  std::printf(
      "{\"system\":\"custos\",\"phase\":\"%s\",\"requests\":%zu,\"p50_us\":%.2f,"
      "\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"mean_us\":%.2f,\"max_us\":%.2f}\n",
      phase, requests, p.p50, p.p90, p.p99, p.p999, p.mean, p.max);
  std::fflush(stdout);
}

// The expected text of show_last:4 (masking.h): all but the last 4 characters redacted,
// letters to 'x'/'X', digits to 'n', other bytes kept. The values are ASCII.
std::string ShowLast4(const std::string& s) {
  std::string out = s;
  const size_t redacted = out.size() - std::min<size_t>(4, out.size());
  for (size_t i = 0; i < redacted; ++i) {
    char& c = out[i];
    if (c >= 'a' && c <= 'z')
      c = 'x';
    else if (c >= 'A' && c <= 'Z')
      c = 'X';
    else if (c >= '0' && c <= '9')
      c = 'n';
  }
  return out;
}

// The expected text of range:100 on a double: "[lo, hi)", shortest round-trip forms.
std::string Range100(double v) {
  const double k = std::floor(v / 100.0);
  auto text = [](double x) {
    if (x == 0) x = 0;  // "-0" prints as "0"
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), x);
    return std::string(buf, r.ptr);
  };
  return "[" + text(k * 100.0) + ", " + text((k + 1) * 100.0) + ")";
}

std::string Hash(int64_t v) {
  const std::string text = std::to_string(v);
  crypto::Digest d = crypto::Sha256Of(common::AsBytes(text));
  return common::HexEncode(common::ByteView(d.data(), d.size()));
}

std::string City(int32_t n) { return "city_" + std::to_string(n); }

// Checks one response for `entity` against the plaintext: 7 raw equal, 3 masked equal to
// the mask of the plaintext, all PRESENT. Returns an error text, empty when correct.
std::string Check(const OnlineResponse& r, const Plain& p) {
  if (r.results.size() != 1 + kFeatures) return "expected 11 columns";
  for (int f = 0; f < kFeatures; ++f) {
    const OnlineColumn& c = r.results[1 + f];
    if (c.statuses.size() != 1 || c.statuses[0] != FeatureStatus::kPresent) {
      return "f" + std::to_string(f) + " is " +
             std::string(c.statuses.empty() ? "missing" : FeatureStatusName(c.statuses[0])) +
             ", not PRESENT";
    }
    const bool masked = f == 0 || f == 6 || f == 9;
    if (r.modes[1 + f] != (masked ? AccessMode::kMasked : AccessMode::kRaw)) {
      return "f" + std::to_string(f) + " has mode " + std::string(AccessModeName(r.modes[1 + f]));
    }
    const catalog::Value& v = c.values[0];
    bool ok = false;
    if (f == 0) {
      ok = std::holds_alternative<std::string>(v) && std::get<std::string>(v) == Range100(p.d[0]);
    } else if (f == 6) {
      ok = std::holds_alternative<std::string>(v) && std::get<std::string>(v) == Hash(p.i[0]);
    } else if (f == 9) {
      ok = std::holds_alternative<std::string>(v) &&
           std::get<std::string>(v) == ShowLast4(City(p.city));
    } else if (f < 6) {
      ok = std::holds_alternative<double>(v) && std::get<double>(v) == p.d[f];
    } else {
      ok = std::holds_alternative<int64_t>(v) && std::get<int64_t>(v) == p.i[f - 6];
    }
    if (!ok) return "f" + std::to_string(f) + " differs from the plaintext";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir;
  std::string db_dir;
  size_t requests = 200000;
  size_t warmup = 10000;
  size_t chunk = 100000;
  uint64_t seed = 42;
  size_t block_cache_mib = storage::DataDirOptions{}.block_cache_mib;  // the default, 64
  bool pin_online_index = false;  // see the storage setup below
  bool compact = true;            // compact the online keyspace after the bulk load (untimed)
  std::string dump_prefix;        // when given, each phase's latencies go to <prefix><phase>.txt
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--data")
      data_dir = argv[i + 1];
    else if (flag == "--db")
      db_dir = argv[i + 1];
    else if (flag == "--requests")
      requests = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--warmup")
      warmup = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--chunk")
      chunk = std::max<size_t>(1, std::strtoull(argv[i + 1], nullptr, 10));
    else if (flag == "--seed")
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--block-cache-mib")
      block_cache_mib = std::max<size_t>(1, std::strtoull(argv[i + 1], nullptr, 10));
    else if (flag == "--pin-online-index")
      pin_online_index = std::atoi(argv[i + 1]) != 0;
    else if (flag == "--compact")
      compact = std::atoi(argv[i + 1]) != 0;
    else if (flag == "--dump")
      dump_prefix = argv[i + 1];
    else
      Fail("unknown flag " + std::string(flag));
  }
  if (data_dir.empty() || db_dir.empty() || requests == 0) {
    std::fprintf(stderr,
                 "usage: %s --data DIR --db DIR [--requests N] [--warmup N] [--chunk ROWS] "
                 "[--seed N] [--block-cache-mib N] [--compact 0|1] [--pin-online-index 0|1] "
                 "[--dump PREFIX]\n",
                 argv[0]);
    return 2;
  }

  // Storage, audit log, catalog, directory: the same components the server wires.
  common::SystemClock clock;
  // The data directory as the server opens it, or (--pin-online-index 1) RocksDB and the
  // keyring opened directly, as the offline benchmark does, with the online keyspace's
  // index and filter blocks held by the table readers (RocksDbOptions, default: audit only).
  std::unique_ptr<storage::DataDir> data_dir_owner;
  std::unique_ptr<storage::RocksDbKv> kv_owner;
  std::unique_ptr<storage::KvKeyRecordStore> records;
  std::unique_ptr<crypto::Keyring> keyring_owner;
  if (pin_online_index) {
    storage::RocksDbOptions db_options;
    db_options.path = db_dir;
    db_options.block_cache_mib = block_cache_mib;
    db_options.pinned_index_keyspaces.push_back(storage::Keyspace::kOnline);
    kv_owner = Must(storage::RocksDbKv::Open(db_options), "open db");
    records = std::make_unique<storage::KvKeyRecordStore>(*kv_owner);
    keyring_owner =
        Must(crypto::Keyring::Open(Must(crypto::SoftwareKekBackend::Create(
                                            crypto::SecretBytes::Random(32), *records, "bench"),
                                        "kek backend"),
                                   *records, clock),
             "keyring");
  } else {
    crypto::ShamirInit init = Must(crypto::InitShamir(3, 2), "shamir");
    storage::DataDirOptions dir_options;
    dir_options.block_cache_mib = block_cache_mib;
    data_dir_owner = Must(
        storage::DataDir::Create(db_dir, init.config, std::move(init.root_key), {}, dir_options),
        "data dir");
  }
  storage::Kv& kv = data_dir_owner ? data_dir_owner->kv() : *kv_owner;
  crypto::Keyring& keyring = data_dir_owner ? data_dir_owner->keyring() : *keyring_owner;
  audit::LogOptions log_options;
  log_options.background_checkpoints = false;
  log_options.durability = audit::Durability::kOsBuffer;
  std::unique_ptr<audit::AuditLog> log =
      Must(audit::AuditLog::Open(kv, keyring, log_options), "audit log");
  std::unique_ptr<catalog::GovernanceRegistry> governance =
      Must(catalog::GovernanceRegistry::Open(kv, keyring, *log, clock), "governance");
  std::unique_ptr<catalog::CatalogStore> catalog =
      Must(catalog::CatalogStore::Open(kv, keyring, *log, *governance, clock), "catalog");
  audit::AuditSalt salt =
      Must(audit::AuditSalt::Create(crypto::SecretBytes::Random(32)), "audit salt");
  identity::IdentityAuditor auditor(*log, salt, clock);
  std::unique_ptr<identity::Directory> directory =
      Must(identity::Directory::Open(kv, keyring, auditor), "directory");
  const policy::EntityUid admin("User", "admin");

  catalog::LoadReport report = catalog::ParseRepositoryFiles({{"online_bench.yaml", kRepository}});
  MustOk(report.ToStatus(), "repository");
  catalog::ApplyPlan plan = Must(catalog->Plan(report.repository), "plan");
  Must(catalog->Apply(plan, admin), "apply");

  // Principals: the scorer and 30 users in 5 groups of 6 (the scorer joins fraud-team).
  const identity::Caller root{.principal_id = "User::\"root\"", .request_id = "bench-setup"};
  for (const char* group : kGroups) {
    Must(directory->Create(root, {identity::PrincipalId::Group(group), "", {}}), "group");
  }
  Must(directory->Create(root, {identity::PrincipalId::User("scorer"), "fraud scorer", {}}),
       "scorer");
  MustOk(directory->AddMember(root, identity::PrincipalId::Group("fraud-team"),
                              identity::PrincipalId::User("scorer")),
         "scorer membership");
  for (int u = 0; u < 30; ++u) {
    char name[8];
    std::snprintf(name, sizeof(name), "u%02d", u);
    Must(directory->Create(root, {identity::PrincipalId::User(name), "", {}}), "user");
    MustOk(directory->AddMember(root, identity::PrincipalId::Group(kGroups[u % 5]),
                                identity::PrincipalId::User(name)),
           "membership");
  }
  policy::ParseOptions parse_options;
  parse_options.use_id_annotation = true;
  std::vector<policy::Policy> parsed =
      Must(policy::ParsePolicies(kPolicies, parse_options), "policies");
  const size_t policy_count = parsed.size();
  auto policies = std::make_shared<const policy::PolicySet>(
      Must(policy::PolicySet::Create(std::move(parsed), 1), "policy set"));

  std::unique_ptr<FeatureStore> store =
      Must(FeatureStore::Open(kv, keyring, *log, *catalog, *directory, clock), "feature store");

  // Ingest (untimed in the figures): the generator's rows, one per entity.
  std::vector<Plain> plain;
  const auto ingest_start = Clock::now();
  size_t ingests = 0;
  {
    const std::string path = data_dir + "/features.csv";
    const std::string text = ReadFile(path);
    CsvReader reader(text, path);
    std::vector<std::string_view> fields;
    MustOk(reader.Next(fields).status(), "features header");
    const OfflineViewSchema schema =
        FeatureStore::StoreSchema(Must(catalog->ResolveView("customer_features"), "resolve"));
    OfflineBatch batch = MakeOfflineBatch(schema);
    auto flush = [&] {
      if (batch.size() == 0) return;
      IngestOutcome outcome =
          Must(store->Ingest("customer_features", batch, {path, batch.size(), 0}, admin), "ingest");
      if (outcome.online_rows != batch.size()) {
        Fail("ingest wrote " + std::to_string(outcome.online_rows) + " online rows of " +
             std::to_string(batch.size()));
      }
      ++ingests;
      batch = MakeOfflineBatch(schema);
    };
    while (Must(reader.Next(fields), "features.csv")) {
      if (fields.size() != 13) Fail(reader.Where(0) + ": expected 13 fields");
      const int64_t id = ParseNumber<int64_t>(fields[0]);
      if (id != kFirstEntity + static_cast<int64_t>(plain.size())) {
        Fail(reader.Where(0) +
             ": expected one row per entity in order (run the generator with "
             "as many rows as entities)");
      }
      Plain p{};
      batch.join_keys[0].AppendInt64(id);
      batch.event_ts.push_back(ParseNumber<int64_t>(fields[1]));
      batch.created_ts.push_back(ParseNumber<int64_t>(fields[2]));
      for (int f = 0; f < 6; ++f) {
        p.d[f] = ParseNumber<double>(fields[3 + f]);
        batch.features[f].AppendDouble(p.d[f]);
      }
      for (int f = 0; f < 3; ++f) {
        p.i[f] = ParseNumber<int64_t>(fields[9 + f]);
        batch.features[6 + f].AppendInt64(p.i[f]);
      }
      const std::string_view city = fields[12];
      if (city.substr(0, 5) != "city_") Fail(reader.Where(12) + ": expected city_<n>");
      p.city = ParseNumber<int32_t>(city.substr(5));
      batch.features[9].AppendBytes(city);
      plain.push_back(p);
      if (batch.size() >= chunk) flush();
    }
    flush();
  }
  // After a bulk load, as an operator would (and as the offline benchmark does): one sorted
  // run instead of a pile of L0 files, so a point read probes one file.
  if (compact) MustOk(kv.PurgeDeleted(storage::Keyspace::kOnline), "compaction");
  const double ingest_s = std::chrono::duration<double>(Clock::now() - ingest_start).count();
  const size_t entities = plain.size();
  if (entities == 0) Fail("features.csv has no rows");
  std::printf(
      "{\"system\":\"custos\",\"phase\":\"setup\",\"entities\":%zu,\"ingests\":%zu,"
      "\"ingest_s\":%.3f,\"policies\":%zu,\"principals\":%d,\"block_cache_mib\":%zu,"
      "\"compacted\":%s,\"online_index_pinned\":%s}\n",
      entities, ingests, ingest_s, policy_count, 36, block_cache_mib, compact ? "true" : "false",
      pin_online_index ? "true" : "false");
  std::fflush(stdout);

  ReadContext context;
  context.principal = policy::EntityUid("User", "scorer");
  context.purpose = "fraud-model";
  context.environment = "prod";
  context.zone = "eu";
  context.mfa = true;
  context.now_seconds = common::ToUnixMicros(clock.Now()) / 1000000;
  std::vector<std::string> refs;
  for (int f = 0; f < kFeatures; ++f) refs.push_back("customer_features:f" + std::to_string(f));

  Rng rng{seed};
  auto next_entity = [&] { return static_cast<size_t>(rng.Next() % entities); };
  size_t checked = 0;
  auto verify = [&](const OnlineResponse& r, size_t e) {
    std::string err = Check(r, plain[e]);
    if (!err.empty())
      Fail("entity " + std::to_string(kFirstEntity + static_cast<int64_t>(e)) + ": " + err);
    ++checked;
  };
  auto one_key = [](int64_t id) {
    EntityKeys keys;
    keys.names = {"customer_id"};
    keys.values.emplace_back();
    keys.values[0].emplace_back(id);
    return keys;
  };

  // A few exact values by hand, so a mistake shared by Check and the store cannot hide.
  {
    ReadAuthorization auth = Must(store->AuthorizeRead(context, policies, refs), "authorize");
    for (const FeatureDecision& d : auth.views.at(0).features) {
      if (d.errors.empty()) continue;
      std::string errors;
      for (const std::string& e : d.errors) errors += " " + e;
      Fail("policies erred on feature f" + std::to_string(d.feature) + ":" + errors + " (mode " +
           std::string(AccessModeName(d.mode)) + ")");
    }
    OnlineResponse r = Must(store->GetOnlineFeatures(auth, one_key(kFirstEntity)), "get");
    const Plain& p = plain[0];
    verify(r, 0);
    std::printf(
        "{\"system\":\"custos\",\"phase\":\"sample\",\"customer_id\":%lld,\"f1\":%s,"
        "\"f0_masked\":\"%s\",\"f6_masked\":\"%.16s...\",\"f9_plain\":\"%s\","
        "\"f9_masked\":\"%s\"}\n",
        static_cast<long long>(kFirstEntity), std::to_string(p.d[1]).c_str(),
        std::get<std::string>(r.results[1].values[0]).c_str(),
        std::get<std::string>(r.results[7].values[0]).c_str(), City(p.city).c_str(),
        std::get<std::string>(r.results[10].values[0]).c_str());
    if (std::get<std::string>(r.results[10].values[0]).substr(0, 4) != "xxxx") {
      Fail("f9 is not masked");
    }
  }

  PrintStallProbe();

  // 1. The whole request: AuthorizeRead + GetOnlineFeatures, after a warm-up.
  std::vector<double> lat;
  lat.reserve(requests);
  for (size_t n = 0; n < warmup + requests; ++n) {
    const size_t e = next_entity();
    const auto t0 = Clock::now();
    Result<ReadAuthorization> auth = store->AuthorizeRead(context, policies, refs);
    if (!auth.ok()) MustOk(auth.status(), "authorize");
    Result<OnlineResponse> r =
        store->GetOnlineFeatures(*auth, one_key(kFirstEntity + static_cast<int64_t>(e)));
    const auto t1 = Clock::now();
    if (!r.ok()) MustOk(r.status(), "get");
    if (n >= warmup) lat.push_back(Micros(t1 - t0));
    verify(*r, e);
  }
  const Percentiles total = Summarize(lat);
  DumpLatencies(dump_prefix, "authorize_get", lat);
  PrintPhase("authorize+get", requests, total);

  // 2. AuthorizeRead alone.
  lat.clear();
  for (size_t n = 0; n < warmup + requests; ++n) {
    const auto t0 = Clock::now();
    Result<ReadAuthorization> auth = store->AuthorizeRead(context, policies, refs);
    const auto t1 = Clock::now();
    if (!auth.ok()) MustOk(auth.status(), "authorize");
    if (n >= warmup) lat.push_back(Micros(t1 - t0));
  }
  DumpLatencies(dump_prefix, "authorize", lat);
  PrintPhase("authorize", requests, Summarize(lat));

  // 3. GetOnlineFeatures alone, with one authorization.
  lat.clear();
  const ReadAuthorization auth = Must(store->AuthorizeRead(context, policies, refs), "authorize");
  for (size_t n = 0; n < warmup + requests; ++n) {
    const size_t e = next_entity();
    const auto t0 = Clock::now();
    Result<OnlineResponse> r =
        store->GetOnlineFeatures(auth, one_key(kFirstEntity + static_cast<int64_t>(e)));
    const auto t1 = Clock::now();
    if (!r.ok()) MustOk(r.status(), "get");
    if (n >= warmup) lat.push_back(Micros(t1 - t0));
    verify(*r, e);
  }
  DumpLatencies(dump_prefix, "get", lat);
  PrintPhase("get", requests, Summarize(lat));

  PrintStallProbe();
  std::printf(
      "{\"system\":\"custos\",\"phase\":\"summary\",\"requests\":%zu,\"warmup\":%zu,"
      "\"entities\":%zu,\"verified\":%zu,\"p50_us\":%.2f,\"p99_us\":%.2f,\"ingest_s\":%.3f}\n",
      requests, warmup, entities, checked, total.p50, total.p99, ingest_s);
  store.reset();
  directory.reset();
  catalog.reset();
  governance.reset();
  log->Close();
  return 0;
}
