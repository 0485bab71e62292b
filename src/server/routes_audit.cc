// Audit routes. Query reads decrypted events (Cedar action "audit_read" on
// AuditLog::"main"); the checkpoint, verifier key, receipts and tiles are the log's public,
// verifiable data (C2SP tlog-tiles paths), so they are served without credentials and not
// audited (a verifier's polling would otherwise grow the log it is checking).
#include "audit/hash_store.h"
#include "audit/log_signer.h"
#include "audit/receipt.h"
#include "server/api.h"
#include "server/json_views.h"

namespace custos::server {
namespace {

// `User::alice` and `User::"alice"` both name a principal.
std::string QuotedPrincipal(std::string_view text) {
  const size_t sep = text.find("::");
  if (sep == std::string_view::npos || text.substr(sep + 2).starts_with('"')) {
    return std::string(text);
  }
  return std::string(text.substr(0, sep)) + "::\"" + std::string(text.substr(sep + 2)) + "\"";
}

Result<audit::EventQuery> QueryOf(const RequestContext& ctx) {
  audit::EventQuery query;
  if (auto v = ctx.QueryOr("principal", ""); !v.empty()) query.principal = QuotedPrincipal(v);
  if (auto v = ctx.QueryOr("resource", ""); !v.empty()) {
    std::string r = v;
    std::erase(r, '"');  // resources are indexed unquoted
    query.resource = r;
  }
  if (auto v = ctx.QueryOr("action", ""); !v.empty()) query.action = v;
  if (auto v = ctx.QueryOr("decision", ""); !v.empty()) {
    if (v != "allow" && v != "deny") {
      return InvalidArgumentError("query parameter decision must be allow or deny, got '" + v +
                                  "'");
    }
    query.decision = v == "allow" ? audit::Decision::kAllow : audit::Decision::kDeny;
  }
  for (auto [name, field] : {std::pair{"since", &query.from}, std::pair{"until", &query.to}}) {
    if (auto v = ctx.QueryOr(name, ""); !v.empty()) {
      auto t = common::ParseRfc3339(v);
      if (!t.ok()) return t.status().WithContext(std::string("query parameter ") + name);
      *field = *t;
    }
  }
  if (auto v = ctx.QueryOr("limit", ""); !v.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(uint64_t limit, ParseWholeNumber(v, "query parameter limit"));
    if (limit == 0 || limit > 1000) {
      return InvalidArgumentError("query parameter limit must be 1..1000");
    }
    query.limit = limit;
  }
  query.page_token = ctx.QueryOr("page_token", "");
  return query;
}

}  // namespace

void AddAuditRoutes(Router& router, Api& api) {
  Instance& in = api.instance();
  router.Add({.id = "audit.events",
              .method = http::verb::get,
              .path = "/v1/audit/events",
              .summary = "Audit events by principal, resource, action, decision and time",
              .authorize =
                  [&in](RequestContext& ctx) {
                    return AuthorizeWithCedar(in, ctx, "audit_read",
                                              policy::EntityUid("AuditLog", "main"));
                  },
              .handler = [&in](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(audit::EventQuery query, QueryOf(ctx));
                CUSTOS_ASSIGN_OR_RETURN(audit::QueryPage page, in.audit().Query(query));
                nlohmann::ordered_json events = nlohmann::ordered_json::array();
                for (const auto& hit : page.hits) events.push_back(EventJson(hit.index, hit.event));
                nlohmann::ordered_json out;
                out["events"] = std::move(events);
                out["next_page_token"] = page.next_page_token;
                return Reply::Json(
                    out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
              }});
  router.Add({.id = "audit.checkpoint",
              .method = http::verb::get,
              .path = "/v1/audit/checkpoint",
              .summary = "The newest signed checkpoint (C2SP signed note)",
              .authenticated = false,
              .audited = false,
              .handler = [&in](RequestContext&) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(std::string note, in.audit().CheckpointNow());
                return Reply::Text(std::move(note));
              }});
  router.Add({.id = "audit.pubkey",
              .method = http::verb::get,
              .path = "/v1/audit/pubkey",
              .summary = "The log's verifier key (vkey)",
              .authenticated = false,
              .audited = false,
              .handler = [&in](RequestContext&) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(
                    audit::NoteVerifier key,
                    audit::ReadPublicKeyFile(in.dir().path() + "/" +
                                             std::string(audit::kPublicKeyFileName)));
                return Reply::Text(key.Vkey() + "\n");
              }});
  router.Add(
      {.id = "audit.proof",
       .method = http::verb::get,
       .path = "/v1/audit/proof/{index}",
       .summary = "A receipt (C2SP tlog-proof) for one entry, with the entry's bytes",
       .authenticated = false,
       .audited = false,
       .handler = [&in](RequestContext& ctx) -> Result<Reply> {
         CUSTOS_ASSIGN_OR_RETURN(uint64_t index, ParseWholeNumber(*ctx.Param("index"), "index"));
         if (index >= in.audit().size()) {
           return NotFoundError("entry " + std::to_string(index) + " is not in the log (it has " +
                                std::to_string(in.audit().size()) + " entries)");
         }
         CUSTOS_ASSIGN_OR_RETURN(audit::Receipt receipt, in.audit().ProveIndex(index));
         CUSTOS_ASSIGN_OR_RETURN(common::Bytes entry, in.audit().ReadEntry(index));
         nlohmann::ordered_json j;
         j["index"] = index;
         j["receipt"] = audit::FormatReceipt(receipt);
         j["entry"] = common::Base64Encode(entry);
         return Reply::Json(j.dump());
       }});
  router.Add(
      {.id = "audit.consistency",
       .method = http::verb::get,
       .path = "/v1/audit/consistency",
       .summary = "An RFC 9162 consistency proof between two tree sizes",
       .authenticated = false,
       .audited = false,
       .handler = [&in](RequestContext& ctx) -> Result<Reply> {
         CUSTOS_ASSIGN_OR_RETURN(uint64_t from,
                                 ParseWholeNumber(ctx.QueryOr("from", ""), "query parameter from"));
         CUSTOS_ASSIGN_OR_RETURN(uint64_t to,
                                 ParseWholeNumber(ctx.QueryOr("to", ""), "query parameter to"));
         if (from == 0 || from > to || to > in.audit().size()) {
           return InvalidArgumentError(
               "need 0 < from <= to <= " + std::to_string(in.audit().size()) + " (the log's size)");
         }
         CUSTOS_ASSIGN_OR_RETURN(std::vector<audit::Hash> proof,
                                 in.audit().ConsistencyProof(from, to));
         nlohmann::ordered_json hashes = nlohmann::ordered_json::array();
         for (const auto& h : proof) hashes.push_back(common::Base64Encode(h));
         return Reply::Json(
             nlohmann::ordered_json{{"from", from}, {"to", to}, {"proof", hashes}}.dump());
       }});
  router.Add(
      {.id = "audit.tile",
       .method = http::verb::get,
       .path = "/v1/audit/tile/{path...}",
       .summary = "C2SP tlog-tiles: hash tiles and entry bundles",
       .authenticated = false,
       .audited = false,
       .handler = [&in](RequestContext& ctx) -> Result<Reply> {
         CUSTOS_ASSIGN_OR_RETURN(
             std::string data,
             audit::ReadTileResource(in.dir().kv(), "tile/" + *ctx.Param("path"), {}));
         Reply reply{http::status::ok, "application/octet-stream", std::move(data), {}, false};
         // Full tiles never change; partial ones are superseded by wider ones.
         reply.headers.push_back({"Cache-Control", "public, max-age=31536000, immutable"});
         return reply;
       }});
}

}  // namespace custos::server
