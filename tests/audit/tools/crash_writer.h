// The audit crash test's writer: appends from four threads as fast as the disk allows
// and prints "A <index> <request id>" once each append is acknowledged (durable), until
// it is SIGKILLed. Shared by the standalone tool and the test's self-exec child mode.
#pragma once

#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/log.h"
#include "storage/data_dir.h"

namespace custos::audit::crash {

inline AuditEvent CrashEvent(const std::string& request_id, uint64_t n) {
  AuditEvent e;
  e.time = common::FromUnixSeconds(1'800'000'000 + static_cast<int64_t>(n));
  e.request_id = request_id;
  e.principal_id = "User::crash";
  e.action = "read";
  e.resources.push_back({"FeatureView", "fv", 1});
  e.decision = Decision::kAllow;
  e.outcome = Outcome::kOk;
  return e;
}

// Never returns normally: 0 is unreachable, 1 means setup failed.
inline int RunCrashWriter(const std::string& dir_path, const std::string& shares_file,
                          const std::string& run) {
  storage::UnsealMaterial material;
  std::ifstream in(shares_file);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) material.shares.push_back(line);
  }
  auto dir = storage::DataDir::Open(dir_path, material);
  if (!dir.ok()) {
    std::fprintf(stderr, "crash writer: %s\n", dir.status().ToString().c_str());
    return 1;
  }
  LogOptions options;
  options.checkpoint_interval = std::chrono::milliseconds(20);
  auto log = AuditLog::Open((*dir)->kv(), (*dir)->keyring(), options);
  if (!log.ok()) {
    std::fprintf(stderr, "crash writer: %s\n", log.status().ToString().c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  std::mutex out_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t n = 0;; ++n) {
        std::string id = "r" + run + "-t" + std::to_string(t) + "-" + std::to_string(n);
        auto index = (*log)->Append(CrashEvent(id, n));
        if (!index.ok()) continue;
        std::lock_guard<std::mutex> lock(out_mu);
        std::printf("A %llu %s\n", static_cast<unsigned long long>(*index), id.c_str());
        std::fflush(stdout);
      }
    });
  }
  for (auto& th : threads) th.join();
  return 0;
}

}  // namespace custos::audit::crash
