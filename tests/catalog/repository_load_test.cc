// The declarative repository: loading examples/fraud, and every kind of bad input with
// its exact position and message; durations and masking rules.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../testing/temp_dir.h"
#include "catalog/duration.h"
#include "catalog/mask_rule.h"
#include "catalog/repository.h"

namespace custos::catalog {
namespace {

using ::testing::HasSubstr;

const char kExampleDir[] = CUSTOS_SOURCE_DIR "/examples/fraud";

// A small valid repository in one file; tests append or edit documents.
const char kBase[] = R"(kind: Entity
name: customer
join_keys:
  - name: customer_id
    type: int64
---
kind: DataSource
name: txns
type: csv
path: data/txns.csv
timestamp_field: ts
fields:
  customer_id: int64
  ts: timestamp
  amount: double
---
kind: FeatureView
name: stats
entities: [customer]
source: txns
owners: ['User::"alice"']
features:
  - name: amount
    type: double
)";

LoadReport Parse(const std::string& text, const std::string& name = "repo.yaml") {
  return ParseRepositoryFiles({{name, text}});
}

// The single error of `text`, as "file:line:col: message".
std::string OnlyError(const std::string& text) {
  LoadReport r = Parse(text);
  if (r.errors.size() != 1) {
    std::string all;
    for (const auto& e : r.errors) all += e.ToString() + "\n";
    ADD_FAILURE() << "expected exactly one error, got " << r.errors.size() << ":\n" << all;
    return all;
  }
  return r.errors[0].ToString();
}

TEST(RepositoryLoadTest, LoadsTheFraudExample) {
  LoadReport report = LoadRepositoryDir(kExampleDir);
  ASSERT_TRUE(report.ok()) << report.ToStatus().ToString();
  const Repository& repo = report.repository;
  EXPECT_EQ(repo.entities.size(), 2u);
  EXPECT_EQ(repo.sources.size(), 3u);
  EXPECT_EQ(repo.views.size(), 3u);
  ASSERT_EQ(repo.services.size(), 1u);

  const Entity* merchant = repo.FindEntity("merchant");
  ASSERT_NE(merchant, nullptr);
  ASSERT_EQ(merchant->join_keys.size(), 1u);
  EXPECT_EQ(merchant->join_keys[0].name, "merchant_id");
  EXPECT_EQ(merchant->join_keys[0].type, (ValueType{ScalarType::kString, false}));
  EXPECT_EQ(merchant->where.ToString(), "entities.yaml:9:1");

  const DataSource* profiles = repo.FindSource("customer_profiles");
  ASSERT_NE(profiles, nullptr);
  EXPECT_EQ(profiles->kind, SourceKind::kCsv);
  EXPECT_EQ(profiles->path, "data/customer_profiles.csv");
  EXPECT_EQ(profiles->field_mapping.at("mail"), "email");
  const DataSource* events = repo.FindSource("merchant_events");
  ASSERT_NE(events, nullptr);
  EXPECT_EQ(events->kind, SourceKind::kJsonLines);

  const FeatureView* txns = repo.FindView("customer_transactions");
  ASSERT_NE(txns, nullptr);
  EXPECT_EQ(txns->classification, Classification::kConfidential);
  EXPECT_EQ(txns->ttl_seconds, 2 * 86400);
  EXPECT_EQ(txns->retention_seconds, 365 * 86400);
  EXPECT_TRUE(txns->online);
  ASSERT_EQ(txns->owners.size(), 2u);
  EXPECT_EQ(txns->owners[0], policy::EntityUid("Group", "fraud-team"));
  EXPECT_EQ(txns->tags.at("team"), "fraud");
  const Feature* count = txns->FindFeature("txn_count_7d");
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(count->classification, Classification::kInternal);
  EXPECT_FALSE(count->mask.has_value());
  const Feature* avg = txns->FindFeature("avg_amount_30d");
  ASSERT_NE(avg, nullptr);
  EXPECT_EQ(avg->classification, Classification::kConfidential);  // the view's default
  ASSERT_TRUE(avg->mask.has_value());
  EXPECT_EQ(MaskRuleText(*avg->mask), "range:100");
  const Feature* card = txns->FindFeature("last_card_number");
  ASSERT_NE(card, nullptr);
  EXPECT_EQ(card->classification, Classification::kRestricted);
  EXPECT_EQ(*card->mask, (MaskRule{MaskKind::kShowLast, 4}));
  EXPECT_EQ(card->where.ToString(), "customer_views.yaml:23:5");

  const FeatureView* risk = repo.FindView("merchant_risk");
  ASSERT_NE(risk, nullptr);
  const Feature* reasons = risk->FindFeature("flagged_reasons");
  ASSERT_NE(reasons, nullptr);
  EXPECT_EQ(reasons->type, (ValueType{ScalarType::kString, true}));
  EXPECT_EQ(*reasons->mask, (MaskRule{MaskKind::kNull, 0}));

  const FeatureService* svc = repo.FindService("fraud_detection");
  ASSERT_NE(svc, nullptr);
  ASSERT_EQ(svc->features.size(), 4u);
  EXPECT_EQ(svc->features[0].ToString(), "customer_transactions");
  EXPECT_EQ(svc->features[1].view, "merchant_risk");
  EXPECT_EQ(svc->features[1].feature, "risk_score");
}

TEST(RepositoryLoadTest, BaseIsValid) {
  LoadReport r = Parse(kBase);
  EXPECT_TRUE(r.ok()) << r.ToStatus().ToString();
}

struct BadCase {
  std::string name;
  std::string text;      // appended to kBase unless `replace`
  bool replace = false;  // the whole file is `text`
  std::string where;     // "repo.yaml:L:C"
  std::string fragment;  // part of the message
};

class RepositoryBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(RepositoryBadInputTest, ReportsPositionAndFix) {
  const BadCase& c = GetParam();
  std::string text = c.replace ? c.text : std::string(kBase) + "---\n" + c.text;
  std::string error = OnlyError(text);
  EXPECT_EQ(error.substr(0, error.find(": ")), c.where) << error;
  EXPECT_THAT(error, HasSubstr(c.fragment));
}

// kBase has 23 lines; appended documents start on line 25 (after "---" on line 24).
INSTANTIATE_TEST_SUITE_P(
    Cases, RepositoryBadInputTest,
    ::testing::Values(
        BadCase{"UnknownKeyDidYouMean",
                "kind: Entity\nname: m\ndescripton: x\njoin_keys: [{name: m_id, type: string}]\n",
                false, "repo.yaml:28:1",
                "unknown key `descripton` in an Entity (did you mean `description`?); allowed "
                "keys: kind"},
        BadCase{"UnknownKind", "kind: FeatureVeiw\nname: x\n", false, "repo.yaml:26:7",
                "unknown kind `FeatureVeiw` (did you mean `FeatureView`?)"},
        BadCase{"MissingKind", "name: x\n", false, "repo.yaml:26:1", "missing `kind:`"},
        BadCase{"NotAMap", "- a\n- b\n", false, "repo.yaml:26:1",
                "a document must be a map with a `kind:` key"},
        BadCase{"SyntaxError", "kind: Entity\nname: [unclosed\n", false, "repo.yaml:28:1",
                "YAML syntax error"},
        BadCase{"DuplicateEntity",
                "kind: Entity\nname: customer\njoin_keys: [{name: c, type: int64}]\n", false,
                "repo.yaml:26:1",
                "entity `customer` is defined twice (first at repo.yaml:1:1); rename or remove "
                "one"},
        BadCase{"DanglingEntity",
                "kind: FeatureView\nname: v2\nentities: [custmer]\nsource: txns\n"
                "owners: ['User::\"a\"']\nfeatures: [{name: amount, type: double}]\n",
                false, "repo.yaml:28:12",
                "feature view `v2`: no entity named `custmer` (did you mean `customer`?)"},
        BadCase{"DanglingSource",
                "kind: FeatureView\nname: v2\nentities: [customer]\nsource: tnxs\n"
                "owners: ['User::\"a\"']\nfeatures: [{name: amount, type: double}]\n",
                false, "repo.yaml:29:9", "no data source named `tnxs` (did you mean `txns`?)"},
        BadCase{"BadDuration",
                "kind: FeatureView\nname: v2\nentities: [customer]\nsource: txns\n"
                "owners: ['User::\"a\"']\nttl: 90x\nfeatures: [{name: amount, type: double}]\n",
                false, "repo.yaml:31:6", "`ttl`: invalid duration '90x': unknown unit `x`"},
        BadCase{"MaskDoesNotFit",
                "kind: FeatureView\nname: v2\nentities: [customer]\nsource: txns\n"
                "owners: ['User::\"a\"']\nfeatures:\n  - name: amount\n    type: double\n"
                "    mask: show_last:4\n",
                false, "repo.yaml:34:11",
                "feature `amount`: mask `show_last:4` does not fit type double; it masks string "
                "values only"},
        BadCase{"BadType", "kind: Entity\nname: m\njoin_keys:\n  - name: m_id\n    type: int32\n",
                false, "repo.yaml:30:11", "int32"},
        BadCase{"DoubleJoinKey",
                "kind: Entity\nname: m\njoin_keys:\n  - name: m_id\n    type: double\n", false,
                "repo.yaml:30:11", "join key type double cannot identify an entity"},
        BadCase{"OwnerNotPrincipal",
                "kind: FeatureView\nname: v2\nentities: [customer]\nsource: txns\n"
                "owners: ['FeatureView::\"x\"']\nfeatures: [{name: amount, type: double}]\n",
                false, "repo.yaml:30:10",
                "`FeatureView::\"x\"` is not a principal; owners must be User, Group or "
                "ServiceAccount uids"},
        BadCase{"MissingOwners",
                "kind: FeatureView\nname: v2\nentities: [customer]\nsource: txns\n"
                "features: [{name: amount, type: double}]\n",
                false, "repo.yaml:26:1", "missing `owners` in a FeatureView"},
        BadCase{"SecretInSource",
                "kind: DataSource\nname: pg\ntype: postgres\ntable: t\ntimestamp_field: ts\n"
                "dsn_env: PG_DSN\npassword: hunter2\n",
                false, "repo.yaml:32:1",
                "`password` would put a connection secret into the repository; set `dsn_env`"},
        BadCase{"PostgresWithoutDsnEnv",
                "kind: DataSource\nname: pg\ntype: postgres\nquery: select 1\n"
                "timestamp_field: ts\n",
                false, "repo.yaml:26:1", "missing `dsn_env` in a postgres DataSource"},
        BadCase{"PathEscapes",
                "kind: DataSource\nname: f\ntype: csv\npath: ../secret.csv\ntimestamp_field: ts\n",
                false, "repo.yaml:26:1",
                "source `f`: path `../secret.csv` must stay inside the repository"},
        BadCase{"JoinKeyTypeMismatchWithSource",
                "kind: Entity\nname: account\njoin_keys: [{name: account_id, type: string}]\n"
                "---\nkind: DataSource\nname: acc\ntype: csv\npath: a.csv\ntimestamp_field: ts\n"
                "fields: {account_id: int64, ts: timestamp, n: int64}\n---\n"
                "kind: FeatureView\nname: acc_stats\nentities: [account]\nsource: acc\n"
                "owners: ['User::\"a\"']\nfeatures: [{name: n, type: int64}]\n",
                false, "repo.yaml:40:9",
                "feature view `acc_stats`: join key `account_id` is string in entity `account` "
                "(repo.yaml:26:1) but int64 in source `acc`; make the types agree"},
        BadCase{"FeatureNotInSource",
                "kind: FeatureView\nname: v2\nentities: [customer]\nsource: txns\n"
                "owners: ['User::\"a\"']\nfeatures: [{name: amuont, type: double}]\n",
                false, "repo.yaml:31:12",
                "feature `amuont` is not a field of source `txns` (did you mean `amount`?)"},
        BadCase{"FeatureTypeDiffersFromSource",
                "kind: FeatureView\nname: v2\nentities: [customer]\nsource: txns\n"
                "owners: ['User::\"a\"']\nfeatures: [{name: amount, type: int64}]\n",
                false, "repo.yaml:31:12",
                "feature `amount` is int64 but source `txns` declares it double"},
        BadCase{"DuplicateFeature",
                "kind: FeatureView\nname: v2\nentities: [customer]\nsource: txns\n"
                "owners: ['User::\"a\"']\nfeatures:\n  - {name: amount, type: double}\n"
                "  - {name: amount, type: double}\n",
                false, "repo.yaml:33:5",
                "feature `amount` is defined twice (first at repo.yaml:32:5)"},
        BadCase{"ServiceDanglingFeature",
                "kind: FeatureService\nname: svc\nfeatures: [stats, 'stats:amout']\n", false,
                "repo.yaml:28:19",
                "feature service `svc`: feature view `stats` has no feature `amout` (did you "
                "mean `amount`?)"},
        BadCase{"DuplicateKey",
                "kind: Entity\nname: m\nname: n\njoin_keys: [{name: k, type: string}]\n", false,
                "repo.yaml:28:1", "key `name` appears twice in an Entity"},
        BadCase{"BadClassification",
                "kind: FeatureView\nname: v2\nentities: [customer]\nsource: txns\n"
                "owners: ['User::\"a\"']\nclassification: secret\n"
                "features: [{name: amount, type: double}]\n",
                false, "repo.yaml:31:17", "unknown classification `secret`"},
        BadCase{"WrongShape", "kind: Entity\nname: m\njoin_keys: m_id\n", false, "repo.yaml:28:12",
                "`join_keys` in an Entity must be a list, not a scalar"},
        BadCase{"BadName", "kind: Entity\nname: my-entity\njoin_keys: [{name: k, type: string}]\n",
                false, "repo.yaml:27:7", "`my-entity` is not a valid name for an Entity"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(RepositoryLoadTest, CollectsAllErrorsAcrossFiles) {
  LoadReport r = ParseRepositoryFiles(
      {{"a.yaml", "kind: Entity\nname: e\njoin_keys: [{name: k, type: strin}]\n"},
       {"b.yaml",
        "kind: FeatureView\nname: v\nentities: [nope]\nsource: none\n"
        "owners: ['User::\"a\"']\nfeatures: [{name: f, type: int64, mask: year}]\n"}});
  ASSERT_EQ(r.errors.size(), 4u) << r.ToStatus().ToString();
  // In reading order, whichever check found them.
  EXPECT_EQ(r.errors[0].where.ToString(), "a.yaml:3:29");
  EXPECT_EQ(r.errors[1].where.ToString(), "b.yaml:3:12");
  EXPECT_EQ(r.errors[2].where.ToString(), "b.yaml:4:9");
  EXPECT_EQ(r.errors[3].where.ToString(), "b.yaml:6:41");
  EXPECT_THAT(r.errors[3].message, HasSubstr("mask `year` does not fit type int64"));
  Status s = r.ToStatus();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("the repository has 4 errors:\n  a.yaml:3:29: "));
}

TEST(RepositoryLoadTest, CapsTheNumberOfErrors) {
  std::string text;
  for (int i = 0; i < 30; ++i) text += "---\nkind: Nope\n";
  LoadOptions options;
  options.max_errors = 10;
  LoadReport r = ParseRepositoryFiles({{"x.yaml", text}}, options);
  EXPECT_EQ(r.errors.size(), 10u);
  EXPECT_EQ(r.errors_dropped, 20u);
  EXPECT_THAT(r.ToStatus().message(), HasSubstr("the repository has 30 errors:"));
  EXPECT_THAT(r.ToStatus().message(), HasSubstr("... and 20 more (fix these first)"));
}

TEST(RepositoryLoadTest, DirectoryChecksSourceFilesAndSkipsHiddenFiles) {
  custos::testing::TempDir tmp;
  const std::string dir = tmp.Sub("repo");
  std::filesystem::create_directories(dir + "/nested");
  std::filesystem::create_directories(dir + "/.git");
  std::ofstream(dir + "/nested/all.yml") << kBase;
  std::ofstream(dir + "/.git/junk.yaml") << "not: [valid";
  LoadReport r = LoadRepositoryDir(dir);
  ASSERT_EQ(r.errors.size(), 1u) << r.ToStatus().ToString();
  EXPECT_EQ(r.errors[0].ToString(),
            "nested/all.yml:7:1: source `txns`: file `data/txns.csv` does not exist under the "
            "repository root; fix the path or add the file");
  std::filesystem::create_directories(dir + "/data");
  std::ofstream(dir + "/data/txns.csv") << "customer_id,ts,amount\n";
  auto repo = LoadRepository(dir);
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  EXPECT_EQ(repo->root, dir);

  auto missing = LoadRepository(tmp.Sub("nope"));
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("not a directory"));
}

TEST(DurationTest, ParsesAndFormats) {
  EXPECT_EQ(*ParseDuration("0"), 0);
  EXPECT_EQ(*ParseDuration("90d"), 90 * 86400);
  EXPECT_EQ(*ParseDuration("12h"), 12 * 3600);
  EXPECT_EQ(*ParseDuration("30m"), 1800);
  EXPECT_EQ(*ParseDuration("1w2d3h4m5s"), 9 * 86400 + 3 * 3600 + 4 * 60 + 5);
  for (const char* bad : {"", "d", "90", "1h1d", "5x", "-1d", "1d1d", "999999999999d"}) {
    auto r = ParseDuration(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(ParseDuration("90").status().message(), HasSubstr("the number 90 has no unit"));
  EXPECT_EQ(FormatDuration(0), "0");
  EXPECT_EQ(FormatDuration(90 * 86400), "90d");
  EXPECT_EQ(FormatDuration(86400 + 12 * 3600), "1d12h");
  EXPECT_EQ(FormatDuration(45), "45s");
}

TEST(MaskRuleTest, ParsesPrintsAndChecksTypes) {
  const ValueType kString{ScalarType::kString, false};
  const ValueType kInt{ScalarType::kInt64, false};
  const ValueType kDouble{ScalarType::kDouble, false};
  const ValueType kTime{ScalarType::kTimestamp, false};
  const ValueType kList{ScalarType::kString, true};
  struct Case {
    const char* text;
    MaskRule rule;
    std::vector<ValueType> fits, misfits;
  };
  std::vector<Case> cases = {
      {"redact", {MaskKind::kRedact, 0}, {kString}, {kInt, kList}},
      {"null", {MaskKind::kNull, 0}, {kString, kInt, kDouble, kTime, kList}, {}},
      {"show_last:4", {MaskKind::kShowLast, 4}, {kString}, {kDouble}},
      {"show_first:2", {MaskKind::kShowFirst, 2}, {kString}, {kTime}},
      {"hash", {MaskKind::kHash, 0}, {kString, kInt}, {kDouble, kList}},
      {"range:100", {MaskKind::kRange, 100}, {kInt, kDouble}, {kString}},
      {"range:0.05", {MaskKind::kRange, 0.05}, {kDouble}, {kTime}},
      {"year", {MaskKind::kYear, 0}, {kTime}, {kString, kInt}},
  };
  for (const auto& c : cases) {
    auto r = ParseMaskRule(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().ToString();
    EXPECT_EQ(*r, c.rule) << c.text;
    EXPECT_EQ(MaskRuleText(*r), c.text);
    for (auto t : c.fits)
      EXPECT_TRUE(CheckMaskFits(*r, t).ok()) << c.text << " " << ValueTypeName(t);
    for (auto t : c.misfits) {
      EXPECT_EQ(CheckMaskFits(*r, t).code(), StatusCode::kInvalidArgument)
          << c.text << " " << ValueTypeName(t);
    }
  }
  EXPECT_THAT(ParseMaskRule("blur").status().message(),
              HasSubstr("unknown mask `blur`; use redact, null, show_last:N"));
  EXPECT_THAT(ParseMaskRule("show_last").status().message(),
              HasSubstr("needs a parameter, e.g. `show_last:4`"));
  EXPECT_THAT(ParseMaskRule("show_last:0").status().message(), HasSubstr("from 1 to 1024"));
  EXPECT_THAT(ParseMaskRule("range:-5").status().message(), HasSubstr("positive number"));
  EXPECT_THAT(ParseMaskRule("hash:3").status().message(), HasSubstr("takes no parameter"));
}

}  // namespace
}  // namespace custos::catalog

namespace custos::catalog {
namespace {

// The fuzzer's main seed is the whole example in one file; it must stay valid.
TEST(RepositoryLoadTest, FuzzSeedIsTheValidExample) {
  std::ifstream in(CUSTOS_SOURCE_DIR "/fuzz/seeds/catalog_repository_fuzz/all.yaml");
  std::stringstream text;
  text << in.rdbuf();
  LoadReport r = ParseRepositoryFiles({{"all.yaml", text.str()}});
  EXPECT_TRUE(r.ok()) << r.ToStatus().ToString();
  EXPECT_EQ(r.repository.views.size(), 3u);
  EXPECT_EQ(r.repository.services.size(), 1u);
}

TEST(RepositoryLoadTest, PostgresSourceNeedsOneOfTableAndQuery) {
  LoadReport r = ParseRepositoryFiles(
      {{"pg.yaml",
        "kind: DataSource\nname: pg\ntype: postgres\ntable: t\nquery: select 1\n"
        "dsn_env: 'postgres://u:p@h/db'\ntimestamp_field: ts\n"}});
  ASSERT_EQ(r.errors.size(), 2u) << r.ToStatus().ToString();
  EXPECT_EQ(r.errors[0].ToString(),
            "pg.yaml:1:1: a postgres DataSource needs exactly one of `table` and `query`");
  EXPECT_THAT(r.errors[1].ToString(),
              HasSubstr("pg.yaml:6:10: `dsn_env` must name an environment variable"));
  EXPECT_EQ(r.ToStatus().message().find("u:p@h"), std::string::npos);  // never echoed
}

}  // namespace
}  // namespace custos::catalog

namespace custos::catalog {
namespace {

// yaml-cpp 0.7 loops for ever on some malformed UTF-8 (",\xC1\x8B", found by fuzzing): such
// text is refused before it reaches the parser, with its position.
TEST(RepositoryLoadTest, RefusesMalformedTextBeforeParsing) {
  LoadReport bad_utf8 = ParseRepositoryFiles({{"u.yaml", "kind: Entity\nname: a,\xC1\x8B\n"}});
  ASSERT_EQ(bad_utf8.errors.size(), 1u);
  EXPECT_EQ(bad_utf8.errors[0].ToString(),
            "u.yaml:2:9: invalid UTF-8 (byte 0xC1); save the file as UTF-8");
  LoadReport nul = ParseRepositoryFiles({{"n.yaml", std::string("kind: E\0", 8)}});
  ASSERT_EQ(nul.errors.size(), 1u);
  EXPECT_EQ(nul.errors[0].ToString(),
            "n.yaml:1:8: control character U+0000 is not allowed in YAML; remove it");
  // yaml-cpp 0.7 also hangs when a document starts with `,`.
  for (const char* text :
       {",", "# c\n  , x", "kind: Entity\n---\n\n , x", "--- ,", "!k,.:!k,. 7"}) {
    LoadReport comma = ParseRepositoryFiles({{"c.yaml", text}});
    ASSERT_EQ(comma.errors.size(), 1u) << text;
    EXPECT_THAT(comma.errors[0].message, HasSubstr("a document cannot start with `,`")) << text;
  }
  for (const char* text :
       {"  - a\n , b", "  a: b\n # x\n , c", "  a: |\n   x\n , c", "']\n ['pppp\n,"}) {
    LoadReport comma = ParseRepositoryFiles({{"c.yaml", text}});
    ASSERT_EQ(comma.errors.size(), 1u) << text;
    EXPECT_THAT(comma.errors[0].message, HasSubstr("a line cannot start with `,`")) << text;
  }
  EXPECT_EQ(ParseRepositoryFiles({{"c.yaml", "kind: Entity\n---\n\n , x"}}).errors[0].where,
            (SourcePosition{"c.yaml", 4, 2}));
  LoadReport ok = ParseRepositoryFiles(
      {{"ok.yaml",
        "kind: Entity\nname: e\ndescription: \"caf\xC3\xA9 \xF0\x9F\x92\xB3\"\n"
        "join_keys: [{name: k, type: string}]\n"}});
  EXPECT_TRUE(ok.ok()) << ok.ToStatus().ToString();
  EXPECT_EQ(ok.repository.entities[0].description, "caf\xC3\xA9 \xF0\x9F\x92\xB3");
}

}  // namespace
}  // namespace custos::catalog
