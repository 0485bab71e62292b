// The declarative feature repository: entities, data sources, feature views and feature
// services, loaded from a directory of YAML files (format: docs/repository.md) and
// validated as a whole. `custos apply` publishes a loaded repository into the catalog
// store (catalog_store.h). Every error names file:line:column, says what is wrong and
// how to fix it; loading collects all errors (up to a cap), not just the first.
// Thread-safety: the model types are plain values; the loading functions are reentrant.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/governance.h"
#include "catalog/mask_rule.h"
#include "catalog/value_type.h"
#include "common/status.h"
#include "policy/value.h"

namespace custos::catalog {

// A position in a repository file, 1-based; line 0 means "the file as a whole".
struct SourcePosition {
  std::string file;  // relative to the repository root
  int line = 0;
  int column = 0;
  std::string ToString() const;  // "views/fraud.yaml:12:5"
  friend bool operator==(const SourcePosition&, const SourcePosition&) = default;
};

struct RepositoryError {
  SourcePosition where;
  std::string message;           // what is wrong and how to fix it
  std::string ToString() const;  // "<where>: <message>"
};

using Tags = std::map<std::string, std::string>;

struct JoinKey {
  std::string name;
  ValueType type;
  friend bool operator==(const JoinKey&, const JoinKey&) = default;
};

struct Entity {
  std::string name;
  std::vector<JoinKey> join_keys;  // at least one
  std::string description;
  SourcePosition where;
};

enum class SourceKind : uint8_t { kCsv = 0, kJsonLines = 1, kPostgres = 2 };
std::string_view SourceKindName(SourceKind kind);  // "csv", "jsonl", "postgres"

struct SourceField {
  std::string name;
  ValueType type;
  friend bool operator==(const SourceField&, const SourceField&) = default;
};

struct DataSource {
  std::string name;
  SourceKind kind = SourceKind::kCsv;
  std::string path;                     // csv, jsonl: relative to the repository root
  std::string table;                    // postgres: a table, or
  std::string query;                    // postgres: a query (exactly one of table and query)
  std::string dsn_env;                  // postgres: the environment variable holding the DSN
  std::string timestamp_field;          // the event time column (required)
  std::string created_timestamp_field;  // optional: breaks ties between equal event times
  // Source column -> the name views use, for columns renamed on the way in.
  std::map<std::string, std::string> field_mapping;
  // Optional declared schema (names after mapping). When given, views are checked
  // against it: join keys, features and timestamps must exist with the same types.
  std::vector<SourceField> fields;
  std::string description;
  SourcePosition where;
};

struct Feature {
  std::string name;
  ValueType type;
  Classification classification = Classification::kInternal;  // default: the view's
  Tags tags;
  std::string description;
  std::optional<MaskRule> mask;
  SourcePosition where;
};

struct FeatureView {
  std::string name;
  std::vector<std::string> entities;  // at least one
  std::string source;
  std::vector<Feature> features;  // at least one
  std::string description;
  Tags tags;
  Classification classification = Classification::kInternal;
  std::vector<policy::EntityUid> owners;  // at least one principal
  std::vector<policy::EntityUid> stewards;
  int64_t ttl_seconds = 0;        // 0: no limit on feature age at retrieval
  int64_t retention_seconds = 0;  // 0: kept until removed
  bool online = true;
  SourcePosition where;
  std::vector<SourcePosition> entities_where;  // parallel to `entities`
  SourcePosition source_where;

  const Feature* FindFeature(std::string_view feature) const;
};

// "view" (all of its features) or "view:feature".
struct FeatureRef {
  std::string view;
  std::string feature;  // empty: every feature of the view
  SourcePosition where;
  std::string ToString() const;
  friend bool operator==(const FeatureRef& a, const FeatureRef& b) {
    return a.view == b.view && a.feature == b.feature;
  }
};

struct FeatureService {
  std::string name;
  std::vector<FeatureRef> features;  // at least one
  std::string description;
  Tags tags;
  std::vector<policy::EntityUid> owners;  // optional
  SourcePosition where;
};

struct Repository {
  std::string root;  // the directory it was loaded from ("" for in-memory files)
  std::vector<Entity> entities;
  std::vector<DataSource> sources;
  std::vector<FeatureView> views;
  std::vector<FeatureService> services;

  const Entity* FindEntity(std::string_view name) const;
  const DataSource* FindSource(std::string_view name) const;
  const FeatureView* FindView(std::string_view name) const;
  const FeatureService* FindService(std::string_view name) const;
};

struct LoadOptions {
  // Errors kept in the report; more are counted in errors_dropped. Default 50.
  size_t max_errors = 50;
  // Larger files are refused (a repository is small). Default 4 MiB.
  size_t max_file_bytes = size_t{4} << 20;
  // At most this many YAML files. Default 1000.
  size_t max_files = 1000;
  // Check that csv/jsonl source paths exist under the root. Default true (ignored for
  // in-memory files).
  bool check_source_files = true;
};

struct LoadReport {
  Repository repository;  // complete only when ok()
  std::vector<RepositoryError> errors;
  size_t errors_dropped = 0;
  bool ok() const { return errors.empty(); }
  // OK, or InvalidArgument listing every error, one per line, and how many are omitted.
  Status ToStatus() const;
};

// Loads every *.yaml and *.yml file under `dir` (recursively, in path order, skipping
// names that start with a dot) and validates the whole repository.
LoadReport LoadRepositoryDir(const std::string& dir, const LoadOptions& options = {});
// The same, returning the repository or ToStatus()'s error.
Result<Repository> LoadRepository(const std::string& dir, const LoadOptions& options = {});

// In-memory files (tests, fuzzing): `name` is used in positions.
struct RepositoryFile {
  std::string name;
  std::string text;
};
LoadReport ParseRepositoryFiles(const std::vector<RepositoryFile>& files,
                                const LoadOptions& options = {});

// The names allowed for entities, sources, views, services and features:
// [A-Za-z_][A-Za-z0-9_]*, at most 128 characters.
bool IsValidName(std::string_view name);

}  // namespace custos::catalog
