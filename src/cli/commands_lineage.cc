// `custos lineage ...`: record native lineage and OpenLineage events, walk and query the
// graph, export it, and verify it against the audit log, on the data directory (embedded).
#include <fstream>
#include <iostream>
#include <sstream>
#include <tuple>

#include "cli/commands.h"
#include "cli/instance_flags.h"
#include "lineage/export.h"
#include "lineage/queries.h"
#include "lineage/record_json.h"
#include "lineage/verify.h"

namespace custos::cli {
namespace {

struct LineageFlags {
  InstanceFlags instance;
  std::string node;
  std::string file;  // record / ingest input ("-": stdin)
  uint32_t depth = 10;
  size_t max_nodes = 100000;
  size_t limit = 1000;
  std::string format = "json";
  std::string direction = "upstream";
  std::string out;
};

Result<std::string> ReadInput(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return NotFoundError("cannot read " + path);
    text << in.rdbuf();
  }
  return text.str();
}

Result<std::string> ActingPrincipal(server::Instance& in, const InstanceFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f));
  if (acting.principal) return acting.principal->ToEntityUid().ToString();
  return std::string("User::\"operator\"");
}

void Print(const nlohmann::json& value) { std::cout << value.dump(2) << "\n"; }

Status RunRecord(server::Instance& in, const LineageFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, ReadInput(f.file));
  nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return InvalidArgumentError(f.file +
                                " is not valid JSON; it must hold {\"nodes\": [...], "
                                "\"edges\": [...]}");
  }
  auto record = lineage::RecordFromJson(body);
  if (!record.ok()) return record.status().WithContext(f.file);
  record->origin = "cli";
  CUSTOS_ASSIGN_OR_RETURN(record->principal, ActingPrincipal(in, f.instance));
  const size_t nodes = record->nodes.size(), edges = record->edges.size();
  CUSTOS_ASSIGN_OR_RETURN(uint64_t index, in.lineage().Record(std::move(*record)));
  if (f.instance.json) {
    Print({{"lineage_audit_index", index}, {"nodes", nodes}, {"edges", edges}});
  } else {
    std::cout << "Recorded " << nodes << " nodes and " << edges << " edges, audit entry " << index
              << ".\n";
  }
  return Status::Ok();
}

// A JSON array of events, one event, or JSON Lines (one event per line).
Result<std::vector<std::string>> SplitEvents(const std::string& text) {
  std::vector<std::string> events;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    nlohmann::json array = nlohmann::json::parse(text, nullptr, false);
    if (array.is_discarded()) return InvalidArgumentError("the event array is not valid JSON");
    for (const auto& event : array) events.push_back(event.dump());
    return events;
  }
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    events.push_back(line);
  }
  // A single pretty-printed event spans lines: take the whole text as one event.
  if (events.size() > 1 && nlohmann::json::parse(events.front(), nullptr, false).is_discarded()) {
    return std::vector<std::string>{text};
  }
  return events;
}

Status RunIngest(server::Instance& in, const LineageFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, ReadInput(f.file));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> events, SplitEvents(text));
  CUSTOS_ASSIGN_OR_RETURN(std::string principal, ActingPrincipal(in, f.instance));
  const auto results = in.openlineage().IngestAll(events, principal);
  size_t failed = 0;
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok()) {
      out.push_back(lineage::IngestedEventToJson(*results[i]));
      if (!f.instance.json) {
        std::cout << "event " << i << ": " << results[i]->event_type << " run "
                  << results[i]->run_id << ", " << results[i]->edges << " edges, audit entry "
                  << results[i]->audit_index << "\n";
      }
    } else {
      ++failed;
      out.push_back({{"index", i}, {"error", results[i].status().ToString()}});
      if (!f.instance.json) {
        std::cout << "event " << i << ": refused: " << results[i].status().ToString() << "\n";
      }
    }
  }
  if (f.instance.json) Print(out);
  if (failed > 0) {
    return InvalidArgumentError(std::to_string(failed) + " of " + std::to_string(results.size()) +
                                " events were refused (the others are recorded)");
  }
  return Status::Ok();
}

Status RunShow(server::Instance& in, const LineageFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(auto stored, in.lineage_store().GetNode(f.node));
  if (!stored) return NotFoundError("no lineage node '" + f.node + "'");
  Print(lineage::NodeToJson(stored->node));
  return Status::Ok();
}

