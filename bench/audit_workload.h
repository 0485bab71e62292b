// The audit benchmark's events: what an online feature read records, with every field a
// real request fills in. Shared by custos's append benchmark and its PostgreSQL peer so
// that both store exactly the same events.
#pragma once

#include <cstdint>
#include <string>

#include "audit/event.h"
#include "crypto/hash.h"

namespace custos::audit::bench {

// The n-th event: 97 principals, 13 feature views, one deny in 20, times one per
// microsecond from a fixed start (deterministic, so runs are comparable).
inline AuditEvent WorkloadEvent(uint64_t n) {
  AuditEvent e;
  e.time = common::FromUnixSeconds(1'800'000'000) + std::chrono::microseconds(n);
  e.request_id = "req-" + std::to_string(n);
  e.principal_id = "ServiceAccount::svc-" + std::to_string(n % 97);
  e.auth_method = AuthMethod::kMtls;
  const std::string n_text = std::to_string(n);
  e.token_id_mac = crypto::Sha256Of(common::AsBytes("token:" + n_text));
  e.action = "ReadOnlineFeatures";
  e.resources.push_back({"FeatureView", "fraud_v" + std::to_string(n % 13), 3});
  e.purpose = "fraud-scoring";
  e.environment = "prod";
  e.decision = n % 20 == 19 ? Decision::kDeny : Decision::kAllow;
  e.determining_policies = {"policy-" + std::to_string(n % 7)};
  e.policy_set_version = 42;
  e.grant_id = "grant-" + std::to_string(n % 31);
  e.feature_modes = {{"txn_count_1h", AccessMode::kRaw}, {"avg_amount_7d", AccessMode::kMasked}};
  e.rows_returned = e.decision == Decision::kAllow ? 1 : 0;
  e.client_address_mac = crypto::Sha256Of(common::AsBytes("10.0.0." + std::to_string(n % 250)));
  e.risk_score = static_cast<uint32_t>(n % 1000);
  e.outcome = e.decision == Decision::kAllow ? Outcome::kOk : Outcome::kDenied;
  e.hashed_values = {{"entity_key", crypto::Sha256Of(common::AsBytes("customer:" + n_text))}};
  return e;
}

}  // namespace custos::audit::bench
