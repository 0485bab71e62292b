// Node <-> OpenLineage dataset and job names (see openlineage_names.h).
#include "lineage/openlineage_names.h"

namespace custos::lineage {

OpenLineageName OpenLineageNameOf(NodeKind kind, std::string_view name) {
  if (kind == NodeKind::kTransformation) {
    return {std::string(kOpenLineageNamespace), std::string(name)};
  }
  if (kind == NodeKind::kDataset) {
    // "<namespace>/<name>": the namespace is everything before the first '/' that is not
    // part of a URI scheme's "//" (e.g. "postgres://db:5432/public.tx" keeps its authority).
    const size_t scheme = name.find("://");
    const size_t from = scheme == std::string_view::npos ? 0 : scheme + 3;
    const size_t slash = name.find('/', from);
    if (slash != std::string_view::npos) {
      return {std::string(name.substr(0, slash)), std::string(name.substr(slash + 1))};
    }
    return {std::string(name), ""};
  }
  return {std::string(kOpenLineageNamespace),
          std::string(NodeKindName(kind)) + ":" + std::string(name)};
}

NodeName NodeNameOfDataset(std::string_view name_space, std::string_view name) {
  if (name_space == kOpenLineageNamespace) {
    const size_t colon = name.find(':');
    if (colon != std::string_view::npos) {
      auto kind = ParseNodeKind(name.substr(0, colon));
      if (kind.ok() && *kind != NodeKind::kTransformation && *kind != NodeKind::kDataset) {
        return {*kind, std::string(name.substr(colon + 1))};
      }
    }
  }
  return {NodeKind::kDataset, std::string(name_space) + "/" + std::string(name)};
}

std::string TransformationNameOfJob(std::string_view name_space, std::string_view name) {
  if (name_space == kOpenLineageNamespace) return std::string(name);
  return std::string(name_space) + "/" + std::string(name);
}

}  // namespace custos::lineage
