// OpenLineage validation: every example in ../shared/openlineage/tests is accepted, broken
// events derived from the full example are refused at the exact path, and the embedded
// schemas equal the shared copy byte for byte.
#include "lineage/openlineage_schema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace custos::lineage {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path kSpecDir = fs::path(CUSTOS_SHARED_DIR) / "openlineage";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Json ReadJson(const fs::path& path) { return Json::parse(ReadFile(path), nullptr, false); }

// Built once for the whole run; OpenLineageBundleTest.CompilesEveryEmbeddedSchema reports
// why if it cannot be.
const Result<OpenLineageValidator>& Created() {
  static const auto* created = new Result<OpenLineageValidator>(OpenLineageValidator::Create());
  return *created;
}

const OpenLineageValidator& Validator() {
  if (!Created().ok()) std::abort();
  return *Created();
}

::testing::AssertionResult RefusedAt(const Status& status, std::string_view path) {
  if (status.code() != StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "expected INVALID_ARGUMENT, got " << status.ToString();
  }
  if (!status.message().starts_with(std::string(path) + ": ")) {
    return ::testing::AssertionFailure()
           << "expected path " << path << ", got: " << status.message();
  }
  return ::testing::AssertionSuccess();
}

// --- the embedded bundle --------------------------------------------------------------

TEST(OpenLineageBundleTest, EmbeddedFilesEqualTheSharedCopy) {
  std::set<std::string> embedded_json;
  for (const EmbeddedFile& file : OpenLineageSpecFiles()) {
    const fs::path shared = kSpecDir / file.path;
    ASSERT_TRUE(fs::exists(shared)) << shared;
    EXPECT_EQ(ReadFile(shared), file.contents) << file.path << " drifted from " << shared;
    if (file.path.ends_with(".json")) embedded_json.emplace(file.path);
  }
  std::set<std::string> shared_json = {"OpenLineage.json"};
  for (const auto& entry : fs::directory_iterator(kSpecDir / "facets")) {
    shared_json.insert("facets/" + entry.path().filename().string());
  }
  EXPECT_EQ(embedded_json, shared_json);
  EXPECT_EQ(shared_json.size(), 39u);
  const auto files = OpenLineageSpecFiles();
  EXPECT_TRUE(std::any_of(files.begin(), files.end(),
                          [](const EmbeddedFile& f) { return f.path == "LICENSE"; }));
}

TEST(OpenLineageBundleTest, CompilesEveryEmbeddedSchema) {
  ASSERT_TRUE(Created().ok()) << Created().status().ToString();
}

// --- the spec's own examples ----------------------------------------------------------

