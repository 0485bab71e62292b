// Whole-repository checks: unique names, references between objects, join key and
// feature types against sources' declared fields, and source paths.
#include <algorithm>
#include <filesystem>
#include <map>

#include "catalog/detail/repository_loader.h"

namespace custos::catalog::detail {
namespace {

template <typename T>
std::vector<std::string_view> Names(const std::vector<T>& items) {
  std::vector<std::string_view> out;
  for (const auto& item : items) out.push_back(item.name);
  return out;
}

template <typename T>
void CheckUnique(const std::vector<T>& items, std::string_view what, ErrorSink& sink) {
  std::map<std::string_view, const T*> first;
  for (const auto& item : items) {
    if (item.name.empty()) continue;  // already reported
    auto [it, inserted] = first.emplace(item.name, &item);
    if (!inserted) {
      sink.Add(item.where, std::string(what) + " `" + item.name + "` is defined twice (first at " +
                               it->second->where.ToString() + "); rename or remove one");
    }
  }
}

const SourceField* FindField(const DataSource& s, std::string_view name) {
  for (const auto& f : s.fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void CheckSource(const DataSource& s, const std::string& root, bool check_files, ErrorSink& sink) {
  if (s.kind != SourceKind::kPostgres && !s.path.empty()) {
    std::filesystem::path p(s.path);
    bool escapes = std::any_of(p.begin(), p.end(), [](const auto& part) { return part == ".."; });
    if (p.is_absolute() || escapes) {
      sink.Add(s.where, "source `" + s.name + "`: path `" + s.path +
                            "` must stay inside the repository; give it relative to the "
                            "repository root, without `..`");
    } else if (check_files && !root.empty()) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(std::filesystem::path(root) / p, ec)) {
        sink.Add(s.where, "source `" + s.name + "`: file `" + s.path +
                              "` does not exist under the repository root; fix the path or add "
                              "the file");
      }
    }
  }
  if (s.fields.empty()) return;
  for (const std::string* ts : {&s.timestamp_field, &s.created_timestamp_field}) {
    if (ts->empty()) continue;
    const SourceField* f = FindField(s, *ts);
    if (f == nullptr) {
      sink.Add(s.where, "source `" + s.name + "`: timestamp field `" + *ts +
                            "` is not among its declared `fields`; declare it as timestamp");
    } else if (f->type != ValueType{ScalarType::kTimestamp, false}) {
      sink.Add(s.where, "source `" + s.name + "`: timestamp field `" + *ts + "` is declared " +
                            ValueTypeName(f->type) + "; declare it as timestamp");
    }
  }
}

void CheckView(const FeatureView& v, const Repository& repo, ErrorSink& sink) {
  const std::string view = "feature view `" + v.name + "`";
  // Join keys of all the view's entities; a name shared by two entities must agree in type.
  std::map<std::string, std::pair<ValueType, const Entity*>> keys;
  std::vector<std::string_view> seen_entities;
  for (size_t i = 0; i < v.entities.size(); ++i) {
    const std::string& name = v.entities[i];
    const SourcePosition& where = i < v.entities_where.size() ? v.entities_where[i] : v.where;
    if (std::find(seen_entities.begin(), seen_entities.end(), name) != seen_entities.end()) {
      sink.Add(where, view + ": entity `" + name + "` is listed twice; keep one");
      continue;
    }
    seen_entities.push_back(name);
    const Entity* e = repo.FindEntity(name);
    if (e == nullptr) {
      sink.Add(where, view + ": no entity named `" + name + "`" +
                          DidYouMean(name, Names(repo.entities)) +
                          "; define it (kind: Entity) or fix the name");
      continue;
    }
    for (const auto& k : e->join_keys) {
      auto [it, inserted] = keys.emplace(k.name, std::make_pair(k.type, e));
      if (!inserted && it->second.first != k.type) {
        sink.Add(where, view + ": join key `" + k.name + "` is " + ValueTypeName(k.type) +
                            " in entity `" + e->name + "` but " + ValueTypeName(it->second.first) +
                            " in entity `" + it->second.second->name + "`; make the types agree");
      }
    }
  }
  const DataSource* s = v.source.empty() ? nullptr : repo.FindSource(v.source);
  if (!v.source.empty() && s == nullptr) {
    sink.Add(v.source_where, view + ": no data source named `" + v.source + "`" +
                                 DidYouMean(v.source, Names(repo.sources)) +
                                 "; define it (kind: DataSource) or fix the name");
  }
  std::map<std::string_view, const Feature*> features;
  for (const auto& f : v.features) {
    if (f.name.empty()) continue;
    auto [it, inserted] = features.emplace(f.name, &f);
    if (!inserted) {
      sink.Add(f.where, view + ": feature `" + f.name + "` is defined twice (first at " +
                            it->second->where.ToString() + "); rename or remove one");
      continue;
    }
    if (keys.count(f.name)) {
      sink.Add(f.where,
               view + ": feature `" + f.name + "` has the name of a join key; rename the feature");
    }
    if (s != nullptr && (f.name == s->timestamp_field || f.name == s->created_timestamp_field)) {
      sink.Add(f.where, view + ": feature `" + f.name + "` has the name of source `" + s->name +
                            "`'s timestamp field; rename the feature");
    }
  }
  if (s == nullptr || s->fields.empty()) return;
  // The source declares its fields: everything the view reads must be there, same type.
  for (const auto& [name, key] : keys) {
    const SourceField* field = FindField(*s, name);
    if (field == nullptr) {
      sink.Add(v.source_where, view + ": source `" + s->name + "` has no field `" + name +
                                   "` for the join key of entity `" + key.second->name +
                                   "`; add it to the source's `fields` or map a column to it");
    } else if (field->type != key.first) {
      sink.Add(v.source_where, view + ": join key `" + name + "` is " + ValueTypeName(key.first) +
                                   " in entity `" + key.second->name + "` (" +
                                   key.second->where.ToString() + ") but " +
                                   ValueTypeName(field->type) + " in source `" + s->name +
                                   "`; make the types agree");
    }
  }
  std::vector<std::string_view> field_names;
  for (const auto& f : s->fields) field_names.push_back(f.name);
  for (const auto& f : v.features) {
    if (f.name.empty()) continue;
    const SourceField* field = FindField(*s, f.name);
    if (field == nullptr) {
      sink.Add(f.where, view + ": feature `" + f.name + "` is not a field of source `" + s->name +
                            "`" + DidYouMean(f.name, field_names) +
                            "; add it to the source's `fields` or fix the name");
    } else if (field->type != f.type) {
      sink.Add(f.where, view + ": feature `" + f.name + "` is " + ValueTypeName(f.type) +
                            " but source `" + s->name + "` declares it " +
                            ValueTypeName(field->type) + "; make the types agree");
    }
  }
}

void CheckService(const FeatureService& svc, const Repository& repo, ErrorSink& sink) {
  for (const auto& ref : svc.features) {
    const FeatureView* v = repo.FindView(ref.view);
    if (v == nullptr) {
      sink.Add(ref.where, "feature service `" + svc.name + "`: no feature view named `" + ref.view +
                              "`" + DidYouMean(ref.view, Names(repo.views)) +
                              "; define it or fix the reference");
      continue;
    }
    if (!ref.feature.empty() && v->FindFeature(ref.feature) == nullptr) {
      std::vector<std::string_view> names;
      for (const auto& f : v->features) names.push_back(f.name);
      sink.Add(ref.where, "feature service `" + svc.name + "`: feature view `" + ref.view +
                              "` has no feature `" + ref.feature + "`" +
                              DidYouMean(ref.feature, names) + "; fix the reference");
    }
  }
}

}  // namespace

void ValidateRepository(const Repository& repo, bool check_files, ErrorSink& sink) {
  CheckUnique(repo.entities, "entity", sink);
  CheckUnique(repo.sources, "data source", sink);
  CheckUnique(repo.views, "feature view", sink);
  CheckUnique(repo.services, "feature service", sink);
  for (const auto& s : repo.sources) CheckSource(s, repo.root, check_files, sink);
  for (const auto& v : repo.views) CheckView(v, repo, sink);
  for (const auto& svc : repo.services) CheckService(svc, repo, sink);
}

}  // namespace custos::catalog::detail
