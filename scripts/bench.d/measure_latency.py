"""Measure 4: signaling latency, from a POST's start (before connect) to the recipient's held
stream yielding the message, with 1, 10 and 30 rooms of two peers all holding streams and
messages flowing in every room; beside it the POST round trip, the driver's own event-loop lag
and the machine's CPU use, which a measured latency includes.

Talks HTTP to the bench's Apache and reads /proc; leaves every peer it joined.
"""

import asyncio
import json
import random
import time

from system import cgi_processes, machine_cpu, status_kib, wait_for_no_processes
from target import EventStream, creds, log, message_body, unique
from webrtc_client import summary


async def latency_round(bench, rooms, seconds, gap_ms, per_room_cap):
    target = bench.target
    peers = []
    for _ in range(rooms):
        room = unique("lat")
        peers.append((target.join(room), target.join(room)))

    sent = {}  # (room index, sequence) -> perf_counter at the POST's start
    latencies = []
    loop_lag = []
    round_start = time.perf_counter()
    slowest = []
    arrivals = {}
    post_ms = []
    failures = {"post_errors": 0, "not_delivered": 0, "post_status": 0}

    def on_message(stream, _id, data, arrived):
        message = json.loads(data)
        if message.get("type") != "bench":
            return
        key = (message["data"]["c"], message["data"]["n"])
        if key in sent and key not in arrivals:
            arrivals[key] = arrived
            latencies.append((arrived - sent[key]) * 1000.0)
            slowest.append((latencies[-1], sent[key] - round_start))
            waiter = waiting.pop(key, None)
            if waiter and not waiter.done():
                waiter.set_result(True)

    waiting = {}
    streams = []
    hold_deadline = time.monotonic() + seconds + 120
    for first, second in peers:
        streams.append(EventStream(target, first, hold=bench.args.hold_seconds, on_message=on_message))
        streams.append(EventStream(target, second, hold=bench.args.hold_seconds, on_message=on_message))
    tasks = [asyncio.ensure_future(stream.run(hold_deadline)) for stream in streams]
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in streams)), 30)

        async def room_loop(index, first, second):
            # Ping-pong inside the room, one message at a time (as a client sends its
            # messages in order), with a random pause so that rooms do not move in step.
            await asyncio.sleep(random.uniform(0, gap_ms / 1000.0))
            end = time.monotonic() + seconds
            number = 0
            while time.monotonic() < end and number < per_room_cap:
                number += 1
                sender, recipient = (first, second) if number % 2 else (second, first)
                key = (index, number)
                future = loop.create_future()
                waiting[key] = future
                sent[key] = time.perf_counter()
                try:
                    status, elapsed = await target.apost(target.api(f"mode=post&{creds(sender)}"),
                                                  message_body(recipient["peer"], number, index))
                    post_ms.append(elapsed * 1000.0)
                    if status != 202:
                        failures["post_status"] += 1
                except (OSError, asyncio.TimeoutError):
                    failures["post_errors"] += 1
                try:
                    await asyncio.wait_for(future, 5)
                except asyncio.TimeoutError:
                    failures["not_delivered"] += 1
                    waiting.pop(key, None)
                await asyncio.sleep(random.uniform(gap_ms * 0.5, gap_ms * 1.5) / 1000.0)

        async def cpu_monitor(end):
            # The whole machine's CPU use and run queue: on a shared machine, other work
            # competes with the server, and a busy second explains a slow one.
            previous = machine_cpu()
            while time.monotonic() < end:
                await asyncio.sleep(0.5)
                current = machine_cpu()
                total = current[0] - previous[0]
                if total > 0:
                    machine.append({"at_s": round(time.perf_counter() - round_start, 1),
                                    "busy_pct": round(100.0 * (current[1] - previous[1]) / total),
                                    "running": current[2]})
                previous = current

        machine = []
        cpu_task = asyncio.ensure_future(cpu_monitor(time.monotonic() + seconds))

        async def lag_monitor(end):
            # How late this driver's own event loop wakes up: a measured latency includes it.
            while time.monotonic() < end:
                before = time.perf_counter()
                await asyncio.sleep(0.01)
                loop_lag.append((time.perf_counter() - before - 0.01) * 1000.0)

        monitor = asyncio.ensure_future(lag_monitor(time.monotonic() + seconds))
        await asyncio.gather(*(room_loop(index, first, second)
                               for index, (first, second) in enumerate(peers)))
        await monitor
        await cpu_task
        # Memory of held streams that have carried messages for the whole round.
        held_kib = [kib for kib in (status_kib(pid, "VmHWM") for pid in
                                    cgi_processes(bench.args.executable)) if kib]
    finally:
        for stream in streams:
            stream.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for first, second in peers:
            target.leave(first)
            target.leave(second)
    result = dict(summary(latencies), unit="ms")
    result.update(failures)
    result["rooms"] = rooms
    result["posts"] = len(sent)
    result["post_round_trip_ms"] = summary(post_ms)
    result["held_stream_reconnects"] = sum(s.connections for s in streams) - len(streams)
    result["held_peak_rss_kib"] = summary(held_kib)
    result["driver_loop_lag_ms"] = summary(loop_lag)
    result["machine_cpu_busy_pct"] = summary([m["busy_pct"] for m in machine])
    result["machine_samples"] = machine
    result["slowest"] = [{"ms": round(ms, 1), "at_s": round(at, 2)}
                         for ms, at in sorted(slowest, reverse=True)[:10]]
    return result


def measure(bench, seconds, gap_ms):
    results = {}
    for rooms in (1, 10, 30):
        log(f"signaling latency: {rooms} room(s) of 2 peers, {seconds} s, a message every "
            f"~{gap_ms} ms per room")
        results[str(rooms)] = asyncio.run(latency_round(bench, rooms, seconds, gap_ms, 100_000))
        wait_for_no_processes(bench.args.executable, 15)
    return results