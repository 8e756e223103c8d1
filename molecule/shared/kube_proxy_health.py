"""A stand-in for kube-proxy's health endpoints, answering exactly as kube-proxy does.

Used by the lab (molecule/failover, kube_service.yml) and by the health agent's
tests. Two servers, as kube-proxy runs them:

* a Service's health check (healthCheckNodePort, externalTrafficPolicy: Local),
  any path: 200 when the Service has local endpoints and the proxy is healthy,
  else 503, with the JSON body of pkg/proxy/healthcheck/service_health.go
  (hcHandler.ServeHTTP), formatted the same way (tab-indented, no final newline);
  a "closed" health check answers 200 with an empty body, as kube-proxy's
  handler does when the Service is gone from its map;
* kube-proxy's /healthz (pkg/proxy/healthcheck/proxy_health.go): 200 or 503
  with the ProxyHealth JSON, 503 while the node is not eligible (being deleted
  or tainted ToBeDeletedByClusterAutoscaler) or the proxy is unhealthy.

The answers follow a JSON state file, read on every request, so the lab flips
them by rewriting it: {"namespace": "lab", "name": "web", "localEndpoints": 1,
"healthy": true, "eligible": true, "closed": false}.

Usage: kube_proxy_health.py STATE_FILE HOST SERVICE_PORT [HEALTHZ_PORT]
"""

import datetime
import http.server
import json
import socket
import sys
import threading


def read_state(path):
    state = {"namespace": "default", "name": "web", "localEndpoints": 0, "healthy": True, "eligible": True, "closed": False}
    try:
        with open(path) as handle:
            state.update(json.load(handle))
    except (OSError, ValueError):
        pass
    return state


def service_body(state):
    # fmt.Sprintf of the dedented template: %q strings, %d count, %v bool.
    return '{\n\t"service": {\n\t\t"namespace": %s,\n\t\t"name": %s\n\t},\n\t"localEndpoints": %d,\n\t"serviceProxyHealthy": %s\n}' % (
        json.dumps(state["namespace"]),
        json.dumps(state["name"]),
        state["localEndpoints"],
        "true" if state["healthy"] else "false",
    )


def healthz_body(state, healthy):
    now = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {
            "lastUpdated": now,
            "currentTime": now,
            "nodeEligible": bool(state["eligible"]),
            "healthy": bool(state["healthy"]),
            "status": {"IPv4": {"lastUpdated": now, "healthy": bool(state["healthy"])}},
        },
        separators=(",", ":"),
    )


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state_file = None
    healthz = False

    def do_GET(self):  # noqa: N802 (http.server's naming)
        state = read_state(self.state_file)
        if self.healthz:
            if self.path.split("?")[0] != "/healthz":
                self.answer(404, b"404 page not found\n", "text/plain; charset=utf-8")
                return
            healthy = bool(state["healthy"]) and bool(state["eligible"])
            self.answer(200 if healthy else 503, healthz_body(state, healthy).encode())
            return
        if state["closed"]:
            self.answer(200, b"", None)
            return
        ok = state["localEndpoints"] != 0 and state["healthy"]
        self.answer(200 if ok else 503, service_body(state).encode())

    def answer(self, status, body, content_type="application/json"):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
            self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host, port, handler):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), handler)


def serve(state_file, host, port, healthz_port=None):
    """Start the servers in threads; returns them (call .shutdown() on each)."""
    servers = []
    for number, healthz in ((port, False), (healthz_port, True)):
        if number is None:
            continue
        handler = type("Handler", (Handler,), {"state_file": state_file, "healthz": healthz})
        server = Server(host, number, handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    return servers


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__.strip().splitlines()[-1] + "\n")
        return 2
    serve(argv[0], argv[1], int(argv[2]), int(argv[3]) if len(argv) == 4 else None)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
