"""`make run`'s script on the embedded defaults: SQLite, the filesystem broker, a real worker.

Starts scripts/run.sh in a fresh state folder, checks the home page, the schema and a green
/healthz (a ping task sent by the web process and answered by the worker), then sends Ctrl-C
and checks that both processes stop.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - local test server
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.worker
def test_run_script_serves_the_demo_on_embedded_defaults_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        SIGILLO_VAR_DIR=str(tmp_path / "var"),
        SIGILLO_PORT=str(port),
        SIGILLO_PYTHON=sys.executable,
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        SIGILLO_WORKER_CONCURRENCY="1",
    )
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )  # noqa: S603, S607
    base = "http://127.0.0.1:%d" % port
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                status, body = get(base + "/healthz")
            except OSError:
                status = 0
            if status == 200 or time.monotonic() > deadline or process.poll() is not None:
                break
            time.sleep(0.5)
        output = log.read_text(errors="replace")
        assert status == 200, output
        health = json.loads(body)
        assert health["checks"]["database"]["vendor"] == "sqlite"
        assert health["checks"]["broker"]["transport"] == "filesystem"
        assert health["checks"]["worker"]["pid"] != process.pid
        assert "sigillo-demo-2026" in output  # demo passwords printed on start

        assert get(base + "/")[0] == 200
        status, schema = get(base + "/api/schema/?format=json")
        assert status == 200 and "/api/v1/auth/token/" in json.loads(schema)["paths"]
        assert get(base + "/static/css/sigillo.css")[0] == 200
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    # Nothing of the group is left running.
    time.sleep(0.5)
    leftover = subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True, text=True)  # noqa: S603, S607
    assert leftover.stdout.strip() == "", log.read_text(errors="replace")
