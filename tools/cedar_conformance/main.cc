// custos-cedar-conformance DIR: runs every Cedar integration test file under DIR/tests and
// DIR/corpus-tests (the unpacked corpus) and compares decision, reasons and errors (as sets
// of policy ids) with the expected answers. Prints pass/total per suite, each failure with
// its reason, validation figures, and ends with `N passed, M failed` (requests).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "policy/authorizer.h"
#include "policy/entities.h"
#include "policy/parser.h"
#include "policy/schema.h"
#include "policy/validator.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace custos::policy;  // NOLINT: a small tool

namespace {

struct Options {
  fs::path dir;
  fs::path corpus;  // defaults to DIR/corpus-tests
  std::string filter;
  bool quiet = false;
  double min_corpus_pass_rate = 1.0;
  size_t max_failures_shown = 200;
};

struct SuiteStats {
  size_t passed = 0;
  size_t total = 0;
};

struct Totals {
  std::map<std::string, SuiteStats> suites;
  size_t should_validate = 0, validated_ok = 0;
  size_t should_not_validate = 0, rejected = 0;
  size_t failures_shown = 0;
  std::vector<std::string> validation_failures;
};

bool ReadFile(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::set<std::string> IdSet(const Json& j) {
  std::set<std::string> out;
  if (j.is_array()) {
    for (const auto& x : j) {
      if (x.is_string()) out.insert(x.get<std::string>());
    }
  }
  return out;
}

std::string Join(const std::set<std::string>& s) {
  std::string out = "[";
  for (const auto& x : s) out += (out.size() > 1 ? "," : "") + x;
  return out + "]";
}

// Runs one test file; returns an error text if the file itself could not be set up.
void RunFile(const fs::path& file, const fs::path& root, const std::string& suite,
             const Options& opt, Totals* totals) {
  SuiteStats& stats = totals->suites[suite];
  auto fail_all = [&](size_t n, const std::string& why) {
    stats.total += n;
    if (totals->failures_shown++ < opt.max_failures_shown) {
      std::printf("FAIL %s: %zu request(s): %s\n", file.string().c_str(), n, why.c_str());
    }
  };
  std::string text;
  if (!ReadFile(file, &text)) return fail_all(1, "cannot read file");
  Json test;
  try {
    test = Json::parse(text);
  } catch (const std::exception& e) {
    return fail_all(1, std::string("invalid JSON: ") + e.what());
  }
  if (!test.is_object() || !test.contains("requests")) return;  // not a test file
  size_t nreq = test["requests"].is_array() ? test["requests"].size() : 0;
  try {
    std::string policies_text, entities_text, schema_text;
    fs::path policies_path = root / test.at("policies").get<std::string>();
    fs::path entities_path = root / test.at("entities").get<std::string>();
    if (!ReadFile(policies_path, &policies_text))
      return fail_all(nreq, "cannot read " + policies_path.string());
    if (!ReadFile(entities_path, &entities_text))
      return fail_all(nreq, "cannot read " + entities_path.string());
    std::unique_ptr<Schema> schema;
    if (test.contains("schema") && test["schema"].is_string()) {
      fs::path schema_path = root / test["schema"].get<std::string>();
      if (!ReadFile(schema_path, &schema_text))
        return fail_all(nreq, "cannot read " + schema_path.string());
      auto parsed = schema_path.extension() == ".json"
                        ? Schema::ParseJsonSchema(schema_text, schema_path.string())
                        : Schema::ParseCedarSchema(schema_text, schema_path.string());
      if (!parsed.ok()) return fail_all(nreq, "schema: " + parsed.status().message());
      schema = std::make_unique<Schema>(std::move(parsed).value());
    }
    ParseOptions popts;
    popts.filename = policies_path.string();
    auto policies = ParsePolicies(policies_text, popts);
    if (!policies.ok()) return fail_all(nreq, "policies: " + policies.status().message());

    if (schema && test.contains("shouldValidate") && test["shouldValidate"].is_boolean()) {
      Validator validator(*schema);
      ValidationResult vr = validator.Validate(*policies);
      if (test["shouldValidate"].get<bool>()) {
        ++totals->should_validate;
        if (vr.ok()) {
          ++totals->validated_ok;
        } else {
          totals->validation_failures.push_back(file.string() + ": " +
                                                (vr.errors.empty() ? "" : vr.errors[0].message));
        }
      } else {
        ++totals->should_not_validate;
        if (!vr.ok()) ++totals->rejected;
      }
    }

    auto entities = ParseEntitiesJson(entities_text, schema.get(), entities_path.string());
    if (!entities.ok()) return fail_all(nreq, "entities: " + entities.status().message());
    auto set = PolicySet::Create(std::move(policies).value());
    if (!set.ok()) return fail_all(nreq, "policy set: " + set.status().message());

    size_t index = 0;
    Response response;
    for (const auto& req : test["requests"]) {
      ++stats.total;
      std::string where = file.string() + " request " + std::to_string(index++) + " (" +
                          req.value("description", "") + ")";
      auto fail = [&](const std::string& why) {
        if (totals->failures_shown++ < opt.max_failures_shown) {
          std::printf("FAIL %s: %s\n", where.c_str(), why.c_str());
        }
      };
      auto p = ParseEntityUidJson(req.at("principal").dump());
      auto a = ParseEntityUidJson(req.at("action").dump());
      auto r = ParseEntityUidJson(req.at("resource").dump());
      if (!p.ok() || !a.ok() || !r.ok()) {
        fail("bad request uid");
        continue;
      }
      Request request;
      request.principal = *p;
      request.action = *a;
      request.resource = *r;
      Json ctx = req.contains("context") ? req["context"] : Json::object();
      auto context = ParseContextJson(ctx.dump(), schema.get(), &request.action);
      if (!context.ok()) {
        fail("context: " + context.status().message());
        continue;
      }
      request.context = *context;
      set->IsAuthorized(request, *entities, &response);
      std::string want_decision = req.at("decision").get<std::string>();
      std::set<std::string> want_reasons = IdSet(req.value("reason", Json::array()));
      std::set<std::string> want_errors = IdSet(req.value("errors", Json::array()));
      std::set<std::string> got_reasons(response.reasons.begin(), response.reasons.end());
      std::set<std::string> got_errors;
      for (const auto& e : response.errors) got_errors.insert(std::string(e.policy_id));
      std::string got_decision(DecisionName(response.decision));
      if (got_decision == want_decision && got_reasons == want_reasons &&
          got_errors == want_errors) {
        ++stats.passed;
        continue;
      }
      std::string why;
      if (got_decision != want_decision)
        why += "decision " + got_decision + " != " + want_decision + "; ";
      if (got_reasons != want_reasons)
        why += "reasons " + Join(got_reasons) + " != " + Join(want_reasons) + "; ";
      if (got_errors != want_errors)
        why += "errors " + Join(got_errors) + " != " + Join(want_errors) + "; ";
      for (const auto& e : response.errors) why += "[" + e.message + "] ";
      fail(why);
    }
  } catch (const std::exception& e) {
    fail_all(nreq, std::string("malformed test file: ") + e.what());
  }
}

std::vector<fs::path> TestFiles(const fs::path& dir, bool recursive) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  auto consider = [&](const fs::directory_entry& e) {
    if (!e.is_regular_file()) return;
    std::string name = e.path().filename().string();
    if (e.path().extension() != ".json") return;
    if (name.size() > 14 && name.substr(name.size() - 14) == ".entities.json") return;
    out.push_back(e.path());
  };
  if (recursive) {
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) consider(e);
  } else {
    for (const auto& e : fs::directory_iterator(dir, ec)) consider(e);
  }
  std::sort(out.begin(), out.end());
  return out;
}

