// Record-against-audit and content-hash checks (see verify.h).
#include "lineage/verify.h"

#include <algorithm>
#include <vector>

#include "lineage/detail/file_sha256.h"

namespace custos::lineage {
namespace {

std::string LocalPath(const Node& node) {
  auto path = node.attributes.find("path");
  if (path != node.attributes.end()) return path->second;
  auto uri = node.attributes.find("uri");
  if (uri != node.attributes.end() && uri->second.starts_with("file://")) {
    return uri->second.substr(7);
  }
  return "";
}

}  // namespace

Result<VerifyReport> VerifyLineage(LineageStore& store, audit::AuditLog& audit) {
  VerifyReport report;
  const auto where_of = [](const StoredRecord& stored) {
    return "lineage record " + std::to_string(stored.seq) +
           (stored.integrity.ok() ? " (audit index " + std::to_string(stored.audit_index) + ")"
                                  : std::string());
  };
  CUSTOS_RETURN_IF_ERROR(store.ForEachRecord([&](const StoredRecord& stored) -> Status {
    ++report.records_checked;
    const std::string where = where_of(stored);
    if (!stored.integrity.ok()) {
      report.problems.push_back(where_of(stored) + ": the stored value does not authenticate (" +
                                stored.integrity.message() +
                                "); it was changed or damaged on disk");
      return Status::Ok();
    }
    auto record = DecodeRecord(stored.bytes);
    if (!record.ok()) {
      report.problems.push_back(where + ": " + record.status().message());
      return Status::Ok();
    }
    const std::string digest = RecordDigest(*record);
    auto event = audit.ReadEvent(stored.audit_index);
    if (!event.ok()) {
      report.problems.push_back(where +
                                ": its audit event cannot be read: " + event.status().ToString());
    } else {
      const bool matches = event->action == "lineage.record" &&
                           std::any_of(event->resources.begin(), event->resources.end(),
                                       [&](const audit::ResourceRef& r) {
                                         return r.type == "LineageRecord" && r.id == digest;
                                       });
      if (!matches) {
        report.problems.push_back(where + ": differs from what its audit event admitted (" +
                                  digest +
                                  " is not in the event); the stored record was "
                                  "changed after it was audited");
      }
    }
    for (const Node& node : record->nodes) {
      const std::string path = LocalPath(node);
      if (node.content_sha256.empty() || path.empty()) continue;
      const Result<std::string> actual = detail::FileSha256(path);
      if (!actual.ok()) {
        ++report.content_not_available;
        continue;
      }
      ++report.content_hashes_checked;
      if (*actual != node.content_sha256) {
        report.problems.push_back("node '" + node.Id() + "': " + path + " now hashes to " +
                                  *actual + ", recorded " + node.content_sha256 +
                                  "; the content changed after it was recorded");
      }
    }
    return Status::Ok();
  }));
  for (const std::string& problem : store.load_problems()) report.problems.push_back(problem);
  return report;
}

}  // namespace custos::lineage
