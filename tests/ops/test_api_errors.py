"""API errors keep the documented JSON shape in every settings module, DEBUG included.

Django renders some errors itself (an unknown URL, an exception a view did not handle); with
DEBUG on that is its HTML debug page, which shows the settings to whoever called the API.
"""

import json
import os
import subprocess
import sys

import pytest
from django.test import Client, override_settings

from config.api import ApiErrorCode
from tests.ops.test_settings import PRODUCTION_ENV, ROOT

pytestmark = pytest.mark.django_db


def _boom(*args, **kwargs):
    raise RuntimeError("a bug in a view, with a secret in its message")


@pytest.mark.parametrize("debug", [False, True])
def test_an_unhandled_exception_in_an_api_view_answers_json(debug, make_user, monkeypatch):
    user = make_user()
    monkeypatch.setattr("accounts.apis.MeApi.get", _boom)
    client = Client(raise_request_exception=False)
    client.force_login(user)

    with override_settings(DEBUG=debug):
        response = client.get("/api/v1/accounts/me/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == ApiErrorCode.ERROR
    assert "secret" not in response.content.decode() and "Traceback" not in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_url_answers_json_not_found(debug):
    with override_settings(DEBUG=debug):
        response = Client().get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": ApiErrorCode.NOT_FOUND, "message": "Not found."}}


def test_pages_outside_the_api_keep_their_html_errors():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


SCRIPT = """
import django, json
django.setup()
from django.test import Client
from rest_framework.views import APIView
def boom(*args, **kwargs):
    raise RuntimeError("secret-%s" % "value")
APIView.initial = boom
from django.conf import settings
host = next((h for h in settings.ALLOWED_HOSTS if h not in ("*", "")), "localhost").lstrip(".")
client = Client(raise_request_exception=False, SERVER_NAME=host, HTTP_X_FORWARDED_PROTO="https", secure=True)
answers = {}
for path in ("/api/v1/no-such-thing/", "/api/v1/auth/token/"):
    response = client.get(path)
    answers[path] = [response.status_code, response["Content-Type"], response.content.decode()]
print(json.dumps(answers))
"""


@pytest.mark.parametrize(
    "env",
    [
        {"DJANGO_SETTINGS_MODULE": "config.settings.local"},
        {"DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "false"},
        PRODUCTION_ENV,
        {"DJANGO_SETTINGS_MODULE": "config.settings.test"},
    ],
    ids=["local-debug", "local", "production", "test"],
)
def test_every_settings_module_answers_api_errors_in_json(env, tmp_path):
    base = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SIGILLO_"))}
    base.pop("DATABASE_URL", None)
    base["SIGILLO_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    not_found, crashed = answers["/api/v1/no-such-thing/"], answers["/api/v1/auth/token/"]
    assert not_found[:2] == [404, "application/json"]
    assert json.loads(not_found[2])["error"]["code"] == ApiErrorCode.NOT_FOUND
    assert crashed[:2] == [500, "application/json"]
    assert json.loads(crashed[2])["error"]["code"] == ApiErrorCode.ERROR
    assert "secret-value" not in crashed[2]
