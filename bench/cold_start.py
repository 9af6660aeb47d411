"""Benchmark of a worker's cold start: the first prompt check of a fresh process, with and without
the warm-up every worker now runs at start (``moderation.warm.gate_models_warm``).

Each measurement is a fresh interpreter (nothing loaded), on the embedded default database with
an empty registry: the time of the warm-up itself, then of the first and the hundredth check of
a prompt through the gate's prompt stages (policy, names, descriptors).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from bench import ROOT, machine, today

SCRIPT = r"""
import json, os, sys, time
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from moderation.policy import policy_check
from moderation.names import find_names
from moderation.descriptors import find_descriptors
from moderation.warm import gate_models_warm

def check(prompt):
    started = time.monotonic()
    policy_check(prompt); find_names(prompt); find_descriptors(prompt)
    return time.monotonic() - started

result = {}
if sys.argv[1] == "warm":
    started = time.monotonic()
    result["steps"] = gate_models_warm()
    result["warm"] = time.monotonic() - started
result["first"] = check("a lighthouse in a storm at dusk, oil painting")
times = [check("a dog chasing a ball on a beach number %d" % i) for i in range(100)]
result["hundredth"] = times[-1]
result["median"] = sorted(times)[50]
print(json.dumps(result))
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cold-repeats", type=int, default=3, help="fresh processes per mode (cold_start)")


def _run(mode: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "SIGILLO_VAR_DIR": folder,
            "DATABASE_URL": "sqlite:///%s/bench.sqlite3" % folder,
            "CELERY_BROKER_URL": "filesystem://",
            "LOG_LEVEL": "WARNING",
        }
        out = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", SCRIPT, mode], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])


def run(options: argparse.Namespace) -> str:
    repeats = getattr(options, "cold_repeats", 3)
    rows = {mode: [_run(mode) for _ in range(repeats)] for mode in ("cold", "warm")}

    def median(mode: str, key: str) -> float:
        values = sorted(row[key] for row in rows[mode])
        return values[len(values) // 2]

    steps = rows["warm"][len(rows["warm"]) // 2]["steps"]
    return "\n".join(
        [
            "Measured %s on %s; median of %d fresh processes per row." % (today(), machine(), repeats),
            "",
            "| worker start | warm-up at start (s) | first check (s) | hundredth check (s) | median check (s) |",
            "|---|---|---|---|---|",
            "| without warm-up (before) | — | %.2f | %.3f | %.3f |"
            % (median("cold", "first"), median("cold", "hundredth"), median("cold", "median")),
            "| with warm-up (`SIGILLO_WORKER_WARM`, default) | %.1f | %.3f | %.3f | %.3f |"
            % (median("warm", "warm"), median("warm", "first"), median("warm", "hundredth"), median("warm", "median")),
            "",
            "A check is the gate's prompt stages (policy categories, registered names, descriptors) on a "
            "short prompt, empty registry. The warm-up's steps (seconds, one process): %s. The warm-up "
            "runs before the worker takes its first task, so the model's load (most of it) is out of "
            "the first check; that check is still slower than later ones (first calls into torch's "
            "kernels at new input sizes), within a fraction of a second rather than seconds."
            % ", ".join("%s %.2f" % (name, seconds) for name, seconds in steps.items()),
        ]
    )
