"""Production settings pass `check --deploy` and refuse to start without a secret key; logs can be JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "k3y-" + "x7Qp9" * 12,
    "DJANGO_ALLOWED_HOSTS": "sigillo.example.org",
    "DATABASE_URL": "sqlite:////tmp/sigillo-check.sqlite3",
    "SIGILLO_BIOMETRIC_KEYS": "q4yJQmYwVwXvVq5x0a4w3c7Vb8n2LJ2sS0JrXlq9xyE=",
    "SIGILLO_AUDIT_KEY": "audit-" + "Vn3Lq8" * 8,
}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {
        key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL", "SIGILLO_"))
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes_with_production_environment():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DJANGO_SECRET_KEY"}
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "Set the DJANGO_SECRET_KEY environment variable" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DJANGO_ALLOWED_HOSTS"}
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_json_logs_are_one_object_per_line():
    code = "import django, logging; django.setup(); logging.getLogger('sigillo.test').warning('hello %s', 'world')"
    result = run(["-c", code], {**PRODUCTION_ENV, "LOG_FORMAT": "json"})
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["message"] == "hello world"
    assert record["level"] == "WARNING"
    assert record["logger"] == "sigillo.test"


def test_production_refuses_to_start_without_biometric_keys():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SIGILLO_BIOMETRIC_KEYS"}
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "SIGILLO_BIOMETRIC_KEYS" in result.stderr


def test_production_refuses_to_start_without_the_audit_key():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SIGILLO_AUDIT_KEY"}
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "SIGILLO_AUDIT_KEY" in result.stderr


def test_the_output_scans_nsfw_settings_are_read_from_the_environment():
    code = (
        "import django; django.setup(); from generation.scan import nsfw_action, nsfw_threshold; "
        "print(nsfw_threshold(), nsfw_action())"
    )
    env = {**PRODUCTION_ENV, "SIGILLO_NSFW_THRESHOLD": "0.45", "SIGILLO_NSFW_ACTION": "review"}
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["0.45", "review"]
