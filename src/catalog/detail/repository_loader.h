// Internal to the repository loader: the error sink shared by the YAML reader and the
// validator, and the validator's entry point. Not part of the catalog's public API.
// Thread-safety: an ErrorSink is used by one thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/repository.h"

namespace custos::catalog::detail {

class ErrorSink {
 public:
  ErrorSink(std::vector<RepositoryError>& errors, size_t max, size_t& dropped)
      : errors_(errors), max_(max), dropped_(dropped) {}
  void Add(const SourcePosition& where, std::string message);
  bool full() const { return errors_.size() >= max_; }
  size_t count() const { return errors_.size() + dropped_; }

 private:
  std::vector<RepositoryError>& errors_;
  size_t max_;
  size_t& dropped_;
};

// "; did you mean `x`?" for the closest candidate within a small edit distance, else "".
std::string DidYouMean(std::string_view word, const std::vector<std::string_view>& candidates);

// Reads one file's documents into `repo`, reporting problems to `sink`.
void ReadRepositoryFile(const RepositoryFile& file, Repository& repo, ErrorSink& sink);

// Checks the repository as a whole: duplicate names, references, types, masks, sources.
// `check_files`: csv/jsonl paths must exist under repo.root.
void ValidateRepository(const Repository& repo, bool check_files, ErrorSink& sink);

}  // namespace custos::catalog::detail
