"""Fixtures for the whole suite: media in a temp folder, a real Celery worker, a real browser."""

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections
from rest_framework.test import APIClient

from accounts.roles import Role
from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return "%s://***@%s" % (scheme, rest.split("@", 1)[1])
    return url


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which database and broker the run uses (CI's log shows it)."""
    db = settings.DATABASES["default"]
    where = db.get("HOST") or db.get("TEST", {}).get("NAME") or db["NAME"]
    port = db.get("PORT") or ""
    install = getattr(settings, "SIGILLO_TEST_INSTALL", "") or "not named (the reachable services)"
    return [
        "sigillo install: %s" % install,
        "sigillo database: %s (%s%s)" % (connection.vendor, where, ":%s" % port if port else ""),
        "sigillo broker: %s" % _redact(settings.CELERY_BROKER_URL),
        "sigillo result backend: %s" % _redact(settings.CELERY_RESULT_BACKEND),
    ]


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    """Send every file the code under test writes to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _audit_checkpoints(settings: Any, tmp_path: Path) -> None:
    """Give every test its own audit checkpoint file: a shared one would outlive the test's rolled
    back trail, and the next test's trail would rightly look truncated."""
    settings.SIGILLO_AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.jsonl"


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_audit_trigger() -> Iterator[None]:
    """Let Django empty the tables after a transactional test on PostgreSQL.

    Its flush TRUNCATEs every table, and the audit table refuses TRUNCATE (a trigger, migration
    0008 of moderation). The suite connects as a superuser, which may switch triggers off for its
    own transaction: the flush does so, and nothing else does.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: Any, sql_list: list[str]) -> None:
        original(self, ["SET LOCAL session_replication_role = replica", *sql_list])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "execute_sql_flush", execute_sql_flush)
        yield


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Start every test with an empty cache (throttle counters and lock-outs live there). The
    embedded install's database cache is rolled back with each test's data instead."""
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache

    cache = caches["default"]  # the backend itself (django.core.cache.cache is a proxy)
    if not isinstance(cache, DatabaseCache):
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_face_indexes() -> Iterator[None]:
    """Every test builds its search indexes from its own database state (rolled back after)."""
    from consent.faces.index import reset_indexes
    from moderation.descriptors import reset_index as reset_descriptor_index
    from moderation.names import reset_name_index

    for reset in (reset_indexes, reset_name_index, reset_descriptor_index):
        reset()
    yield
    for reset in (reset_indexes, reset_name_index, reset_descriptor_index):
        reset()


@pytest.fixture
def face_thresholds(settings: Any) -> Iterator[Any]:
    """Set the default engine's (match, review) thresholds for a test, without the registry-size
    adjustment (a test that wants lookalikes to match, or a match to be only near)."""
    from consent.faces import clear_engine_cache, get_engine

    def set_thresholds(match: float, review: float) -> None:
        engine = get_engine()
        settings.SIGILLO_FACE_THRESHOLDS = {"%s/%s" % (engine.name, engine.model): {"match": match, "review": review}}
        settings.SIGILLO_FACE_FPIR_TARGET = settings.SIGILLO_FACE_REVIEW_FPIR_TARGET = 0
        clear_engine_cache()

    yield set_thresholds
    settings.SIGILLO_FACE_THRESHOLDS = {}
    clear_engine_cache()


@pytest.fixture(autouse=True)
def _force_login_passes_two_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    """``client.force_login`` skips the login view, and with it the second step of a moderator's or
    administrator's sign-in (accounts/two_factor.py): mark its session as having passed it, as the
    step does. The tests of the step itself (tests/accounts/test_two_factor.py) sign in through the
    real views instead."""
    from django.test.client import ClientMixin

    from accounts.two_factor import session_mark_verified

    force_login = ClientMixin.force_login

    def force_login_past_the_second_step(self: Any, user: Any, backend: str | None = None) -> None:
        force_login(self, user, backend)
        session = self.session
        session_mark_verified(session, user)
        session.save()

    monkeypatch.setattr(ClientMixin, "force_login", force_login_past_the_second_step)


def totp_enrol(user: Any) -> tuple[str, list[str]]:
    """Give ``user`` a confirmed authenticator through the real services; return its secret and
    recovery codes."""
    from accounts import totp, two_factor

    _, secret = two_factor.totp_enrolment_start(user=user)
    codes = two_factor.totp_enrolment_confirm(user=user, code=totp.code_at(secret, totp.step_at()))
    return secret, codes


def totp_code(user: Any) -> str:
    """Return a code the server accepts for ``user`` now: the current step's, or the next one's when
    the current step was already used (the server accepts one step ahead)."""
    from accounts import totp, two_factor
    from accounts.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user)
    return totp.code_at(two_factor.device_secret(device), max(totp.step_at(), device.last_used_step + 1))


