"""Measure 2: posts per second with 4 concurrent clients (wrk with post.lua), each posting to
its own two-peer room while the recipients read through held streams, checking afterwards that
nothing was lost or failed; and the do-nothing CGI's requests per second under the same load
shape, the best this server and machine can do right now.

Talks HTTP to the bench's Apache and runs wrk as a child of `bench.children`.
"""

import asyncio
import json
import os
import re
import subprocess
import time

from target import EventStream, creds, log, unique
from webrtc_client import events_in


def run_wrk(bench, pairs, seconds, clients):
    target = bench.target
    specs = [f"{s['room']},{s['peer']},{s['token']},{r['peer']}" for s, r in pairs]
    command = [bench.args.wrk, f"-t{clients}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s",
               "-s", os.path.join(bench.args.here, "post.lua"), target.url,
               "--"] + specs
    output, _ = bench.children.run(command, seconds + 60, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
    return output


def parse_wrk(output):
    threads = []
    totals = {}
    for line in output.splitlines():
        if not line.startswith("BENCH "):
            continue
        fields = dict(item.split("=", 1) for item in line[6:].split())
        if "thread" in fields:
            threads.append(fields)
        else:
            totals = fields
    return threads, totals


async def throughput_round(bench, seconds, clients, label):
    target = bench.target
    pairs = []
    for _ in range(clients):
        room = unique("tp")
        pairs.append((target.join(room), target.join(room)))
    received = {index: [] for index in range(clients)}

    def on_message(stream, _id, data, _arrived):
        message = json.loads(data)
        if message.get("type") == "bench":
            received[stream.sender_index].append(message["data"]["n"])

    readers = []
    deadline = time.monotonic() + seconds + 60
    for index, (_, recipient) in enumerate(pairs):
        # A short hold makes each reader reconnect with Last-Event-ID every few seconds, so
        # the inbox is acknowledged and compacted as a browser's is, and never grows without
        # bound during the run.
        stream = EventStream(target, recipient, hold=5, on_message=on_message)
        stream.sender_index = index
        readers.append(stream)
    tasks = [asyncio.ensure_future(stream.run(deadline)) for stream in readers]
    try:
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in readers)), 20)
        log(f"throughput ({label}): wrk, {clients} clients, {seconds} s")
        output = await asyncio.get_running_loop().run_in_executor(
            None, run_wrk, bench, pairs, seconds, clients)
        # Let the held streams deliver what was stored last, then collect what is left over
        # with one final read per recipient.
        await asyncio.sleep(1.5)
    finally:
        for stream in readers:
            stream.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
    for index, (sender, recipient) in enumerate(pairs):
        status, _, body, _ = target.http(
            "GET", target.api(f"mode=sse&{creds(recipient)}&hold=0&last={readers[index].last_id}"))
        for event in events_in(body):
            if event.data is not None:
                message = json.loads(event.data)
                if message.get("type") == "bench":
                    received[index].append(message["data"]["n"])
        target.leave(sender)
        target.leave(recipient)

    threads, totals = parse_wrk(output)
    if not totals:
        raise RuntimeError(f"wrk gave no result:\n{output}")
    accepted_total = rejected_total = lost = duplicated = in_flight = 0
    details = []
    for fields in threads:
        index = int(fields["thread"])
        responses = int(fields["responses"])
        rejected = {int(n) for n in fields.get("rejected_n", "").split(",") if n}
        answered = set(range(int(fields["first"]), int(fields["last"]) + 1)) if responses else set()
        accepted = answered - rejected
        if len(answered) != responses:
            log(f"throughput: client {index} answered {responses} but numbered {len(answered)}")
        got = received[index]
        got_set = set(got)
        accepted_total += len(accepted)
        rejected_total += len(rejected)
        lost += len(accepted - got_set)
        details.append({"client": index, "sent": int(fields["sent"]), "responses": responses,
                        "received": len(got), "missing": sorted(accepted - got_set)[:20],
                        "unanswered": sorted(got_set - accepted)[:20]})
        duplicated += len(got) - len(got_set)
        # Requests still in flight when wrk stopped may have been stored without an answer.
        in_flight += len(got_set - accepted)
    duration = int(totals["duration_us"]) / 1e6
    socket_errors = sum(int(totals[key]) for key in
                        ("connect", "read", "write", "timeout"))
    return {
        "clients": clients,
        "seconds": duration,
        "requests": int(totals["requests"]),
        "posts_per_second": int(totals["requests"]) / duration if duration else 0.0,
        "accepted": accepted_total,
        "rejected": rejected_total,
        "non_2xx": int(totals["status"]),
        "socket_errors": socket_errors,
        "lost": lost,
        "duplicated": duplicated,
        "stored_but_unanswered_at_stop": in_flight,
        "latency_ms": {"median": int(totals["p50"]) / 1000, "p90": int(totals["p90"]) / 1000,
                       "p99": int(totals["p99"]) / 1000, "runs": int(totals["requests"])},
        "reader_reconnects": sum(stream.connections for stream in readers),
        "reader_errors": sum(stream.errors for stream in readers),
        "per_client": details,
    }


def floor_throughput(bench, seconds, clients):
    """Requests per second of the do-nothing CGI under the same load shape: what this server
    and machine can do at best, right now."""
    log(f"throughput (do-nothing CGI): wrk, {clients} clients, {seconds} s")
    command = [bench.args.wrk, f"-t{clients}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s",
               f"http://{bench.target.host}:{bench.target.port}{bench.target.floor_path}"]
    output, _ = bench.children.run(command, seconds + 60, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"requests_per_second": float(match.group(1)) if match else None,
            "non_2xx": int(errors.group(1)) if errors else 0, "clients": clients,
            "seconds": seconds}


def measure(bench, seconds):
    asyncio.run(throughput_round(bench, 2, 4, "warm-up"))
    result = asyncio.run(throughput_round(bench, seconds, 4, "4 rooms, one sender each"))
    result["floor"] = floor_throughput(bench, max(3, seconds // 2), 4)
    if result["floor"]["requests_per_second"]:
        result["ratio_to_floor"] = result["posts_per_second"] / result["floor"]["requests_per_second"]
    return result