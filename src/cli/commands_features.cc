// `custos ingest`, `custos features get|aggregate|retention` and `custos training-set`: the
// feature store from the command line, in embedded mode, through the same authorization
// and audit as the server (the read is audited before any data is read).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/instance_flags.h"
#include "cli/output.h"
#include "features/postgres_source.h"
#include "features/source_ingest.h"
#include "lineage/capture.h"

namespace custos::cli {
namespace {

struct IngestFlags {
  InstanceFlags instance;
  std::string view;
  std::string repo = ".";
  std::string from;
  size_t max_rejects = 0;
};

struct ReadFlags {
  InstanceFlags instance;
  std::vector<std::string> features;
  std::string service;
  std::string purpose;
  std::string environment;
  std::string zone;
  // get
  std::vector<std::string> entities;
  // aggregate
  std::string function = "count";
  // training-set
  std::string entities_file;
  std::string entities_query;
  std::string entities_dsn_env;
  std::string out;
  std::string manifest;
  std::string format;
  std::string name;  // the training set's name in lineage
  bool created_before_ts = false;
};

struct RetentionFlags {
  InstanceFlags instance;
};

// The acting principal for audit records of writes: --as / --token-file, else the operator.
Result<policy::EntityUid> WriterUid(server::Instance& in, const InstanceFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f));
  if (acting.principal) return acting.principal->ToEntityUid();
  return policy::EntityUid("User", "operator");
}

// The Cedar context of a read: who (required), the purpose and environment (bound by the
// token when acting with one), a fresh MFA when --mfa-code verified.
Result<features::ReadContext> ReadContextFor(server::Instance& in, const ReadFlags& f,
                                             audit::AuthMethod* method) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  if (!acting.principal) {
    return InvalidArgumentError(
        "feature reads are decided by policy for a principal: pass --as User::<id> or "
        "--token-file FILE");
  }
  features::ReadContext context;
  context.principal = acting.principal->ToEntityUid();
  context.purpose = f.purpose;
  context.environment = f.environment;
  context.zone = f.zone;
  if (acting.token) {
    const identity::TokenClaims& t = *acting.token;
    if (!f.purpose.empty() && !t.purpose.empty() && f.purpose != t.purpose) {
      return PermissionDeniedError("--purpose " + f.purpose +
                                   " differs from the token's purpose '" + t.purpose +
                                   "'; a token is bound to its purpose");
    }
    if (!t.purpose.empty()) context.purpose = t.purpose;
    context.environment = std::string(identity::EnvironmentName(t.environment));
    if (!t.zone.empty()) context.zone = t.zone;
  }
  if (!f.instance.mfa_code.empty()) {
    CUSTOS_RETURN_IF_ERROR(
        in.mfa().Verify(acting.caller, *acting.principal, f.instance.mfa_code).status());
    context.mfa = true;
  }
  context.now_seconds = common::ToUnixMicros(in.clock().Now()) / 1000000;
  *method = acting.caller.auth_method;
  return context;
}

Result<features::ReadAuthorization> Authorize(server::Instance& in, const ReadFlags& f,
                                              audit::AuthMethod* method) {
  CUSTOS_ASSIGN_OR_RETURN(features::ReadContext context, ReadContextFor(in, f, method));
  std::vector<std::string> refs = f.features;
  if (!f.service.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> service, in.features().ServiceRefs(f.service));
    refs.insert(refs.end(), service.begin(), service.end());
  }
  return in.features().AuthorizeRead(context, in.policies().Current(), refs);
}