def totp_wrong_code(secret: str) -> str:
    """Return a 6-digit code that is none of those the server could accept for ``secret`` in the
    next two minutes."""
    from accounts import totp

    now = totp.step_at()
    accepted = {totp.code_at(secret, step) for step in range(now - 2, now + 4)}
    return next(code for code in ("%06d" % n for n in range(1000)) if code not in accepted)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db: None) -> Any:
    """Make a user holding ``roles``; the password is ``tests.factories.PASSWORD``."""

    def make(*roles: Role, **fields: Any) -> Any:
        return UserFactory(roles=list(roles) if roles else None, **fields)

    return make


def _database_url() -> str:
    """The URL of the test database the suite is using right now (the worker must use it too)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///" + str(db["NAME"])
    auth = db["USER"] + ((":" + db["PASSWORD"]) if db.get("PASSWORD") else "")
    return "postgres://%s@%s:%s/%s" % (auth, db["HOST"] or "127.0.0.1", db["PORT"] or 5432, db["NAME"])


class WorkerProcess:
    """A real ``celery worker`` subprocess, on the suite's broker and test database."""

    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process = process
        self.log = log

    @property
    def pid(self) -> int:
        return self.process.pid

    def owns(self, pid: int) -> bool:
        """Return whether ``pid`` is the worker or one of its pool processes."""
        if pid == self.pid:
            return True
        try:
            status = Path("/proc/%d/status" % pid).read_text()
        except OSError:
            return False
        ppid = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))
        return ppid == self.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_worker(transactional_db: None, tmp_path: Path) -> Iterator[Any]:
    """Start real Celery worker processes (``start_worker(**extra_env)``); all are stopped afterwards.

    Tests using it see committed data only (``transactional_db``), as the workers do.
    """
    from config.celery import app

    app.control.purge()  # no task left over from an earlier run
    started: list[WorkerProcess] = []

    def start(**extra_env: str) -> WorkerProcess:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
            "SIGILLO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "LOG_LEVEL": "INFO",
            # Warming every model costs each worker test several seconds; tests/ops/test_worker_warm.py
            # starts one with it on.
            "SIGILLO_WORKER_WARM": "false",
            **extra_env,
        }
        log = tmp_path / ("worker-%d.log" % len(started))
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,generation,scanning",
                 "--concurrency", "1", "--pool", "prefork", "--loglevel", "INFO", "--without-gossip",
                 "--without-mingle", "--hostname", "test-%d-%d@%%h" % (os.getpid(), len(started))],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        worker = WorkerProcess(process, log)
        started.append(worker)
        deadline = time.monotonic() + 60
        while "ready." not in worker.output():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Celery worker did not start:\n" + worker.output())
            time.sleep(0.2)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            if worker.process.poll() is None:
                worker.process.terminate()
                try:
                    worker.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.process.kill()
                    worker.process.wait()


@pytest.fixture
def celery_worker_process(start_worker: Any) -> WorkerProcess:
    """One real Celery worker process for an end-to-end test."""
    return start_worker()


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright (its own browser download does not work here)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("%s is missing: run scripts/ensure-chromium.sh (make test does)" % CHROMIUM)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while it lives (only
    # for this test); Django's ORM calls from the test body stay synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
            # ORM calls made while Playwright's loop ran used connections local to its
            # context: close them here, in that context, or they outlive the test database.
            connections.close_all()
            _wait_for_live_server_requests()


def _wait_for_live_server_requests(timeout: float = 10.0) -> None:
    """Wait until the live server's request threads (kept alive by the browser) have ended.

    Each closes its database connection as it ends; the test database cannot be dropped
    while one is still open.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any("process_request_thread" in thread.name for thread in threading.enumerate()):
            return
        time.sleep(0.05)


@pytest.fixture
def page(chromium: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser page; ``page.base_url`` is the live server's address."""
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = live_server.url
    try:
        yield page
    finally:
        context.close()


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login page, as a person would; a moderator or administrator types the
    code of their authenticator too (given one first when they have none)."""
    from accounts import two_factor
    from accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is not None and two_factor.two_factor_required(user) and two_factor.confirmed_device(user) is None:
        totp_enrol(user)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state()
    if page.url.split("?")[0].endswith("/accounts/two-factor/"):
        page.fill("input[name=code]", totp_code(user))
        page.click("[data-testid=two-factor-form] button[type=submit]")
        page.wait_for_load_state()


@pytest.fixture(scope="session", autouse=True)
def _clean_test_broker_folders() -> Iterator[None]:
    yield
    shutil.rmtree(settings.VAR_DIR / "test-broker", ignore_errors=True)
