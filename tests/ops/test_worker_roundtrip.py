"""A task sent through the web process is executed by a separate worker process."""

import os
import urllib.request

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_task_sent_by_the_web_process_runs_in_the_worker(live_server, celery_worker_process, client, make_user):
    from accounts.roles import Role

    client.force_login(make_user(Role.MODERATOR))  # the worker's pid is shown to staff only
    request = urllib.request.Request(  # noqa: S310 - the live test server
        live_server.url + "/healthz", headers={"Cookie": "sessionid=%s" % client.cookies["sessionid"].value}
    )
    # A real HTTP request to the live server: its view sends the ping task through the broker.
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        import json

        body = json.load(response)

    worker_pid = body["checks"]["worker"]["pid"]
    assert worker_pid != os.getpid()
    assert celery_worker_process.owns(worker_pid)
    assert "sigillo.ping" in celery_worker_process.output()
