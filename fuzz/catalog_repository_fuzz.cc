// libFuzzer target: the YAML feature repository loader (catalog/repository.h): parsing,
// validation and error reporting, then planning against an empty catalog when the input
// loads. Must never crash, hang or trip a sanitizer, whatever the YAML.
#include <cstddef>
#include <cstdint>
#include <string>

#include "catalog/apply_plan.h"
#include "catalog/repository.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace custos::catalog;  // NOLINT: fuzz target
  // Repositories are small; larger inputs only slow the fuzzer down.
  if (size > 64 * 1024) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  // A NUL splits the input into two files, so cross-file references get exercised.
  std::vector<RepositoryFile> files;
  size_t nul = text.find('\0');
  if (nul == std::string::npos) {
    files.push_back({"fuzz.yaml", text});
  } else {
    files.push_back({"a.yaml", text.substr(0, nul)});
    files.push_back({"b.yaml", text.substr(nul + 1)});
  }
  LoadOptions options;
  options.max_errors = 20;
  LoadReport report = ParseRepositoryFiles(files, options);
  std::string all = report.ToStatus().ToString();
  if (!report.ok()) {
    if (report.errors.empty() || report.errors.size() > options.max_errors) __builtin_trap();
    return 0;
  }
  ApplyPlan plan = MakePlan({}, report.repository, {});
  std::string text_plan = FormatPlan(plan);
  if (plan.Count(ChangeAction::kCreate) != plan.changes.size()) __builtin_trap();
  return 0;
}
