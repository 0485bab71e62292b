// Versioned policy sets: build a candidate set off to the side, publish it only if every
// file parsed, every id is unique and every link names a template.
#include "policy/policy_store.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "policy/parser.h"
#include "policy/validator.h"

namespace custos::policy {

PolicyStore::PolicyStore() {
  auto empty = PolicySet::Create({}, 0);
  current_ = std::make_shared<const PolicySet>(std::move(empty).value());
}

Result<PolicyStore::ParsedSource> PolicyStore::Parse(const PolicySource& source) {
  ParseOptions opts;
  opts.filename = source.name;
  std::string stem = std::filesystem::path(source.name).stem().string();
  opts.id_prefix = stem + "/policy";
  opts.use_id_annotation = true;
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Policy> policies, ParsePolicies(source.text, opts));
  return ParsedSource{source, std::move(policies)};
}

Result<std::shared_ptr<const PolicySet>> PolicyStore::Build(
    const std::vector<ParsedSource>& sources, const std::vector<ParsedSource>& managed,
    const std::vector<TemplateLink>& links, uint64_t version) const {
  std::vector<Policy> all;
  for (const auto* group : {&sources, &managed}) {
    for (const auto& src : *group) all.insert(all.end(), src.policies.begin(), src.policies.end());
  }
  if (schema_) {
    ValidationResult validation = Validator(*schema_).Validate(all);
    if (!validation.ok()) {
      std::string message = "the policies do not validate against the schema (" +
                            std::to_string(validation.errors.size()) +
                            " failing; the current version stays in force):";
      constexpr size_t kShown = 10;
      for (size_t i = 0; i < validation.errors.size() && i < kShown; ++i) {
        message += "\n  " + validation.errors[i].message;
      }
      if (validation.errors.size() > kShown) message += "\n  ...";
      return InvalidArgumentError(std::move(message));
    }
  }
  if (!links.empty()) {
    std::unordered_map<std::string_view, size_t> templates;
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].IsTemplate()) templates.emplace(all[i].id, i);
    }
    std::vector<Policy> linked;
    linked.reserve(links.size());
    for (const auto& link : links) {
      auto it = templates.find(link.template_id);
      if (it == templates.end()) {
        return NotFoundError("no template with id `" + link.template_id + "` (needed by link `" +
                             link.link_id + "`); add the template or remove the link");
      }
      CUSTOS_ASSIGN_OR_RETURN(
          Policy p, ::custos::policy::LinkTemplate(all[it->second], link.link_id,
                                                   link.principal ? &*link.principal : nullptr,
                                                   link.resource ? &*link.resource : nullptr));
      linked.push_back(std::move(p));
    }
    for (auto& p : linked) all.push_back(std::move(p));
  }
  CUSTOS_ASSIGN_OR_RETURN(PolicySet set, PolicySet::Create(std::move(all), version));
  return std::make_shared<const PolicySet>(std::move(set));
}

Result<uint64_t> PolicyStore::PublishLocked(std::vector<ParsedSource> sources,
                                            std::vector<ParsedSource> managed,
                                            std::vector<TemplateLink> links) {
  uint64_t version = last_version_ + 1;
  CUSTOS_ASSIGN_OR_RETURN(auto set, Build(sources, managed, links, version));
  current_ = std::move(set);
  sources_ = std::move(sources);
  managed_ = std::move(managed);
  links_ = std::move(links);
  last_version_ = version;
  return version;
}

void PolicyStore::SetSchema(std::shared_ptr<const Schema> schema) {
  std::lock_guard lock(mu_);
  schema_ = std::move(schema);
}

Result<uint64_t> PolicyStore::LoadDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return NotFoundError(dir.string() + ": not a directory; pass the folder holding .cedar files");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".cedar") {
      files.push_back(entry.path());
    }
  }
  if (ec) return UnavailableError(dir.string() + ": cannot list: " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<PolicySource> sources;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return UnavailableError(f.string() + ": cannot read");
    std::ostringstream ss;
    ss << in.rdbuf();
    sources.push_back(PolicySource{f.string(), ss.str()});
  }
  return LoadSources(sources);
}

