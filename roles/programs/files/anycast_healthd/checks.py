# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks: tcp, http, https, exec, ipvs and kubernetes (kube-proxy's health check port).

The event-driven checks (systemd_unit, process) are followers, in events.py.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import time

from anycast_healthd import VERSION

KUBE_BODY_MAX = 4096  # kube-proxy's answers are ~150 bytes; more is not kube-proxy
EXEC_OUTPUT_MAX = 200  # characters of an exec check's output kept for the logs
EXEC_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Each returns (ok, error text). The caller measures the latency and enforces
# the timeout as a whole: a reply that arrives late is a failure too.


def describe(check, prefix=None):
    """A short, stable name for a check: log lines and metric labels."""
    kind = check["type"]
    if kind == "tcp":
        return "tcp %s" % _hostport(check["host"], check["port"])
    if kind in ("http", "https"):
        return "%s://%s%s" % (kind, _hostport(check["host"], check["port"]), check["path"])
    if kind == "exec":
        # An argument may hold any character: the name stays on one line.
        return "exec " + " ".join(_one_line(a) for a in check["command"])
    if kind == "kubernetes":
        gate = " +healthz:%d" % check["healthz_port"] if check.get("healthz_port") else ""
        return "kubernetes %s%s%s" % (_hostport(check["host"], check["port"]), " " + check["service"] if check.get("service") else "", gate)
    if kind == "systemd_unit":
        return "systemd_unit " + check["unit"]
    if kind == "process":
        found = [check["pidfile"]] if check.get("pidfile") else []
        return "process " + " ".join(found + ([_one_line(check["name"])] if check.get("name") else []))
    vip = prefix.split("/")[0] if prefix else "VIP"
    return "ipvs %s %s" % (check["protocol"], _hostport(vip, check["port"]))


def _one_line(text):
    """Control characters (newlines included) escaped: one log record, one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def _hostport(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def check_tcp(check, timeout):
    with socket.create_connection((check["host"], check["port"]), timeout=timeout):
        return True, ""


def check_http(check, timeout):
    if check["type"] == "https":
        # The certificate names the service, not the loopback address the
        # check connects to; the check proves that TLS and HTTP answer.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(check["host"], check["port"], timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(check["host"], check["port"], timeout=timeout)
    try:
        conn.request("GET", check["path"], headers={"User-Agent": "anycast-healthd/" + VERSION, "Connection": "close"})
        status = conn.getresponse().status
    finally:
        conn.close()
    if status in check["expect_status"]:
        return True, ""
    return False, "HTTP status %d, expected %s" % (status, "/".join(str(s) for s in check["expect_status"]))


def _http_get(host, port, path, timeout):
    """(status, body bytes) of one GET; at most KUBE_BODY_MAX bytes of the body are read."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"User-Agent": "anycast-healthd/" + VERSION, "Connection": "close"})
        response = conn.getresponse()
        return response.status, response.read(KUBE_BODY_MAX + 1)
    finally:
        conn.close()


