// Operations routes: liveness, readiness and Prometheus metrics. Public and not audited:
// they reveal no data, and auditing every probe would grow the log with each scrape.
#include "crypto/keyring.h"
#include "server/api.h"

namespace custos::server {
namespace {

std::vector<Metrics::Gauge> InstanceGauges(Instance& in) {
  std::vector<Metrics::Gauge> gauges;
  gauges.push_back({"custos_audit_log_entries",
                    "Durable entries in the audit log.",
                    {{"", static_cast<double>(in.audit().size())}}});
  gauges.push_back({"custos_audit_checkpoint_entries",
                    "Entries the newest signed checkpoint covers.",
                    {{"", static_cast<double>(in.audit().checkpoint_size())}}});
  gauges.push_back({"custos_audit_checkpoint_age_seconds",
                    "Seconds the newest checkpoint has lagged behind the log (0 when current).",
                    {{"", static_cast<double>(in.audit().checkpoint_age().count())}}});
  auto report = in.dir().keyring().Compliance();
  if (report.ok()) {
    Metrics::Gauge ages{"custos_kek_age_seconds", "Age of each key-encryption-key version.", {}};
    for (const auto& kek : report->keks) {
      ages.samples.push_back({"version=\"" + std::to_string(kek.info.version) + "\",state=\"" +
                                  std::string(crypto::KekStateName(kek.info.state)) + "\"",
                              static_cast<double>(kek.age.count()) * 3600});
    }
    gauges.push_back(std::move(ages));
    gauges.push_back({"custos_kek_rotation_due",
                      "1 when the current KEK is older than the rotation period.",
                      {{"", report->rotation_due ? 1.0 : 0.0}}});
    gauges.push_back({"custos_data_keys",
                      "Data keys wrapped by the keyring.",
                      {{"", static_cast<double>(report->deks_total)}}});
  }
  return gauges;
}

}  // namespace

void AddOpsRoutes(Router& router, Api& api) {
  router.Add({.id = "ops.health",
              .method = http::verb::get,
              .path = "/v1/health",
              .summary = "Liveness: the process answers",
              .authenticated = false,
              .audited = false,
              .on_worker = false,
              .handler = [](RequestContext&) -> Result<Reply> {
                return Reply::Json(R"({"status":"ok"})");
              }});
  router.Add({.id = "ops.ready",
              .method = http::verb::get,
              .path = "/v1/ready",
              .summary = "Readiness: unsealed and the audit log can record requests",
              .authenticated = false,
              .audited = false,
              .on_worker = false,
              .handler = [&api](RequestContext&) -> Result<Reply> {
                if (Status s = api.instance().audit().Health(); !s.ok()) {
                  return UnavailableError("not ready: the audit log cannot record requests (" +
                                          std::string(s.message()) + ")");
                }
                return Reply::Json(R"({"status":"ready"})");
              }});
  router.Add({.id = "ops.metrics",
              .method = http::verb::get,
              .path = "/v1/metrics",
              .summary = "Prometheus metrics (text format 0.0.4)",
              .authenticated = false,
              .audited = false,
              .handler = [&api](RequestContext&) -> Result<Reply> {
                std::vector<Metrics::Gauge> gauges = InstanceGauges(api.instance());
                for (auto& g : api.TransportGauges()) gauges.push_back(std::move(g));
                Reply reply = Reply::Text(api.metrics().Render(gauges));
                reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
                return reply;
              }});
}

}  // namespace custos::server
