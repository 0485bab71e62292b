// Loading a repository directory: finding its YAML files, reading and validating them,
// and the small helpers of the model.
#include "catalog/repository.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "catalog/detail/repository_loader.h"

namespace custos::catalog {

namespace fs = std::filesystem;

std::string SourcePosition::ToString() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string RepositoryError::ToString() const { return where.ToString() + ": " + message; }

std::string_view SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kCsv:
      return "csv";
    case SourceKind::kJsonLines:
      return "jsonl";
    case SourceKind::kPostgres:
      return "postgres";
  }
  return "?";
}

std::string FeatureRef::ToString() const { return feature.empty() ? view : view + ":" + feature; }

const Feature* FeatureView::FindFeature(std::string_view feature) const {
  for (const auto& f : features) {
    if (f.name == feature) return &f;
  }
  return nullptr;
}

namespace {
template <typename T>
const T* FindByName(const std::vector<T>& items, std::string_view name) {
  for (const auto& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}
}  // namespace

const Entity* Repository::FindEntity(std::string_view name) const {
  return FindByName(entities, name);
}
const DataSource* Repository::FindSource(std::string_view name) const {
  return FindByName(sources, name);
}
const FeatureView* Repository::FindView(std::string_view name) const {
  return FindByName(views, name);
}
const FeatureService* Repository::FindService(std::string_view name) const {
  return FindByName(services, name);
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

Status LoadReport::ToStatus() const {
  if (ok()) return Status::Ok();
  size_t total = errors.size() + errors_dropped;
  std::string message =
      "the repository has " + std::to_string(total) + (total == 1 ? " error" : " errors") + ":";
  for (const auto& e : errors) message += "\n  " + e.ToString();
  if (errors_dropped > 0) {
    message += "\n  ... and " + std::to_string(errors_dropped) + " more (fix these first)";
  }
  return InvalidArgumentError(std::move(message));
}

namespace detail {

void ErrorSink::Add(const SourcePosition& where, std::string message) {
  if (errors_.size() >= max_) {
    ++dropped_;
    return;
  }
  errors_.push_back({where, std::move(message)});
}

namespace {
// Optimal string alignment distance: Levenshtein plus adjacent transpositions ("tnxs").
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}
}  // namespace

std::string DidYouMean(std::string_view word, const std::vector<std::string_view>& candidates) {
  if (word.size() > 128) return "";
  size_t best = SIZE_MAX;
  std::string_view best_word;
  for (std::string_view c : candidates) {
    if (c.size() > 128) continue;
    size_t d = EditDistance(word, c);
    if (d < best) {
      best = d;
      best_word = c;
    }
  }
  // Within a third of the length (at least 1, at most 3 edits), so guesses stay plausible.
  size_t limit = std::clamp<size_t>(std::max(word.size(), best_word.size()) / 3, 1, 3);
  if (best == 0 || best > limit) return "";
  return " (did you mean `" + std::string(best_word) + "`?)";
}

}  // namespace detail

namespace {
// Errors in reading order (file, line, column), whichever check found them.
void SortErrors(LoadReport& report) {
  std::stable_sort(report.errors.begin(), report.errors.end(),
                   [](const RepositoryError& a, const RepositoryError& b) {
                     return std::tie(a.where.file, a.where.line, a.where.column) <
                            std::tie(b.where.file, b.where.line, b.where.column);
                   });
}
}  // namespace

LoadReport ParseRepositoryFiles(const std::vector<RepositoryFile>& files,
                                const LoadOptions& options) {
  LoadReport report;
  detail::ErrorSink sink(report.errors, options.max_errors, report.errors_dropped);
  for (const auto& file : files) {
    if (file.text.size() > options.max_file_bytes) {
      sink.Add({file.name, 0, 0}, "file of " + std::to_string(file.text.size()) +
                                      " bytes; at most " + std::to_string(options.max_file_bytes) +
                                      " allowed, split it");
      continue;
    }
    detail::ReadRepositoryFile(file, report.repository, sink);
  }
  detail::ValidateRepository(report.repository, /*check_files=*/false, sink);
  SortErrors(report);
  return report;
}

LoadReport LoadRepositoryDir(const std::string& dir, const LoadOptions& options) {
  LoadReport report;
  detail::ErrorSink sink(report.errors, options.max_errors, report.errors_dropped);
  report.repository.root = dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    sink.Add({dir, 0, 0}, "not a directory; give the repository's directory");
    return report;
  }
  std::vector<fs::path> paths;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    std::string ext = it->path().extension().string();
    if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(ec)) paths.push_back(it->path());
  }
  if (ec) {
    sink.Add({dir, 0, 0}, "cannot list the directory: " + ec.message());
    return report;
  }
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) {
    sink.Add({dir, 0, 0},
             "no *.yaml or *.yml files; a repository is a directory of YAML files "
             "(see docs/repository.md)");
    return report;
  }
  if (paths.size() > options.max_files) {
    sink.Add({dir, 0, 0}, std::to_string(paths.size()) + " YAML files; at most " +
                              std::to_string(options.max_files) + " allowed");
    return report;
  }
  for (const auto& path : paths) {
    RepositoryFile file;
    file.name = fs::relative(path, dir, ec).generic_string();
    if (ec || file.name.empty()) file.name = path.string();
    auto size = fs::file_size(path, ec);
    if (!ec && size > options.max_file_bytes) {
      sink.Add({file.name, 0, 0}, "file of " + std::to_string(size) + " bytes; at most " +
                                      std::to_string(options.max_file_bytes) +
                                      " allowed, split it");
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in.good() && !in.eof()) {
      sink.Add({file.name, 0, 0}, "cannot read the file; check its permissions");
      continue;
    }
    file.text = text.str();
    detail::ReadRepositoryFile(file, report.repository, sink);
  }
  detail::ValidateRepository(report.repository, options.check_source_files, sink);
  SortErrors(report);
  return report;
}

Result<Repository> LoadRepository(const std::string& dir, const LoadOptions& options) {
  LoadReport report = LoadRepositoryDir(dir, options);
  if (!report.ok()) return report.ToStatus();
  return std::move(report.repository);
}

}  // namespace custos::catalog