int Usage() {
  std::fprintf(stderr,
               "usage: custos-cedar-conformance DIR [--corpus PATH] [--filter TEXT]\n"
               "       [--min-corpus-pass-rate R] [--max-failures N] [--quiet]\n"
               "DIR holds tests/, sample-data/ and (unpacked) corpus-tests/.\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--corpus") {
      const char* v = next();
      if (!v) return Usage();
      opt.corpus = v;
    } else if (arg == "--filter") {
      const char* v = next();
      if (!v) return Usage();
      opt.filter = v;
    } else if (arg == "--min-corpus-pass-rate") {
      const char* v = next();
      if (!v) return Usage();
      opt.min_corpus_pass_rate = std::atof(v);
    } else if (arg == "--max-failures") {
      const char* v = next();
      if (!v) return Usage();
      opt.max_failures_shown = static_cast<size_t>(std::atol(v));
    } else if (arg == "--quiet") {
      opt.quiet = true;
    } else if (!arg.empty() && arg[0] == '-') {
      return Usage();
    } else if (opt.dir.empty()) {
      opt.dir = arg;
    } else {
      return Usage();
    }
  }
  if (opt.dir.empty()) return Usage();
  if (opt.corpus.empty()) opt.corpus = opt.dir / "corpus-tests";
  if (opt.quiet) opt.max_failures_shown = std::min<size_t>(opt.max_failures_shown, 50);

  Totals totals;
  for (const auto& f : TestFiles(opt.dir / "tests", true)) {
    if (!opt.filter.empty() && f.string().find(opt.filter) == std::string::npos) continue;
    std::string suite = "tests/" + f.parent_path().filename().string();
    RunFile(f, opt.dir, suite, opt, &totals);
  }
  for (const auto& f : TestFiles(opt.corpus, false)) {
    if (!opt.filter.empty() && f.string().find(opt.filter) == std::string::npos) continue;
    RunFile(f, opt.corpus.parent_path(), "corpus-tests", opt, &totals);
  }

  size_t passed = 0, total = 0;
  bool tests_ok = true;
  double corpus_rate = 1.0;
  for (const auto& [name, s] : totals.suites) {
    std::printf("%s: %zu/%zu\n", name.c_str(), s.passed, s.total);
    passed += s.passed;
    total += s.total;
    if (name.rfind("tests/", 0) == 0 && s.passed != s.total) tests_ok = false;
    if (name == "corpus-tests" && s.total > 0) {
      corpus_rate = static_cast<double>(s.passed) / static_cast<double>(s.total);
    }
  }
  std::printf(
      "validation: %zu/%zu shouldValidate=true files validate; %zu/%zu "
      "shouldValidate=false files rejected\n",
      totals.validated_ok, totals.should_validate, totals.rejected, totals.should_not_validate);
  for (size_t i = 0; i < totals.validation_failures.size() && i < 20; ++i) {
    std::printf("VALIDATION FAIL %s\n", totals.validation_failures[i].c_str());
  }
  std::printf("%zu passed, %zu failed\n", passed, total - passed);
  bool ok = tests_ok && corpus_rate >= opt.min_corpus_pass_rate;
  return ok ? 0 : 1;
}
