// Runs the validator over every test file of the shared Cedar conformance data and checks
// its verdict against `shouldValidate`: every `true` case must validate; for `false` cases
// the number rejected is reported (Cedar's own verdict on those drifts between versions).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "policy/entities.h"
#include "policy/parser.h"
#include "policy/schema.h"
#include "policy/validator.h"

namespace custos::policy {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The folder holding tests/, sample-data/ and corpus-tests/ for the generated corpus:
// CUSTOS_CEDAR_CORPUS_DIR if set, else <build>/cedar, unpacking the tarball there if needed
// (the same place the conformance runner uses).
std::string CorpusRoot() {
  if (const char* env = std::getenv("CUSTOS_CEDAR_CORPUS_DIR")) return env;
  fs::path root = fs::path(CUSTOS_BINARY_DIR) / "cedar";
  if (!fs::exists(root / "corpus-tests")) {
    fs::create_directories(root);
    std::string cmd = "tar -xzf '" + std::string(CUSTOS_SHARED_DIR) +
                      "/cedar/corpus-tests.tar.gz' -C '" + root.string() + "'";
    if (std::system(cmd.c_str()) != 0) return "";
  }
  return root.string();
}

struct Tally {
  int true_cases = 0;
  int true_validated = 0;
  int false_cases = 0;
  int false_rejected = 0;
  int unparsed = 0;
  int requests = 0;        // requests with validateRequest: true
  int requests_valid = 0;  // ... that ValidateRequest accepts
  int entities = 0;
  int entities_valid = 0;
  int false_rejected_strict = 0;  // also counting impossible policies as errors
  int true_rejected_strict = 0;
  std::vector<std::string> failures;
  std::vector<std::string> accepted_false;
};

// Every request the corpus marks `validateRequest: true` and every entity of its entity
// file must conform to the schema (Cedar's harness builds them with schema validation on).
void CheckRequestsAndEntities(const nlohmann::json& test, const fs::path& data_root,
                              const Schema& schema, Tally& tally) {
  Validator validator(schema);
  if (test.contains("entities")) {
    std::string path = test["entities"].get<std::string>();
    Result<EntityStore> store = ParseEntitiesJson(ReadFile(data_root / path), &schema, path);
    if (store.ok()) {
      for (const auto& [uid, e] : store->entities()) {
        ++tally.entities;
        Status st =
            validator.ValidateEntity(uid, e.attrs.AsRecord(), e.parents, &e.tags.AsRecord());
        if (st.ok()) {
          ++tally.entities_valid;
        } else {
          tally.failures.push_back(path + ": " + st.message());
        }
      }
    }
  }
  if (!test.contains("requests")) return;
  for (const auto& req : test["requests"]) {
    if (!req.value("validateRequest", false)) continue;
    ++tally.requests;
    Result<EntityUid> p = ParseEntityUidJson(req["principal"].dump());
    Result<EntityUid> a = ParseEntityUidJson(req["action"].dump());
    Result<EntityUid> r = ParseEntityUidJson(req["resource"].dump());
    if (!p.ok() || !a.ok() || !r.ok()) continue;
    Result<Value> ctx = ParseContextJson(req["context"].dump(), &schema, &*a);
    if (!ctx.ok()) {
      tally.failures.push_back("context: " + ctx.status().message());
      continue;
    }
    Status st = validator.ValidateRequest(*p, *a, *r, *ctx);
    if (st.ok()) {
      ++tally.requests_valid;
    } else {
      tally.failures.push_back(st.message());
    }
  }
}

void RunFile(const fs::path& test_file, const fs::path& data_root, Tally& tally) {
  nlohmann::json test;
  try {
    test = nlohmann::json::parse(ReadFile(test_file));
  } catch (const std::exception& e) {
    tally.failures.push_back(test_file.string() + ": bad JSON: " + e.what());
    return;
  }
  if (!test.contains("shouldValidate") || !test.contains("schema")) return;
  bool should = test["shouldValidate"].get<bool>();
  std::string schema_path = test["schema"].get<std::string>();
  std::string policies_path = test["policies"].get<std::string>();
  std::string schema_text = ReadFile(data_root / schema_path);
  Result<Schema> schema = Schema::ParseCedarSchema(schema_text, schema_path);
  ParseOptions opts;
  opts.filename = policies_path;
  Result<std::vector<Policy>> policies = ParsePolicies(ReadFile(data_root / policies_path), opts);
  if (!policies.ok()) {
    ++tally.unparsed;
    return;  // the policy parser's conformance is tested elsewhere
  }
  bool validated = false;
  std::string why;
  if (!schema.ok()) {
    why = schema.status().message();
  } else {
    Validator validator(*schema);
    ValidationResult r = validator.Validate(*policies);
    validated = r.ok();
    if (!r.ok()) why = r.errors.front().message;
    ValidatorOptions strict;
    strict.reject_impossible_policies = true;
    bool strict_ok = Validator(*schema, strict).Validate(*policies).ok();
    if (!strict_ok && should) ++tally.true_rejected_strict;
    if (!strict_ok && !should) ++tally.false_rejected_strict;
  }
  if (schema.ok()) CheckRequestsAndEntities(test, data_root, *schema, tally);
  if (should) {
    ++tally.true_cases;
    if (validated) {
      ++tally.true_validated;
    } else {
      tally.failures.push_back(test_file.filename().string() + ": " + why);
    }
  } else {
    ++tally.false_cases;
    if (!validated) {
      ++tally.false_rejected;
    } else {
      tally.accepted_false.push_back(test_file.filename().string());
    }
  }
}

void RunFolder(const fs::path& data_root, const fs::path& folder, Tally& tally) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(folder)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".json" && name.find(".entities.") == std::string::npos) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) RunFile(f, data_root, tally);
}

