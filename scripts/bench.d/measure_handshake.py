"""Measure 6: the two-peer call set-up in headless Chromium (handshake.mjs): from the second
page's load event, and from its navigation start, to both peers connected.

Runs node with the end-to-end tests' playwright-core as a child of `bench.children`.
"""

import json
import os
import subprocess

from target import log
from webrtc_client import summary


def measure(bench, runs):
    log(f"browser handshake: {runs} runs (+1 warm-up) in headless Chromium")
    command = [bench.args.node, os.path.join(bench.args.here, "handshake.mjs"),
               bench.target.url, str(runs), bench.args.chromium]
    environment = dict(os.environ, NODE_PATH=bench.args.node_modules)
    output, errors = bench.children.run(command, 60 + runs * 40, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=environment,
                                        cwd=os.path.dirname(bench.args.node_modules))
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": (errors or output)[-2000:]}
    answer = json.loads(lines[-1])
    result = dict(summary(answer["ms"]), unit="ms")
    result["connected"] = answer["connected"]
    result["attempted"] = answer["attempted"]
    result["failures"] = answer.get("failures", [])
    result["from_load_event_ms"] = summary(answer.get("afterLoadMs", []))
    return result
