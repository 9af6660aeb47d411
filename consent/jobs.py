"""Enrollment work that needs the face engine, run where the models live.

The web process never loads a face model: registering a likeness, adding photos to it and
previewing the faces on photos each become a task on the ``scanning`` queue, which the request
waits on for up to ``SIGILLO_ENROLL_TIMEOUT`` seconds (``SIGILLO_GATE_EXECUTION=inline`` runs
them in the calling process, as tests and commands do). The photos travel encrypted on disk and
are deleted when the task ends; the task answers with plain data, and this module turns a refusal
back into the exception the service raised (``EnrollmentRejected``, ``ValidationError`` by field
with its codes, ``PermissionError``), so that every caller handles one set of errors.
"""

import logging
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.models import User
from consent.enrollment import MESSAGES, EnrollmentRejected, PhotoError, PhotoInput
from consent.errors import EnrollmentError
from consent.models import Likeness

logger = logging.getLogger(__name__)

FOLDER = "enrollment"


def likeness_enroll_job(
    *, owner: User, photos: list[PhotoInput], estate_document: PhotoInput | None = None, **fields: Any
) -> tuple[Likeness, int]:
    """``services.likeness_enroll`` in a worker; return the likeness and how many likenesses it disputes."""
    if isinstance(fields.get("date_of_death"), date):
        fields["date_of_death"] = fields["date_of_death"].isoformat()
    answer = _run(
        "enroll",
        actor=owner,
        fields=fields,
        photos=photos,
        document=estate_document,
    )
    return Likeness.objects.get(pk=answer["likeness"]), answer["disputed_with"]


def likeness_add_photos_job(*, actor: User, likeness: Likeness, photos: list[PhotoInput]) -> Likeness:
    """``services.likeness_add_photos`` in a worker."""
    _run("add_photos", actor=actor, fields={"likeness": str(likeness.pk)}, photos=photos)
    likeness.refresh_from_db()
    return likeness


def photos_preview_job(*, actor: User, photos: list[PhotoInput]) -> dict[str, Any]:
    """The faces on each photo and which one would be enrolled, without storing anything."""
    return _run("preview", actor=actor, fields={}, photos=photos)


def enrollment_run(
    *, action: str, actor_id: int, fields: dict[str, Any], photos: list[PhotoInput], document: PhotoInput | None
) -> dict[str, Any]:
    """Do one enrollment action here (a worker, or the calling process); answer with plain data."""
    from consent import services
    from consent.enrollment import face_summary, photos_analyze

    actor = User.objects.get(pk=actor_id)
    try:
        if action == "preview":
            engine, analyzed = photos_analyze(photos=photos)
            return {
                "engine": engine.thresholds(),
                "photos": [
                    {
                        "index": index,
                        "name": photo.input.name,
                        "width": photo.image.width,
                        "height": photo.image.height,
                        "faces": [face_summary(face, engine) for face in photo.faces],
                        "chosen": photo.faces.index(photo.chosen),
                    }
                    for index, photo in enumerate(analyzed)
                ],
            }
        if action == "add_photos":
            likeness = Likeness.objects.get(pk=fields["likeness"])
            services.likeness_add_photos(actor=actor, likeness=likeness, photos=photos)
            return {"likeness": str(likeness.pk)}
        if action == "enroll":
            values = dict(fields)
            if values.get("date_of_death"):
                values["date_of_death"] = date.fromisoformat(values["date_of_death"])
            result = services.likeness_enroll(owner=actor, photos=photos, estate_document=document, **values)
            return {"likeness": str(result.likeness.pk), "disputed_with": len(result.disputed_with)}
        raise ValueError("unknown enrollment action %r" % action)
    except EnrollmentRejected as rejected:
        return {"rejected": [error.as_dict() for error in rejected.errors]}
    except ValidationError as error:
        return {"invalid": _validation_as_data(error)}
    except PermissionError as error:
        return {"forbidden": str(error)}


def _run(
    action: str, *, actor: User, fields: dict[str, Any], photos: list[PhotoInput], document: PhotoInput | None = None
) -> dict[str, Any]:
    if settings.SIGILLO_GATE_EXECUTION == "inline":
        answer = enrollment_run(action=action, actor_id=actor.pk, fields=fields, photos=photos, document=document)
    else:
        answer = _in_worker(action, actor, fields, photos, document)
    return _raise_refusal(answer)


def _in_worker(
    action: str, actor: User, fields: dict[str, Any], photos: list[PhotoInput], document: PhotoInput | None
) -> dict[str, Any]:
    from consent import crypto
    from consent.tasks import enrollment_task

    def stored(item: PhotoInput) -> dict[str, Any]:
        path = crypto.store_encrypted_file(item.data, folder=FOLDER)
        return {"name": item.name, "path": path, "face_index": item.face_index}

    kwargs = {
        "action": action,
        "actor_id": actor.pk,
        "fields": fields,
        "photos": [stored(photo) for photo in photos],
        "document": stored(document) if document else None,
    }
    timeout = settings.SIGILLO_ENROLL_TIMEOUT
    try:
        # A task still queued when the request gives up never runs (``expires``).
        result = enrollment_task.apply_async(kwargs=kwargs, queue="scanning", expires=timeout)
        return result.get(timeout=timeout, disable_sync_subtasks=False)
    except Exception as error:
        logger.warning("enrollment %s did not finish: %s", action, error)
        code = EnrollmentError.ENGINE_UNAVAILABLE
        message = "%s (no answer within %.0f s: %s)" % (MESSAGES[code], timeout, type(error).__name__)
        return {"rejected": [PhotoError(0, "", code, message).as_dict()]}


def read_inputs(items: list[dict[str, Any]]) -> list[PhotoInput]:
    """The photos a task was given, decrypted (the task deletes the files when it ends)."""
    from consent import crypto

    return [
        PhotoInput(name=item["name"], data=crypto.read_encrypted_file(item["path"]), face_index=item["face_index"])
        for item in items
    ]


def _raise_refusal(answer: dict[str, Any]) -> dict[str, Any]:
    if "rejected" in answer:
        raise EnrollmentRejected(
            [
                PhotoError(
                    error["index"],
                    error["name"],
                    EnrollmentError(error["code"]),
                    error["message"],
                    tuple(error.get("faces") or ()),
                )
                for error in answer["rejected"]
            ]
        )
    if "invalid" in answer:
        raise _validation_from_data(answer["invalid"])
    if "forbidden" in answer:
        raise PermissionError(answer["forbidden"])
    return answer


def _validation_as_data(error: ValidationError) -> dict[str, list[list[str | None]]]:
    """A ValidationError as {field or "": [[message, code]]}: what crosses the broker."""
    if hasattr(error, "error_dict"):
        return {
            field: [[message, item.code] for item in errors for message in item.messages]
            for field, errors in error.error_dict.items()
        }
    return {"": [[message, item.code] for item in error.error_list for message in item.messages]}


def _validation_from_data(data: dict[str, list[list[str | None]]]) -> ValidationError:
    def errors(items: list[list[str | None]]) -> list[ValidationError]:
        return [ValidationError(message, code=code) for message, code in items]

    if set(data) == {""}:
        return ValidationError(errors(data[""]))
    return ValidationError({field: errors(items) for field, items in data.items()})
