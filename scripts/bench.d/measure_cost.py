"""Measure 1: the cost of one request per mode (page ?room=R, join, post, sse with hold=0),
sequential, a fresh connection each, interleaved in random order with a do-nothing static C
CGI under the same Apache, whose median is the floor the ratios are taken to.

Talks HTTP to the bench's Apache only; leaves every peer it joined.
"""

import random
import time

from target import creds, log, message_body, unique
from webrtc_client import join_answer, last_event_id, percentile, summary


def measure(bench, iterations, warmup):
    target = bench.target
    log(f"cost of one request: {iterations} rounds of floor, page, join, post, sse (+{warmup} warm-up)")
    samples = {mode: [] for mode in ("floor", "page", "join", "post", "sse")}
    unexpected = {mode: 0 for mode in samples}
    expected = {"floor": 200, "page": 200, "join": 200, "post": 202, "sse": 200}

    pair_room = unique("cost")
    sender = target.join(pair_room)
    recipient = target.join(pair_room)
    # The recipient acknowledges what it read (as a browser does with Last-Event-ID), so its
    # inbox stays as small as in a real call.
    last_id = 0
    join_room = None
    join_peers = []
    deadline = time.monotonic() + max(60.0, iterations * 0.2)

    for index in range(warmup + iterations):
        if time.monotonic() > deadline:
            log("cost of one request: time limit reached, stopping early")
            break
        counted = index >= warmup
        steps = ["floor", "page", "join", "post", "sse"]
        random.shuffle(steps)
        for mode in steps:
            if mode == "floor":
                result = target.http("GET", target.floor_path)
            elif mode == "page":
                result = target.http("GET", target.api(f"room={pair_room}"))
            elif mode == "join":
                # Every other join is a room's first, the others a second: the two kinds of
                # join a call makes. Full rooms are left untimed afterwards.
                if join_room is None:
                    join_room = unique("cj")
                result = target.http("POST", target.api(f"mode=join&room={join_room}"))
                if result[0] == 200:
                    peer, token, _ = join_answer(result[2])
                    join_peers.append({"room": join_room, "peer": peer, "token": token})
            elif mode == "post":
                result = target.http("POST", target.api(f"mode=post&{creds(sender)}"),
                              message_body(recipient["peer"], index))
            else:
                result = target.http("GET", target.api(f"mode=sse&{creds(recipient)}&hold=0&last={last_id}"))
                last_id = last_event_id(result[2], last_id)
            if result[0] != expected[mode]:
                unexpected[mode] += 1
            if counted:
                samples[mode].append(result[3] * 1000.0)
        if len(join_peers) >= 2:
            for peer in join_peers:
                target.leave(peer)
            join_peers = []
            join_room = None
    for peer in join_peers + [sender, recipient]:
        target.leave(peer)

    results = {}
    floor = percentile(samples["floor"], 0.5)
    for mode, values in samples.items():
        entry = summary(values)
        entry["unexpected_status"] = unexpected[mode]
        entry["unit"] = "ms"
        if mode != "floor" and floor:
            entry["ratio_to_floor"] = entry["median"] / floor
        results[mode] = entry
    return results