Status RunWalk(server::Instance& in, const LineageFlags& f, lineage::Direction direction) {
  lineage::WalkOptions options;
  options.direction = direction;
  options.max_depth = f.depth;
  options.max_nodes = f.max_nodes;
  CUSTOS_ASSIGN_OR_RETURN(lineage::Subgraph graph, in.lineage_store().Walk(f.node, options));
  if (f.instance.json) {
    CUSTOS_ASSIGN_OR_RETURN(std::string json,
                            lineage::ExportJson(in.lineage_store(), std::move(graph)));
    std::cout << json << "\n";
    return Status::Ok();
  }
  for (const auto& node : graph.nodes) {
    std::cout << std::string(2 * node.depth, ' ') << node.id << "\n";
  }
  if (graph.truncated) std::cout << "(truncated at " << f.max_nodes << " nodes)\n";
  return Status::Ok();
}

Status PrintReach(const Result<lineage::Reach>& reach, bool json) {
  if (!reach.ok()) return reach.status();
  if (json) {
    Print(lineage::ReachToJson(*reach));
    return Status::Ok();
  }
  for (const auto& [kind, ids] : reach->by_kind) {
    std::cout << lineage::NodeKindName(kind) << ":\n";
    for (const auto& id : ids) std::cout << "  " << id << "\n";
  }
  std::cout << "recorded by:";
  for (const auto& p : reach->principals) std::cout << " " << p;
  std::cout << (reach->truncated ? "\n(truncated)\n" : "\n");
  return Status::Ok();
}

Status RunExport(server::Instance& in, const LineageFlags& f) {
  if (f.format != "json" && f.format != "dot") {
    return InvalidArgumentError("--format must be json or dot, got '" + f.format + "'");
  }
  lineage::Subgraph graph;
  if (f.node.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(graph, lineage::WholeGraph(in.lineage_store(), f.max_nodes));
  } else {
    lineage::WalkOptions options;
    options.direction = f.direction == "downstream" ? lineage::Direction::kDownstream
                                                    : lineage::Direction::kUpstream;
    options.max_depth = f.depth;
    options.max_nodes = f.max_nodes;
    CUSTOS_ASSIGN_OR_RETURN(graph, in.lineage_store().Walk(f.node, options));
  }
  std::string text;
  if (f.format == "json") {
    CUSTOS_ASSIGN_OR_RETURN(text, lineage::ExportJson(in.lineage_store(), std::move(graph)));
    text += "\n";
  } else {
    CUSTOS_ASSIGN_OR_RETURN(text, lineage::ExportDot(in.lineage_store(), graph));
  }
  if (f.out.empty()) {
    std::cout << text;
    return Status::Ok();
  }
  std::ofstream file(f.out, std::ios::binary | std::ios::trunc);
  file << text;
  if (!file.good()) return UnavailableError("cannot write " + f.out);
  std::cerr << "Wrote " << f.out << "\n";
  return Status::Ok();
}

Status RunVerify(server::Instance& in, const LineageFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(lineage::VerifyReport report,
                          lineage::VerifyLineage(in.lineage_store(), in.audit()));
  if (f.instance.json) {
    Print(lineage::VerifyReportToJson(report));
  } else {
    std::cout << "Lineage: " << report.records_checked
              << " records checked against their audit events, " << report.content_hashes_checked
              << " content hashes recomputed (" << report.content_not_available
              << " whose content is gone).\n";
    for (const auto& problem : report.problems) std::cout << "  PROBLEM: " << problem << "\n";
  }
  if (!report.ok()) {
    return DataLossError(std::to_string(report.problems.size()) +
                         " lineage records or contents differ from what was recorded");
  }
  if (!f.instance.json) std::cout << "Lineage OK.\n";
  return Status::Ok();
}

void AddWalkFlags(CLI::App* cmd, LineageFlags& f, uint32_t default_depth) {
  f.depth = default_depth;
  cmd->add_option("--depth", f.depth, "Edges from the node (0-64)")->check(CLI::Range(0, 64));
  cmd->add_option("--max-nodes", f.max_nodes, "Stop after this many nodes (say truncated)")
      ->check(CLI::Range(1, 1000000));
}

}  // namespace

