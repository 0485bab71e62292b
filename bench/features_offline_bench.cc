// Offline point-in-time join benchmark (issue 6), custos' side: ingests the generator's
// features.csv into an encrypted offline store (chunks of --chunk rows, each one atomic
// ingestion; not timed), compacts, then times PointInTimeJoin of entity_rows.csv (decryption
// and materialization into columns included) --repeat times on --threads threads, and writes
// the joined rows as CSV for the comparison with the peers.
// Usage: custos_bench_features_offline --data DIR --db DIR [--out FILE] [--threads 2]
//        [--repeat 3] [--chunk 1000000]
// Prints one JSON line: {"system":"custos","median_s":...,"runs_s":[...],...}.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "common/clock.h"
#include "crypto/keyring.h"
#include "crypto/software_kek_backend.h"
#include "features/entity_rows.h"
#include "features/offline_store.h"
#include "features/point_in_time.h"
#include "storage/key_record_store_kv.h"
#include "storage/rocksdb_kv.h"

namespace {

using namespace custos;            // NOLINT(google-build-using-namespace): a benchmark program
using namespace custos::features;  // NOLINT(google-build-using-namespace)
using catalog::ScalarType;
using catalog::ValueType;

using custos::bench::Must;
using custos::bench::MustOk;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "features bench: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t ParseInt(std::string_view s) {
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
    std::fprintf(stderr, "features bench: bad integer '%.*s'\n", static_cast<int>(s.size()),
                 s.data());
    std::exit(1);
  }
  return v;
}

double ParseDouble(std::string_view s) {
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
    std::fprintf(stderr, "features bench: bad double '%.*s'\n", static_cast<int>(s.size()),
                 s.data());
    std::exit(1);
  }
  return v;
}

