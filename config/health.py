"""``GET /healthz``: is the database, the broker and a worker reachable right now?

Answers 200 with every check ``ok``, or 503 naming what is down. The worker check is a
real round trip: a ``sigillo.ping`` task sent through the broker and answered by a worker.
Anyone sees which checks pass; the details (database vendor, transport, the worker's host and
pid, error text, timings) are for staff and moderators only.
"""

import contextlib
import logging
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _timed(check: Any) -> dict[str, Any]:
    started = time.monotonic()
    try:
        detail = check()
    except Exception as error:  # any failure means "down"; the reason is reported
        logger.warning("health check %s failed: %s", check.__name__, error)
        result: dict[str, Any] = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
    else:
        result = {"ok": True, **(detail or {})}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_broker() -> dict[str, Any]:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return {"transport": conn.transport.driver_type}


def check_worker() -> dict[str, Any]:
    from config.celery import ping

    result = ping.apply_async(queue="default", expires=settings.SIGILLO_HEALTH_WORKER_TIMEOUT + 5)
    try:
        answer = result.get(timeout=settings.SIGILLO_HEALTH_WORKER_TIMEOUT, disable_sync_subtasks=False)
    except Exception:
        result.revoke()
        raise TimeoutError("no worker answered within %.1f s" % settings.SIGILLO_HEALTH_WORKER_TIMEOUT) from None
    finally:
        with contextlib.suppress(Exception):  # nothing to forget when no answer came
            result.forget()
    engine = answer.get("face_engine") or {}
    if engine.get("ok") is False:
        raise RuntimeError("the worker's face engine %s cannot load (%s)" % (engine.get("engine"), engine.get("error")))
    return {"worker": answer.get("hostname"), "pid": answer.get("pid"), "face_engine": engine}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _timed(check_database), "broker": _timed(check_broker)}
    checks["worker"] = _timed(check_worker) if checks["broker"]["ok"] else {"ok": False, "error": "broker down"}
    healthy = all(check["ok"] for check in checks.values())
    if not _sees_details(request.user):
        checks = {name: {"ok": check["ok"]} for name, check in checks.items()}
    return JsonResponse({"status": "ok" if healthy else "down", "checks": checks}, status=200 if healthy else 503)


def _sees_details(user: Any) -> bool:
    from accounts.roles import Role

    return bool(user.is_authenticated and (user.is_staff or user.has_role(Role.MODERATOR) or user.has_role(Role.ADMIN)))