Status RunIngest(server::Instance& in, const IngestFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(policy::EntityUid by, WriterUid(in, f.instance));
  features::SourceIngestOptions options;
  options.repository_root = f.repo;
  options.path_override = f.from;
  options.max_rejects = f.max_rejects;
  CUSTOS_ASSIGN_OR_RETURN(features::SourceIngestReport report,
                          features::IngestFromSource(in.features(), f.view, options, by,
                                                     common::ToUnixMicros(in.clock().Now())));
  auto lineage_index = lineage::CaptureIngest(in.lineage(), report, by.ToString());
  if (!lineage_index.ok()) {
    return lineage_index.status().WithContext("ingested (audit entry " +
                                              std::to_string(report.outcome.audit_index) +
                                              "), but its lineage was not recorded");
  }
  if (f.instance.json) {
    nlohmann::ordered_json j;
    j["view"] = report.outcome.view;
    j["version"] = report.outcome.version;
    j["source"] = report.source;
    j["rows_read"] = report.rows_read;
    j["rows_ingested"] = report.outcome.rows;
    j["rows_rejected"] = report.rejected;
    j["online_rows"] = report.outcome.online_rows;
    j["audit_index"] = report.outcome.audit_index;
    j["lineage_audit_index"] = *lineage_index;
    nlohmann::ordered_json rejects = nlohmann::ordered_json::array();
    for (const auto& r : report.rejects) {
      rejects.push_back({{"row", r.row}, {"where", r.where}, {"message", r.message}});
    }
    j["rejects"] = std::move(rejects);
    std::cout << j.dump(2) << "\n";
    return Status::Ok();
  }
  std::cout << report.source << ": " << report.summary << "\n";
  for (const auto& r : report.rejects) {
    std::cout << "  rejected row " << r.row << " (" << r.where << "): " << r.message << "\n";
  }
  std::cout << "Ingested " << report.outcome.rows << " rows into " << report.outcome.view << " v"
            << report.outcome.version << " (offline history; " << report.outcome.online_rows
            << " online rows updated), audit entry " << report.outcome.audit_index
            << "; lineage recorded (audit entry " << *lineage_index << ").\n";
  return Status::Ok();
}

// The join-key type of `name` in any view of the read.
Result<catalog::ValueType> KeyType(const features::ReadAuthorization& auth,
                                   const std::string& name) {
  for (const auto& va : auth.views) {
    for (const features::Column& c : va.view->schema.join_keys) {
      if (c.name == name) return c.type;
    }
  }
  return InvalidArgumentError("--entity names '" + name +
                              "', which is no join key of the requested views");
}

// --entity k=v[,k2=v2]: one entity row per flag.
Result<features::EntityKeys> ParseEntities(const features::ReadAuthorization& auth,
                                           const std::vector<std::string>& flags) {
  features::EntityKeys keys;
  if (flags.empty()) {
    return InvalidArgumentError(
        "give at least one --entity key=value (e.g. --entity customer_id=1001)");
  }
  for (size_t row = 0; row < flags.size(); ++row) {
    std::string_view rest = flags[row];
    size_t seen = 0;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view pair = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        return InvalidArgumentError("--entity '" + flags[row] +
                                    "': write key=value pairs separated by commas");
      }
      const std::string name(pair.substr(0, eq));
      CUSTOS_ASSIGN_OR_RETURN(catalog::ValueType type, KeyType(auth, name));
      auto value = catalog::ParseScalarText(pair.substr(eq + 1), type.scalar);
      if (!value.ok()) {
        return InvalidArgumentError("--entity '" + flags[row] + "': " + name + ": " +
                                    std::string(value.status().message()));
      }
      auto it = std::find(keys.names.begin(), keys.names.end(), name);
      size_t k = static_cast<size_t>(it - keys.names.begin());
      if (it == keys.names.end()) {
        if (row > 0) {
          return InvalidArgumentError("--entity '" + flags[row] + "' gives key '" + name +
                                      "', which the first --entity does not; give the same keys "
                                      "in every --entity");
        }
        keys.names.push_back(name);
        keys.values.emplace_back();
      }
      keys.values[k].push_back(std::move(*value));
      ++seen;
    }
    if (seen != keys.names.size()) {
      return InvalidArgumentError("--entity '" + flags[row] + "' must give every key: " +
                                  std::to_string(keys.names.size()) + " expected");
    }
  }
  return keys;
}