void Report(const std::string& suite, const Tally& t) {
  std::cout << "[" << suite << "] shouldValidate=true: " << t.true_validated << "/" << t.true_cases
            << " validated; shouldValidate=false: " << t.false_rejected << "/" << t.false_cases
            << " rejected; policy files not parsed: " << t.unparsed << "\n"
            << "  requests valid: " << t.requests_valid << "/" << t.requests
            << "; entities valid: " << t.entities_valid << "/" << t.entities << "\n";
  std::cout << "  with impossible policies rejected too: " << t.false_rejected_strict
            << " false cases rejected, " << t.true_rejected_strict << " true cases rejected\n";
  for (size_t i = 0; i < t.failures.size() && i < 30; ++i) {
    std::cout << "  " << t.failures[i] << "\n";
  }
  if (std::getenv("CUSTOS_VALIDATOR_VERBOSE") != nullptr) {
    for (const auto& name : t.accepted_false)
      std::cout << "  accepted (Cedar rejects): " << name << "\n";
  }
}

TEST(ValidatorCorpusTest, HandWrittenTestsValidate) {
  fs::path root = fs::path(CUSTOS_SHARED_DIR) / "cedar";
  Tally t;
  RunFolder(root, root / "tests", t);
  Report("tests", t);
  EXPECT_GT(t.true_cases, 0);
  EXPECT_EQ(t.true_validated, t.true_cases);
  EXPECT_EQ(t.unparsed, 0);
  EXPECT_EQ(t.entities_valid, t.entities);
}

TEST(ValidatorCorpusTest, GeneratedCorpusShouldValidateAgreement) {
  std::string root = CorpusRoot();
  ASSERT_FALSE(root.empty()) << "cannot unpack corpus-tests.tar.gz";
  Tally t;
  RunFolder(root, fs::path(root) / "corpus-tests", t);
  Report("corpus", t);
  EXPECT_GT(t.true_cases, 5000);
  // Every policy set Cedar accepts must validate here too.
  EXPECT_EQ(t.true_validated, t.true_cases);
  // Most of Cedar's rejections are reproduced (the exact number drifts with Cedar's version).
  EXPECT_GT(t.false_rejected, t.false_cases * 9 / 10);
  EXPECT_GT(t.requests, 50000);
  EXPECT_EQ(t.requests_valid, t.requests);
  EXPECT_EQ(t.entities_valid, t.entities);
}

}  // namespace
}  // namespace custos::policy
