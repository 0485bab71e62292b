// The peer of the online feature-read benchmark (issue 6): Redis, Feast's usual online store.
// Loads the generator's features.csv (one row per entity) as one hash per entity
// ("customer:<id>", fields f0..f9 holding the CSV text; pipelined HSET, untimed), then times
// HMGET of the 10 fields of a random entity over TCP, single thread, with the same entity
// sequence (SplitMix64, same seed), warm-up and percentiles as custos_bench_features_online.
// No policy, no encryption, no masking. Every reply is checked against the CSV text.
// Usage: custos_features_online_redis_peer --data DIR --port PORT [--host 127.0.0.1]
//        [--requests 200000] [--warmup 10000] [--seed 42]
// Prints JSON lines: {"system":"redis","phase":"hmget","p50_us":...,...}.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench_util.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kFeatures = 10;
constexpr int64_t kFirstEntity = 1000;  // the generator's first driver_id
constexpr size_t kPipeline = 1000;      // HSETs in flight while loading

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "redis peer: %s\n", what.c_str());
  std::exit(1);
}

using Rng = custos::bench::SplitMix64;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};

// One entity's 10 feature texts, as views into the CSV text.
struct Row {
  std::string_view f[kFeatures];
};

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

void PrintPhase(const char* phase, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(us.size())));
    return us[std::min(us.size() - 1, rank == 0 ? 0 : rank - 1)];
  };
  double sum = 0;
  for (double v : us) sum += v;
  std::printf(
      "{\"system\":\"redis\",\"phase\":\"%s\",\"requests\":%zu,\"p50_us\":%.2f,"
      "\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"mean_us\":%.2f,\"max_us\":%.2f}\n",
      phase, us.size(), at(0.50), at(0.90), at(0.99), at(0.999),
      sum / static_cast<double>(us.size()), us.back());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir;
  std::string host = "127.0.0.1";
  int port = 0;
  size_t requests = 200000;
  size_t warmup = 10000;
  uint64_t seed = 42;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--data")
      data_dir = argv[i + 1];
    else if (flag == "--host")
      host = argv[i + 1];
    else if (flag == "--port")
      port = std::atoi(argv[i + 1]);
    else if (flag == "--requests")
      requests = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--warmup")
      warmup = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--seed")
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    else
      Fail("unknown flag " + std::string(flag));
  }
  if (data_dir.empty() || port <= 0 || requests == 0) {
    std::fprintf(stderr,
                 "usage: %s --data DIR --port PORT [--host H] [--requests N] [--warmup N] "
                 "[--seed N]\n",
                 argv[0]);
    return 2;
  }

  // The CSV stays in memory: the rows' views point into it (for loading and checking).
  std::string text;
  {
    const std::string path = data_dir + "/features.csv";
    std::ifstream in(path, std::ios::binary);
    if (!in) Fail("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  std::vector<Row> rows;
  {
    size_t pos = text.find('\n');  // skip the header
    if (pos == std::string::npos) Fail("features.csv has no rows");
    ++pos;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      std::string_view line(text.data() + pos, end - pos);
      pos = end + 1;
      if (line.empty()) continue;
      std::string_view fields[13];
      size_t n = 0;
      for (size_t start = 0; n < 13;) {
        size_t comma = line.find(',', start);
        fields[n++] =
            line.substr(start, comma == std::string_view::npos ? line.npos : comma - start);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      if (n != 13)
        Fail("features.csv line " + std::to_string(rows.size() + 2) + ": expected 13 fields");
      int64_t id = 0;
      std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), id);
      if (id != kFirstEntity + static_cast<int64_t>(rows.size())) {
        Fail(
            "features.csv: expected one row per entity in order (run the generator with as "
            "many rows as entities)");
      }
      Row r;
      for (int f = 0; f < kFeatures; ++f) r.f[f] = fields[3 + f];
      rows.push_back(r);
    }
  }
  if (rows.empty()) Fail("features.csv has no rows");

  timeval timeout{5, 0};
  std::unique_ptr<redisContext, ContextDeleter> ctx(
      redisConnectWithTimeout(host.c_str(), port, timeout));
  if (!ctx || ctx->err)
    Fail("connect " + host + ":" + std::to_string(port) + ": " +
         (ctx ? ctx->errstr : "out of memory"));
  {
    Reply r(static_cast<redisReply*>(redisCommand(ctx.get(), "FLUSHALL")));
    if (!r) Fail(std::string("FLUSHALL: ") + ctx->errstr);
  }

  // Load: pipelined HSET of each entity's 10 fields (untimed in the figures).
  const auto load_start = Clock::now();
  {
    std::vector<const char*> argv_ptrs(2 + 2 * kFeatures);
    std::vector<size_t> argv_lens(2 + 2 * kFeatures);
    static const char* const kNames[kFeatures] = {"f0", "f1", "f2", "f3", "f4",
                                                  "f5", "f6", "f7", "f8", "f9"};
    size_t pending = 0;
    auto drain = [&] {
      for (; pending > 0; --pending) {
        void* raw = nullptr;
        if (redisGetReply(ctx.get(), &raw) != REDIS_OK) Fail(std::string("HSET: ") + ctx->errstr);
        Reply r(static_cast<redisReply*>(raw));
        if (r->type == REDIS_REPLY_ERROR) Fail("HSET: " + std::string(r->str, r->len));
      }
    };
    for (size_t e = 0; e < rows.size(); ++e) {
      const std::string key = "customer:" + std::to_string(kFirstEntity + static_cast<int64_t>(e));
      argv_ptrs[0] = "HSET";
      argv_lens[0] = 4;
      argv_ptrs[1] = key.data();
      argv_lens[1] = key.size();
      for (int f = 0; f < kFeatures; ++f) {
        argv_ptrs[2 + 2 * f] = kNames[f];
        argv_lens[2 + 2 * f] = 2;
        argv_ptrs[3 + 2 * f] = rows[e].f[f].data();
        argv_lens[3 + 2 * f] = rows[e].f[f].size();
      }
      if (redisAppendCommandArgv(ctx.get(), static_cast<int>(argv_ptrs.size()), argv_ptrs.data(),
                                 argv_lens.data()) != REDIS_OK) {
        Fail(std::string("HSET: ") + ctx->errstr);
      }
      if (++pending == kPipeline) drain();
    }
    drain();
  }
  const double load_s = std::chrono::duration<double>(Clock::now() - load_start).count();
  std::string version = "?";
  {
    Reply r(static_cast<redisReply*>(redisCommand(ctx.get(), "INFO server")));
    if (r && r->type == REDIS_REPLY_STRING) {
      std::string_view info(r->str, r->len);
      size_t at = info.find("redis_version:");
      if (at != std::string_view::npos) {
        size_t end = info.find_first_of("\r\n", at);
        version = std::string(info.substr(at + 14, end - at - 14));
      }
    }
  }
  std::printf(
      "{\"system\":\"redis\",\"phase\":\"setup\",\"entities\":%zu,\"load_s\":%.3f,"
      "\"version\":\"%s\"}\n",
      rows.size(), load_s, version.c_str());
  std::fflush(stdout);

  // The timed loop: HMGET customer:<id> f0..f9, one round trip per request.
  Rng rng{seed};
  std::vector<double> lat;
  lat.reserve(requests);
  size_t verified = 0;
  for (size_t n = 0; n < warmup + requests; ++n) {
    const size_t e = static_cast<size_t>(rng.Next() % rows.size());
    const long long id = kFirstEntity + static_cast<long long>(e);
    const auto t0 = Clock::now();
    Reply r(static_cast<redisReply*>(
        redisCommand(ctx.get(), "HMGET customer:%lld f0 f1 f2 f3 f4 f5 f6 f7 f8 f9", id)));
    const auto t1 = Clock::now();
    if (!r) Fail(std::string("HMGET: ") + ctx->errstr);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != kFeatures) Fail("HMGET: not 10 values");
    for (int f = 0; f < kFeatures; ++f) {
      const redisReply* v = r->element[f];
      if (v->type != REDIS_REPLY_STRING || std::string_view(v->str, v->len) != rows[e].f[f]) {
        Fail("customer:" + std::to_string(id) + " f" + std::to_string(f) +
             " differs from the plaintext");
      }
    }
    ++verified;
    if (n >= warmup) lat.push_back(Micros(t1 - t0));
  }
  PrintPhase("hmget", lat);
  std::printf(
      "{\"system\":\"redis\",\"phase\":\"summary\",\"requests\":%zu,\"warmup\":%zu,"
      "\"verified\":%zu}\n",
      requests, warmup, verified);
  return 0;
}
