"""The lab's service behind the anycast VIPs: answers GET with the node's name (GET /ip: the client's address).

http.server's own command line would do, but its listen backlog is 5 and it
logs every request: under the failover benchmark's 100 connections a second
on a two-core machine, a busy moment overflowed the backlog and the fabric
got blamed for the dropped connections. One dual-stack socket on every
address (VIPs on lo included).
"""

import http.server
import socket
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        # /ip: the client's address as this node sees it (no NAT may hide it).
        body = (self.client_address[0].removeprefix("::ffff:") + "\n").encode() if self.path == "/ip" else self.body
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    request_queue_size = 1024
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def main():
    port, body_file = int(sys.argv[1]), sys.argv[2]
    with open(body_file, "rb") as handle:
        Handler.body = handle.read()
    Server(("::", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