OfflineViewSchema BenchSchema() {
  OfflineViewSchema schema;
  schema.version_id = "driver_hourly_stats:1";
  schema.join_keys = {{"driver_id", {ScalarType::kInt64, false}}};
  for (int f = 0; f < 10; ++f) {
    ValueType type{f < 6 ? ScalarType::kDouble : (f < 9 ? ScalarType::kInt64 : ScalarType::kString),
                   false};
    schema.features.push_back({"f" + std::to_string(f), type});
  }
  return schema;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void AppendCell(std::string& out, const ColumnVector& c, size_t i) {
  if (c.IsNull(i)) return;
  char buf[32];
  if (c.type.scalar == ScalarType::kDouble) {
    auto r = std::to_chars(buf, buf + sizeof(buf), c.DoubleAt(i));
    out.append(buf, r.ptr);
  } else if (c.type.scalar == ScalarType::kInt64) {
    auto r = std::to_chars(buf, buf + sizeof(buf), c.Int64At(i));
    out.append(buf, r.ptr);
  } else {
    out.append(c.BytesAt(i));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir;
  std::string db_dir;
  std::string out_path;
  int threads = 2;
  int repeat = 3;
  size_t chunk = 1000000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--data")
      data_dir = argv[i + 1];
    else if (flag == "--db")
      db_dir = argv[i + 1];
    else if (flag == "--out")
      out_path = argv[i + 1];
    else if (flag == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (flag == "--repeat")
      repeat = std::max(1, std::atoi(argv[i + 1]));
    else if (flag == "--chunk")
      chunk = std::max<size_t>(1, std::strtoull(argv[i + 1], nullptr, 10));
  }
  if (data_dir.empty() || db_dir.empty()) {
    std::fprintf(stderr,
                 "usage: %s --data DIR --db DIR [--out FILE] [--threads N] [--repeat N] "
                 "[--chunk ROWS]\n",
                 argv[0]);
    return 2;
  }

  storage::RocksDbOptions db_options;
  db_options.path = db_dir;
  std::unique_ptr<storage::RocksDbKv> kv = Must(storage::RocksDbKv::Open(db_options), "open db");
  storage::KvKeyRecordStore records(*kv);
  common::SystemClock clock;
  std::unique_ptr<crypto::Keyring> keyring =
      Must(crypto::Keyring::Open(Must(crypto::SoftwareKekBackend::Create(
                                          crypto::SecretBytes::Random(32), records, "bench"),
                                      "kek backend"),
                                 records, clock),
           "keyring");
  OfflineStoreOptions store_options;
  store_options.write.sync = false;
  OfflineStore store(*kv, *keyring, store_options);
  const OfflineViewSchema schema = BenchSchema();

  // Ingest (not timed in the figure).
  auto ingest_start = std::chrono::steady_clock::now();
  size_t feature_rows = 0;
  size_t blocks = 0;
  {
    const std::string text = ReadFile(data_dir + "/features.csv");
    CsvReader reader(text, data_dir + "/features.csv");
    std::vector<std::string_view> fields;
    MustOk(reader.Next(fields).status(), "features header");
    OfflineBatch batch = MakeOfflineBatch(schema);
    auto flush = [&] {
      if (batch.size() == 0) return;
      IngestResult r = Must(store.Ingest(schema, batch), "ingest");
      blocks += r.blocks;
      batch = MakeOfflineBatch(schema);
    };
    while (Must(reader.Next(fields), "features.csv")) {
      if (fields.size() != 13) {
        std::fprintf(stderr, "features bench: %s: expected 13 fields\n", reader.Where(0).c_str());
        return 1;
      }
      batch.join_keys[0].AppendInt64(ParseInt(fields[0]));
      batch.event_ts.push_back(ParseInt(fields[1]));
      batch.created_ts.push_back(ParseInt(fields[2]));
      for (int f = 0; f < 6; ++f) batch.features[f].AppendDouble(ParseDouble(fields[3 + f]));
      for (int f = 6; f < 9; ++f) batch.features[f].AppendInt64(ParseInt(fields[3 + f]));
      batch.features[9].AppendBytes(fields[12]);
      ++feature_rows;
      if (batch.size() >= chunk) flush();
    }
    flush();
  }
  // Compact now, so no background compaction competes with the timed joins.
  MustOk(kv->PurgeDeleted(storage::Keyspace::kOffline), "compaction");
  const double ingest_s = Seconds(std::chrono::steady_clock::now() - ingest_start);

  // Entity rows: driver_id and ts (already UTC micros in this file).
  EntityRowsSpec spec;
  spec.join_keys = {{"driver_id", {ScalarType::kInt64, false}}};
  spec.timestamp_column = "ts";
  EntityRows entities = MakeEntityRows(spec);
  {
    const std::string text = ReadFile(data_dir + "/entity_rows.csv");
    CsvReader reader(text, data_dir + "/entity_rows.csv");
    std::vector<std::string_view> fields;
    MustOk(reader.Next(fields).status(), "entity header");
    while (Must(reader.Next(fields), "entity_rows.csv")) {
      entities.keys[0].AppendInt64(ParseInt(fields[0]));
      entities.ts.push_back(ParseInt(fields[1]));
    }
  }

  PitOptions options;
  options.threads = threads;
  std::vector<PitViewRequest> views = {{schema, {}, 0}};
  std::vector<double> runs;
  PitResult result;
  for (int r = 0; r < repeat; ++r) {
    result = PitResult();
    auto start = std::chrono::steady_clock::now();
    result = Must(PointInTimeJoin(store, entities, views, options), "join");
    runs.push_back(Seconds(std::chrono::steady_clock::now() - start));
  }
  std::vector<double> sorted = runs;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];

  if (!out_path.empty()) {
    std::string out = "driver_id,ts";
    for (const Column& c : result.columns) out += "," + c.name;
    out += "\n";
    for (size_t i = 0; i < entities.size(); ++i) {
      char buf[24];
      auto p = std::to_chars(buf, buf + sizeof(buf), entities.keys[0].Int64At(i));
      out.append(buf, p.ptr);
      out.push_back(',');
      p = std::to_chars(buf, buf + sizeof(buf), entities.ts[i]);
      out.append(buf, p.ptr);
      for (const ColumnVector& c : result.values) {
        out.push_back(',');
        AppendCell(out, c, i);
      }
      out.push_back('\n');
    }
    std::ofstream(out_path, std::ios::binary) << out;
  }

  std::string runs_text;
  for (double r : runs) {
    if (!runs_text.empty()) runs_text += ",";
    runs_text += std::to_string(r);
  }
  const PitViewStats& stats = result.views.at(0);
  std::printf(
      "{\"system\":\"custos\",\"median_s\":%.6f,\"runs_s\":[%s],\"threads\":%d,"
      "\"entity_rows\":%zu,\"feature_rows\":%zu,\"matched\":%zu,\"blocks\":%zu,"
      "\"blocks_scanned\":%zu,\"blocks_materialized\":%zu,\"ingest_s\":%.3f}\n",
      median, runs_text.c_str(), threads, entities.size(), feature_rows, stats.rows_matched, blocks,
      stats.blocks_scanned, stats.blocks_materialized, ingest_s);
  return 0;
}
