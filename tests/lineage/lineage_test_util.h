// A lineage world for tests: a real data directory (RocksDB) in a TempDir, the audit log,
// the lineage store and service, a FakeClock; and helpers that build nodes and edges.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "../audit/log_test_util.h"
#include "audit/log.h"
#include "lineage/graph.h"
#include "lineage/lineage_service.h"
#include "lineage/lineage_store.h"

namespace custos::lineage::testing {

inline Node MakeNode(NodeKind kind, std::string name, std::string version,
                     std::string sha256 = "") {
  Node node;
  node.kind = kind;
  node.name = std::move(name);
  node.version = std::move(version);
  node.content_sha256 = std::move(sha256);
  return node;
}

inline Edge MakeEdge(std::string from, std::string to, std::string run = "") {
  Edge edge;
  edge.from = std::move(from);
  edge.to = std::move(to);
  edge.run_id = std::move(run);
  edge.time = common::FromUnixSeconds(1'800'000'000);
  return edge;
}

inline LineageRecord MakeRecord(std::vector<Node> nodes, std::vector<Edge> edges,
                                std::string principal = "User::dana") {
  LineageRecord record;
  record.origin = "test";
  record.principal = std::move(principal);
  record.nodes = std::move(nodes);
  record.edges = std::move(edges);
  return record;
}

class LineageWorld {
 public:
  LineageWorld() : clock_(common::FromUnixSeconds(1'800'000'000)) {
    data_ = audit::testing::CreateDataDir(tmp_.Sub("data"));
    Open();
  }
  ~LineageWorld() { Close(); }

  void Open() {
    audit::LogOptions log_options;
    log_options.background_checkpoints = false;
    log_options.durability = audit::Durability::kOsBuffer;
    auto log = audit::AuditLog::Open(data_.dir->kv(), data_.dir->keyring(), log_options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
    auto store = LineageStore::Open(data_.dir->kv(), data_.dir->keyring());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    service_ = std::make_unique<LineageService>(*store_, *log_, clock_);
  }
  void Close() {
    service_.reset();
    store_.reset();
    if (log_) log_->Close();
    log_.reset();
  }
  // As a restarted server: everything reopened on the same data directory.
  void Reopen() {
    Close();
    Open();
  }

  LineageService& service() { return *service_; }
  LineageStore& store() { return *store_; }
  audit::AuditLog& log() { return *log_; }
  storage::Kv& kv() { return data_.dir->kv(); }
  crypto::Keyring& keyring() { return data_.dir->keyring(); }
  const std::string& tmp() const { return tmp_.path(); }

 private:
  custos::testing::TempDir tmp_;
  audit::testing::TestDataDir data_;
  common::FakeClock clock_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<LineageStore> store_;
  std::unique_ptr<LineageService> service_;
};

}  // namespace custos::lineage::testing