std::string CellText(const catalog::Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "null";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          std::ostringstream s;
          s << x;
          return s.str();
        } else if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, catalog::Timestamp>) {
          return catalog::FormatTimestamp(x);
        } else {
          return "[" + std::to_string(x.size()) + " items]";
        }
      },
      v);
}

Status RunGet(server::Instance& in, const ReadFlags& f) {
  audit::AuthMethod method = audit::AuthMethod::kEmbedded;
  CUSTOS_ASSIGN_OR_RETURN(features::ReadAuthorization auth, Authorize(in, f, &method));
  CUSTOS_ASSIGN_OR_RETURN(features::EntityKeys keys, ParseEntities(auth, f.entities));
  // Fail closed: the decision is on the audit log before any row is read.
  CUSTOS_ASSIGN_OR_RETURN(
      uint64_t audit_index,
      in.features().AuditRead(auth, "features.online.read", keys.rows(), method));
  CUSTOS_ASSIGN_OR_RETURN(features::OnlineResponse response,
                          in.features().GetOnlineFeatures(auth, keys));
  if (f.instance.json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(response.ToJson());
    j["audit_index"] = audit_index;
    std::cout << j.dump(2) << "\n";
    return Status::Ok();
  }
  for (size_t r = 0; r < keys.rows(); ++r) {
    std::cout << "entity";
    for (size_t k = 0; k < keys.names.size(); ++k) {
      std::cout << " " << keys.names[k] << "=" << CellText(keys.values[k][r]);
    }
    std::cout << "\n";
    for (size_t c = keys.names.size(); c < response.feature_names.size(); ++c) {
      const auto& col = response.results[c];
      std::cout << "  " << response.feature_names[c] << " = " << CellText(col.values[r]) << "  "
                << features::FeatureStatusName(col.statuses[r]) << "  ("
                << features::AccessModeName(response.modes[c]) << ")\n";
    }
  }
  std::cout << "audit entry " << audit_index << "\n";
  return Status::Ok();
}

Status RunAggregate(server::Instance& in, const ReadFlags& f) {
  if (f.features.size() != 1) {
    return InvalidArgumentError("aggregate takes exactly one feature, as view:feature");
  }
  CUSTOS_ASSIGN_OR_RETURN(features::AggregateFn fn, features::ParseAggregateFn(f.function));
  audit::AuthMethod method = audit::AuthMethod::kEmbedded;
  CUSTOS_ASSIGN_OR_RETURN(features::ReadAuthorization auth, Authorize(in, f, &method));
  CUSTOS_ASSIGN_OR_RETURN(uint64_t audit_index,
                          in.features().AuditRead(auth, "features.aggregate", 1, method));
  CUSTOS_ASSIGN_OR_RETURN(features::AggregateAnswer answer,
                          in.features().AggregateFeature(auth, f.features[0], fn));
  if (f.instance.json) {
    nlohmann::ordered_json j;
    j["feature"] = answer.feature;
    j["function"] = std::string(features::AggregateFnName(fn));
    j["value"] = CellText(answer.result.value);
    j["values"] = answer.result.non_null;
    j["rows_filtered"] = answer.rows_filtered;
    j["access_mode"] = std::string(features::AccessModeName(answer.mode));
    j["audit_index"] = audit_index;
    std::cout << j.dump(2) << "\n";
    return Status::Ok();
  }
  std::cout << features::AggregateFnName(fn) << "(" << answer.feature
            << ") = " << CellText(answer.result.value) << " over " << answer.result.non_null
            << " entities, audit entry " << audit_index << "\n";
  return Status::Ok();
}

