// OpenLineage event validation over the embedded spec schemas (see openlineage_schema.h).
#include "lineage/openlineage_schema.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "lineage/detail/schema_formats.h"

namespace custos::lineage {
namespace {

using Json = nlohmann::json;

// The places a facet can stand in an event, indexing OpenLineageValidator::facets_, and the
// core schema's $defs that facets for each place extend.
enum FacetPlace : size_t {
  kRunFacets,
  kJobFacets,
  kDatasetFacets,
  kInputDatasetFacets,
  kOutputDatasetFacets,
};
constexpr std::array<std::string_view, 5> kPlaceDefs = {"RunFacet", "JobFacet", "DatasetFacet",
                                                        "InputDatasetFacet", "OutputDatasetFacet"};

// A facet file's root may use only these keywords: then applying the root to
// {"<key>": facet} is the same as applying root.properties.<key> to the facet, which lets
// facets be checked where they stand in the event, with their paths in the event.
constexpr std::array<std::string_view, 6> kFacetRootKeywords = {
    "$schema", "$id", "$defs", "type", "properties", "required"};

constexpr int kMaxFacetDerivation = 16;

// The value at a "#..." JSON Pointer fragment of `document`, or null.
const Json* ResolveLocalFragment(const Json& document, std::string_view fragment) {
  std::string pointer;
  if (!detail::PercentDecode(fragment, pointer)) return nullptr;
  const Json* at = &document;
  std::string_view rest = pointer;
  while (!rest.empty()) {
    if (rest.front() != '/' || !at->is_object()) return nullptr;
    rest.remove_prefix(1);
    const size_t end = std::min(rest.find('/'), rest.size());
    std::string token;
    for (size_t i = 0; i < end; ++i) {
      if (rest[i] == '~' && i + 1 < end && (rest[i + 1] == '0' || rest[i + 1] == '1')) {
        token += rest[++i] == '0' ? '~' : '/';
      } else {
        token += rest[i];
      }
    }
    const auto it = at->find(token);
    if (it == at->end()) return nullptr;
    at = &*it;
    rest.remove_prefix(end);
  }
  return at;
}

// Marks each place whose core facet type `schema` extends, following allOf and the
// alternatives of anyOf/oneOf through local $refs: NominalTimeRunFacet -> RunFacet,
// LineageFacet's "lineage" -> DatasetFacet and JobFacet.
void CollectPlaces(const Json& document, const Json& schema, std::string_view core_defs, int budget,
                   std::array<bool, 5>& places) {
  if (budget == 0 || !schema.is_object()) return;
  if (const auto ref = schema.find("$ref"); ref != schema.end() && ref->is_string()) {
    const std::string_view target = ref->get_ref<const std::string&>();
    if (target.starts_with(core_defs)) {
      const auto place =
          std::find(kPlaceDefs.begin(), kPlaceDefs.end(), target.substr(core_defs.size()));
      if (place != kPlaceDefs.end()) places[place - kPlaceDefs.begin()] = true;
    } else if (target.starts_with('#')) {
      if (const Json* local = ResolveLocalFragment(document, target.substr(1))) {
        CollectPlaces(document, *local, core_defs, budget - 1, places);
      }
    }
  }
  for (const char* keyword : {"allOf", "anyOf", "oneOf"}) {
    const auto list = schema.find(keyword);
    if (list == schema.end() || !list->is_array()) continue;
    for (const Json& branch : *list) {
      CollectPlaces(document, branch, core_defs, budget - 1, places);
    }
  }
}

// A URI fragment for a JSON Pointer token ('%' escaped, since lookups %-decode).
std::string FragmentToken(std::string_view token) {
  std::string out;
  for (char c : detail::EscapeJsonPointerToken(token)) {
    out += c == '%' ? std::string("%25") : std::string(1, c);
  }
  return out;
}

Status BundleError(std::string_view file, const std::string& what) {
  return InternalError("embedded OpenLineage schema " + std::string(file) + ": " + what);
}

struct FacetFile {
  std::string stem;  // "NominalTimeRunFacet"
  std::string id;    // its "$id"
  Json schema;
};

}  // namespace

Result<OpenLineageValidator> OpenLineageValidator::Create() {
  std::vector<SchemaDocument> documents;
  std::vector<FacetFile> facet_files;
  std::string core_id;
  for (const EmbeddedFile& file : OpenLineageSpecFiles()) {
    if (!file.path.ends_with(".json")) continue;
    Json schema = Json::parse(file.contents, nullptr, false);
    if (!schema.is_object() || !schema.contains("$id") || !schema["$id"].is_string()) {
      return BundleError(file.path, "not a JSON object with a string \"$id\"");
    }
    const std::string id = schema["$id"].get<std::string>();
    if (file.path == "OpenLineage.json") {
      core_id = id;
    } else if (file.path.starts_with("facets/")) {
      std::string_view stem = file.path.substr(7);
      stem.remove_suffix(5);
      facet_files.push_back({std::string(stem), id, schema});
    }
    documents.push_back({std::move(schema), ""});
  }
  if (core_id.empty()) return BundleError("OpenLineage.json", "missing from the bundle");

  SchemaRegistryOptions options;
  options.extra_annotation_keywords = {"example", "documentation"};  // used by the spec
  auto registry = SchemaRegistry::Compile(std::move(documents), std::move(options));
  if (!registry.ok()) return BundleError("set", registry.status().message());
  OpenLineageValidator validator(std::move(*registry));
  const auto find = [&](const std::string& uri, SchemaHandle& out) -> Status {
    auto handle = validator.registry_.Find(uri);
    if (!handle.ok()) return BundleError(uri, handle.status().message());
    out = *handle;
    return Status::Ok();
  };
  CUSTOS_RETURN_IF_ERROR(find(core_id, validator.any_event_));
  CUSTOS_RETURN_IF_ERROR(find(core_id + "#/$defs/RunEvent", validator.run_event_));
  CUSTOS_RETURN_IF_ERROR(find(core_id + "#/$defs/DatasetEvent", validator.dataset_event_));
  CUSTOS_RETURN_IF_ERROR(find(core_id + "#/$defs/JobEvent", validator.job_event_));

  const std::string core_defs = core_id + "#/$defs/";
  for (const FacetFile& file : facet_files) {
    for (auto it = file.schema.begin(); it != file.schema.end(); ++it) {
      if (std::find(kFacetRootKeywords.begin(), kFacetRootKeywords.end(), it.key()) ==
          kFacetRootKeywords.end()) {
        return BundleError(
            file.stem, "root keyword \"" + it.key() + "\" prevents checking its facets in place");
      }
    }
    const Json& root = file.schema;
    if (root.value("type", Json()) != "object" || !root.contains("properties") ||
        !root.at("properties").is_object()) {
      return BundleError(file.stem, "the root must be an object schema with \"properties\"");
    }
    const Json& properties = root.at("properties");
    if (const auto required = file.schema.find("required"); required != file.schema.end()) {
      for (const Json& name : *required) {
        if (!name.is_string() || !properties.contains(name.get<std::string>())) {
          return BundleError(file.stem, "root \"required\" names a facet it does not define");
        }
      }
    }
    CUSTOS_RETURN_IF_ERROR(find(file.id, validator.facet_files_[file.stem]));
    for (auto it = properties.begin(); it != properties.end(); ++it) {
      std::array<bool, 5> places{};
      CollectPlaces(file.schema, it.value(), core_defs, kMaxFacetDerivation, places);
      if (std::none_of(places.begin(), places.end(), [](bool p) { return p; })) {
        return BundleError(file.stem, "facet \"" + it.key() + "\" extends no core facet type");
      }
      SchemaHandle schema;
      CUSTOS_RETURN_IF_ERROR(find(file.id + "#/properties/" + FragmentToken(it.key()), schema));
      for (size_t place = 0; place < places.size(); ++place) {
        if (!places[place]) continue;
        if (!validator.facets_[place].emplace(it.key(), schema).second) {
          return BundleError(file.stem, "facet \"" + it.key() + "\" is also defined for " +
                                            std::string(kPlaceDefs[place]) + " elsewhere");
        }
      }
    }
  }
  return validator;
}

Status OpenLineageValidator::ValidateRunEvent(const Json& event) const {
  CUSTOS_RETURN_IF_ERROR(registry_.Validate(run_event_, event));
  return ValidateFacets(event);
}

Status OpenLineageValidator::ValidateEvent(const Json& event) const {
  Status core = registry_.Validate(any_event_, event);
  if (!core.ok()) {
    SchemaHandle shaped;
    if (event.is_object()) {
      if (event.contains("run") && event.contains("job")) {
        shaped = run_event_;
      } else if (event.contains("dataset")) {
        shaped = dataset_event_;
      } else if (event.contains("job")) {
        shaped = job_event_;
      }
    }
    // The shaped kind may accept the event when it is refused for matching two kinds;
    // then the core schema's own message says so.
    if (shaped.valid()) CUSTOS_RETURN_IF_ERROR(registry_.Validate(shaped, event));
    return core;
  }
  return ValidateFacets(event);
}

Status OpenLineageValidator::ValidateFacetContainer(std::string_view facet_file_stem,
                                                    const Json& container) const {
  const auto it = facet_files_.find(facet_file_stem);
  if (it == facet_files_.end()) {
    return NotFoundError("no standard facet schema facets/" + std::string(facet_file_stem) +
                         ".json in the OpenLineage bundle");
  }
  return registry_.Validate(it->second, container);
}

Status OpenLineageValidator::ValidateFacets(const Json& event) const {
  if (!event.is_object()) return Status::Ok();
  if (const auto run = event.find("run"); run != event.end()) {
    CUSTOS_RETURN_IF_ERROR(ValidateFacetMap(*run, "facets", kRunFacets, "/run"));
  }
  if (const auto job = event.find("job"); job != event.end()) {
    CUSTOS_RETURN_IF_ERROR(ValidateFacetMap(*job, "facets", kJobFacets, "/job"));
  }
  if (const auto dataset = event.find("dataset"); dataset != event.end()) {
    CUSTOS_RETURN_IF_ERROR(ValidateFacetMap(*dataset, "facets", kDatasetFacets, "/dataset"));
  }
  struct DatasetList {
    const char* member;
    const char* own_facets;
    size_t own_place;
  };
  for (const DatasetList& list : {DatasetList{"inputs", "inputFacets", kInputDatasetFacets},
                                  DatasetList{"outputs", "outputFacets", kOutputDatasetFacets}}) {
    const auto datasets = event.find(list.member);
    if (datasets == event.end() || !datasets->is_array()) continue;
    for (size_t i = 0; i < datasets->size(); ++i) {
      const Json& dataset = (*datasets)[i];
      const std::string path = "/" + std::string(list.member) + "/" + std::to_string(i);
      CUSTOS_RETURN_IF_ERROR(ValidateFacetMap(dataset, "facets", kDatasetFacets, path));
      CUSTOS_RETURN_IF_ERROR(ValidateFacetMap(dataset, list.own_facets, list.own_place, path));
    }
  }
  return Status::Ok();
}

Status OpenLineageValidator::ValidateFacetMap(const Json& holder, std::string_view member,
                                              size_t place, std::string_view holder_path) const {
  if (!holder.is_object()) return Status::Ok();
  const auto facets = holder.find(member);
  if (facets == holder.end() || !facets->is_object()) return Status::Ok();
  for (auto it = facets->begin(); it != facets->end(); ++it) {
    const auto schema = facets_[place].find(it.key());
    if (schema == facets_[place].end()) continue;  // a custom facet: core checks only
    std::string path(holder_path);
    path.append("/").append(member).append("/").append(detail::EscapeJsonPointerToken(it.key()));
    CUSTOS_RETURN_IF_ERROR(registry_.Validate(schema->second, it.value(), path));
  }
  return Status::Ok();
}

}  // namespace custos::lineage
