// The shared fixture of the identity tests: a fresh data directory (Shamir 2-of-3) in a
// temporary folder, its audit log, an audit salt, a fake clock, the identity auditor and
// the principal directory, plus reopening all of it from disk.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../audit/log_test_util.h"
#include "audit/log.h"
#include "common/clock.h"
#include "crypto/secret.h"
#include "identity/ca.h"
#include "identity/directory.h"
#include "identity/identity_audit.h"

namespace custos::identity::testing {

// The default start of the fake clock: 2027-01-15, far from any boundary.
inline const common::TimePoint kDefaultStart = common::FromUnixSeconds(1'800'000'000);

// A fixed salt (bytes 1..32), so that MACs in audit events are reproducible.
inline audit::AuditSalt FixedAuditSalt() {
  crypto::SecretBytes key(32);
  for (size_t i = 0; i < key.size(); ++i) key.span()[i] = static_cast<uint8_t>(i + 1);
  return *audit::AuditSalt::Create(std::move(key));
}

// A second, independent data directory (e.g. for another CA), removed with its owner.
struct OtherDataDir {
  custos::testing::TempDir tmp;
  audit::testing::TestDataDir data = audit::testing::CreateDataDir(tmp.Sub("d"));
  storage::Kv& kv() { return data.dir->kv(); }
  crypto::Keyring& keyring() { return data.dir->keyring(); }
};

// A test owns one data directory. Fixtures of a service derive from this, open the
// service in OpenServices() (called after the log, auditor and directory are open, at
// set-up and on every Reopen()) and release it in CloseServices().
class IdentityTest : public ::testing::Test {
 protected:
  explicit IdentityTest(common::TimePoint start = kDefaultStart) : clock_(start) {}

  void SetUp() override {
    data_ = audit::testing::CreateDataDir(tmp_.Sub("d"));
    ASSERT_NE(data_.dir, nullptr);
    OpenAll();
  }

  virtual void OpenServices() {}
  virtual void CloseServices() {}

  // Closes everything and opens it again from the data directory's files.
  void Reopen() {
    CloseServices();
    dir_.reset();
    auditor_.reset();
    log_.reset();
    data_.dir.reset();
    data_.dir = audit::testing::ReopenDataDir(tmp_.Sub("d"), data_.shares);
    ASSERT_NE(data_.dir, nullptr);
    OpenAll();
  }

  // The audit events from index `from` on.
  std::vector<audit::AuditEvent> Events(uint64_t from = 0) {
    std::vector<audit::AuditEvent> out;
    for (uint64_t i = from; i < log_->size(); ++i) {
      auto e = log_->ReadEvent(i);
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      if (e.ok()) out.push_back(*e);
    }
    return out;
  }

  // Creates a principal as admin_.
  Principal MustCreatePrincipal(PrincipalId id, Attributes attributes = {}) {
    auto created = dir_->Create(admin_, {std::move(id), "", std::move(attributes)});
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? std::move(*created) : Principal{};
  }

  // A client certificate for `service_account` from a CA of another data directory
  // (same subject names as ours, another key), with that CA's certificate.
  struct ForeignCertificate {
    IssuedCertificate certificate;
    std::string ca_certificate_pem;
  };
  ForeignCertificate MustIssueFromAnotherCa(std::string service_account) {
    OtherDataDir other;
    auto ca = CertificateAuthority::Create(other.kv(), other.keyring(), *log_, salt_, clock_);
    EXPECT_TRUE(ca.ok()) << ca.status().ToString();
    if (!ca.ok()) return {};
    auto issued = (*ca)->IssueClientCertificate({.service_account_id = std::move(service_account)});
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    if (!issued.ok()) return {};
    return {std::move(*issued), (*ca)->certificate_pem()};
  }

  storage::Kv& kv() { return data_.dir->kv(); }
  crypto::Keyring& keyring() { return data_.dir->keyring(); }

  custos::testing::TempDir tmp_;
  audit::testing::TestDataDir data_;
  common::FakeClock clock_;
  audit::AuditSalt salt_ = FixedAuditSalt();
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<IdentityAuditor> auditor_;
  std::unique_ptr<Directory> dir_;
  Caller admin_{.principal_id = "User::\"root\"", .request_id = "req-admin"};

 private:
  void OpenAll() {
    audit::LogOptions options;
    options.background_checkpoints = false;
    options.durability = audit::Durability::kOsBuffer;
    auto log = audit::AuditLog::Open(kv(), keyring(), options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
    auditor_ = std::make_unique<IdentityAuditor>(*log_, salt_, clock_);
    auto dir = Directory::Open(kv(), keyring(), *auditor_);
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_ = std::move(*dir);
    OpenServices();
  }
};

}  // namespace custos::identity::testing
