"""`make run`'s script on the embedded defaults: SQLite, the filesystem broker, a real worker.

Starts scripts/run.sh in a fresh state folder, checks the home page, the schema and a green
/healthz (a ping task sent by the web process and answered by the worker), signs in as every
demo account and walks every page it can reach over HTTP (none may answer a 5xx), then sends
Ctrl-C and checks that both processes stop.
"""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from accounts import totp
from accounts.management.commands.seed_demo import DEMO_TOTP_SECRET
from tests.ops.test_every_page import ROLES, walk

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


class HttpClient:
    """Just enough of Django's test client for ``walk``, over real HTTP with a session cookie."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def get(self, path: str) -> "HttpResponse":
        return self._open(urllib.request.Request(self.base + path))  # noqa: S310 - the local test server

    #: The last two-factor step used per demo account (a code signs an account in once).
    steps_used: dict[str, int] = {}

    def sign_in(self, username: str, password: str) -> None:
        answer = self._post_form("/accounts/login/", {"username": username, "password": password})
        assert answer.status_code == 302, "could not sign in as %s" % username
        if answer.get("Location") == "/accounts/two-factor/":  # the demo's moderators type a code too
            step = max(totp.step_at(), self.steps_used.get(username, 0) + 1)
            self.steps_used[username] = step
            answer = self._post_form("/accounts/two-factor/", {"code": totp.code_at(DEMO_TOTP_SECRET, step)})
            assert answer.status_code == 302, "%s: the demo's two-factor code was refused" % username

    def _post_form(self, path: str, fields: dict[str, str]) -> "HttpResponse":
        page = self.get(path).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token})
        request = urllib.request.Request(  # noqa: S310 - the local test server
            self.base + path, data=data.encode(), headers={"Referer": self.base + path}
        )
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> "HttpResponse":
        try:
            with self.opener.open(request, timeout=60) as response:
                return HttpResponse(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return HttpResponse(error.code, dict(error.headers), error.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the walk follows redirects itself, like the test client


class HttpResponse:
    def __init__(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code, self.headers, self.content = status, headers, content

    def get(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)


@pytest.mark.worker
@pytest.mark.once
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
        assert health["checks"] == {"database": {"ok": True}, "broker": {"ok": True}, "worker": {"ok": True}}
        moderator = HttpClient(base)
        moderator.sign_in("moderator", "sigillo-demo-2026")
        health = json.loads(moderator.get("/healthz").content)  # the details are for staff
        assert health["checks"]["database"]["vendor"] == "sqlite"
        assert health["checks"]["broker"]["transport"] == "filesystem"
        assert health["checks"]["worker"]["pid"] != process.pid
        assert "sigillo-demo-2026" in output  # demo passwords printed on start

        assert get(base + "/")[0] == 200
        status, schema = get(base + "/api/schema/?format=json")
        assert status == 200 and "/api/v1/auth/token/" in json.loads(schema)["paths"]
        assert get(base + "/static/css/sigillo.css")[0] == 200

        # Every demo account, every page it can reach: nothing answers a server error.
        failures = []
        for username in ROLES:
            client = HttpClient(base)
            client.sign_in(username, "sigillo-demo-2026")
            pages = walk(client)
            assert len(pages) >= 5, (username, pages)
            failures += ["%s: %s answered %d" % (username, path, code) for path, code in pages.items() if code >= 500]
        assert failures == [], log.read_text(errors="replace")[-5000:]
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
