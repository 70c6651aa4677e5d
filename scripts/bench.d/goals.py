"""The bench's one goals table, and the anchors printed beside the figures.

Every goal a figure is judged against is a row of GOALS: what it says, the short target the
table prints, and the test of the measured value. The table module looks goals up here by key
and nowhere else states a threshold. A goal is a figure to read, never a failure: the bench's
exit status does not depend on any of them.
"""

from collections import namedtuple

MB = 1_000_000

Goal = namedtuple("Goal", "name target met")

GOALS = {
    # Each request mode against the do-nothing C CGI under the same Apache (a ratio).
    "cost": Goal("cost of {mode} within 1.5x the floor", "<= 1.5x floor",
                 lambda ratio: ratio <= 1.5),
    # Keep-alive requests of a mode without the end-of-request hand-over over with it: the
    # ratio of the means (the times without it are two-humped, their median unsteady).
    "handover": Goal("the hand-over makes keep-alive {mode} requests at least 2x faster on "
                     "average", ">= 2x mean off/auto",
                     lambda ratio: ratio is not None and ratio >= 2.0),
    # The throughput entry: posts/s, with nothing refused, failed or lost.
    "throughput": Goal("at least 600 posts/s, no errors, none lost", ">= 600/s, 0 err/lost",
                       lambda entry: entry["posts_per_second"] >= 600 and entry["lost"] == 0
                       and entry["non_2xx"] == 0 and entry["socket_errors"] == 0),
    # The largest peak RSS of a mode, in KiB.
    "rss": Goal("RSS of {mode} under 2 MB", "< 2 MB",
                lambda kib: kib is not None and kib * 1024 < 2 * MB),
    "held_rss": Goal("RSS of a held stream after 20 s under 2 MB", "< 2 MB",
                     lambda kib: kib * 1024 < 2 * MB),
    # The 30-room latency entry.
    "latency": Goal("latency at 30 rooms: p50 < 20 ms, p99 < 100 ms", "p50<20 p99<100 ms",
                    lambda entry: entry["median"] is not None and entry["median"] < 20
                    and entry["p99"] < 100 and entry["not_delivered"] == 0),
    # % of one core per held stream.
    "idle": Goal("idle held stream under 0.2% of a core", "< 0.2% core",
                 lambda percent: percent is not None and percent < 0.2),
    # (median ms, every run connected)
    "handshake_load": Goal("two-peer handshake median under 300 ms from the second page's "
                           "load event, every run connects", "< 300 ms, all",
                           lambda figure: figure[0] is not None and figure[0] < 300 and figure[1]),
    "handshake_navigation": Goal("two-peer handshake median under 300 ms from the second "
                                 "page's navigation start (stricter reading)", "< 300 ms, all",
                                 lambda figure: figure[0] is not None and figure[0] < 300
                                 and figure[1]),
    # Call set-up against the PeerJS anchor of the same run: ours / PeerJS, medians from
    # navigation start.
    "peerjs_settled": Goal("median navigation -> connected no slower than PeerJS, settled start",
                           "<= 1.00x PeerJS", lambda ratio: ratio is not None and ratio <= 1.0),
    "peerjs_immediate": Goal("median navigation -> connected no slower than PeerJS, immediate "
                             "start", "<= 1.00x PeerJS",
                             lambda ratio: ratio is not None and ratio <= 1.0),
    # A newcomer's median over the two-person settled median, same system, same run.
    "newcomer": Goal("newcomer into a settled call of {people} connected to everyone within "
                     "1.5x the two-person figure", "<= 1.5x 2-person",
                     lambda ratio: ratio is not None and ratio <= 1.5),
    # The most time one page of a sealed two-person call spent in WebCrypto (key import and
    # derivation, sealing and opening) before the call was up: the median over runs, in ms.
    "sealing": Goal("sealing costs under 5 ms of the handshake (WebCrypto time of a page "
                    "until connected)", "< 5 ms", lambda ms: ms is not None and ms < 5),
    # (connected, attempted) over every call set-up run of webrtc-cgi, sealed or not.
    "all_connect": Goal("every call set-up run connects", "all",
                        lambda counts: counts[0] == counts[1]),
    # Entry processes (economy.mjs). The median CGI processes of one settled room.
    "economy_held": Goal("a settled call of {people} holds at most 1 request", "<= 1 per room",
                         lambda median: median is not None and median <= 1),
    # (connected after the hold, newcomers admitted, rooms) behind the 508 limiter.
    "economy_limiter": Goal("at least 60 people in 10 rooms stay connected behind a limit of 20, "
                            "newcomers still admitted", ">= 60, all newcomers",
                            lambda figure: figure[0] >= 60 and figure[1] == figure[2]),
    # A newcomer into a settled call of 3 over a two-person set-up, same run.
    "economy_newcomer": Goal("a newcomer into a settled call of 3 within a two-person set-up "
                             "+20%", "<= 1.2x 2-person", lambda ratio: ratio is not None and ratio <= 1.2),
    # Bytes.
    "size": Goal("release binary under 1.5 MB", "< 1.5 MB", lambda size: size < 1.5 * MB),
}

# The PHP original's figures, as its own benchmark gave them, and a C CGI's for reference.
PHP = {
    "cost": "17 ms", "throughput": "91/s", "rss": "20 MB", "latency": "up to 1 s",
    "handshake": "1.1-2.3 s",
}
C_CGI = {"cost": "1.7 ms", "throughput": "~800/s", "rss": "0.5 MB"}
