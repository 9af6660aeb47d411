"""The generation pipeline end to end: gate, animatic backend on a real worker, output scan, release."""

import io
import time

import pytest
from PIL import Image

from consent import crypto
from consent import services as consent_services
from generation import services
from generation.models import Generation
from generation.provenance.c2pa_manifest import c2pa_read
from generation.provenance.watermark import watermark_read
from moderation.gate import MediaInput
from moderation.reasons import ReasonCode
from tests.consent.faces import photo_bytes, photo_image
from tests.generation.requests import reviewed_request
from tests.moderation.conftest import registry  # noqa: F401 - the fixture

Status = Generation.Status


def wait_for(api_client, generation_id, statuses, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api_client.get("/api/v1/generations/%s/" % generation_id).json()
        if body["status"] in statuses:
            return body
        time.sleep(0.5)
    raise AssertionError("still %s after %d s" % (body["status"], timeout))


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_consented_cameo_video_is_generated_scanned_signed_and_released(api_client, registry, celery_worker_process):  # noqa: F811
    import av

    api_client.force_authenticate(registry.creator)
    response = api_client.post(
        "/api/v1/generations/",
        {
            "prompt": "a walk on a windy beach",
            "kind": "video",
            "use": "personal",
            "cameos": [str(registry.kit.pk)],
            "seed": 7,
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    created = response.json()
    assert created["status"] == Status.QUEUED
    assert created["decisions"]["pre_generation"]["verdict"] == "allow"

    body = wait_for(
        api_client, created["id"], {Status.RELEASED, Status.BLOCKED, Status.FAILED, Status.WITHHELD, Status.IN_REVIEW}
    )

    assert body["status"] == Status.RELEASED, body
    assert body["progress"]["step"] == body["progress"]["total"] > 0
    assert body["decisions"]["output"]["verdict"] == "allow"
    output = api_client.get(body["output_url"])
    assert output.status_code == 200 and output["Content-Type"] == "video/mp4"
    data = output.content
    with av.open(io.BytesIO(data)) as container:
        frames = [frame.to_image() for frame in container.decode(video=0)]
    assert len(frames) > 10
    reading = c2pa_read(data=data, mime_type="video/mp4")
    assert reading.found and reading.valid, reading.validation_errors
    assert reading.generation_id == created["id"]
    assert reading.model == services.ANIMATIC_MODEL == body["model"]
    assert [receipt["likeness"] for receipt in reading.receipts] == [str(registry.kit.pk)]
    jpeg = io.BytesIO()
    frames[len(frames) // 2].convert("RGB").save(jpeg, format="JPEG", quality=75)
    mark = watermark_read(Image.open(jpeg))
    assert mark.found and mark.payload_hex == created["id"].replace("-", "")[:16] == body["watermark"]
    # Only its creator can fetch it.
    api_client.force_authenticate(registry.friend)
    assert api_client.get(body["output_url"]).status_code == 404


@pytest.mark.django_db
def test_a_request_outside_the_audience_is_blocked_before_any_worker(api_client, registry):  # noqa: F811
    api_client.force_authenticate(registry.creator)  # Rose consents for "friend" only

    body = api_client.post(
        "/api/v1/generations/",
        {"prompt": "a portrait", "kind": "video", "cameos": [str(registry.rose.pk)]},
        format="json",
    ).json()

    assert body["status"] == Status.BLOCKED
    # To the creator, Rose's id is one nobody has (issue 15); the moderator reads why.
    decision = body["decisions"]["pre_generation"]
    assert [reason["code"] for reason in decision["reasons"]] == [ReasonCode.CAMEO_UNAVAILABLE]
    api_client.force_authenticate(registry.moderator)
    decision = api_client.get("/api/v1/decisions/%s/" % decision["id"]).json()
    assert [reason["code"] for reason in decision["reasons"]] == [ReasonCode.REQUESTER_NOT_IN_AUDIENCE]
    generation = Generation.objects.get(pk=body["id"])
    assert generation.started_at is None and generation.output_path == ""


@pytest.mark.django_db
def test_consent_revoked_while_the_job_runs_withholds_the_output(registry):  # noqa: F811
    generation = services.generation_request(
        requester=registry.creator, prompt="a portrait", kind="image", use="personal", cameos=[str(registry.kit.pk)]
    )
    assert generation.status == Status.QUEUED
    services.generation_generate(generation_id=str(generation.pk))

    consent_services.consent_revoke(actor=registry.kit_owner, likeness=registry.kit)
    services.generation_scan(generation_id=str(generation.pk))

    generation.refresh_from_db()
    assert generation.status == Status.WITHHELD
    assert "Kit Harington" in generation.reason and "revoked" in generation.reason


@pytest.mark.django_db
def test_an_output_showing_a_registered_person_who_is_not_a_cameo_is_blocked(registry):  # noqa: F811
    from generation.backends.animatic import AnimaticRequest, animatic_render

    generation = services.generation_request(
        requester=registry.creator, prompt="a crowd", kind="video", use="personal", cameos=[str(registry.kit.pk)]
    )
    services.generation_generate(generation_id=str(generation.pk))
    generation.refresh_from_db()
    # The model "drew" Obama: replace the output with a clip of his photo.
    clip = animatic_render(
        AnimaticRequest(
            prompt="a crowd",
            kind="video",
            photos=[photo_image("obama/obama2.jpg")],
            width=640,
            height=360,
            fps=8,
            seconds_per_photo=2.0,
        )
    )
    crypto.delete_file(generation.output_path)
    Generation.objects.filter(pk=generation.pk).update(
        output_path=crypto.store_encrypted_file(clip.data, folder="outputs")
    )

    services.generation_scan(generation_id=str(generation.pk))

    generation.refresh_from_db()
    assert generation.status == Status.BLOCKED
    blocked = [reason for reason in generation.output_decision.reasons if reason["code"] == ReasonCode.REGISTERED_FACE]
    assert blocked and blocked[0]["likeness_id"] == str(registry.obama.pk)
    assert blocked[0]["frame"] is not None and set(blocked[0]["box"]) == {"x", "y", "width", "height"}


@pytest.mark.django_db
def test_a_redelivered_task_does_nothing_twice(registry):  # noqa: F811
    generation = services.generation_request(
        requester=registry.creator, prompt="a portrait", kind="image", use="personal", cameos=[str(registry.kit.pk)]
    )
    services.generation_generate(generation_id=str(generation.pk))
    services.generation_scan(generation_id=str(generation.pk))
    generation.refresh_from_db()
    assert generation.status == Status.RELEASED
    released_path = generation.output_path

    assert services.generation_generate(generation_id=str(generation.pk)) is None
    assert services.generation_scan(generation_id=str(generation.pk)) is None
    assert services.generation_release(generation_id=str(generation.pk)) is None
    generation.refresh_from_db()
    assert generation.output_path == released_path and generation.attempts == 1


@pytest.mark.django_db
def test_bad_generation_requests_are_refused(api_client, registry):  # noqa: F811
    api_client.force_authenticate(registry.creator)
    for body, field in (
        ({"kind": "video"}, "prompt"),
        ({"prompt": "x", "kind": "hologram"}, "kind"),
        ({"prompt": "x", "kind": "image", "cameos": ["kit"]}, "cameos"),
        ({"prompt": "x", "kind": "image", "seed": -1}, "seed"),
        ({"prompt": "p" * 2001, "kind": "image"}, "prompt"),
    ):
        response = api_client.post("/api/v1/generations/", body, format="json")
        assert response.status_code == 400 and field in response.json()["error"]["fields"], body
    assert not Generation.objects.exists()
    api_client.force_authenticate(registry.rose_owner)
    assert api_client.post("/api/v1/generations/", {"prompt": "x", "kind": "image"}, format="json").status_code == 403


@pytest.mark.django_db
def test_a_request_waiting_for_consent_goes_on_when_the_rights_holder_says_yes(
    registry,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from consent.models import ConsentRequest

    consent_services.consent_set(
        actor=registry.kit_owner, likeness=registry.kit, audience="everyone", uses=["personal"], per_use_approval=True
    )
    generation = services.generation_request(
        requester=registry.creator,
        prompt="a portrait",
        kind="image",
        use="personal",
        cameos=[str(registry.kit.pk)],
        reference=MediaInput(name="kit.jpg", data=photo_bytes("kit_harington/johnsnow_test1.jpg")),
    )
    assert generation.status == Status.AWAITING_CONSENT and generation.reference_path
    request = ConsentRequest.objects.get(requester=registry.creator, likeness=registry.kit)

    with django_capture_on_commit_callbacks(execute=True):
        consent_services.consent_request_decide(actor=registry.kit_owner, request=request, approve=True)

    generation.refresh_from_db()
    assert generation.status == Status.QUEUED and generation.pre_decision.verdict == "allow"
    # The second pass through the gate saw the reference again.
    [faces] = [item["faces"] for item in generation.pre_decision.media if "faces" in item]
    assert [face["best"]["likeness_id"] for face in faces] == [str(registry.kit.pk)]


@pytest.mark.django_db
def test_a_request_waiting_for_consent_stops_when_the_answer_is_no_or_never_comes(
    registry,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    from consent.models import ConsentRequest

    consent_services.consent_set(
        actor=registry.kit_owner, likeness=registry.kit, audience="everyone", uses=["personal"], per_use_approval=True
    )
    denied = services.generation_request(
        requester=registry.creator, prompt="a portrait", kind="image", use="personal", cameos=[str(registry.kit.pk)]
    )
    forgotten = services.generation_request(
        requester=registry.creator,
        prompt="another portrait",
        kind="image",
        use="personal",
        cameos=[str(registry.kit.pk)],
    )
    request = ConsentRequest.objects.get(requester=registry.creator, likeness=registry.kit, prompt="a portrait")

    with django_capture_on_commit_callbacks(execute=True):
        consent_services.consent_request_decide(actor=registry.kit_owner, request=request, approve=False)
    settings.SIGILLO_CONSENT_WAIT_HOURS = 0
    from config.celery import app
    from generation.tasks import generation_expire_waiting_task

    scheduled = settings.CELERY_BEAT_SCHEDULE["expire-waiting-generations"]["task"]
    assert app.tasks[scheduled].name == generation_expire_waiting_task.name  # beat runs it every few minutes
    assert generation_expire_waiting_task() == 1

    denied.refresh_from_db()
    forgotten.refresh_from_db()
    assert (denied.status, denied.reason) == (Status.BLOCKED, "The rights holder said no.")
    assert (forgotten.status, forgotten.reason) == (Status.BLOCKED, "The rights holder did not answer in time.")


@pytest.mark.django_db
def test_a_moderator_approving_a_reviewed_request_queues_it(registry, api_client, django_capture_on_commit_callbacks):  # noqa: F811
    generation, flag = reviewed_request(registry)
    api_client.force_authenticate(registry.moderator)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/moderation/flags/%s/decision/" % flag.pk,
            {"decision": "approve", "note": "Nobody is named."},
            format="json",
        )
    assert response.status_code == 200, response.content

    generation.refresh_from_db()
    assert generation.status == Status.QUEUED
