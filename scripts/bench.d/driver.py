"""Measures webrtc.cgi behind a running Apache instance and prints one table.

Started by scripts/bench, which builds everything and starts Apache first; see its header for
what is measured. This file holds the plan (how long each measure runs) and runs the measures,
one module each (measure_*.py, each a `measure(bench, ...)`), then hands their results to
table.py and writes the JSON. The goals are in goals.py, the wire formats in
scripts/lib/webrtc_client.py. Only talks HTTP to 127.0.0.1, reads /proc, and runs the helpers
it is given (wrk, the peak-RSS tracer, the browser script); every loop is bounded both in count
and in time, and every child process runs in its own process group so that it can be ended as
a whole, also when this driver is interrupted. No state lives at module level: what a measure
needs travels in the `Bench` it is given.

Python standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import pwd
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, HERE)

# The path above must come first.
import measure_cost  # noqa: E402
import measure_economy  # noqa: E402
import measure_handover  # noqa: E402
import measure_handshake  # noqa: E402
import measure_idle  # noqa: E402
import measure_latency  # noqa: E402
import measure_memory  # noqa: E402
import measure_throughput  # noqa: E402
from system import Children  # noqa: E402
from table import build_rows, print_table  # noqa: E402
from target import Target, creds, log, unique  # noqa: E402

# The measures in the order they run; `size` needs no module.
MEASURES = {
    "cost": measure_cost,
    "handover": measure_handover,
    "memory": measure_memory,
    "throughput": measure_throughput,
    "latency": measure_latency,
    "idle": measure_idle,
    "handshake": measure_handshake,
    "economy": measure_economy,
}


class Bench:
    """What every measure is given: the parsed arguments (with the instance's executable and
    the server account's ids), the server under test, and the helpers started so far."""

    def __init__(self, args, target):
        self.args = args
        self.target = target
        self.children = Children()


def probe_streaming(url):
    """Whether the server passes a held event stream on as it is written: `hello` must arrive
    well before the end of a 3 s hold. Prints 'streams' or 'buffers'."""
    target = Target(url)
    peer = target.join(unique("probe"))
    started = time.perf_counter()
    with socket.create_connection((target.host, target.port), timeout=10) as connection:
        connection.sendall(target.request_bytes("GET", target.api(f"mode=sse&{creds(peer)}&hold=3"),
                                                extra_headers=["Accept: text/event-stream"]))
        raw = b""
        while b"event: hello" not in raw:
            part = connection.recv(65536)
            if not part:
                break
            raw += part
    waited = time.perf_counter() - started
    target.leave(peer)
    print("streams" if waited < 1.5 else "buffers", f"{waited:.2f}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--probe-streaming":
        return probe_streaming(sys.argv[2])
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the executable's URL on 127.0.0.1")
    parser.add_argument("--floor-url", required=True)
    parser.add_argument("--hand-over-off-url", required=True,
                        help="a copy of the executable whose settings add \"hand_over\": \"off\"")
    parser.add_argument("--instance", required=True)
    parser.add_argument("--binary", required=True, help="the release artifact")
    parser.add_argument("--floor-binary", required=True)
    parser.add_argument("--peakrss", required=True)
    parser.add_argument("--wrk", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--node-modules", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--run-user", required=True)
    parser.add_argument("--hold-seconds", type=int, required=True)
    parser.add_argument("--settings-note", required=True)
    parser.add_argument("--server-note", default="")
    parser.add_argument("--apache", default="Apache")
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="cost,handover,throughput,memory,latency,idle,handshake,size")
    args = parser.parse_args()
    args.here = HERE
    args.executable = os.path.join(args.instance, "cgi-bin", "webrtc.cgi")
    account = pwd.getpwnam(args.run_user)
    args.run_uid, args.run_gid = account.pw_uid, account.pw_gid
    bench = Bench(args, Target(args.url, args.floor_url))

    def interrupted(number, _frame):
        raise KeyboardInterrupt(f"signal {number}")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    quick = args.quick
    plan = {
        "cost": {"iterations": 200 if quick else 1000, "warmup": 20 if quick else 50},
        # Bursts of 10 keep-alive requests per mode and copy, 9 of each counted.
        "handover": {"bursts": 17 if quick else 45},
        "throughput": {"seconds": 5 if quick else 15},
        "memory": {"runs": 10 if quick else 30},
        "latency": {"seconds": 6 if quick else 20, "gap_ms": 100},
        # (hold, window, when to read VmHWM): 60 s of held time per connection in full runs
        # (hold_seconds is at most 50, so in two holds), 20 s in quick runs.
        "idle": {"connections": 30,
                 "batches": [(25, 21, 20)] if quick else [(50, 45, 20), (20, 15, None)]},
        # Interleaved rounds of webrtc-cgi and PeerJS, each in both start modes; newcomer runs
        # (a call of 4 built up one person at a time) in the first rounds.
        "handshake": {"rounds": 5 if quick else 9, "newcomer_rounds": 3 if quick else 7},
        "economy": {"quick": quick},
    }
    only = set(args.only.split(","))
    results = {}
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    try:
        if "size" in only:
            results["size"] = {"bytes": os.stat(args.binary).st_size, "path": args.binary}
        for name, module in MEASURES.items():
            if name in only:
                results[name] = module.measure(bench, **plan[name])
    finally:
        bench.children.end_all()

    rows, goals, connect = build_rows(results)
    meta = {
        "run": "quick" if quick else "full",
        "when": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "apache": args.apache,
        "cpus": os.cpu_count(),
        "load_before": f"{load_before:.2f}",
        "load_after": f"{os.getloadavg()[0]:.2f}",
        "kernel": platform.release(),
        "seconds": round(time.monotonic() - started, 1),
        "settings_note": args.settings_note,
        "server_note": args.server_note,
        "plan": plan,
        "connect": connect,
        "notes": [
            "request cost: sequential, a fresh TCP connection per request, timed from connect() "
            "to the end of the response; ratio = median / median of the do-nothing static C "
            "CGI under the same Apache, interleaved in random order.",
            "hand-over: one keep-alive connection per copy of the executable (the bench's, "
            "\"hand_over\": \"auto\", which hands over here; a copy beside it with \"off\"), "
            "bursts of 10 sequential requests of one mode on one copy in random order, the first "
            "of each burst and any on a reopened connection not counted; timed from sending the "
            "request to the end of its answer; ratios = off / auto of the medians and of the "
            "means (judged: without the hand-over only some requests meet Apache's wait).",
            "posts/s: wrk, 4 connections (keep-alive), each posting to its own 2-peer room; "
            "recipients read through held streams (hold 5 s, reconnecting with Last-Event-ID) "
            "and a final read; lost = answered 202 but never delivered.",
            "peak RSS: VmHWM of the webrtc.cgi process read at its exit (ptrace exit stop), run "
            "directly as a CGI with Apache's variables, as the server's account, on the same "
            "data; held streams: VmHWM from /proc of the processes Apache started.",
            "latency: POST start (before connect) to the recipient's held stream yielding the "
            "message; each room ping-pongs one message at a time with ~100 ms pauses.",
            "idle CPU: /proc/PID/schedstat run time of the held webrtc.cgi processes over "
            "windows inside their holds (start-up and end excluded), per connection, as % of "
            "one core; utime+stime ticks in the JSON as a cross-check.",
            "handshake (the 300 ms rows: webrtc-cgi's settled runs): from the second page's load "
            "event, and from its navigation start, to both pages holding a connected "
            "RTCPeerConnection to the other (timestamps recorded inside the pages), one browser "
            "context per person; one warm-up run per system not counted. Call set-up: the same "
            "harness, flags and fake devices for webrtc-cgi and PeerJS (peerjs-server 1.0 + "
            "peerjs 1.5, page served by the same Apache, STUN list as webrtc-cgi's default), "
            "rounds interleaved; settled = the second person opens the room 2 s after the first; "
            "immediate = right after; newcomer = the 3rd and 4th person, each 2 s after the call "
            "before them is up, to connected with everyone.",
            f"load average before {load_before:.2f}, after {os.getloadavg()[0]:.2f}: other "
            "work on the machine shows up in the figures.",
        ],
    }
    print_table(rows, meta)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".tmp", "w") as file:
        json.dump({"meta": meta, "goals": goals, "results": results}, file, indent=2)
        file.write("\n")
    # The previous run's figures stay beside the new ones, for comparison.
    if os.path.exists(args.out):
        os.replace(args.out, args.out.removesuffix(".json") + ".prev.json")
    os.replace(args.out + ".tmp", args.out)
    print(f"\nfigures written to {args.out}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)