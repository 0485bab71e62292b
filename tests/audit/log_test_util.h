// Shared helpers for the audit log tests: temporary data directories and sample events.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "../testing/temp_dir.h"
#include "audit/event.h"
#include "crypto/root_key.h"
#include "storage/data_dir.h"

namespace custos::audit::testing {

using custos::testing::TempDir;

// A data directory sealed with Shamir 2-of-3; `shares` reopens it.
struct TestDataDir {
  std::unique_ptr<storage::DataDir> dir;
  std::vector<std::string> shares;
};

inline TestDataDir CreateDataDir(const std::string& path) {
  crypto::ShamirInit init = *crypto::InitShamir(3, 2);
  TestDataDir out;
  out.shares = init.shares;
  auto dir = storage::DataDir::Create(path, init.config, std::move(init.root_key), {});
  EXPECT_TRUE(dir.ok()) << dir.status().ToString();
  if (dir.ok()) out.dir = std::move(*dir);
  return out;
}

inline std::unique_ptr<storage::DataDir> ReopenDataDir(const std::string& path,
                                                       const std::vector<std::string>& shares) {
  auto dir = storage::DataDir::Open(path, {.shares = {shares[0], shares[1]}});
  EXPECT_TRUE(dir.ok()) << dir.status().ToString();
  return dir.ok() ? std::move(*dir) : nullptr;
}

// A deterministic event: principals rotate over alice/bob/carol, resources over three
// feature views, decisions alternate, times are one second apart.
inline AuditEvent MakeEvent(uint64_t i) {
  static const char* const kPrincipals[] = {"User::alice", "User::bob", "User::carol"};
  AuditEvent e;
  e.time = common::FromUnixSeconds(1'800'000'000 + static_cast<int64_t>(i));
  e.request_id = "req-" + std::to_string(i);
  e.principal_id = kPrincipals[i % 3];
  e.auth_method = AuthMethod::kToken;
  e.action = i % 5 == 0 ? "export" : "read";
  e.resources.push_back({"FeatureView", "fv" + std::to_string(i % 4), 1});
  e.purpose = "fraud-model";
  e.environment = "prod";
  e.decision = i % 2 == 0 ? Decision::kAllow : Decision::kDeny;
  e.policy_set_version = 7;
  e.rows_returned = i;
  e.outcome = e.decision == Decision::kAllow ? Outcome::kOk : Outcome::kDenied;
  return e;
}

}  // namespace custos::audit::testing
