# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab: long-lived TCP connections to an anycast VIP, and which of them an ECMP change broke.

Four commands, standard library only:

  serve PORT NAME   on every node: a line-echo service; every line it gets is
                    answered with "NAME line" (so the client knows the node).
  run               on the client: opens --connections (default 200) TCP
                    connections to --target:--port, each sending one line
                    every --interval (default 0.1 s) and waiting for the echo.
                    Per connection it records the node that answers, and
                    when it was reset (RST, EOF or another socket error) or
                    stalled (no answer for more than --stall, default 1 s;
                    it recovers if an answer comes later). Runs until
                    --duration or --stop-file; writes JSON (--out).
  sample            on the client: opens --count (default 5000) short TCP
                    connections to --target:--port, --parallel (default 32)
                    at a time, each sending one line, reading the answering
                    node and closing with a reset (SO_LINGER 0: no TIME_WAIT,
                    so the source ports do not run out), for at most
                    --duration seconds if given; prints JSON: the
                    answers per node, the failures, the seconds taken. Each
                    connection has a new source port, so the routers' layer-4
                    hashes spread them as they spread new client flows.
  report FILE       given the event window (--start/--end, wall-clock
                    seconds, as `date +%s.%N` prints them; default: the whole
                    run) and the node(s) that changed (--changed), counts
                    connections reset or stalled on the changed node(s) and
                    on every other node (collateral), as JSON.

A connection is never reopened: each run measures the connections open
when it started. Wall-clock times, so a benchmark on the host can give the
window of an event it caused (the lab's containers share the host's clock).
"""

import argparse
import asyncio
import json
import os
import socket
import struct
import sys
import time


# ---------------------------------------------------------------- server
async def _serve_one(name, reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(name + b" " + line)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(port, name):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    sock.listen(4096)
    server = await asyncio.start_server(lambda r, w: _serve_one(name.encode(), r, w), sock=sock)
    async with server:
        await server.serve_forever()


# ---------------------------------------------------------------- client
class Conn(object):
    def __init__(self, index):
        self.index = index
        self.local_port = None
        self.node = None
        self.opened = None
        self.answers = 0
        self.reset = None  # wall-clock time
        self.reset_why = None
        self.stalls = []  # [started, recovered or None]

    def record(self):
        return {
            "id": self.index,
            "local_port": self.local_port,
            "node": self.node,
            "opened": self.opened,
            "answers": self.answers,
            "reset": self.reset,
            "reset_why": self.reset_why,
            "stalls": self.stalls,
        }


async def _hold(conn, args, stop):
    """Open one connection and ping it until stop is set or it breaks."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(args.target, args.port), args.connect_timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        conn.reset, conn.reset_why = time.time(), "connect: %s" % exc.__class__.__name__
        return
    conn.local_port = writer.get_extra_info("sockname")[1]
    conn.opened = time.time()
    seq = 0
    try:
        while not stop.is_set():
            seq += 1
            sent = time.time()
            writer.write(b"%d\n" % seq)
            await writer.drain()
            line = None
            stalled = None
            while line is None:
                try:
                    wait = args.stall - (time.time() - sent) if stalled is None else 1.0
                    line = await asyncio.wait_for(reader.readline(), max(wait, 0.001))
                except asyncio.TimeoutError:
                    if stalled is None:
                        stalled = [sent + args.stall, None]
                        conn.stalls.append(stalled)
                    if stop.is_set():
                        return
            if not line:
                conn.reset, conn.reset_why = time.time(), "eof"
                return
            if stalled is not None:
                stalled[1] = time.time()
            node, _sep, echoed = line.strip().partition(b" ")
            node = node.decode(errors="replace")
            if echoed != b"%d" % seq:
                conn.reset, conn.reset_why = time.time(), "garbled"
                return
            if conn.node is None:
                conn.node = node
            elif conn.node != node:  # cannot happen with TCP; say so if it does
                conn.reset, conn.reset_why = time.time(), "moved to %s" % node
                return
            conn.answers += 1
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, sent + args.interval - time.time()))
            except asyncio.TimeoutError:
                pass
    except (ConnectionResetError, BrokenPipeError) as exc:
        conn.reset, conn.reset_why = time.time(), "reset" if isinstance(exc, ConnectionResetError) else "broken pipe"
    except OSError as exc:
        conn.reset, conn.reset_why = time.time(), exc.__class__.__name__
    finally:
        writer.close()


async def run(args):
    stop = asyncio.Event()
    conns = [Conn(i) for i in range(args.connections)]
    tasks = []
    started = time.time()
    for conn in conns:
        tasks.append(asyncio.ensure_future(_hold(conn, args, stop)))
        # Spread the connections' pings over the interval.
        await asyncio.sleep(args.interval / max(1, args.connections))
    # Every connection has answered once (or failed): then we are ready.
    deadline = time.time() + 30
    while time.time() < deadline and any(c.node is None and c.reset is None for c in conns):
        await asyncio.sleep(0.05)
    ready = time.time()
    if args.ready_file:
        with open(args.ready_file, "w") as handle:
            handle.write("%f\n" % ready)
    while time.time() - started < args.duration and not (args.stop_file and os.path.exists(args.stop_file)):
        await asyncio.sleep(0.05)
    stopped = time.time()
    stop.set()
    await asyncio.gather(*tasks)
    return {
        "target": args.target,
        "port": args.port,
        "interval_s": args.interval,
        "stall_s": args.stall,
        "started": started,
        "ready": ready,
        "stopped": stopped,
        "connections": [c.record() for c in conns],
    }


