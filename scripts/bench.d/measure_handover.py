"""Measure 9: what the end-of-request hand-over (ARCHITECTURE.md, "Ending a request") saves on
a keep-alive connection, the case it exists for. The same executable is served twice by the
bench's Apache (mod_cgid, the server's own account, where `"hand_over": "auto"` keeps it):
as cgi-bin/webrtc.cgi with the bench's settings, and as cgi-bin/hand-over-off/webrtc.cgi with
the same settings plus `"hand_over": "off"` and a data folder of its own (scripts/bench puts
it there). Page ?room=R, post and sse hold=0 requests go sequentially over one keep-alive
connection per copy, in bursts of one mode on one copy, the bursts in random order.

Apache waits for a CGI's process after its answer, on the thread that would read the
connection's next request, so that wait shows in the next request's time: the first request
of a burst (and one that had to open a new connection) is not counted. Without the hand-over
only part of the requests meet the wait (the process is sometimes gone already), so the
times are two-humped and their median jumps between runs; the ratio of the means, what the
wait costs on average, is the one judged. Talks HTTP to the
bench's Apache only; leaves every peer it joined.
"""

import os
import random
import statistics
import time

from target import KeepAlive, Target, creds, log, message_body, unique
from webrtc_client import last_event_id, summary

MODES = ("page", "post", "sse")
EXPECTED = {"page": 200, "post": 202, "sse": 200}
# Requests per burst: back to back on one connection, all but the first counted.
BURST = 10
# What the self-check's Gateway row says when the server runs the program as its own account.
SAME_ACCOUNT = b"run by the web server as its own account"


def measure(bench, bursts):
    copies = {"auto": Target(bench.args.url), "off": Target(bench.args.hand_over_off_url)}
    counted = bursts * (BURST - 1)
    log(f"hand-over: keep-alive {', '.join(MODES)} with the hand-over on (auto) and off, "
        f"{bursts} bursts of {BURST} each (up to {counted} counted per mode and copy)")
    check = copies["auto"].http("GET", copies["auto"].api("mode=check"))
    same_account = check[0] == 200 and SAME_ACCOUNT in check[2]

    state = {}
    for name, target in copies.items():
        room = unique(f"handover-{name}")
        sender, recipient = target.join(room), target.join(room)
        state[name] = {"target": target, "sender": sender, "recipient": recipient,
                       "connection": KeepAlive(target), "last_id": 0, "sent": 0}
    samples = {name: {mode: [] for mode in MODES} for name in copies}
    unexpected = {name: {mode: 0 for mode in MODES} for name in copies}
    reopened = {name: 0 for name in copies}

    plan = [(name, mode) for name in copies for mode in MODES] * bursts
    random.shuffle(plan)
    load_before = os.getloadavg()
    deadline = time.monotonic() + max(60.0, bursts * 4.0)
    try:
        for name, mode in plan:
            if time.monotonic() > deadline:
                log("hand-over: time limit reached, stopping early")
                break
            copy = state[name]
            for index in range(BURST):
                status, body, seconds, fresh = request(copy, mode)
                if status != EXPECTED[mode]:
                    unexpected[name][mode] += 1
                reopened[name] += fresh
                if index > 0 and not fresh:
                    samples[name][mode].append(seconds * 1000.0)
    finally:
        for copy in state.values():
            copy["connection"].close()
            copy["target"].leave(copy["sender"])
            copy["target"].leave(copy["recipient"])
    load_after = os.getloadavg()

    results = {"gateway_same_account": same_account, "burst": BURST,
               "load_average": {"before": load_before, "after": load_after},
               "reopened_connections": reopened}
    for name in copies:
        results[name] = {}
        for mode in MODES:
            entry = summary(samples[name][mode])
            # The mean too: where only some requests meet the wait, it is what they cost on
            # average, which the median does not show.
            entry["mean"] = statistics.fmean(samples[name][mode]) if samples[name][mode] else None
            entry["unexpected_status"] = unexpected[name][mode]
            entry["unit"] = "ms"
            results[name][mode] = entry
    results["off_over_auto"] = ratios(results, "median")
    results["off_over_auto_mean"] = ratios(results, "mean")
    return results


def ratios(results, statistic):
    """off / auto of one statistic, per mode (None where either has no value)."""
    return {mode: (results["off"][mode][statistic] / results["auto"][mode][statistic]
                   if results["off"][mode][statistic] and results["auto"][mode][statistic]
                   else None)
            for mode in MODES}


def request(copy, mode):
    """One request of `mode` on the copy's keep-alive connection: (status, body, seconds,
    fresh). The recipient acknowledges what it read, as a browser does, so that its inbox
    stays as small as in a call."""
    target, connection = copy["target"], copy["connection"]
    if mode == "page":
        return connection.request("GET", target.api(f"room={copy['sender']['room']}"))
    if mode == "post":
        copy["sent"] += 1
        return connection.request("POST", target.api(f"mode=post&{creds(copy['sender'])}"),
                                  message_body(copy["recipient"]["peer"], copy["sent"]))
    answer = connection.request(
        "GET", target.api(f"mode=sse&{creds(copy['recipient'])}&hold=0&last={copy['last_id']}"))
    copy["last_id"] = last_event_id(answer[1], copy["last_id"])
    return answer
