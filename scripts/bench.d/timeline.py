"""The connect-time profile: the critical path of a call's set-up, step by step, for each system,
from what handshake.mjs recorded inside the pages and what the servers logged (Apache's access
log with each request's arrival and duration; the PeerJS daemon's message log).

Every offset is in ms from the navigation start of the page that joins last (the "second"
person of a settled call of two, the 4th of the newcomer run), the same zero as the bench's
call set-up figures. Pure: it reads the records it is given and returns tables.
"""

import re
import urllib.parse

from webrtc_client import percentile

# (label, role, what): the steps in their usual order. `what` is an event the page recorder
# notes, a navigation-timing field (nav.*), or a server event added by `server_events`.
STEPS = [
    ("page: response end", "last", "nav.responseEnd"),
    ("page: scripts loaded", "last", "scriptsLoaded"),
    ("page: DOMContentLoaded", "last", "nav.domContentLoaded"),
    ("camera asked", "last", "camera start"),
    ("camera ready", "last", "camera ready"),
    ("join sent", "last", "send join"),
    ("server: join arrives", "last", "server join start"),
    ("server: join answered", "last", "server join end"),
    ("join answer in page", "last", "sent join"),
    ("peer list in page (PeerJS)", "last", "sent peers"),
    ("server: event stream arrives", "last", "server stream start"),
    ("event stream open", "last", "stream open"),
    ("first connection created", "last", "pc create"),
    ("offer made", "last", "local offer set"),
    ("offer sent", "last", "send offer"),
    ("server: offer arrives", "last", "server offer start"),
    ("server: offer stored/relayed", "last", "server offer end"),
    ("offer received by other", "other", "recv offer"),
    ("answer made by other", "other", "local answer set"),
    ("answer sent by other", "other", "send answer"),
    ("server: answer arrives", "other", "server answer start"),
    ("server: answer stored/relayed", "other", "server answer end"),
    ("answer received", "last", "recv answer"),
    ("answer applied", "last", "remote answer set"),
    ("first candidate gathered", "last", "first candidate gathered"),
    ("candidates sent", "last", "send candidates"),
    ("candidates received by other", "other", "recv candidates"),
    ("ICE checking", "last", "ice checking"),
    ("ICE connected", "last", "ice connected"),
    ("ICE connected at other", "other", "ice connected"),
    ("connected (DTLS done)", "last", "pc connected"),
    ("connected at other", "other", "pc connected"),
    ("connected with everyone", "last", "everyone"),
    ("page: load event", "last", "nav.load"),
]


def parse_access_log(text):
    """Apache's access log (scripts/lib/apache.sh's "timed" format) as a list of
    {query, status, start_ms, duration_ms}."""
    entries = []
    pattern = re.compile(r'"(\w+) ([^ "]*) [^"]*" (\d{3}) \S+ (\d+)us .*start=(\d+)')
    for line in text.splitlines():
        match = pattern.search(line)
        if not match:
            continue
        target = match.group(2)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query))
        start = int(match.group(5))
        duration = int(match.group(4)) / 1000.0
        entries.append({"method": match.group(1), "query": query, "status": int(match.group(3)),
                        "start_ms": start, "duration_ms": duration})
    return entries


def parse_peerjs_log(text):
    """The PeerJS daemon's log (peerjs/server.mjs) as a list of {t, type, src, dst}."""
    entries = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[0].isdigit():
            entries.append({"t": int(fields[0]), "type": fields[1], "src": fields[2],
                            "dst": fields[3]})
    return entries


def _first_after(entries, test, after):
    found = [entry for entry in entries if test(entry) and entry["start_ms"] >= after]
    return min(found, key=lambda entry: entry["start_ms"]) if found else None


