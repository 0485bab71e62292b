// The custos command line: each subcommand registers itself on the CLI11 app.
// Thread-safety: single-threaded (runs in main).
#pragma once

#include <CLI/CLI.hpp>

namespace custos::cli {

// Registers the subcommand; after parsing, `*exit_code` holds its result.
void AddInitCommand(CLI::App& app, int* exit_code);
void AddUnsealCommand(CLI::App& app, int* exit_code);
void AddKeysCommands(CLI::App& app, int* exit_code);
void AddDataCommands(CLI::App& app, int* exit_code);
void AddDemoCommand(CLI::App& app, int* exit_code);
void AddAuditCommands(CLI::App& app, int* exit_code);
void AddIdentityCommands(CLI::App& app, int* exit_code);
void AddAccessCommands(CLI::App& app, int* exit_code);
void AddCatalogCommands(CLI::App& app, int* exit_code);
void AddFeatureCommands(CLI::App& app, int* exit_code);
void AddLineageCommands(CLI::App& app, int* exit_code);
void AddArtifactCommands(CLI::App& app, int* exit_code);
void AddServerCommand(CLI::App& app, int* exit_code);

}  // namespace custos::cli
