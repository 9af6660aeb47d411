"""Test settings: PostgreSQL and Redis when reachable, SQLite and the filesystem broker otherwise."""

import socket

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, VAR_DIR, env


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


SECRET_KEY = env("DJANGO_SECRET_KEY", default="django-insecure-test-only-key")
# Explicitly off for the suite at large, whose fixtures register people without a camera; the tests
# of the live selfie check and of what it gates (tests/consent/test_verification.py) turn it on.
SIGILLO_LIVENESS_REQUIRED = env.bool("SIGILLO_LIVENESS_REQUIRED", default=False)
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if "DATABASE_URL" not in env:
    if _reachable("127.0.0.1", 5432):
        DATABASES = {"default": env.db_url_config("postgres://postgres@127.0.0.1:5432/sigillo")}
    else:
        DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the Celery worker process of the end-to-end tests shares it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

if "CELERY_BROKER_URL" not in env and _reachable("127.0.0.1", 6379):
    # Database 15 keeps the tests' queues apart from a development worker's.
    CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=7200)}

if CELERY_BROKER_URL.startswith("redis") and not SIGILLO_CACHE_URL:  # noqa: F405
    # The production install's shared cache is Redis too: database 14, apart from the broker's 15
    # (the suite clears it before each test).
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/14"}
    }

if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    # The tests' own folders, apart from a development worker's.
    _broker_dir = VAR_DIR / "test-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        key: str(_broker_dir / name)
        for key, name in (
            ("data_folder_in", "queue"),
            ("data_folder_out", "queue"),
            ("control_folder", "control"),
            ("processed_folder", "processed"),
        )
    }
    CELERY_BROKER_TRANSPORT_OPTIONS["store_processed"] = False
    CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="file://" + str(VAR_DIR / "test-results"))

#: Which install this run exercises (`make test` runs both, one after the other). Named, it must be
#: what the run really uses: a production run never falls back to SQLite without saying so.
SIGILLO_TEST_INSTALL = env("SIGILLO_TEST_INSTALL", default="")
_INSTALLS = {
    "production": ("django.db.backends.postgresql", ("redis://", "rediss://")),
    "embedded": ("django.db.backends.sqlite3", ("filesystem://",)),
}
if SIGILLO_TEST_INSTALL:
    from django.core.exceptions import ImproperlyConfigured

    if SIGILLO_TEST_INSTALL not in _INSTALLS:
        raise ImproperlyConfigured("SIGILLO_TEST_INSTALL is production or embedded, not %r" % SIGILLO_TEST_INSTALL)
    _engine, _brokers = _INSTALLS[SIGILLO_TEST_INSTALL]
    if DATABASES["default"]["ENGINE"] != _engine or not CELERY_BROKER_URL.startswith(_brokers):  # noqa: F405
        raise ImproperlyConfigured(
            "The %s test run needs %s and a %s broker; DATABASE_URL and CELERY_BROKER_URL say otherwise"
            % (SIGILLO_TEST_INSTALL, _engine.rsplit(".", 1)[-1], " or ".join(_brokers))
        )

STATIC_ROOT = VAR_DIR / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Gate checks run in the test process; tests/moderation/test_gate_worker.py runs them in a real worker.
SIGILLO_GATE_EXECUTION = env("SIGILLO_GATE_EXECUTION", default="inline")

SIGILLO_HEALTH_WORKER_TIMEOUT = env.float("SIGILLO_HEALTH_WORKER_TIMEOUT", default=10.0)
LOGGING["root"]["level"] = env("LOG_LEVEL", default="WARNING")  # noqa: F405

if not SIGILLO_BIOMETRIC_KEYS:  # noqa: F405
    from consent.crypto import derive_key

    SIGILLO_BIOMETRIC_KEYS = [derive_key(SECRET_KEY)]

if not SIGILLO_AUDIT_KEY:  # noqa: F405
    from moderation.audit_key import derive_audit_key

    SIGILLO_AUDIT_KEY = derive_audit_key(SECRET_KEY)

SIGILLO_C2PA_DEV_CERTIFICATE = env.bool("SIGILLO_C2PA_DEV_CERTIFICATE", default=True)
