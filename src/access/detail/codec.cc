// JSON encodings of purposes, requests and grants; decoding errors become DataLoss.
#include "access/detail/codec.h"

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/key_encoding.h"

namespace custos::access::detail {
namespace {

using Json = nlohmann::json;
using policy::EntityUid;

Json Uid(const EntityUid& u) { return Json::array({u.type(), u.id()}); }
EntityUid Uid(const Json& j) {
  return EntityUid(j.at(0).get<std::string>(), j.at(1).get<std::string>());
}
Json Uids(const std::vector<EntityUid>& list) {
  Json a = Json::array();
  for (const auto& u : list) a.push_back(Uid(u));
  return a;
}
std::vector<EntityUid> Uids(const Json& j) {
  std::vector<EntityUid> out;
  for (const auto& u : j) out.push_back(Uid(u));
  return out;
}
int64_t Micros(common::TimePoint t) { return common::ToUnixMicros(t); }
common::TimePoint Time(const Json& j) { return common::FromUnixMicros(j.get<int64_t>()); }

std::string Key(std::string_view kind, std::string_view id) {
  return common::KeyBuilder().AddString(kind).AddString(id).Release();
}

Status Corrupt(std::string_view what, std::string_view key, const std::exception& e) {
  return DataLossError("stored " + std::string(what) + " " +
                       common::HexEncode(common::AsBytes(key)) + " does not decode: " + e.what());
}

}  // namespace

std::string PurposeKey(std::string_view id) { return Key("purpose", id); }
std::string RequestKey(std::string_view id) { return Key("request", id); }
std::string GrantKey(std::string_view id) { return Key("grant", id); }
std::string GrantUseKey(std::string_view id) { return Key("grant-use", id); }
std::string KindPrefix(std::string_view kind) {
  return common::KeyBuilder().AddString(kind).Release();
}

std::string EncodePurpose(const Purpose& p) {
  Json j;
  j["id"] = p.id;
  j["description"] = p.description;
  if (p.max_duration) j["max_duration_s"] = p.max_duration->count();
  return j.dump();
}

Result<Purpose> DecodePurpose(std::string_view key, std::string_view text) {
  try {
    Json j = Json::parse(text);
    Purpose p;
    p.id = j.at("id").get<std::string>();
    p.description = j.at("description").get<std::string>();
    if (j.contains("max_duration_s")) {
      p.max_duration = std::chrono::seconds(j.at("max_duration_s").get<int64_t>());
    }
    return p;
  } catch (const std::exception& e) {
    return Corrupt("purpose", key, e);
  }
}

std::string EncodeRequest(const AccessRequest& r) {
  Json j;
  j["id"] = r.id;
  j["requester"] = Uid(r.requester);
  j["purpose"] = r.purpose;
  j["resources"] = Uids(r.resources);
  j["actions"] = r.actions;
  j["duration_s"] = r.duration.count();
  j["justification"] = r.justification;
  j["classification"] = static_cast<int>(r.classification);
  j["state"] = static_cast<int>(r.state);
  j["created_us"] = Micros(r.created);
  j["decided_us"] = Micros(r.decided);
  Json approvals = Json::array();
  for (const auto& a : r.approvals) {
    Json aj;
    aj["approver"] = Uid(a.approver);
    aj["time_us"] = Micros(a.time);
    if (a.mfa_time) aj["mfa_us"] = Micros(*a.mfa_time);
    aj["mfa_fresh"] = a.mfa_fresh;
    approvals.push_back(std::move(aj));
  }
  j["approvals"] = std::move(approvals);
  if (r.denied_by) j["denied_by"] = Uid(*r.denied_by);
  j["reason"] = r.decision_reason;
  j["grant_id"] = r.grant_id;
  return j.dump();
}

Result<AccessRequest> DecodeRequest(std::string_view key, std::string_view text) {
  try {
    Json j = Json::parse(text);
    AccessRequest r;
    r.id = j.at("id").get<std::string>();
    r.requester = Uid(j.at("requester"));
    r.purpose = j.at("purpose").get<std::string>();
    r.resources = Uids(j.at("resources"));
    r.actions = j.at("actions").get<std::vector<std::string>>();
    r.duration = std::chrono::seconds(j.at("duration_s").get<int64_t>());
    r.justification = j.at("justification").get<std::string>();
    int c = j.at("classification").get<int>();
    int s = j.at("state").get<int>();
    if (c < 0 || c > 3 || s < 0 || s > 5) throw std::out_of_range("classification or state");
    r.classification = static_cast<catalog::Classification>(c);
    r.state = static_cast<RequestState>(s);
    r.created = Time(j.at("created_us"));
    r.decided = Time(j.at("decided_us"));
    for (const auto& aj : j.at("approvals")) {
      Approval a;
      a.approver = Uid(aj.at("approver"));
      a.time = Time(aj.at("time_us"));
      if (aj.contains("mfa_us")) a.mfa_time = Time(aj.at("mfa_us"));
      a.mfa_fresh = aj.at("mfa_fresh").get<bool>();
      r.approvals.push_back(std::move(a));
    }
    if (j.contains("denied_by")) r.denied_by = Uid(j.at("denied_by"));
    r.decision_reason = j.at("reason").get<std::string>();
    r.grant_id = j.at("grant_id").get<std::string>();
    return r;
  } catch (const std::exception& e) {
    return Corrupt("access request", key, e);
  }
}

std::string EncodeGrant(const Grant& g) {
  Json j;
  j["id"] = g.id;
  j["request_id"] = g.request_id;
  j["grantee"] = Uid(g.grantee);
  j["purpose"] = g.purpose;
  j["resources"] = Uids(g.resources);
  j["actions"] = g.actions;
  j["approvers"] = Uids(g.approvers);
  j["granted_us"] = Micros(g.granted);
  j["expires_us"] = Micros(g.expires);
  j["state"] = static_cast<int>(g.state);
  j["ended_us"] = Micros(g.ended);
  if (g.revoked_by) j["revoked_by"] = Uid(*g.revoked_by);
  j["revoke_reason"] = g.revoke_reason;
  return j.dump();
}

Result<Grant> DecodeGrant(std::string_view key, std::string_view text) {
  try {
    Json j = Json::parse(text);
    Grant g;
    g.id = j.at("id").get<std::string>();
    g.request_id = j.at("request_id").get<std::string>();
    g.grantee = Uid(j.at("grantee"));
    g.purpose = j.at("purpose").get<std::string>();
    g.resources = Uids(j.at("resources"));
    g.actions = j.at("actions").get<std::vector<std::string>>();
    g.approvers = Uids(j.at("approvers"));
    g.granted = Time(j.at("granted_us"));
    g.expires = Time(j.at("expires_us"));
    int s = j.at("state").get<int>();
    if (s < 0 || s > 2) throw std::out_of_range("state");
    g.state = static_cast<GrantState>(s);
    g.ended = Time(j.at("ended_us"));
    if (j.contains("revoked_by")) g.revoked_by = Uid(j.at("revoked_by"));
    g.revoke_reason = j.at("revoke_reason").get<std::string>();
    return g;
  } catch (const std::exception& e) {
    return Corrupt("grant", key, e);
  }
}

}  // namespace custos::access::detail