def server_events(timeline, access, peerjs):
    """Adds the servers' side to a timeline's pages, as events of the page they concern: the
    last page's join, its first post after joining (its offer), the other page's first post
    after that (its answer); for PeerJS, the daemon's relaying of the same messages."""
    pages = timeline["pages"]
    last, other = pages[-1], pages[-2]
    room = timeline["room"]
    if timeline["system"] == "PeerJS":
        def relayed(kind, src):
            return min((entry["t"] for entry in peerjs
                        if entry["type"] == kind and entry["src"] == src), default=None)
        for page, what, kind, src in ((last, "server join end", "CONNECT", last["peer"]),
                                      (last, "server offer end", "OFFER", last["peer"]),
                                      (other, "server answer end", "ANSWER", other["peer"])):
            at = relayed(kind, src)
            if at is not None:
                page["events"].append({"t": at, "what": what, "detail": None})
        return
    in_room = [entry for entry in access if entry["query"].get("room") == room]
    origin = last["timeOrigin"]
    join = _first_after(in_room, lambda entry: entry["query"].get("mode") == "join", origin)
    if not join:
        return
    offer = _first_after(in_room, lambda entry: entry["query"].get("mode") == "post"
                         and entry["query"].get("peer") == last["peer"], join["start_ms"])
    answer = _first_after(in_room, lambda entry: entry["query"].get("mode") == "post"
                          and entry["query"].get("peer") == other["peer"],
                          offer["start_ms"] if offer else join["start_ms"])
    stream = _first_after(in_room, lambda entry: entry["query"].get("mode") == "sse"
                          and entry["query"].get("peer") == last["peer"], join["start_ms"])
    if stream:
        last["events"].append({"t": stream["start_ms"], "what": "server stream start", "detail": None})
    for page, name, entry in ((last, "join", join), (last, "offer", offer), (other, "answer", answer)):
        if entry:
            page["events"].append({"t": entry["start_ms"], "what": f"server {name} start", "detail": None})
            page["events"].append({"t": entry["start_ms"] + entry["duration_ms"],
                                   "what": f"server {name} end", "detail": None})


def _offset(page, what, zero, partner):
    """When `page` first did `what` at or after `zero` (ms from zero), or None. Signaling
    events that name a peer count only when they concern `partner`, so that both pages'
    steps belong to the same connection."""
    if what == "everyone":
        connected = [value for value in page.get("connected") or [] if value is not None]
        return max(connected) - zero if connected else None
    if what.startswith("nav."):
        value = (page.get("nav") or {}).get(what[4:])
        return None if value in (None, 0) else page["timeOrigin"] + value - zero
    if what == "scriptsLoaded":
        value = page.get("scriptsLoaded")
        return None if value is None else page["timeOrigin"] + value - zero
    times = [event["t"] for event in page["events"] if event["what"] == what and event["t"] >= zero
             and (event.get("detail") in (None, partner) or not isinstance(event.get("detail"), str))]
    return min(times) - zero if times else None


def step_medians(timelines, system, mode):
    """{label: (median ms, runs)} over the runs of `system` in `mode`."""
    values = {label: [] for label, _, _ in STEPS}
    for timeline in timelines:
        if timeline["system"] != system or timeline["mode"] != mode:
            continue
        pages = timeline["pages"]
        last, other = pages[-1], pages[-2]
        zero = last["timeOrigin"]
        for label, role, what in STEPS:
            page, partner = (last, other["peer"]) if role == "last" else (other, last["peer"])
            value = _offset(page, what, zero, partner)
            if value is not None:
                values[label].append(value)
    return {label: (percentile(found, 0.5), len(found)) for label, found in values.items()}


def side_by_side(timelines, systems, mode):
    """Rows (label, [median text per system]) for the steps any system took."""
    medians = {system: step_medians(timelines, system, mode) for system in systems}
    rows = []
    for label, _, _ in STEPS:
        cells = []
        for system in systems:
            median, runs = medians[system][label]
            cells.append("-" if median is None else f"{median:.0f} ms")
        if any(cell != "-" for cell in cells):
            rows.append((label, cells))
    return rows
