// A whole access world for tests: a real data directory (RocksDB) in a TempDir, the audit
// log, a policy store, the catalog's governance registry and the access service, with a
// FakeClock; and helpers to ask the policy store as Authorize would.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "../audit/log_test_util.h"
#include "access/access_service.h"
#include "access/grant_policy.h"
#include "audit/log.h"
#include "catalog/governance.h"
#include "policy/policy_store.h"

namespace custos::access::testing {

using policy::EntityUid;

inline EntityUid User(const std::string& id) { return EntityUid("User", id); }
inline EntityUid View(const std::string& id) { return EntityUid("FeatureView", id); }
inline Actor As(const std::string& user) { return Actor{User(user), {}, std::nullopt}; }
inline Actor AsWithMfa(const std::string& user, common::TimePoint mfa) {
  return Actor{User(user), {}, mfa};
}

// 2027-01-15T08:00:00Z.
inline constexpr int64_t kStartSeconds = 1'800'000'000;

class AccessWorld {
 public:
  AccessWorld() : clock_(common::FromUnixSeconds(kStartSeconds)) {
    data_ = audit::testing::CreateDataDir(tmp_.Sub("data"));
    Open();
  }
  ~AccessWorld() { Close(); }

  // Opens everything on the current data directory with a fresh policy store (as a
  // restarted server would have).
  void Open(AccessOptions options = {}) {
    audit::LogOptions log_options;
    log_options.background_checkpoints = false;
    log_options.durability = audit::Durability::kOsBuffer;
    auto log = audit::AuditLog::Open(data_.dir->kv(), data_.dir->keyring(), log_options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
    policies_ = std::make_unique<policy::PolicyStore>();
    ASSERT_TRUE(policies_->LoadSources({{"base.cedar", kBasePolicies}}).ok());
    auto catalog =
        catalog::GovernanceRegistry::Open(data_.dir->kv(), data_.dir->keyring(), *log_, clock_);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(*catalog);
    auto access = AccessService::Open(data_.dir->kv(), data_.dir->keyring(), *log_, *policies_,
                                      *catalog_, clock_, std::move(options));
    ASSERT_TRUE(access.ok()) << access.status().ToString();
    access_ = std::move(*access);
  }

  void Close() {
    access_.reset();
    catalog_.reset();
    if (log_) log_->Close();
    log_.reset();
    policies_.reset();
  }

  // Closes and reopens the data directory itself (a process restart).
  void Restart(AccessOptions options = {}) {
    Close();
    data_.dir.reset();
    data_.dir = audit::testing::ReopenDataDir(tmp_.Sub("data"), data_.shares);
    Open(std::move(options));
  }

  void Register(const EntityUid& uid, catalog::Classification c, std::vector<EntityUid> owners,
                std::vector<EntityUid> stewards = {}) {
    catalog::GovernedResource spec;
    spec.uid = uid;
    spec.classification = c;
    spec.owners = std::move(owners);
    spec.stewards = std::move(stewards);
    auto r = catalog_->Register(spec, User("admin"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  void DefinePurpose(const std::string& id, std::optional<std::chrono::seconds> max = {}) {
    auto p = access_->DefinePurpose(Purpose{id, "purpose " + id, max}, As("admin"));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
  }

  // Decides `principal` doing `action` on `resource` for `purpose` now, as Authorize does.
  policy::StoreDecision Decide(const EntityUid& principal, const std::string& action,
                               const EntityUid& resource, const std::string& purpose) const {
    policy::Request req;
    req.principal = principal;
    req.action = EntityUid("Action", action);
    req.resource = resource;
    req.context = policy::Value::Record(
        {{"purpose", policy::Value::String(purpose)},
         {"environment", policy::Value::String("prod")},
         {"zone", policy::Value::String("eu")},
         {"mfa", policy::Value(false)},
         {"now", policy::Value(static_cast<int64_t>(common::ToUnixSeconds(clock_.Now())))},
         {"risk", policy::Value(static_cast<int64_t>(0))}});
    return policies_->IsAuthorized(req, entities_);
  }
  bool Allowed(const EntityUid& principal, const std::string& action, const EntityUid& resource,
               const std::string& purpose) const {
    return Decide(principal, action, resource, purpose).response.decision ==
           policy::Decision::kAllow;
  }

  // Every audit event so far, in log order.
  std::vector<audit::AuditEvent> Events() const {
    std::vector<audit::AuditEvent> out;
    for (uint64_t i = 0; i < log_->size(); ++i) {
      auto e = log_->ReadEvent(i);
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      if (e.ok()) out.push_back(std::move(*e));
    }
    return out;
  }
  audit::AuditEvent LastEvent() const {
    auto events = Events();
    return events.empty() ? audit::AuditEvent{} : events.back();
  }

  common::FakeClock& clock() { return clock_; }
  AccessService& access() { return *access_; }
  catalog::GovernanceRegistry& catalog() { return *catalog_; }
  policy::PolicyStore& policies() { return *policies_; }
  audit::AuditLog& log() { return *log_; }
  policy::EntityStore& entities() { return entities_; }
  const std::string& path() const { return tmp_.path(); }

  // Operator policies present before any grant; a static forbid shows that grants never
  // override a forbid.
  static constexpr const char* kBasePolicies =
      "@id(\"no-export-on-quarantine\")\n"
      "forbid(principal, action == Action::\"export\", resource) when { context.risk > 900 };\n";

 private:
  custos::testing::TempDir tmp_;
  audit::testing::TestDataDir data_;
  common::FakeClock clock_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<policy::PolicyStore> policies_;
  std::unique_ptr<catalog::GovernanceRegistry> catalog_;
  std::unique_ptr<AccessService> access_;
  policy::EntityStore entities_;
};

}  // namespace custos::access::testing
