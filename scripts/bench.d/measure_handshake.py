"""Measure 6: call set-up in headless Chromium (handshake.mjs), webrtc-cgi beside the PeerJS
anchor (peerjs-server with the peerjs client and a minimal page of the bench's own, in
peerjs/), runs interleaved: a call of two opened "settled" (the second person 2 s after the
first) and "immediate" (right after), from the second page's navigation start (and from its
load event) to both connected; a newcomer (the 3rd and the 4th person into a settled call) to
connected with everyone; the ratio ours / PeerJS per start mode; the same two-person calls in
sealed rooms (a #k= key in the link), with the time their pages spent in WebCrypto before the
call was up; and the critical path of both (timeline.py) from the pages' records and the
servers' logs.

Runs node (the e2e tests' playwright-core; the PeerJS daemon) as children of
`bench.children`, and reads the bench Apache's access log. The PHP original is not part of
the run: its figures are the quoted anchors of goals.PHP.
"""

import json
import os
import select
import socket
import subprocess
import time

import timeline
from target import log
from webrtc_client import summary

OURS = "webrtc-cgi"
SEALED = "webrtc-cgi sealed"
PEERJS = "PeerJS"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_peerjs(bench, log_path):
    """Starts the PeerJS daemon on a free loopback port; returns (process, port)."""
    port = free_port()
    process = bench.children.start(
        [bench.args.node, os.path.join(bench.args.here, "peerjs", "server.mjs"), str(port), log_path],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=os.path.join(bench.args.here, "peerjs"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if line.startswith("ready"):
                return process, port
            if not line:
                break
    bench.children.end(process)
    raise RuntimeError("the PeerJS daemon did not start")


def figure(result):
    """A browser result as the JSON keeps it: the summary from navigation start, beside it the
    one from the load event, min, and how many runs connected."""
    entry = dict(summary(result["ms"]), unit="ms")
    entry["min"] = min(result["ms"]) if result["ms"] else None
    entry["connected"] = len(result["ms"])
    entry["attempted"] = result["attempted"]
    entry["failures"] = result["failures"]
    entry["from_load_event_ms"] = summary(result["afterLoadMs"])
    entry["crypto_ms"] = dict(summary(result["cryptoMs"]),
                              min=min(result["cryptoMs"]) if result["cryptoMs"] else None)
    return entry


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:
        return ""


def measure(bench, rounds, newcomer_rounds):
    log(f"call set-up: {rounds} interleaved rounds (webrtc-cgi, sealed, PeerJS; settled and immediate), "
        f"{newcomer_rounds} newcomer runs each, +1 warm-up each, in headless Chromium")
    load_before = os.getloadavg()
    peerjs_log = os.path.join(bench.args.instance, "logs", "peerjs.log")
    if os.path.exists(peerjs_log):
        os.unlink(peerjs_log)
    daemon, signal_port = start_peerjs(bench, peerjs_log)
    target = bench.target
    page = f"http://{target.host}:{target.port}/peerjs/index.html"
    config = {
        "systems": [
            {"name": OURS, "url": f"{target.url}?room={{room}}"},
            {"name": SEALED, "url": f"{target.url}?room={{room}}#k={{key}}", "pairsOnly": True},
            {"name": PEERJS, "url": f"{page}?room={{room}}&port={signal_port}"},
        ],
        "rounds": rounds,
        "newcomerRounds": newcomer_rounds,
        "chromium": bench.args.chromium,
    }
    command = [bench.args.node, os.path.join(bench.args.here, "handshake.mjs"), json.dumps(config)]
    environment = dict(os.environ, NODE_PATH=bench.args.node_modules)
    try:
        output, errors = bench.children.run(
            command, 120 + rounds * 60 + newcomer_rounds * 60, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=environment,
            cwd=os.path.dirname(bench.args.node_modules))
    finally:
        bench.children.end(daemon)
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": (errors or output)[-2000:]}
    answer = json.loads(lines[-1])
    systems = {name: {mode: figure(result) for mode, result in modes.items()}
               for name, modes in answer["systems"].items()}
    ours = systems[OURS]
    # The earlier fields of this measure (the settled call of webrtc-cgi), which the table's
    # first handshake rows read.
    result = dict(ours["settled"])
    result["systems"] = systems
    result["ratio_to_peerjs"] = {}
    for mode in ("settled", "immediate"):
        mine, theirs = ours[mode]["median"], systems[PEERJS][mode]["median"]
        result["ratio_to_peerjs"][mode] = mine / theirs if mine and theirs else None
    # What sealing adds: the pages' own WebCrypto time on the way to connected (a 5 ms cost
    # drowns in the runs' spread, so the end-to-end medians are shown beside it, not
    # subtracted).
    result["sealing_crypto_ms"] = systems[SEALED]["settled"]["crypto_ms"]
    result["rounds"] = rounds
    result["newcomer_rounds"] = newcomer_rounds
    result["load_average"] = {"before": [round(value, 2) for value in load_before],
                              "after": [round(value, 2) for value in os.getloadavg()]}

    access = timeline.parse_access_log(read(os.path.join(bench.args.instance, "logs", "access.log")))
    relayed = timeline.parse_peerjs_log(read(peerjs_log))
    for run in answer["timelines"]:
        timeline.server_events(run, access, relayed)
    result["timeline"] = {mode: dict(timeline.side_by_side(answer["timelines"], [OURS, PEERJS], mode))
                          for mode in ("settled", "newcomer")}
    result["timelines_raw"] = answer["timelines"]
    return result
