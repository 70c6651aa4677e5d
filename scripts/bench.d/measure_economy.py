"""Measure 8: what calls cost in entry processes (economy.mjs): the CGI processes a settled
call of 2, 3 and 6 keeps, how many of 60 participants in 10 rooms stay connected behind a
mod_qos limit of 20 with newcomers let in (and the 508s they met), and a newcomer's connect
time into a settled 3-person call in headless Chromium beside a two-person set-up.

economy.mjs starts its own Apache instances (one of them with the limiter), runs the real
client in Node for the simulated participants, and prints one JSON object; this module runs
it as a child of `bench.children` and returns that object.
"""

import json
import os
import subprocess

from target import log


def measure(bench, quick):
    log("economy: held requests of settled calls, 60 participants behind a 508 limiter, newcomers")
    command = [bench.args.node, os.path.join(bench.args.here, "economy.mjs"),
               "--binary", bench.args.binary, "--chromium", bench.args.chromium]
    if quick:
        command.append("--quick")
    output, errors = bench.children.run(command, 900, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
    start = output.find("{")
    if start < 0:
        return {"error": (errors or output)[-2000:]}
    return json.loads(output[start:])