Status RunTrainingSet(server::Instance& in, const ReadFlags& f) {
  if (f.out.empty()) return InvalidArgumentError("--out FILE is required");
  if (f.entities_file.empty() == f.entities_query.empty()) {
    return InvalidArgumentError(
        "give the entity rows with exactly one of --entities FILE (CSV or JSON Lines) and "
        "--entities-query SQL (PostgreSQL, with --entities-dsn-env)");
  }
  features::TrainingSetFormat format = features::TrainingSetFormat::kCsv;
  const std::string fmt = !f.format.empty()           ? f.format
                          : f.out.ends_with(".jsonl") ? "jsonl"
                                                      : "csv";
  if (fmt == "jsonl") {
    format = features::TrainingSetFormat::kJsonl;
  } else if (fmt != "csv") {
    return InvalidArgumentError("--format " + fmt + ": use csv or jsonl");
  }
  audit::AuthMethod method = audit::AuthMethod::kEmbedded;
  CUSTOS_ASSIGN_OR_RETURN(features::ReadAuthorization auth, Authorize(in, f, &method));
  features::EntityRowsSpec spec;
  for (const auto& va : auth.views) {
    for (const features::Column& c : va.view->schema.join_keys) {
      if (std::find(spec.join_keys.begin(), spec.join_keys.end(), c) == spec.join_keys.end()) {
        spec.join_keys.push_back(c);
      }
    }
  }
  features::EntityRows rows;
  if (!f.entities_file.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(rows, features::ReadEntityRowsFile(f.entities_file, spec));
  } else {
    const char* dsn =
        f.entities_dsn_env.empty() ? nullptr : std::getenv(f.entities_dsn_env.c_str());
    if (dsn == nullptr || *dsn == '\0') {
      return InvalidArgumentError(
          "--entities-query needs --entities-dsn-env VAR naming a set "
          "environment variable that holds the PostgreSQL DSN");
    }
    CUSTOS_ASSIGN_OR_RETURN(rows, features::ReadEntityRowsPostgres(dsn, f.entities_query, spec));
  }
  CUSTOS_ASSIGN_OR_RETURN(
      uint64_t audit_index,
      in.features().AuditRead(auth, "features.training_set", rows.size(), method));
  features::TrainingSetRequest request;
  request.format = format;
  request.require_created_before_ts = f.created_before_ts;
  CUSTOS_ASSIGN_OR_RETURN(features::TrainingSetOutput output,
                          in.features().BuildTrainingSet(auth, rows, request));
  output.manifest.audit_index = audit_index;
  const std::string manifest_path = f.manifest.empty() ? f.out + ".manifest.json" : f.manifest;
  // Write next to the target and rename, so a reader never sees half a file.
  for (const auto& [path, bytes] :
       {std::pair{f.out, output.data}, std::pair{manifest_path, output.manifest.ToJson() + "\n"}}) {
    const std::string tmp = path + ".tmp";
    {
      std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
      file << bytes;
      if (!file.good()) return UnavailableError("cannot write " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return UnavailableError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
  auto captured = lineage::CaptureTrainingSet(in.lineage(), output.manifest, f.name, f.out);
  if (!captured.ok()) {
    return captured.status().WithContext("wrote " + f.out + ", but its lineage was not recorded");
  }
  if (f.instance.json) {
    std::cout << output.manifest.ToJson() << "\n";
    return Status::Ok();
  }
  std::cout << "Wrote " << output.manifest.rows << " rows to " << f.out << " (sha256 "
            << output.manifest.output_sha256 << ") and its manifest to " << manifest_path << ".\n";
  for (const auto& [feature, mode] : output.manifest.feature_modes) {
    std::cout << "  " << feature << ": " << mode << "\n";
  }
  std::cout << "audit entry " << audit_index << "; lineage: " << captured->node_id
            << " (audit entry " << captured->audit_index << ")\n";
  return Status::Ok();
}

Status RunRetention(server::Instance& in, const RetentionFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(policy::EntityUid by, WriterUid(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(features::RetentionReport report, in.features().EnforceRetention(by));
  std::cout << "Purged " << report.offline_rows_purged << " offline and "
            << report.online_rows_purged << " online rows past retention; crypto-shredded "
            << report.versions_shredded.size() << " expired versions";
  for (const auto& v : report.versions_shredded) std::cout << " " << v;
  std::cout << ".\n";
  return Status::Ok();
}

void AddReadFlags(CLI::App* cmd, ReadFlags& f) {
  cmd->add_option("--service", f.service, "A feature service's features");
  cmd->add_option("--purpose", f.purpose, "Why (policies and grants check it)");
  cmd->add_option("--environment", f.environment, "dev, staging or prod (context.environment)");
  cmd->add_option("--zone", f.zone, "Network or data zone (context.zone)");
}

}  // namespace

void AddFeatureCommands(CLI::App& app, int* exit_code) {
  std::shared_ptr<IngestFlags> ingest;
  CLI::App* cmd = AddInstanceSubcommand<IngestFlags>(
      &app, exit_code, "ingest",
      "Ingest a feature view's source into the offline and online stores", true, ingest, RunIngest);
  cmd->add_option("view", ingest->view, "Feature view")->required();
  cmd->add_option("--repo", ingest->repo, "Repository root the source path is relative to");
  cmd->add_option("--from", ingest->from, "Read this CSV/JSON Lines file instead of the source");
  cmd->add_option("--max-rejects", ingest->max_rejects,
                  "Rejected rows tolerated (default 0: any bad row aborts, nothing written)");

  CLI::App* features =
      app.add_subcommand("features", "Read features (online, aggregates) and enforce retention");
  features->require_subcommand(1);
  std::shared_ptr<ReadFlags> get;
  // `custos get` is the same command at the top level.
  for (CLI::App* parent : {features, &app}) {
    cmd = AddInstanceSubcommand<ReadFlags>(parent, exit_code, "get",
                                           "Online features for entity keys (Feast's shape)", true,
                                           get, RunGet);
    cmd->add_option("features", get->features, "view:feature or view");
    cmd->add_option("--entity", get->entities, "key=value[,key=value]; one entity row per flag");
    AddReadFlags(cmd, *get);
  }

  std::shared_ptr<ReadFlags> aggregate;
  cmd = AddInstanceSubcommand<ReadFlags>(features, exit_code, "aggregate",
                                         "An aggregate of one feature over all entities", true,
                                         aggregate, RunAggregate);
  cmd->add_option("feature", aggregate->features, "view:feature")->required();
  cmd->add_option("--fn", aggregate->function, "count, sum, mean, min, max or stddev");
  AddReadFlags(cmd, *aggregate);

  std::shared_ptr<RetentionFlags> retention;
  AddInstanceSubcommand<RetentionFlags>(
      features, exit_code, "retention",
      "Purge rows past retention and crypto-shred expired versions", true, retention, RunRetention);

  std::shared_ptr<ReadFlags> training;
  cmd = AddInstanceSubcommand<ReadFlags>(
      &app, exit_code, "training-set",
      "A point-in-time-correct training set (CSV or JSON Lines) and its manifest", true, training,
      RunTrainingSet);
  cmd->add_option("--features", training->features, "view:feature or view")->delimiter(',');
  cmd->add_option("--entities", training->entities_file, "Entity rows: CSV or JSON Lines file");
  cmd->add_option("--entities-query", training->entities_query, "Entity rows: a PostgreSQL query");
  cmd->add_option("--entities-dsn-env", training->entities_dsn_env,
                  "Environment variable holding the PostgreSQL DSN");
  cmd->add_option("--out", training->out, "Output file (.csv or .jsonl)");
  cmd->add_option("--manifest", training->manifest, "Manifest file (default <out>.manifest.json)");
  cmd->add_option("--format", training->format, "csv or jsonl (default: by --out's extension)");
  cmd->add_option("--name", training->name,
                  "The training set's name in lineage (default: the purpose)");
  cmd->add_flag("--created-before-ts", training->created_before_ts,
                "Only rows created at or before each entity timestamp");
  AddReadFlags(cmd, *training);
}

}  // namespace custos::cli