# ---------------------------------------------------------------- sample
async def _sample_one(args):
    """The node answering one new connection, or None (the connection failed)."""
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(args.target, args.port), args.connect_timeout)
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.write(b"1\n")
        line = await asyncio.wait_for(reader.readline(), args.connect_timeout)
    except (OSError, asyncio.TimeoutError):
        return None
    finally:
        if writer is not None:
            writer.close()
    node, _sep, echoed = line.strip().partition(b" ")
    return node.decode(errors="replace") if echoed == b"1" else None


async def sample(args):
    counts = {}
    failed = 0
    started = time.time()
    left = [args.count]

    deadline = started + args.duration if args.duration else None

    async def worker():
        nonlocal failed
        while left[0] > 0 and (deadline is None or time.time() < deadline):
            left[0] -= 1
            node = await _sample_one(args)
            if node is None:
                failed += 1
            else:
                counts[node] = counts.get(node, 0) + 1

    await asyncio.gather(*(worker() for _worker in range(max(1, min(args.parallel, args.count)))))
    return {"target": args.target, "port": args.port, "count": args.count, "answered": sum(counts.values()),
            "failed": failed, "seconds": round(time.time() - started, 3), "per_node": dict(sorted(counts.items()))}


# ---------------------------------------------------------------- report
def report(data, changed, start=None, end=None):
    """Counts of connections broken in [start, end], on the changed node(s) and elsewhere."""
    start = data["ready"] if start is None else start
    end = data["stopped"] if end is None else end
    changed = set(changed)
    per_node = {}
    out = {
        "window": [start, end],
        "changed": sorted(changed),
        "connections": 0,
        "not_established": 0,
        "on_changed": {"connections": 0, "reset": 0, "stalled": 0},
        "collateral": {"connections": 0, "reset": 0, "stalled": 0},
        "outside_window": 0,
        "per_node": per_node,
        "broken": [],
    }
    for conn in data["connections"]:
        if conn["node"] is None:
            out["not_established"] += 1
            continue
        out["connections"] += 1
        side = out["on_changed"] if conn["node"] in changed else out["collateral"]
        node = per_node.setdefault(conn["node"], {"connections": 0, "reset": 0, "stalled": 0})
        side["connections"] += 1
        node["connections"] += 1
        reset = conn["reset"] is not None and start <= conn["reset"] <= end
        stalled = any(start <= s[0] <= end for s in conn["stalls"])
        if (conn["reset"] is not None and not reset) or any(not start <= s[0] <= end for s in conn["stalls"]):
            out["outside_window"] += 1
        # A connection that stalled and then was reset counts as reset.
        if reset:
            side["reset"] += 1
            node["reset"] += 1
        elif stalled:
            side["stalled"] += 1
            node["stalled"] += 1
        if reset or stalled:
            out["broken"].append({
                "node": conn["node"], "local_port": conn["local_port"],
                "reset_s": round(conn["reset"] - start, 3) if reset else None, "why": conn["reset_why"] if reset else None,
                "stalled_s": [round(s[0] - start, 3) for s in conn["stalls"] if start <= s[0] <= end],
            })
    return out


# ---------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="line-echo service answering with this node's name")
    p_serve.add_argument("port", type=int)
    p_serve.add_argument("name")
    p_run = sub.add_parser("run", help="hold long-lived connections to the VIP")
    p_run.add_argument("--target", required=True, help="the VIP")
    p_run.add_argument("--port", type=int, default=7000)
    p_run.add_argument("--connections", type=int, default=200)
    p_run.add_argument("--interval", type=float, default=0.1, help="seconds between messages on a connection (default 0.1)")
    p_run.add_argument("--stall", type=float, default=1.0, help="seconds without an answer that count as a stall (default 1)")
    p_run.add_argument("--connect-timeout", type=float, default=3.0)
    p_run.add_argument("--duration", type=float, default=600.0, help="seconds to run at most (default 600)")
    p_run.add_argument("--stop-file", help="stop as soon as this file exists")
    p_run.add_argument("--ready-file", help="written (wall-clock time) once every connection has answered")
    p_run.add_argument("--out", help="write the JSON here (default: standard output)")
    p_smp = sub.add_parser("sample", help="count the nodes answering many new short connections to the VIP")
    p_smp.add_argument("--target", required=True, help="the VIP")
    p_smp.add_argument("--port", type=int, default=7000)
    p_smp.add_argument("--count", type=int, default=5000, help="connections to open (default 5000)")
    p_smp.add_argument("--parallel", type=int, default=32, help="connections open at a time (default 32)")
    p_smp.add_argument("--connect-timeout", type=float, default=3.0)
    p_smp.add_argument("--duration", type=float, help="stop after this many seconds even if --count are not done")
    p_rep = sub.add_parser("report", help="count broken connections in an event window")
    p_rep.add_argument("file", help="the JSON written by run")
    p_rep.add_argument("--changed", action="append", default=[], help="a node that changed (repeat for several)")
    p_rep.add_argument("--start", type=float, help="window start, wall-clock seconds (default: when ready)")
    p_rep.add_argument("--end", type=float, help="window end (default: when stopped)")
    args = parser.parse_args(argv)

    if args.command == "serve":
        asyncio.run(serve(args.port, args.name))
        return 0
    if args.command == "run":
        result = asyncio.run(run(args))
        text = json.dumps(result) + "\n"
        if args.out:
            with open(args.out + ".tmp", "w") as handle:
                handle.write(text)
            os.rename(args.out + ".tmp", args.out)
        else:
            sys.stdout.write(text)
        return 0
    if args.command == "sample":
        sys.stdout.write(json.dumps(asyncio.run(sample(args))) + "\n")
        return 0
    with open(args.file) as handle:
        data = json.load(handle)
    sys.stdout.write(json.dumps(report(data, args.changed, args.start, args.end), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