Result<uint64_t> PolicyStore::LoadSources(const std::vector<PolicySource>& sources) {
  // Parse outside the lock: a large reload must not stall changes such as revocations.
  std::vector<ParsedSource> parsed;
  parsed.reserve(sources.size());
  for (const auto& src : sources) {
    CUSTOS_ASSIGN_OR_RETURN(ParsedSource p, Parse(src));
    parsed.push_back(std::move(p));
  }
  std::lock_guard<std::mutex> lock(mu_);
  return PublishLocked(std::move(parsed), managed_, links_);
}

Result<uint64_t> PolicyStore::LinkTemplate(const std::string& template_id,
                                           const std::string& link_id,
                                           const std::optional<EntityUid>& principal,
                                           const std::optional<EntityUid>& resource) {
  PolicyChange change;
  change.add_links.push_back(TemplateLink{template_id, link_id, principal, resource});
  return Apply(change);
}

Result<uint64_t> PolicyStore::UnlinkTemplate(const std::string& link_id) {
  PolicyChange change;
  change.remove_links.push_back(link_id);
  return Apply(change);
}

Result<uint64_t> PolicyStore::Apply(const PolicyChange& change) {
  std::vector<ParsedSource> added;
  added.reserve(change.add_sources.size());
  for (const auto& src : change.add_sources) {
    CUSTOS_ASSIGN_OR_RETURN(ParsedSource p, Parse(src));
    added.push_back(std::move(p));
  }

  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ParsedSource> managed = managed_;
  std::vector<TemplateLink> links = links_;

  // Removals first, so that one change can replace a source or a link.
  std::set<std::string, std::less<>> removed_templates;
  for (const auto& name : change.remove_sources) {
    auto it = std::find_if(managed.begin(), managed.end(),
                           [&](const ParsedSource& s) { return s.source.name == name; });
    if (it == managed.end()) {
      return NotFoundError("no managed policy source named `" + name + "` to remove");
    }
    for (const auto& p : it->policies) {
      if (p.IsTemplate()) removed_templates.insert(p.id);
    }
    managed.erase(it);
  }
  if (!removed_templates.empty()) {
    std::erase_if(
        links, [&](const TemplateLink& l) { return removed_templates.count(l.template_id) != 0; });
  }
  for (const auto& id : change.remove_links) {
    auto it = std::find_if(links.begin(), links.end(),
                           [&](const TemplateLink& l) { return l.link_id == id; });
    if (it == links.end()) {
      // A link that went away with its removed template is not an error.
      bool gone_with_source = std::any_of(links_.begin(), links_.end(), [&](const TemplateLink& l) {
        return l.link_id == id && removed_templates.count(l.template_id) != 0;
      });
      if (gone_with_source) continue;
      return NotFoundError("no template link with id `" + id + "` to remove");
    }
    links.erase(it);
  }

  for (auto& p : added) {
    bool taken = std::any_of(managed.begin(), managed.end(),
                             [&](const ParsedSource& s) { return s.source.name == p.source.name; });
    if (taken) {
      return AlreadyExistsError("a managed policy source named `" + p.source.name +
                                "` exists; remove it in the same change to replace it");
    }
    managed.push_back(std::move(p));
  }
  for (const auto& link : change.add_links) {
    bool taken = std::any_of(links.begin(), links.end(),
                             [&](const TemplateLink& l) { return l.link_id == link.link_id; });
    if (taken) {
      return AlreadyExistsError("a template link with id `" + link.link_id +
                                "` exists; link ids must be unique");
    }
    links.push_back(link);
  }
  return PublishLocked(sources_, std::move(managed), std::move(links));
}

std::shared_ptr<const PolicySet> PolicyStore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

uint64_t PolicyStore::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_->version();
}

std::vector<std::string> PolicyStore::ManagedSourceNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& s : managed_) names.push_back(s.source.name);
  return names;
}

std::vector<std::string> PolicyStore::LinkIds() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  for (const auto& l : links_) ids.push_back(l.link_id);
  return ids;
}

StoreDecision PolicyStore::IsAuthorized(const Request& request, const EntityStore& entities) const {
  StoreDecision d;
  d.policy_set = Current();
  d.policy_set->IsAuthorized(request, entities, &d.response);
  return d;
}

}  // namespace custos::policy
