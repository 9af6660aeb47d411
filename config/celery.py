"""The Celery app: one app, three queues so each kind of work scales on its own machines.

- ``default``: light bookkeeping (pings, expiries, notifications).
- ``generation``: model inference, GPU machines.
- ``scanning``: face matching and NSFW detection of outputs, CPU machines.
"""

import logging
import os
import socket

from celery import Celery
from celery.signals import worker_process_init
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("sigillo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("generation"), Queue("scanning"))
app.autodiscover_tasks()


@app.on_after_configure.connect
def _ensure_filesystem_broker_folders(sender: Celery, **kwargs: object) -> None:
    """Create the folders of the filesystem transport and result backend (embedded default)."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder", "processed_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)
    backend = sender.conf.result_backend or ""
    if backend.startswith("file://"):
        os.makedirs(backend[len("file://") :], exist_ok=True)


@worker_process_init.connect
def _warm_models(**kwargs: object) -> None:
    """Load every model of the gate and the output scan in each worker process before its first task.

    ``SIGILLO_WORKER_WARM=false`` skips it (a worker that only runs bookkeeping). The prefork pool
    waits ``CELERY_WORKER_PROC_ALIVE_TIMEOUT`` seconds for this, set long enough in the settings.
    """
    from django.conf import settings

    if not settings.SIGILLO_WORKER_WARM:
        return
    try:
        from moderation.warm import gate_models_warm

        gate_models_warm()
    except Exception:  # each model then loads on first use instead
        logging.getLogger(__name__).exception("Could not warm the models")


@app.task(name="sigillo.ping", ignore_result=False)
def ping() -> dict[str, object]:
    """Answer with the worker's host and process, proving a worker took the task, and whether its
    face engine loaded (a worker whose engine cannot load fails every check and registration)."""
    from consent.faces import engine_status

    return {"hostname": socket.gethostname(), "pid": os.getpid(), "face_engine": engine_status()}
