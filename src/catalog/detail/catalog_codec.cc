// JSON encodings of published catalog records.
#include "catalog/detail/catalog_codec.h"

#include <stdexcept>

namespace custos::catalog::detail {
namespace {

template <typename T>
T Must(Result<T> r) {
  if (!r.ok()) throw std::runtime_error(r.status().message());
  return std::move(r).value();
}

Json EncodeType(ValueType t) { return ValueTypeName(t); }
ValueType DecodeType(const Json& j) { return Must(ParseValueType(j.get<std::string>())); }

Json EncodeUids(const std::vector<policy::EntityUid>& uids) {
  Json a = Json::array();
  for (const auto& u : uids) a.push_back(u.ToString());
  return a;
}
std::vector<policy::EntityUid> DecodeUids(const Json& j) {
  std::vector<policy::EntityUid> out;
  for (const auto& u : j) out.push_back(Must(ParseEntityUidText(u.get<std::string>())));
  return out;
}

Json EncodeFields(const std::vector<SourceField>& fields) {
  Json a = Json::array();
  for (const auto& f : fields) a.push_back(Json::array({f.name, EncodeType(f.type)}));
  return a;
}
std::vector<SourceField> DecodeFields(const Json& j) {
  std::vector<SourceField> out;
  for (const auto& f : j) out.push_back({f.at(0).get<std::string>(), DecodeType(f.at(1))});
  return out;
}

Json EncodeFeature(const Feature& f) {
  Json j;
  j["name"] = f.name;
  j["type"] = EncodeType(f.type);
  j["classification"] = ClassificationName(f.classification);
  j["tags"] = f.tags;
  j["description"] = f.description;
  if (f.mask) j["mask"] = MaskRuleText(*f.mask);
  return j;
}
Feature DecodeFeature(const Json& j) {
  Feature f;
  f.name = j.at("name").get<std::string>();
  f.type = DecodeType(j.at("type"));
  f.classification = Must(ParseClassification(j.at("classification").get<std::string>()));
  f.tags = j.at("tags").get<Tags>();
  f.description = j.at("description").get<std::string>();
  if (j.contains("mask")) f.mask = Must(ParseMaskRule(j["mask"].get<std::string>()));
  return f;
}

}  // namespace

Json EncodeEntity(const Entity& e) {
  Json keys = Json::array();
  for (const auto& k : e.join_keys) keys.push_back(Json::array({k.name, EncodeType(k.type)}));
  return {{"name", e.name}, {"join_keys", keys}, {"description", e.description}};
}

Entity DecodeEntity(const Json& j) {
  Entity e;
  e.name = j.at("name").get<std::string>();
  for (const auto& k : j.at("join_keys")) {
    e.join_keys.push_back({k.at(0).get<std::string>(), DecodeType(k.at(1))});
  }
  e.description = j.at("description").get<std::string>();
  return e;
}

Json EncodeSource(const DataSource& s) {
  return {{"name", s.name},
          {"kind", SourceKindName(s.kind)},
          {"path", s.path},
          {"table", s.table},
          {"query", s.query},
          {"dsn_env", s.dsn_env},
          {"timestamp_field", s.timestamp_field},
          {"created_timestamp_field", s.created_timestamp_field},
          {"field_mapping", s.field_mapping},
          {"fields", EncodeFields(s.fields)},
          {"description", s.description}};
}

DataSource DecodeSource(const Json& j) {
  DataSource s;
  s.name = j.at("name").get<std::string>();
  const std::string kind = j.at("kind").get<std::string>();
  if (kind == "csv") {
    s.kind = SourceKind::kCsv;
  } else if (kind == "jsonl") {
    s.kind = SourceKind::kJsonLines;
  } else if (kind == "postgres") {
    s.kind = SourceKind::kPostgres;
  } else {
    throw std::runtime_error("unknown source kind " + kind);
  }
  s.path = j.at("path").get<std::string>();
  s.table = j.at("table").get<std::string>();
  s.query = j.at("query").get<std::string>();
  s.dsn_env = j.at("dsn_env").get<std::string>();
  s.timestamp_field = j.at("timestamp_field").get<std::string>();
  s.created_timestamp_field = j.at("created_timestamp_field").get<std::string>();
  s.field_mapping = j.at("field_mapping").get<std::map<std::string, std::string>>();
  s.fields = DecodeFields(j.at("fields"));
  s.description = j.at("description").get<std::string>();
  return s;
}

Json EncodeView(const FeatureView& v) {
  Json features = Json::array();
  for (const auto& f : v.features) features.push_back(EncodeFeature(f));
  return {{"name", v.name},
          {"entities", v.entities},
          {"source", v.source},
          {"features", features},
          {"description", v.description},
          {"tags", v.tags},
          {"classification", ClassificationName(v.classification)},
          {"owners", EncodeUids(v.owners)},
          {"stewards", EncodeUids(v.stewards)},
          {"ttl_s", v.ttl_seconds},
          {"retention_s", v.retention_seconds},
          {"online", v.online}};
}

FeatureView DecodeView(const Json& j) {
  FeatureView v;
  v.name = j.at("name").get<std::string>();
  v.entities = j.at("entities").get<std::vector<std::string>>();
  v.source = j.at("source").get<std::string>();
  for (const auto& f : j.at("features")) v.features.push_back(DecodeFeature(f));
  v.description = j.at("description").get<std::string>();
  v.tags = j.at("tags").get<Tags>();
  v.classification = Must(ParseClassification(j.at("classification").get<std::string>()));
  v.owners = DecodeUids(j.at("owners"));
  v.stewards = DecodeUids(j.at("stewards"));
  v.ttl_seconds = j.at("ttl_s").get<int64_t>();
  v.retention_seconds = j.at("retention_s").get<int64_t>();
  v.online = j.at("online").get<bool>();
  return v;
}

Json EncodeService(const FeatureService& s) {
  Json refs = Json::array();
  for (const auto& r : s.features) refs.push_back(r.ToString());
  return {{"name", s.name},
          {"features", refs},
          {"description", s.description},
          {"tags", s.tags},
          {"owners", EncodeUids(s.owners)}};
}

FeatureService DecodeService(const Json& j) {
  FeatureService s;
  s.name = j.at("name").get<std::string>();
  for (const auto& r : j.at("features")) {
    const std::string text = r.get<std::string>();
    FeatureRef ref;
    size_t colon = text.find(':');
    ref.view = text.substr(0, colon);
    if (colon != std::string::npos) ref.feature = text.substr(colon + 1);
    s.features.push_back(std::move(ref));
  }
  s.description = j.at("description").get<std::string>();
  s.tags = j.at("tags").get<Tags>();
  s.owners = DecodeUids(j.at("owners"));
  return s;
}

Json EncodeVersion(const ViewVersion& v) {
  Json entities = Json::array();
  for (const auto& e : v.schema.entities) entities.push_back(EncodeEntity(e));
  Json features = Json::array();
  for (const auto& f : v.features) features.push_back(EncodeFeature(f));
  Json j{{"view", v.view},
         {"version", v.version},
         {"schema",
          {{"entities", entities},
           {"features", EncodeFields(v.schema.features)},
           {"source", EncodeSource(v.schema.source)}}},
         {"features", features},
         {"created_us", common::ToUnixMicros(v.created)},
         {"retention_s", v.retention_seconds},
         {"purged", v.purged}};
  if (v.retired) j["retired_us"] = common::ToUnixMicros(*v.retired);
  return j;
}

ViewVersion DecodeVersion(const Json& j) {
  ViewVersion v;
  v.view = j.at("view").get<std::string>();
  v.version = j.at("version").get<uint64_t>();
  const Json& schema = j.at("schema");
  for (const auto& e : schema.at("entities")) v.schema.entities.push_back(DecodeEntity(e));
  v.schema.features = DecodeFields(schema.at("features"));
  v.schema.source = DecodeSource(schema.at("source"));
  for (const auto& f : j.at("features")) v.features.push_back(DecodeFeature(f));
  v.created = common::FromUnixMicros(j.at("created_us").get<int64_t>());
  v.retention_seconds = j.at("retention_s").get<int64_t>();
  v.purged = j.at("purged").get<bool>();
  if (j.contains("retired_us")) v.retired = common::FromUnixMicros(j["retired_us"].get<int64_t>());
  return v;
}

}  // namespace custos::catalog::detail
