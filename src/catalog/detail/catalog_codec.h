// Internal: the JSON encodings of published catalog records (sealed before storage).
// Decoding throws std::exception on malformed input; callers turn that into DataLoss.
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "catalog/apply_plan.h"

namespace custos::catalog::detail {

using Json = nlohmann::json;

Json EncodeEntity(const Entity& e);
Entity DecodeEntity(const Json& j);
Json EncodeSource(const DataSource& s);
DataSource DecodeSource(const Json& j);
Json EncodeView(const FeatureView& v);
FeatureView DecodeView(const Json& j);
Json EncodeService(const FeatureService& s);
FeatureService DecodeService(const Json& j);
Json EncodeVersion(const ViewVersion& v);
ViewVersion DecodeVersion(const Json& j);

// Bookkeeping around a spec: revision, times, removal, latest version (views).
template <typename T>
Json EncodePublished(const Published<T>& p, Json spec, uint64_t latest_version = 0) {
  Json j;
  j["spec"] = std::move(spec);
  j["revision"] = p.revision;
  j["created_us"] = common::ToUnixMicros(p.created);
  j["updated_us"] = common::ToUnixMicros(p.updated);
  if (p.removed) j["removed_us"] = common::ToUnixMicros(*p.removed);
  if (latest_version) j["latest_version"] = latest_version;
  return j;
}

template <typename T>
void DecodePublishedInto(const Json& j, Published<T>& p) {
  p.revision = j.at("revision").get<uint64_t>();
  p.created = common::FromUnixMicros(j.at("created_us").get<int64_t>());
  p.updated = common::FromUnixMicros(j.at("updated_us").get<int64_t>());
  if (j.contains("removed_us")) p.removed = common::FromUnixMicros(j["removed_us"].get<int64_t>());
}

}  // namespace custos::catalog::detail
