"""Measure 5: the CPU used by idle held event streams (30 by default), per connection, as % of
one core, from /proc/PID/schedstat over windows inside their holds (start-up and end excluded),
and their memory (VmHWM) after 20 s.

Talks HTTP to the bench's Apache and reads /proc; leaves every peer it joined.
"""

import asyncio
import os
import time

from system import cgi_processes, cpu_sample, status_kib, wait_for_no_processes
from target import EventStream, log, unique
from webrtc_client import summary


async def idle_batch(bench, peers, hold, window, rss_at):
    """Opens one held stream per peer, then measures CPU between `start` and `start + window`,
    inside the hold, so the request's start-up and its end are not counted (section 1
    measures those). Returns (cpu ns, ticks, process seconds, processes, VmHWM samples)."""
    streams = [EventStream(bench.target, peer, hold=hold) for peer in peers]
    deadline = time.monotonic() + hold + 30
    tasks = [asyncio.ensure_future(stream.run(deadline)) for stream in streams]
    try:
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in streams)), 30)
        opened = time.monotonic()
        await asyncio.sleep(1.0)
        pids = cgi_processes(bench.args.executable)
        before = {pid: cpu_sample(pid) for pid in pids}
        before = {pid: sample for pid, sample in before.items() if sample}
        started = time.monotonic()
        rss = []
        if rss_at is not None:
            await asyncio.sleep(max(0.0, opened + rss_at - time.monotonic()))
            rss = [kib for kib in (status_kib(pid, "VmHWM") for pid in before) if kib]
        await asyncio.sleep(max(0.0, started + window - time.monotonic()))
        after = {pid: cpu_sample(pid) for pid in before}
        elapsed = time.monotonic() - started
    finally:
        for stream in streams:
            stream.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
    ns = ticks = counted = 0
    for pid, first in before.items():
        last = after.get(pid)
        if not last or last[0] != first[0]:
            continue  # ended during the window: not a held stream
        counted += 1
        ns += last[1] - first[1]
        ticks += last[2] - first[2]
    return ns, ticks, elapsed * counted, counted, rss


def measure(bench, connections, batches):
    target = bench.target
    log(f"idle cost: {connections} held streams, windows {batches}")
    wait_for_no_processes(bench.args.executable, 15)
    peers = []
    for _ in range(connections // 2):
        room = unique("idle")
        peers += [target.join(room), target.join(room)]
    total_ns = total_ticks = 0
    process_seconds = 0.0
    counts = []
    rss = []
    try:
        for hold, window, rss_at in batches:
            ns, ticks, seconds, counted, kib = asyncio.run(idle_batch(bench, peers, hold, window, rss_at))
            total_ns += ns
            total_ticks += ticks
            process_seconds += seconds
            counts.append(counted)
            rss += kib
            wait_for_no_processes(bench.args.executable, hold + 15)
    finally:
        for peer in peers:
            target.leave(peer)
    tick = os.sysconf("SC_CLK_TCK")
    return {
        "connections": connections,
        "processes_measured": counts,
        "held_seconds_per_connection": process_seconds / max(1, max(counts or [1])),
        "cpu_percent_per_connection": 100.0 * total_ns / 1e9 / process_seconds if process_seconds else None,
        "cpu_percent_per_connection_ticks": 100.0 * total_ticks / tick / process_seconds if process_seconds else None,
        "cpu_ms_total": total_ns / 1e6,
        "held_peak_rss_kib": summary(rss),
    }