void AddLineageCommands(CLI::App& app, int* exit_code) {
  CLI::App* lineage = app.add_subcommand(
      "lineage", "Provenance: record, OpenLineage in, upstream/downstream, impact, export, verify");
  lineage->require_subcommand(1);
  std::shared_ptr<LineageFlags> f;
  CLI::App* cmd = AddInstanceSubcommand<LineageFlags>(
      lineage, exit_code, "record", "Record nodes and edges from a JSON file", true, f, RunRecord);
  cmd->add_option("file", f->file, "{\"nodes\": [...], \"edges\": [...]} ('-': stdin)")->required();

  cmd = AddInstanceSubcommand<LineageFlags>(
      lineage, exit_code, "ingest",
      "OpenLineage RunEvents from a file (one event, a JSON array, or JSON Lines)", true, f,
      RunIngest);
  cmd->add_option("file", f->file, "The events ('-': stdin)")->required();

  cmd = AddInstanceSubcommand<LineageFlags>(lineage, exit_code, "show", "One node", false, f,
                                            RunShow);
  cmd->add_option("node", f->node, "Node id, e.g. feature_view:fraud@3")->required();

  for (const auto& [name, help, direction] :
       {std::tuple{"upstream", "What a node was derived from", lineage::Direction::kUpstream},
        std::tuple{"downstream", "What was derived from a node",
                   lineage::Direction::kDownstream}}) {
    cmd = AddInstanceSubcommand<LineageFlags>(
        lineage, exit_code, name, help, false, f,
        [direction](server::Instance& in, const LineageFlags& flags) {
          return RunWalk(in, flags, direction);
        });
    cmd->add_option("node", f->node, "Node id")->required();
    AddWalkFlags(cmd, *f, 10);
  }

  cmd = AddInstanceSubcommand<LineageFlags>(
      lineage, exit_code, "contributors",
      "Feature-view versions, sources, transformations and principals behind a node", false, f,
      [](server::Instance& in, const LineageFlags& flags) {
        return PrintReach(
            lineage::ContributorsOf(in.lineage_store(), flags.node, {flags.depth, flags.max_nodes}),
            flags.instance.json);
      });
  cmd->add_option("node", f->node, "Node id, e.g. model:fraud@7")->required();
  AddWalkFlags(cmd, *f, 64);

  cmd = AddInstanceSubcommand<LineageFlags>(
      lineage, exit_code, "impact", "Everything derived from a node (what a bad source affects)",
      false, f, [](server::Instance& in, const LineageFlags& flags) {
        return PrintReach(
            lineage::ImpactOf(in.lineage_store(), flags.node, {flags.depth, flags.max_nodes}),
            flags.instance.json);
      });
  cmd->add_option("node", f->node, "Node id, e.g. source:file:///data/tx.csv@sha256:...")
      ->required();
  AddWalkFlags(cmd, *f, 64);

  cmd = AddInstanceSubcommand<LineageFlags>(
      lineage, exit_code, "accesses", "Who accessed data that flowed into a node (audit log)",
      false, f, [](server::Instance& in, const LineageFlags& flags) -> Status {
        CUSTOS_ASSIGN_OR_RETURN(
            lineage::AccessReport report,
            lineage::AccessesUpstreamOf(in.lineage_store(), in.audit(), flags.node, flags.limit,
                                        {flags.depth, flags.max_nodes}));
        if (flags.instance.json) {
          Print(lineage::AccessReportToJson(report));
          return Status::Ok();
        }
        for (const lineage::Access& a : report.accesses) {
          std::cout << a.audit_index << "  " << common::FormatRfc3339(a.time) << "  " << a.principal
                    << "  " << a.action << "  " << a.resource << "  "
                    << (a.allowed ? "allow" : "deny") << "  (" << a.node_id << ")\n";
        }
        if (report.truncated) std::cout << "(truncated at " << flags.limit << ")\n";
        return Status::Ok();
      });
  cmd->add_option("node", f->node, "Node id")->required();
  cmd->add_option("--limit", f->limit, "Most accesses listed")->check(CLI::Range(1, 10000));
  AddWalkFlags(cmd, *f, 64);

  cmd = AddInstanceSubcommand<LineageFlags>(
      lineage, exit_code, "export", "The graph, or a walk from --node, as JSON or Graphviz DOT",
      false, f, RunExport);
  cmd->add_option("--node", f->node, "Walk from this node (default: the whole graph)");
  cmd->add_option("--direction", f->direction, "upstream or downstream")
      ->check(CLI::IsMember({"upstream", "downstream"}));
  cmd->add_option("--format", f->format, "json or dot");
  cmd->add_option("--out", f->out, "Write to this file instead of standard output");
  AddWalkFlags(cmd, *f, 10);

  AddInstanceSubcommand<LineageFlags>(
      lineage, exit_code, "verify",
      "Check every lineage record against its audit event and re-hash readable content", false, f,
      RunVerify);
}

}  // namespace custos::cli
