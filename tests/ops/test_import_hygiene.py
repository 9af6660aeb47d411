"""The web process never imports the heavy model libraries (STYLE.md, "Heavy models stay at the edges").

The first test imports the URL configuration; the second runs a real web server process with a
real worker and drives the requests that need models — a preview of faces, a registration, a
check with an image, a generation and the rights holder's answer it waits for — then reads the
modules the web process had loaded when it stopped.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.moderation.conftest import registry  # noqa: F401 - the fixture

HEAVY = ("torch", "diffusers", "dlib", "insightface", "onnxruntime", "sentence_transformers", "transformers", "cv2")
ROOT = Path(__file__).resolve().parents[2]


def test_url_configuration_imports_no_model_library():
    code = (
        "import django, json, sys; django.setup();"
        "import config.urls, config.wsgi;"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in %r)))" % (HEAVY,)
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )  # noqa: S603

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == []


#: Runs Django's development server in this process and, when it stops, writes the modules it loaded.
SERVER = """
import atexit, json, os, sys
atexit.register(lambda: json.dump(sorted(sys.modules), open(os.environ["MODULES_DUMP"], "w")))
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "runserver", "--noreload", "127.0.0.1:" + os.environ["PORT"]])
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_requests_that_need_models_leave_them_to_the_worker(registry, celery_worker_process, settings, tmp_path):  # noqa: F811
    from django.conf import settings as django_settings
    from rest_framework.authtoken.models import Token

    from accounts.roles import Role
    from consent import services as consent_services
    from consent.models import ConsentRequest
    from tests.conftest import _database_url
    from tests.consent.faces import photo_bytes
    from tests.factories import UserFactory

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dump = tmp_path / "modules.json"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": django_settings.CELERY_RESULT_BACKEND,
        "SIGILLO_MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
        "SIGILLO_GATE_EXECUTION": "worker",
        "PORT": str(port),
        "MODULES_DUMP": str(dump),
    }
    log = (tmp_path / "web.log").open("wb")
    web = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", SERVER], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = "http://127.0.0.1:%d" % port
    holder = UserFactory(roles=[Role.RIGHTS_HOLDER])
    tokens = {user: Token.objects.create(user=user).key for user in (holder, registry.creator, registry.kit_owner)}

    def call(user, method, path, **kwargs):
        headers = {"Authorization": "Token %s" % tokens[user]}
        return requests.request(method, base + path, headers=headers, timeout=180, **kwargs)

    def poll(path, done, timeout=120.0):
        deadline = time.monotonic() + timeout
        while True:
            body = call(registry.creator, "GET", path).json()
            if done(body) or time.monotonic() > deadline:
                return body
            time.sleep(0.3)

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/healthz", timeout=5)
                break
            except requests.ConnectionError:
                assert web.poll() is None and time.monotonic() < deadline, (tmp_path / "web.log").read_text()
                time.sleep(0.3)
        photos = [("photos", (name, photo_bytes("matt_damon/" + name))) for name in ("img29.jpg", "img30.jpg")]

        preview = call(holder, "POST", "/api/v1/likenesses/preview/", files=photos)
        assert preview.status_code == 200, preview.content
        assert [len(photo["faces"]) for photo in preview.json()["photos"]] == [1, 1]
        enrolled = call(holder, "POST", "/api/v1/likenesses/", data={"display_name": "Matt Damon"}, files=photos)
        assert enrolled.status_code == 201, enrolled.content
        assert enrolled.json()["faces_enrolled"] == 2

        image = [("images", ("ref.jpg", photo_bytes("obama/obama2.jpg")))]
        check = call(registry.creator, "POST", "/api/v1/checks/", data={"prompt": "a man in a garden"}, files=image)
        assert check.status_code == 200 and check.json()["verdict"] == "block", check.content
        verified = requests.post(base + "/api/v1/provenance/verify/", files={"file": image[0][1]}, timeout=180)
        assert verified.status_code == 200 and verified.json()["found"] is False, verified.content

        consent_services.consent_set(
            actor=registry.kit_owner,
            likeness=registry.kit,
            audience="everyone",
            uses=["personal"],
            per_use_approval=True,
        )
        body = {"prompt": "a walk on a beach", "kind": "image", "use": "personal", "cameos": [str(registry.kit.pk)]}
        created = call(registry.creator, "POST", "/api/v1/generations/", json=body)
        assert created.status_code == 202 and created.json()["status"] == "checking", created.content
        path = "/api/v1/generations/%s/" % created.json()["id"]
        assert poll(path, lambda body: body["status"] != "checking")["status"] == "awaiting_consent"
        request = ConsentRequest.objects.get(likeness=registry.kit, requester=registry.creator)
        answered = call(
            registry.kit_owner,
            "POST",
            "/api/v1/likenesses/%s/requests/%s/decision/" % (registry.kit.pk, request.pk),
            json={"approve": True},
        )
        assert answered.status_code == 200, answered.content
        after = poll(path, lambda body: body["status"] not in ("awaiting_consent", "checking"))
        assert after["status"] in ("queued", "running", "scanning", "released"), after
    finally:
        web.send_signal(signal.SIGINT)
        try:
            web.wait(timeout=30)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait()
        log.close()

    loaded = json.loads(dump.read_text())
    assert "django" in loaded and "rest_framework" in loaded  # the dump is the web process's
    assert sorted(module for module in loaded if module.split(".")[0] in HEAVY) == []
