"""A scriptable HTTP(S) server for the client's offline tests: each route is a function
returning (status, headers, body); every request is recorded. Not a custos server."""
import http.server
import json
import socket
import ssl
import threading
from typing import Callable, Dict, List, Optional, Tuple

Reply = Tuple[int, Dict[str, str], object]  # body: bytes, str, dict/list (JSON) or list of lines


class Recorded:
    def __init__(self, method, path, headers, body, connection, peer_cert):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.connection = connection
        self.peer_cert = peer_cert

    def json(self):
        return json.loads(self.body)


class FakeServer:
    def __init__(self, tls: Optional[ssl.SSLContext] = None):
        self.routes: Dict[Tuple[str, str], Callable[[Recorded], Reply]] = {}
        self.requests: List[Recorded] = []
        self.connections = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                server.connections += 1
                self.connection_no = server.connections

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                cert = None
                if isinstance(self.connection, ssl.SSLSocket):
                    cert = self.connection.getpeercert()
                rec = Recorded(self.command, self.path, dict(self.headers), body,
                               self.connection_no, cert)
                server.requests.append(rec)
                route = server.routes.get((self.command, self.path.split("?")[0]))
                if route is None:
                    status, headers, payload = 404, {"Content-Type": "application/problem+json"}, {
                        "type": "https://custos.dev/problems/not-found", "title": "Not Found",
                        "status": 404, "detail": f"no route {self.path}"}
                else:
                    status, headers, payload = route(rec)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if isinstance(payload, list) and headers.get("Transfer-Encoding") == "chunked":
                    self.end_headers()
                    for line in payload:
                        data = line if isinstance(line, bytes) else line.encode()
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                    return
                if isinstance(payload, (dict, list)):
                    data = json.dumps(payload).encode()
                    if "Content-Type" not in headers:
                        self.send_header("Content-Type", "application/json")
                elif isinstance(payload, str):
                    data = payload.encode()
                else:
                    data = payload or b""
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _handle
            do_POST = _handle

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, scheme="http"):
        return f"{scheme}://127.0.0.1:{self.port}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