std::vector<std::string> ExampleFiles() {
  std::vector<std::string> files;
  // Called while tests are listed: a missing ../shared must fail a test (below), not abort
  // the listing with an exception.
  std::error_code missing;
  if (!fs::is_directory(kSpecDir / "tests", missing)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(kSpecDir / "tests")) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(fs::relative(entry.path(), kSpecDir / "tests").string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class OpenLineageExampleTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OpenLineageExampleTest, IsAccepted) {
  const fs::path relative = GetParam();
  const Json example = ReadJson(kSpecDir / "tests" / relative);
  ASSERT_FALSE(example.is_discarded()) << relative;
  if (relative.parent_path().empty()) {  // a whole event
    EXPECT_TRUE(Validator().ValidateRunEvent(example).ok())
        << Validator().ValidateRunEvent(example).ToString();
    EXPECT_TRUE(Validator().ValidateEvent(example).ok())
        << Validator().ValidateEvent(example).ToString();
  } else {  // a facet container, checked against the facet file named by its folder
    const Status status =
        Validator().ValidateFacetContainer(relative.parent_path().string(), example);
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
}

INSTANTIATE_TEST_SUITE_P(SharedExamples, OpenLineageExampleTest,
                         ::testing::ValuesIn(ExampleFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(OpenLineageExampleListTest, CoversEveryExample) {
  EXPECT_EQ(ExampleFiles().size(), 47u)
      << "the spec's examples are read from " << kSpecDir / "tests"
      << ": the shared suite must sit beside the repository (../shared), or configure with "
         "-DCUSTOS_SHARED_DIR=...";
}

// --- broken events --------------------------------------------------------------------

Json FullEvent() { return ReadJson(kSpecDir / "tests" / "example_full_event.json"); }

Json Facet(Json fields) {
  fields["_producer"] = "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client/python";
  fields["_schemaURL"] = "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json";
  return fields;
}

struct BrokenCase {
  std::string name;
  std::function<void(Json&)> mutate;
  std::string path;     // the exact failing instance path
  std::string excerpt;  // and a phrase the message must hold
};

std::vector<BrokenCase> BrokenCases() {
  return {
      {"MissingRunId", [](Json& e) { e["run"].erase("runId"); }, "/run",
       "missing required property \"runId\""},
      {"RunIdNotUuid", [](Json& e) { e["run"]["runId"] = "abc"; }, "/run/runId",
       "\"abc\" is not a UUID (RFC 9562 form 8-4-4-4-12 hex) [schema "
       "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/Run/properties/runId/format]"},
      {"EventTimeNotDateTime", [](Json& e) { e["eventTime"] = "2023-07-17 10:54"; }, "/eventTime",
       "is not an RFC 3339 date-time"},
      {"EventTypeNotInEnum", [](Json& e) { e["eventType"] = "DONE"; }, "/eventType",
       "\"DONE\" is not one of \"START\", \"RUNNING\", \"COMPLETE\", \"ABORT\", \"FAIL\", "
       "\"OTHER\""},
      {"InputsNotAnArray", [](Json& e) { e["inputs"] = Json::object(); }, "/inputs",
       "must be an array, not an object"},
      {"ProducerNotUri", [](Json& e) { e["producer"] = "not a uri"; }, "/producer",
       "is not an absolute URI (RFC 3986)"},
      {"JobWithoutName", [](Json& e) { e["job"].erase("name"); }, "/job",
       "missing required property \"name\""},
      {"FacetWithoutProducer", [](Json& e) { e["job"]["facets"]["sql"].erase("_producer"); },
       "/job/facets/sql", "missing required property \"_producer\""},
      {"NominalTimeWithoutStart",
       [](Json& e) {
         e["run"]["facets"]["nominalTime"] = Facet({{"nominalEndTime", "2020-01-02T04:00:00Z"}});
       },
       "/run/facets/nominalTime", "missing required property \"nominalStartTime\""},
      {"NominalStartNotDateTime",
       [](Json& e) {
         e["run"]["facets"]["nominalTime"] = Facet({{"nominalStartTime", "yesterday"}});
       },
       "/run/facets/nominalTime/nominalStartTime", "is not an RFC 3339 date-time"},
      {"SqlQueryNotString", [](Json& e) { e["job"]["facets"]["sql"]["query"] = 1; },
       "/job/facets/sql/query", "must be a string, not an integer"},
      {"SchemaFieldDeepWrongType",
       [](Json& e) {
         e["outputs"] = Json::array(
             {{{"namespace", "warehouse"},
               {"name", "orders"},
               {"facets",
                {{"schema",
                  Facet({{"fields",
                          {{{"name", "id"}},
                           {{"name", "address"},
                            {"fields", {{{"name", "zip"}, {"ordinal_position", "3"}}}}}}}})}}}}});
       },
       "/outputs/0/facets/schema/fields/1/fields/0/ordinal_position",
       "must be an integer, not a string [schema "
       "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/"
       "SchemaDatasetFacetFields/properties/ordinal_position/type]"},
      {"InputFacetWrongType",
       [](Json& e) {
         e["inputs"] =
             Json::array({{{"namespace", "n"},
                           {"name", "d"},
                           {"inputFacets", {{"inputStatistics", Facet({{"rowCount", "many"}})}}}}});
       },
       "/inputs/0/inputFacets/inputStatistics/rowCount", "must be an integer, not a string"},
      {"JobTypeWindowBelowMinimum",
       [](Json& e) {
         e["job"]["facets"]["jobType"] = Facet({{"processingType", "STREAMING"},
                                                {"integration", "FLINK"},
                                                {"emissionPattern",
                                                 {{"eventTrigger", "PERIODIC"},
                                                  {"eventContentMode", "COMPLETE_SNAPSHOT"},
                                                  {"windowDuration", 0}}}});
       },
       "/job/facets/jobType/emissionPattern/windowDuration", "0 is less than the minimum 1"},
  };
}

TEST(OpenLineageBrokenEventTest, EachIsRefusedAtTheExactPath) {
  ASSERT_TRUE(Validator().ValidateRunEvent(FullEvent()).ok());
  for (const BrokenCase& broken : BrokenCases()) {
    SCOPED_TRACE(broken.name);
    Json event = FullEvent();
    broken.mutate(event);
    for (const Status& status :
         {Validator().ValidateRunEvent(event), Validator().ValidateEvent(event)}) {
      EXPECT_TRUE(RefusedAt(status, broken.path));
      EXPECT_NE(status.message().find(broken.excerpt), std::string::npos) << status.message();
    }
  }
}

TEST(OpenLineageBrokenEventTest, RunEventNeedsRunAndJob) {
  Json event = FullEvent();
  event.erase("job");
  const Status status = Validator().ValidateRunEvent(event);
  EXPECT_TRUE(RefusedAt(status, "(root)"));
  EXPECT_NE(status.message().find("missing required property \"job\""), std::string::npos);
}

TEST(OpenLineageBrokenEventTest, NonObjectsAreRefused) {
  for (const Json& event : {Json(nullptr), Json("event"), Json::array({1}), Json(3.5)}) {
    EXPECT_TRUE(RefusedAt(Validator().ValidateRunEvent(event), "(root)")) << event.dump();
    EXPECT_TRUE(RefusedAt(Validator().ValidateEvent(event), "(root)")) << event.dump();
  }
}

// Built and handed over by move only: copying (or comparing) nests recursively.
Json DeepArrays() {
  Json deep = Json::array();
  for (int i = 0; i < 100000; ++i) deep = Json::array({std::move(deep)});
  return deep;
}

TEST(OpenLineageBrokenEventTest, DeepNestingIsRefusedOrSkippedWithoutRecursion) {
  EXPECT_TRUE(RefusedAt(Validator().ValidateEvent(DeepArrays()), "(root)"));
  Json event = FullEvent();
  Json blob = Facet(Json::object());
  blob["payload"] = DeepArrays();
  event["run"]["facets"]["acme_blob"] = std::move(blob);  // custom facet: not walked
  EXPECT_TRUE(Validator().ValidateRunEvent(event).ok());
  event["inputs"] = Json::array();
  event["inputs"].push_back(DeepArrays());
  EXPECT_TRUE(RefusedAt(Validator().ValidateRunEvent(event), "/inputs/0"));
}

// --- other event kinds and facets -----------------------------------------------------

Json BaseEvent() {
  return {{"eventTime", "2024-05-01T08:00:00Z"},
          {"producer", "https://example.test/producer"},
          {"schemaURL", "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent"}};
}

TEST(OpenLineageEventKindTest, DatasetAndJobEventsByShape) {
  Json dataset_event = BaseEvent();
  dataset_event["dataset"] = {{"namespace", "s3://bucket"},
                              {"name", "orders"},
                              {"facets", {{"version", Facet({{"datasetVersion", "7"}})}}}};
  EXPECT_TRUE(Validator().ValidateEvent(dataset_event).ok())
      << Validator().ValidateEvent(dataset_event).ToString();
  dataset_event["dataset"]["facets"]["version"]["datasetVersion"] = 7;
  EXPECT_TRUE(RefusedAt(Validator().ValidateEvent(dataset_event),
                        "/dataset/facets/version/datasetVersion"));

  Json job_event = BaseEvent();
  job_event["job"] = {{"namespace", "airflow"}, {"name", "daily"}};
  EXPECT_TRUE(Validator().ValidateEvent(job_event).ok());
  job_event["job"]["facets"] = {{"sourceCodeLocation", Facet({{"type", "git"}})}};
  EXPECT_TRUE(RefusedAt(Validator().ValidateEvent(job_event), "/job/facets/sourceCodeLocation"));

  // A job and a dataset but no run: both DatasetEvent and JobEvent match, and the core
  // schema wants exactly one.
  Json both = BaseEvent();
  both["job"] = {{"namespace", "airflow"}, {"name", "daily"}};
  both["dataset"] = {{"namespace", "s3://bucket"}, {"name", "orders"}};
  const Status status = Validator().ValidateEvent(both);
  EXPECT_TRUE(RefusedAt(status, "(root)"));
  EXPECT_NE(status.message().find("matches both oneOf branches 1 and 2"), std::string::npos)
      << status.message();

  EXPECT_TRUE(RefusedAt(Validator().ValidateEvent(BaseEvent()), "(root)"));
}

TEST(OpenLineageFacetTest, CustomFacetsGetOnlyTheGenericChecks) {
  Json event = FullEvent();
  event["run"]["facets"]["acme_costs"] = Facet({{"dollars", "12"}});
  EXPECT_TRUE(Validator().ValidateRunEvent(event).ok());
  // A standard key in a place its schema does not extend is custom there.
  event["job"]["facets"]["nominalTime"] = Facet({{"nominalStartTime", 1}});
  EXPECT_TRUE(Validator().ValidateRunEvent(event).ok());
  event["run"]["facets"]["acme_costs"] = "12";
  EXPECT_TRUE(RefusedAt(Validator().ValidateRunEvent(event), "/run/facets/acme_costs"));
}

TEST(OpenLineageFacetTest, ContainerValidationByFileStem) {
  const Json container = {{"nominalTime", Facet({{"nominalStartTime", "2020-01-01T04:00:00Z"}})}};
  EXPECT_TRUE(Validator().ValidateFacetContainer("NominalTimeRunFacet", container).ok());
  EXPECT_TRUE(RefusedAt(Validator().ValidateFacetContainer(
                            "NominalTimeRunFacet", {{"nominalTime", Facet(Json::object())}}),
                        "/nominalTime"));
  EXPECT_EQ(Validator().ValidateFacetContainer("NoSuchFacet", container).code(),
            StatusCode::kNotFound);
}

TEST(OpenLineageFacetTest, ParentAndLineageFacetsInTheirPlaces) {
  Json event = FullEvent();
  event["run"]["facets"]["parent"] =
      Facet({{"run", {{"runId", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}}},
             {"job", {{"namespace", "airflow"}, {"name", "dag"}}}});
  event["job"]["facets"]["lineage"] =
      Facet({{"entries", {{{"type", "JOB"}, {"namespace", "a"}, {"name", "b"}}}}});
  event["outputs"] = Json::array(
      {{{"namespace", "n"},
        {"name", "d"},
        {"facets", {{"lineage", Facet({{"inputs", {{{"type", "JOB"}, {"namespace", "a"}}}}})}}}}});
  event["outputs"][0]["facets"]["lineage"]["inputs"][0]["name"] = "b";
  EXPECT_TRUE(Validator().ValidateRunEvent(event).ok())
      << Validator().ValidateRunEvent(event).ToString();
  event["run"]["facets"]["parent"]["run"]["runId"] = "not-a-uuid";
  EXPECT_TRUE(RefusedAt(Validator().ValidateRunEvent(event), "/run/facets/parent/run/runId"));
  event["run"]["facets"].erase("parent");
  // LineageInput is oneOf dataset/job input; the dataset branch's "type" enum rules it out,
  // so the job branch's dependentRequired is the error.
  event["outputs"][0]["facets"]["lineage"]["inputs"][0].erase("name");
  const Status status = Validator().ValidateRunEvent(event);
  EXPECT_TRUE(RefusedAt(status, "/outputs/0/facets/lineage/inputs/0"));
  EXPECT_NE(status.message().find("property \"namespace\" requires property \"name\""),
            std::string::npos)
      << status.message();
}

TEST(OpenLineageConcurrencyTest, OneValidatorServesManyThreads) {
  const Json good = FullEvent();
  Json bad = FullEvent();
  bad["run"]["runId"] = "abc";
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (!Validator().ValidateEvent(good).ok()) ++failures[t];
        if (!RefusedAt(Validator().ValidateEvent(bad), "/run/runId")) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace custos::lineage
