"""Lab traffic probe: one new HTTP connection to a VIP every INTERVAL seconds.

Runs on the lab client (standard library only). Each probe opens a TCP
connection, sends a GET and reads the whole answer (the lab service answers
with the node's name); a probe that fails or takes longer than TIMEOUT is
lost. Probes run concurrently, so a slow one never delays the next: the
start times stay INTERVAL apart and the loss window is measured to that
resolution.

Stops after DURATION seconds, or earlier when STOP_FILE appears, and prints
(or writes to OUT) a JSON summary: requests, lost (of which resets: open
connections reset), the loss window (from the first unanswered probe's start
to the last one's, plus one interval), answers per node, and every lost probe.
"""

import argparse
import asyncio
import json
import os
import sys
import time


async def probe(host, port, timeout):
    """(ok, what): the answering node's name, or why the request failed.

    A failure is "connect: ..." when no connection was made (refused,
    unreachable, no answer to the SYN), "reset" when an established
    connection was reset, or "timeout" when it got no answer in time.
    """
    start = time.monotonic()
    writer = None
    try:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except asyncio.TimeoutError:
            return False, "connect: timeout"
        except ConnectionResetError:
            # The handshake completed and a router then moved the flow before
            # the event loop saw the connection up (a SYN answered by RST is
            # ConnectionRefusedError): an open connection reset, like "reset".
            return False, "reset"
        except OSError as exc:
            return False, "connect: %s" % exc.__class__.__name__
        writer.write(b"GET / HTTP/1.0\r\nHost: probe\r\n\r\n")
        left = timeout - (time.monotonic() - start)
        answer = await asyncio.wait_for(reader.read(), max(left, 0.001))
        head, _sep, body = answer.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n", 1)[0] + b" ":
            return False, "status: %s" % head.split(b"\r\n", 1)[0].decode(errors="replace")
        return True, body.decode(errors="replace").strip() or "?"
    except asyncio.TimeoutError:
        return False, "timeout"
    except (ConnectionResetError, BrokenPipeError):
        return False, "reset"
    except OSError as exc:
        return False, exc.__class__.__name__
    finally:
        if writer is not None:
            writer.close()


async def run(args):
    results = []
    tasks = []
    loop_start = time.monotonic()
    wall_start = time.time()

    async def one(index):
        at = loop_start + index * args.interval
        ok, what = await probe(args.target, args.port, args.timeout)
        results.append((index, round(at - loop_start, 3), ok, what))

    index = 0
    while True:
        now = time.monotonic()
        if now - loop_start >= args.duration or (args.stop_file and os.path.exists(args.stop_file)):
            break
        tasks.append(asyncio.ensure_future(one(index)))
        index += 1
        await asyncio.sleep(max(0.0, loop_start + index * args.interval - time.monotonic()))
    await asyncio.gather(*tasks)
    return wall_start, sorted(results)


def summarize(wall_start, results, interval):
    lost = [r for r in results if not r[2]]
    nodes = {}
    for _index, _at, ok, what in results:
        if ok:
            nodes[what] = nodes.get(what, 0) + 1
    # The window spans the unanswered requests; resets (open connections
    # whose flow a router moved, also when a node comes back) are counted
    # apart, or one reset at recovery would stretch the outage to the
    # whole event.
    unanswered = [r for r in lost if r[3] != "reset"]
    window = 0.0
    if unanswered:
        window = unanswered[-1][1] - unanswered[0][1] + interval
    return {
        "started": wall_start,
        "interval_s": interval,
        "requests": len(results),
        "lost": len(lost),
        # Established connections reset mid-request: ECMP moved their flow to
        # another node (which has no such connection) while they were open.
        "resets": sum(1 for r in lost if r[3] == "reset"),
        "loss_window_ms": round(window * 1000),
        "first_lost_s": lost[0][1] if lost else None,
        "nodes": nodes,
        "lost_probes": [{"at_s": at, "why": what} for _index, at, _ok, what in lost],
        # Which node answered, in order, as runs: [[node, from_s, count], ...]
        "runs": _runs(results),
    }


def _runs(results):
    runs = []
    for _index, at, ok, what in results:
        name = what if ok else "LOST"
        if runs and runs[-1][0] == name:
            runs[-1][2] += 1
        else:
            runs.append([name, at, 1])
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--target", required=True, help="the VIP")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between probe starts (default 0.01)")
    parser.add_argument("--timeout", type=float, default=0.5, help="seconds a probe may take (default 0.5)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds to run at most (default 60)")
    parser.add_argument("--stop-file", help="stop as soon as this file exists")
    parser.add_argument("--ready-file", help="create this file once probing has started")
    parser.add_argument("--out", help="write the JSON summary here (default: standard output)")
    args = parser.parse_args()
    if args.ready_file:
        with open(args.ready_file, "w"):
            pass
    wall_start, results = asyncio.run(run(args))
    summary = summarize(wall_start, results, args.interval)
    text = json.dumps(summary, indent=1)
    if args.out:
        with open(args.out + ".tmp", "w") as handle:
            handle.write(text + "\n")
        os.rename(args.out + ".tmp", args.out)
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
