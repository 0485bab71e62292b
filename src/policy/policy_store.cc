// Versioned policy sets: build a candidate set off to the side, publish it only if every
// file parsed and every id is unique.
#include "policy/policy_store.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "policy/parser.h"
#include "policy/validator.h"

namespace custos::policy {

PolicyStore::PolicyStore() {
  auto empty = PolicySet::Create({}, 0);
  current_ = std::make_shared<const PolicySet>(std::move(empty).value());
}

Result<std::shared_ptr<const PolicySet>> PolicyStore::Build(
    const std::vector<PolicySource>& sources, const std::vector<Link>& links,
    uint64_t version) const {
  std::vector<Policy> all;
  for (const auto& src : sources) {
    ParseOptions opts;
    opts.filename = src.name;
    std::string stem = std::filesystem::path(src.name).stem().string();
    opts.id_prefix = stem + "/policy";
    opts.use_id_annotation = true;
    CUSTOS_ASSIGN_OR_RETURN(std::vector<Policy> policies, ParsePolicies(src.text, opts));
    for (auto& p : policies) all.push_back(std::move(p));
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
  CUSTOS_ASSIGN_OR_RETURN(PolicySet set, PolicySet::Create(std::move(all), version));
  for (const auto& link : links) {
    CUSTOS_ASSIGN_OR_RETURN(set, set.WithLink(link.template_id, link.link_id,
                                              link.principal ? &*link.principal : nullptr,
                                              link.resource ? &*link.resource : nullptr, version));
  }
  return std::make_shared<const PolicySet>(std::move(set));
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
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t version = last_version_ + 1;
  CUSTOS_ASSIGN_OR_RETURN(auto set, Build(sources, links_, version));
  current_ = std::move(set);
  sources_ = sources;
  last_version_ = version;
  return version;
}

Result<uint64_t> PolicyStore::LinkTemplate(const std::string& template_id,
                                           const std::string& link_id,
                                           const std::optional<EntityUid>& principal,
                                           const std::optional<EntityUid>& resource) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t version = last_version_ + 1;
  CUSTOS_ASSIGN_OR_RETURN(
      PolicySet set, current_->WithLink(template_id, link_id, principal ? &*principal : nullptr,
                                        resource ? &*resource : nullptr, version));
  current_ = std::make_shared<const PolicySet>(std::move(set));
  links_.push_back(Link{template_id, link_id, principal, resource});
  last_version_ = version;
  return version;
}

std::shared_ptr<const PolicySet> PolicyStore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

uint64_t PolicyStore::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_->version();
}

StoreDecision PolicyStore::IsAuthorized(const Request& request, const EntityStore& entities) const {
  StoreDecision d;
  d.policy_set = Current();
  d.policy_set->IsAuthorized(request, entities, &d.response);
  return d;
}

}  // namespace custos::policy
