"""Measure 3: peak memory of one process per mode. The instance's webrtc.cgi is run directly
as a CGI, as the web server's account, with the environment Apache gives it, on the same data,
under a tracer (peakrss.c) that reads VmHWM from /proc just before the process exits; the
do-nothing CGI under the same tracer is the reference.

Joins its peers through the bench's Apache and leaves them all.
"""

import os
import subprocess
import tempfile

from target import creds, log, message_body, unique
from webrtc_client import apache_variables, cgi_environment, join_answer, last_event_id, parse_cgi_answer, summary


def run_cgi_direct(bench, method, query, body=b"", tracer=None, wrapper=()):
    """Runs the instance's webrtc.cgi once as Apache would (same file, settings and data, as
    the server's account, in its folder). Returns (stdout, peak RSS KiB or None)."""
    target = bench.target
    script = os.path.join(bench.args.instance, "cgi-bin", "webrtc.cgi")
    environment = cgi_environment(
        method, query, target.cgi_path, remote_addr=target.host,
        body_length=len(body) if method == "POST" else None,
        extra=apache_variables(target.host, target.port, script,
                               os.path.join(bench.args.instance, "htdocs")))
    with tempfile.NamedTemporaryFile(prefix="bench-rss-", delete=False) as report:
        report_path = report.name
    try:
        if tracer:
            command = [tracer, report_path, str(bench.args.run_uid), str(bench.args.run_gid), script]
        else:
            command = list(wrapper) + [script]
        completed = subprocess.run(command, input=body, env=environment, capture_output=True,
                                   cwd=os.path.dirname(script), timeout=30,
                                   **({} if tracer or os.getuid() != 0 else
                                      {"user": bench.args.run_uid, "group": bench.args.run_gid,
                                       "extra_groups": []}))
        peak = None
        if tracer:
            with open(report_path) as file:
                fields = file.read().split()
            peak = int(fields[1]) if len(fields) > 1 else None
        return completed.stdout, peak
    finally:
        os.unlink(report_path)


def direct_requests(target):
    """The four modes as direct invocations, with a room of two peers for them to act on."""
    room = unique("mem")
    sender = target.join(room)
    recipient = target.join(room)
    state = {"last": 0, "n": 0, "join_room": unique("mj"), "joined": []}

    def page():
        return ("GET", f"room={room}", b"")

    def join_request():
        return ("POST", f"mode=join&room={state['join_room']}", b"")

    def post():
        state["n"] += 1
        return ("POST", f"mode=post&{creds(sender)}", message_body(recipient["peer"], state["n"]))

    def sse():
        return ("GET", f"mode=sse&{creds(recipient)}&hold=0&last={state['last']}", b"")

    def after(mode, output):
        if mode == "sse":
            state["last"] = last_event_id(output, state["last"])
        if mode == "join":
            try:
                peer, token, _ = join_answer(parse_cgi_answer(output)[2])
                state["joined"].append({"room": state["join_room"], "peer": peer, "token": token})
            except ValueError:
                pass
            if len(state["joined"]) >= 2:
                for peer in state["joined"]:
                    target.leave(peer)
                state["joined"] = []
                state["join_room"] = unique("mj")

    def cleanup():
        for peer in state["joined"] + [sender, recipient]:
            target.leave(peer)

    return {"page": page, "join": join_request, "post": post, "sse": sse}, after, cleanup


def floor_peak_rss(bench, runs):
    values = []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile(prefix="bench-rss-", delete=False) as report:
            path = report.name
        try:
            subprocess.run([bench.args.peakrss, path, str(bench.args.run_uid), str(bench.args.run_gid),
                            bench.args.floor_binary], capture_output=True, timeout=10,
                           env={"PATH": "/usr/bin:/bin", "REQUEST_METHOD": "GET"})
            with open(path) as file:
                values.append(int(file.read().split()[1]))
        finally:
            os.unlink(path)
    return values


def measure(bench, runs):
    log(f"peak memory: {runs} direct runs per mode under the exit tracer")
    makers, after, cleanup = direct_requests(bench.target)
    values = {mode: [] for mode in makers}
    try:
        for _ in range(runs):
            for mode, make in makers.items():
                method, query, body = make()
                output, peak = run_cgi_direct(bench, method, query, body,
                                              tracer=bench.args.peakrss)
                after(mode, output)
                if peak and peak > 0:
                    values[mode].append(peak)
    finally:
        cleanup()
    results = {mode: dict(summary(kib), unit="KiB") for mode, kib in values.items()}
    results["floor"] = dict(summary(floor_peak_rss(bench, min(runs, 10))), unit="KiB")
    return results