// JSON views of access requests, grants and audit events: the same shape in API responses
// and in the CLI's --json output.
// Thread-safety: free functions over values.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "access/records.h"
#include "audit/event.h"
#include "policy/value.h"

namespace custos::server {

nlohmann::ordered_json UidList(const std::vector<policy::EntityUid>& uids);
nlohmann::ordered_json RequestJson(const access::AccessRequest& r);
nlohmann::ordered_json GrantJson(const access::Grant& g);
nlohmann::ordered_json EventJson(uint64_t index, const audit::AuditEvent& e);

}  // namespace custos::server
