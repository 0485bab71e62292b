// Generates the offline point-in-time benchmark's data (issue 6), deterministic for a seed,
// as plain CSV that custos, pandas and DuckDB all read:
//   features.csv     driver_id,event_ts,created_ts,f0..f9   (timestamps: int64 UTC micros;
//                    f0-f5 doubles with two decimals, f6-f8 int64, f9 a string category)
//   entity_rows.csv  driver_id,ts
// Every entity has rows_per_entity rows; row j of an entity has event_ts = a random second
// of 2025 plus j microseconds, so no entity has two rows at the same event time and every
// system must pick the same row. Rows are written in ingestion order (all entities' j-th
// rows, then the next j), so each ingested chunk covers every entity.
// Usage: custos_features_datagen DIR [ENTITIES=1000000] [ROWS=10000000]
//        [ENTITY_ROWS=1000000] [SEED=6]
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench_util.h"

namespace {

using Rng = custos::bench::SplitMix64;

constexpr int64_t kYearStart = 1735689600LL;  // 2025-01-01T00:00:00Z
constexpr int64_t kYearSeconds = 365LL * 86400;

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

bool Flush(std::string& buf, FILE* f) {
  bool ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
  buf.clear();
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s DIR [ENTITIES=1000000] [ROWS=10000000] [ENTITY_ROWS=1000000] "
                 "[SEED=6]\n",
                 argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int64_t entities = argc > 2 ? std::atoll(argv[2]) : 1000000;
  const int64_t rows = argc > 3 ? std::atoll(argv[3]) : 10000000;
  const int64_t entity_rows = argc > 4 ? std::atoll(argv[4]) : 1000000;
  const uint64_t seed = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 6;
  if (entities <= 0 || rows <= 0 || entity_rows <= 0) {
    std::fprintf(stderr, "counts must be positive\n");
    return 2;
  }
  Rng rng{seed};
  std::string buf;
  FILE* f = std::fopen((dir + "/features.csv").c_str(), "wb");
  if (f == nullptr) {
    std::perror("features.csv");
    return 1;
  }
  buf = "driver_id,event_ts,created_ts,f0,f1,f2,f3,f4,f5,f6,f7,f8,f9\n";
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t driver = 1000 + i % entities;
    const int64_t j = i / entities;
    const int64_t event =
        (kYearStart + static_cast<int64_t>(rng.Next() % kYearSeconds)) * 1000000 + j;
    const int64_t created = event + static_cast<int64_t>(rng.Next() % 3600) * 1000000;
    AppendInt(buf, driver);
    buf.push_back(',');
    AppendInt(buf, event);
    buf.push_back(',');
    AppendInt(buf, created);
    for (int d = 0; d < 6; ++d) {  // two decimals: every parser reads the same double
      const int64_t cents = static_cast<int64_t>(rng.Next() % 2000000) - 1000000;
      buf.push_back(',');
      if (cents < 0) buf.push_back('-');
      const int64_t a = cents < 0 ? -cents : cents;
      AppendInt(buf, a / 100);
      buf.push_back('.');
      buf.push_back(static_cast<char>('0' + (a / 10) % 10));
      buf.push_back(static_cast<char>('0' + a % 10));
    }
    for (int k = 0; k < 3; ++k) {
      buf.push_back(',');
      AppendInt(buf, static_cast<int64_t>(rng.Next() % 1000000000));
    }
    buf += ",city_";
    AppendInt(buf, static_cast<int64_t>(rng.Next() % 1000));
    buf.push_back('\n');
    if (buf.size() > (1 << 22) && !Flush(buf, f)) return 1;
  }
  if (!Flush(buf, f) || std::fclose(f) != 0) return 1;

  f = std::fopen((dir + "/entity_rows.csv").c_str(), "wb");
  if (f == nullptr) {
    std::perror("entity_rows.csv");
    return 1;
  }
  buf = "driver_id,ts\n";
  for (int64_t i = 0; i < entity_rows; ++i) {
    // A few unknown drivers (misses) and times from before the first row to after the last.
    const int64_t driver = 1000 + static_cast<int64_t>(rng.Next() % (entities + entities / 100));
    const int64_t ts =
        (kYearStart - 86400 * 7 + static_cast<int64_t>(rng.Next() % (kYearSeconds + 86400 * 14))) *
        1000000;
    AppendInt(buf, driver);
    buf.push_back(',');
    AppendInt(buf, ts);
    buf.push_back('\n');
    if (buf.size() > (1 << 22) && !Flush(buf, f)) return 1;
  }
  if (!Flush(buf, f) || std::fclose(f) != 0) return 1;
  std::printf("wrote %lld feature rows (%lld entities) and %lld entity rows to %s\n",
              static_cast<long long>(rows), static_cast<long long>(entities),
              static_cast<long long>(entity_rows), dir.c_str());
  return 0;
}
