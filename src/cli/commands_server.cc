// `custos server`: the HTTPS API on one data directory, with embedded storage. Listens on
// 127.0.0.1:8443 (TLS, certificate from the data directory's CA) by default; adds an mTLS
// listener for service accounts and, on loopback only and only when asked, plain HTTP.
// Stops gracefully on SIGINT/SIGTERM: in-flight requests finish, the audit log is flushed.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/instance_flags.h"
#include "cli/output.h"
#include "cli/unseal_input.h"
#include "server/api.h"
#include "server/http_server.h"

namespace custos::cli {
namespace {

struct ServerFlags {
  InstanceFlags instance;
  std::string listen = "127.0.0.1:8443";
  std::string mtls_listen;
  std::string plain_listen;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  size_t threads = 2;
  size_t workers = 2;
  double rate = 2000;
  double burst = 4000;
  size_t max_body_bytes = 8 << 20;
  int grace_seconds = 10;
  int header_timeout_ms = 10000;
  std::string ready_file;
  std::string ca_out;
  std::string lineage_emit;
  std::string lineage_emit_ca;
  std::string lineage_emit_token_file;
};

// "127.0.0.1:8443", "[::1]:8443" -> address and port.
Result<server::ListenerOptions> ParseListen(const std::string& text, const std::string& flag,
                                            server::ListenerOptions::Security security) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return InvalidArgumentError(flag + " " + text + ": write ADDRESS:PORT, e.g. 127.0.0.1:8443");
  }
  std::string address = text.substr(0, colon);
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  uint32_t port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || (port = port * 10 + static_cast<uint32_t>(c - '0')) > 65535) {
      return InvalidArgumentError(flag + " " + text + ": the port must be 0..65535");
    }
  }
  server::ListenerOptions listener;
  listener.name = flag.substr(2);
  listener.address = address;
  listener.port = static_cast<uint16_t>(port);
  listener.security = security;
  return listener;
}

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.good()) return UnavailableError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return UnavailableError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::Ok();
}

int RunServer(const ServerFlags& f) {
  // Block the stop signals before any thread starts, so every thread inherits the mask and
  // only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::vector<server::ListenerOptions> listeners;
  using Security = server::ListenerOptions::Security;
  for (const auto& [text, flag, security] :
       {std::tuple{f.listen, std::string("--listen"), Security::kTls},
        std::tuple{f.mtls_listen, std::string("--mtls-listen"), Security::kMutualTls},
        std::tuple{f.plain_listen, std::string("--plain-listen"), Security::kPlain}}) {
    if (text.empty()) continue;
    auto listener = ParseListen(text, flag, security);
    if (!listener.ok()) return Fail(listener.status());
    listeners.push_back(std::move(*listener));
  }
  if (listeners.empty()) {
    return Fail(
        InvalidArgumentError("give at least one of --listen, --mtls-listen, --plain-listen"));
  }

  auto dir = OpenDataDir(f.instance.dir, f.instance.unseal);
  if (!dir.ok()) return Fail(dir.status());
  server::InstanceOptions instance_options;
  instance_options.expiry_interval = std::chrono::seconds(1);
  instance_options.lineage_emit = f.lineage_emit;
  instance_options.lineage_emit_ca_file = f.lineage_emit_ca;
  if (!f.lineage_emit_token_file.empty()) {
    std::ifstream token_file(f.lineage_emit_token_file);
    if (!std::getline(token_file, instance_options.lineage_emit_token)) {
      return Fail(InvalidArgumentError("--lineage-emit-token-file " + f.lineage_emit_token_file +
                                       ": cannot read a token from its first line"));
    }
  }
  auto opened = server::Instance::Open(std::move(*dir), std::move(instance_options));
  if (!opened.ok()) return Fail(opened.status());
  server::Instance& in = **opened;

  auto ca = in.ca();
  if (!ca.ok()) return Fail(ca.status());
  identity::ServerCertificateRequest cert_request;
  cert_request.dns_names = f.dns_names;
  cert_request.ip_addresses = f.ip_addresses;
  identity::Caller operator_caller{"cli", "", audit::AuthMethod::kEmbedded};
  auto certificate = (*ca)->IssueServerCertificate(cert_request, operator_caller);
  if (!certificate.ok()) return Fail(certificate.status());
  if (!f.ca_out.empty()) {
    if (Status s = WriteFileAtomically(f.ca_out, (*ca)->certificate_pem()); !s.ok()) return Fail(s);
  }

  server::HttpServer* transport = nullptr;
  server::ApiOptions api_options;
  api_options.rate_limit = {f.rate, f.burst};
  api_options.worker_threads = f.workers;
  api_options.transport_gauges = [&transport] {
    std::vector<server::Metrics::Gauge> gauges;
    if (transport == nullptr) return gauges;
    const server::TransportStats s = transport->stats();
    gauges.push_back({"custos_http_connections_open",
                      "Open client connections.",
                      {{"", static_cast<double>(s.connections_open)}}});
    gauges.push_back({"custos_http_connections_accepted",
                      "Connections accepted since start.",
                      {{"", static_cast<double>(s.connections_total)}}});
    gauges.push_back({"custos_http_tls_handshake_failures",
                      "TLS handshakes that failed (including refused client certificates).",
                      {{"", static_cast<double>(s.tls_handshake_failures)}}});
    return gauges;
  };
  server::Api api(in, std::move(api_options));

  server::HttpServerOptions options;
  options.listeners = listeners;
  options.certificate_pem = certificate->certificate_pem;
  options.private_key_pem = std::move(certificate->private_key_pem);
  options.ca = *ca;
  options.threads = f.threads;
  options.max_body_bytes = f.max_body_bytes;
  // Artifact chunks may be larger than other bodies (their route says how large).
  options.body_limit_for = [&api](server::http::verb method, std::string_view target) {
    return api.BodyLimitFor(method, target);
  };
  options.header_timeout = std::chrono::milliseconds(f.header_timeout_ms);
  auto started = server::HttpServer::Start(
      std::move(options),
      [&api](server::HttpRequest request, const server::PeerInfo& peer,
             std::shared_ptr<server::Responder> responder) {
        api.Dispatch(std::move(request), peer, std::move(responder));
      },
      [&api](server::TransportRefusal refusal, const server::PeerInfo& peer,
             std::shared_ptr<server::Responder> responder) {
        api.Refuse(refusal, peer, std::move(responder));
      });
  if (!started.ok()) return Fail(started.status());
  transport = started->get();

  const std::vector<uint16_t> ports = transport->ports();
  nlohmann::ordered_json ready;
  for (size_t i = 0; i < listeners.size(); ++i) {
    const auto& l = listeners[i];
    const std::string scheme = l.security == Security::kPlain ? "http" : "https";
    const std::string host =
        l.address.find(':') == std::string::npos ? l.address : "[" + l.address + "]";
    const std::string url = scheme + "://" + host + ":" + std::to_string(ports[i]);
    ready[l.name] = {{"url", url}, {"port", ports[i]}};
    std::cout << "custos: " << l.name << " on " << url
              << (l.security == Security::kMutualTls ? " (client certificates required)" : "")
              << "\n";
  }
  ready["pid"] = static_cast<int64_t>(getpid());
  std::cout << "custos: serving " << api.router().routes().size() << " routes; stop with Ctrl-C"
            << std::endl;
  if (!f.ready_file.empty()) {
    if (Status s = WriteFileAtomically(f.ready_file, ready.dump() + "\n"); !s.ok()) {
      transport->Shutdown(std::chrono::seconds(0));
      return Fail(s);
    }
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cout << "custos: " << (signal_number == SIGTERM ? "SIGTERM" : "SIGINT")
            << ": finishing requests in flight (up to " << f.grace_seconds << " s)" << std::endl;
  transport->Shutdown(std::chrono::seconds(f.grace_seconds));
  api.Drain();
  started->reset();
  opened->reset();  // closes the audit log: the queue is flushed and a checkpoint signed
  std::cout << "custos: stopped; the audit log is flushed" << std::endl;
  return 0;
}

}  // namespace

void AddServerCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<ServerFlags>();
  CLI::App* cmd = app.add_subcommand(
      "server", "Serve the HTTPS API (/v1) on this data directory (docs/openapi.yaml)");
  AddInstanceFlags(cmd, f->instance);
  cmd->add_option("--listen", f->listen, "HTTPS address:port (empty string: none)")
      ->capture_default_str();
  cmd->add_option("--mtls-listen", f->mtls_listen,
                  "HTTPS address:port that requires client certificates from the custos CA");
  cmd->add_option("--plain-listen", f->plain_listen,
                  "Clear-text HTTP address:port, loopback only (tests, local tools)");
  cmd->add_option("--dns", f->dns_names, "DNS name for the server certificate besides localhost");
  cmd->add_option("--ip", f->ip_addresses, "IP address for the certificate besides 127.0.0.1, ::1");
  cmd->add_option("--threads", f->threads, "I/O threads")->capture_default_str();
  cmd->add_option("--workers", f->workers, "Handler threads")->capture_default_str();
  cmd->add_option("--rate", f->rate, "Requests/s per principal (token bucket)")
      ->capture_default_str();
  cmd->add_option("--burst", f->burst, "Burst per principal")->capture_default_str();
  cmd->add_option("--max-body-bytes", f->max_body_bytes, "Largest request body")
      ->capture_default_str();
  cmd->add_option("--header-timeout-ms", f->header_timeout_ms,
                  "The TLS handshake and request header must arrive within this")
      ->capture_default_str();
  cmd->add_option("--grace", f->grace_seconds, "Seconds in-flight requests get on shutdown")
      ->capture_default_str();
  cmd->add_option("--ready-file", f->ready_file,
                  "Write the listeners' URLs and ports (JSON) here once serving");
  cmd->add_option("--ca-out", f->ca_out, "Write the CA certificate (PEM) clients must trust");
  cmd->add_option("--lineage-emit", f->lineage_emit,
                  "Emit custos's own lineage as OpenLineage: file:/path.jsonl or "
                  "http(s)://host[:port] (Marquez's POST /api/v1/lineage)");
  cmd->add_option("--lineage-emit-ca", f->lineage_emit_ca,
                  "CA file to trust for an https --lineage-emit endpoint");
  cmd->add_option("--lineage-emit-token-file", f->lineage_emit_token_file,
                  "Bearer token for the --lineage-emit endpoint (first line of the file)");
  cmd->callback([f, exit_code] { *exit_code = RunServer(*f); });
}

}  // namespace custos::cli