def kube_verdict(check, status, body):
    """kube-proxy's answer on a Service's healthCheckNodePort -> (ok, error text).

    kube-proxy (pkg/proxy/healthcheck/service_health.go, hcHandler.ServeHTTP)
    answers any path with 200 when the Service has local endpoints on this node
    and kube-proxy is healthy, else 503, and a JSON body:
    {"service": {"namespace": N, "name": S}, "localEndpoints": K, "serviceProxyHealthy": B}.
    Healthy means exactly: 200, a body of that shape, localEndpoints > 0,
    serviceProxyHealthy not false, and the expected Service (when configured).
    A 200 without that body (kube-proxy closed the port's health check, or
    something else listens there) is not healthy.
    """
    if status not in (200, 503):
        return False, "HTTP status %d (kube-proxy answers 200 or 503)" % status
    try:
        doc = json.loads(body.decode("utf-8")) if len(body) <= KUBE_BODY_MAX else None
    except ValueError:
        doc = None
    count = doc.get("localEndpoints") if isinstance(doc, dict) else None
    service = doc.get("service") if isinstance(doc, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or not isinstance(service, dict):
        return False, "HTTP status %d without kube-proxy's JSON body (service, localEndpoints)" % status
    answered = "%s/%s" % (service.get("namespace"), service.get("name"))
    if check.get("service") and answered != check["service"]:
        return False, "the port answers for Service %s, not %s" % (ascii(answered)[1:-1][:130], check["service"])
    proxy_ok = doc.get("serviceProxyHealthy") is not False
    if status == 200 and count > 0 and proxy_ok:
        return True, ""
    if not proxy_ok:
        return False, "kube-proxy is not healthy (serviceProxyHealthy false; localEndpoints %d)" % count
    return False, "no local endpoint (localEndpoints %d, HTTP status %d)" % (count, status)


def check_kubernetes(check, timeout):
    """kube-proxy's /healthz first (when configured), then the Service's health check port."""
    deadline = time.monotonic() + timeout
    if check.get("healthz_port"):
        status, _body = _http_get(check["host"], check["healthz_port"], "/healthz", timeout)
        if status != 200:
            return False, "kube-proxy /healthz answers HTTP status %d (node not eligible or proxy unhealthy)" % status
    left = deadline - time.monotonic()
    if left <= 0:
        return False, "kube-proxy /healthz used the whole %d ms timeout" % check["timeout_ms"]
    status, body = _http_get(check["host"], check["port"], "/", left)
    return kube_verdict(check, status, body)


def check_exec(check, timeout, env):
    # A session of its own, so that a timeout kills the whole process group
    # (a shell script's children too), not just the direct child.
    proc = subprocess.Popen(
        check["command"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True, close_fds=True
    )
    try:
        output, _err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return False, "still running after %d ms (killed)" % (timeout * 1000)
    if proc.returncode == 0:
        return True, ""
    text = output.decode("utf-8", "replace").strip().replace("\n", " | ")[:EXEC_OUTPUT_MAX]
    return False, "exit status %d%s" % (proc.returncode, ": " + text if text else "")


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.communicate()


IPVS_PROC = "/proc/net/ip_vs"


def parse_ip_vs(text):
    """/proc/net/ip_vs -> {(protocol, address, port): [weights of its real servers]}.

    The kernel prints a virtual service as `TCP  C633640A:0050 rr` (IPv4 as 8
    hex digits, port as 4) or `TCP  [2001:0db8:...]:0050 rr`, followed by its
    real servers as `  -> ADDR:PORT Forward Weight ActiveConn InActConn`.
    Firewall-mark services (`FWM`) have no address and are skipped.
    """
    services, current = {}, None
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "->":
            if current is not None and len(fields) >= 4 and fields[3].lstrip("-").isdigit():
                services[current].append(int(fields[3]))
            continue
        current = None
        if fields[0] in ("TCP", "UDP", "SCTP") and len(fields) >= 2:
            try:
                address, port = _ipvs_endpoint(fields[1])
            except ValueError:
                continue
            current = (fields[0].lower(), address, port)
            services[current] = []
    return services


def _ipvs_endpoint(text):
    addr, _sep, port = text.rpartition(":")
    if addr.startswith("["):
        address = ipaddress.IPv6Address(addr[1:-1])
    else:
        address = ipaddress.IPv4Address(int(addr, 16))
    return address.compressed, int(port, 16)


def check_ipvs(check, prefix):
    try:
        with open(IPVS_PROC) as handle:
            services = parse_ip_vs(handle.read())
    except FileNotFoundError:
        return False, "no IPVS in this kernel (%s is missing; load ip_vs)" % IPVS_PROC
    key = (check["protocol"], prefix.split("/")[0], check["port"])
    if key not in services:
        return False, "no IPVS virtual service %s %s" % (key[0], _hostport(key[1], key[2]))
    weights = services[key]
    if any(w > 0 for w in weights):
        return True, ""
    return False, "the virtual service has no real server with weight > 0 (%d real servers)" % len(weights)


def run_check(check, vip, env=None):
    """Run one check: (ok, latency in seconds, error text)."""
    timeout = check["timeout_ms"] / 1000.0
    started = time.monotonic()
    try:
        if check["type"] == "tcp":
            ok, error = check_tcp(check, timeout)
        elif check["type"] in ("http", "https"):
            ok, error = check_http(check, timeout)
        elif check["type"] == "exec":
            ok, error = check_exec(check, timeout, env or exec_env(vip))
        elif check["type"] == "kubernetes":
            ok, error = check_kubernetes(check, timeout)
        else:
            ok, error = check_ipvs(check, vip["prefix"])
    except socket.timeout:
        ok, error = False, "no answer within %d ms" % check["timeout_ms"]
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        ok, error = False, _error_text(exc)
    latency = time.monotonic() - started
    if ok and latency > timeout:
        ok, error = False, "answered after %d ms, over the %d ms timeout" % (latency * 1000, check["timeout_ms"])
    return ok, latency, error


def _error_text(exc):
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if isinstance(exc, ConnectionError) else exc.strerror
    return str(exc) or exc.__class__.__name__


def exec_env(vip):
    """What an exec check sees: a fixed PATH and which VIP it is checking."""
    return {
        "PATH": EXEC_PATH,
        "LANG": "C.UTF-8",
        "ANYCAST_VIP": vip["prefix"].split("/")[0],
        "ANYCAST_VIP_PREFIX": vip["prefix"],
        "ANYCAST_VIP_NAME": vip.get("name") or "",
    }
