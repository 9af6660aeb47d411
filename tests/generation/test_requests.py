"""What a generation request can carry: @handle cameos, a reference image, backend and shape, each checked."""

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from PIL import Image

from accounts.roles import Role
from consent import crypto
from consent import services as consent_services
from consent.faces.base import load_image
from consent.handles import handle_suggest, mentions_expand, mentions_find
from generation import services
from generation.models import Generation, ReleasedFace
from moderation.models import Decision
from moderation.reasons import ReasonCode
from tests.consent.faces import photo_bytes
from tests.moderation.conftest import photos, registry  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
Status = Generation.Status


def post(api_client, data, *, multipart=False):
    return api_client.post("/api/v1/generations/", data, format="multipart" if multipart else "json")


def upload(path: str, name: str | None = None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name or Path(path).name, photo_bytes(path))


def field_errors(response) -> dict[str, list[str]]:
    """The API's error shape, as {field: [message, ...]}."""
    fields = response.json()["error"]["fields"]
    return {name: [entry["message"] for entry in entries] for name, entries in fields.items()}


def stored_files(folder: str) -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT) / folder
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# Handles --------------------------------------------------------------------------------------


def test_every_likeness_gets_a_unique_handle_made_from_its_name(registry):  # noqa: F811
    assert (registry.kit.handle, registry.rose.handle, registry.obama.handle) == (
        "kit_harington",
        "rose_leslie",
        "barack_obama",
    )
    twin = consent_services.likeness_register_protected(moderator=registry.moderator, display_name="Kit  Harington")
    assert twin.handle == "kit_harington_2"
    assert handle_suggest("Zoë O'Brien-Smith") == "zoe_obrien_smith"
    assert handle_suggest("李") == "person"


def test_the_owner_changes_the_handle_and_bad_or_taken_handles_are_refused(api_client, registry):  # noqa: F811
    api_client.force_authenticate(registry.kit_owner)
    url = "/api/v1/likenesses/%s/" % registry.kit.pk

    changed = api_client.patch(url, {"handle": "@Jon_Snow"}, format="json")
    taken = api_client.patch(url, {"handle": "rose_leslie"}, format="json")
    invalid = api_client.patch(url, {"handle": "jon snow!"}, format="json")
    short = api_client.patch(url, {"handle": "js"}, format="json")

    assert changed.status_code == 200 and changed.json()["handle"] == "jon_snow"
    assert taken.status_code == 400 and "taken" in field_errors(taken)["handle"][0]
    assert invalid.status_code == 400 and short.status_code == 400
    registry.kit.refresh_from_db()
    assert registry.kit.handle == "jon_snow"


def test_mentions_are_found_once_case_insensitively_and_never_inside_an_email_address() -> None:
    prompt = "@Kit_Harington and @kit_harington meet @rose_leslie; write to fan@kit_harington.com or x@rose_leslie"

    assert mentions_find(prompt) == ["kit_harington", "rose_leslie"]
    assert mentions_expand("@Kit_Harington waves, mail a@kit_harington", {"kit_harington": "Kit Harington"}) == (
        "Kit Harington waves, mail a@kit_harington"
    )


def test_a_mention_is_a_cameo_and_the_model_sees_the_name(api_client, registry):  # noqa: F811
    api_client.force_authenticate(registry.creator)

    response = post(api_client, {"prompt": "@kit_harington walks on a windy beach", "kind": "image"})

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == Status.QUEUED and body["cameos"] == [str(registry.kit.pk)]
    allowed = [r for r in body["decisions"]["pre_generation"]["reasons"] if r["code"] == ReasonCode.CONSENT_ALLOWS]
    assert [r["likeness_id"] for r in allowed] == [str(registry.kit.pk)]
    generation = Generation.objects.get(pk=body["id"])
    assert generation.model_prompt == "Kit Harington walks on a windy beach"
    assert generation.prompt == "@kit_harington walks on a windy beach"


def test_a_mention_of_someone_whose_consent_does_not_cover_the_creator_is_refused_as_unknown(api_client, registry):  # noqa: F811
    api_client.force_authenticate(registry.creator)

    response = post(api_client, {"prompt": "@rose_leslie reads a book", "kind": "image"})

    # Whether Rose is registered is not the creator's to learn (issue 15): as for a handle nobody has.
    assert response.status_code == 400
    assert field_errors(response)["prompt"] == ["Nobody you may cast goes by @rose_leslie."]
    assert not Generation.objects.exists()
    api_client.force_authenticate(registry.friend)  # in her audience: the consent is evaluated
    body = post(api_client, {"prompt": "@rose_leslie reads a book", "kind": "image", "use": "commercial"}).json()
    assert body["status"] == Status.BLOCKED
    assert ReasonCode.USE_NOT_ALLOWED in [r["code"] for r in body["decisions"]["pre_generation"]["reasons"]]


def test_an_unknown_mention_is_refused_and_nothing_is_stored(api_client, registry):  # noqa: F811
    api_client.force_authenticate(registry.creator)
    decisions = Decision.objects.count()

    response = post(api_client, {"prompt": "@nobody_here and @kit_harington dance", "kind": "image"})

    assert response.status_code == 400
    assert field_errors(response)["prompt"] == ["Nobody you may cast goes by @nobody_here."]
    assert Generation.objects.count() == 0 and Decision.objects.count() == decisions


# Reference images -----------------------------------------------------------------------------


def test_a_reference_of_the_consented_cameo_is_kept_used_and_its_faces_released_with_embeddings(
    api_client,
    registry,  # noqa: F811
) -> None:
    api_client.force_authenticate(registry.creator)

    response = post(
        api_client,
        {
            "prompt": "a portrait in the snow",
            "kind": "image",
            "cameos": [str(registry.kit.pk)],
            "reference": upload("kit_harington/johnsnow_test1.jpg"),
            "width": 512,
            "height": 384,
        },
        multipart=True,
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == Status.QUEUED and body["has_reference"] and (body["width"], body["height"]) == (512, 384)
    assert [f["best"]["likeness_id"] for f in body["decisions"]["pre_generation"]["media"][-1]["faces"]] == [
        str(registry.kit.pk)
    ]
    generation = Generation.objects.get(pk=body["id"])
    [kept] = stored_files("references")
    # Kept as its pixels only (PNG, no metadata), encrypted at rest.
    stored = load_image(crypto.read_encrypted_file(generation.reference_path))
    assert stored.tobytes() == load_image(photo_bytes("kit_harington/johnsnow_test1.jpg")).tobytes()
    assert not kept.read_bytes().startswith((b"\xff\xd8", b"\x89PNG"))
    services.generation_generate(generation_id=str(generation.pk))
    services.generation_scan(generation_id=str(generation.pk))
    generation.refresh_from_db()
    assert generation.status == Status.RELEASED, generation.output_decision.reasons
    released = Image.open(io.BytesIO(crypto.read_encrypted_file(generation.output_path)))
    assert released.size == (512, 384)
    faces = list(ReleasedFace.objects.filter(generation=generation))
    assert len(faces) == 2  # the reference and Kit's registered photo, side by side
    assert {face.likeness_id for face in faces} == {registry.kit.pk}
    assert all(len(crypto.decrypt_embedding(face.embedding)) == 128 and face.engine == "sface" for face in faces)


def test_a_reference_showing_a_registered_person_who_is_not_a_cameo_is_blocked_and_not_kept(
    api_client,
    registry,  # noqa: F811
) -> None:
    api_client.force_authenticate(registry.creator)

    body = post(
        api_client,
        {"prompt": "a portrait", "kind": "image", "reference": upload("obama/obama2.jpg")},
        multipart=True,
    ).json()

    assert body["status"] == Status.BLOCKED and not body["has_reference"]
    reasons = body["decisions"]["pre_generation"]["reasons"]
    assert {ReasonCode.REGISTERED_FACE, ReasonCode.PROTECTED_ENTRY} <= {reason["code"] for reason in reasons}
    assert stored_files("references") == []


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.jpg", b"these are not pixels", "not a readable image"),
        ("empty.png", b"", "empty"),
    ],
)
def test_a_reference_that_is_not_an_image_is_refused_and_nothing_is_stored(
    api_client,
    registry,  # noqa: F811
    name,
    data,
    message,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    api_client.force_authenticate(registry.creator)
    decisions = Decision.objects.count()

    response = post(
        api_client,
        {"prompt": "a portrait", "kind": "image", "reference": SimpleUploadedFile(name, data)},
        multipart=True,
    )

    assert response.status_code == 400
    assert message in field_errors(response)["reference"][0].lower()
    assert Generation.objects.count() == 0 and Decision.objects.count() == decisions
    assert stored_files("references") == []


def test_a_video_is_not_a_reference(api_client, registry):  # noqa: F811
    from django.core.files.uploadedfile import SimpleUploadedFile

    from generation.backends.animatic import AnimaticRequest, animatic_render

    clip = animatic_render(AnimaticRequest(prompt="a clip", kind="video", width=128, height=96, fps=4)).data
    api_client.force_authenticate(registry.creator)

    response = post(
        api_client,
        {"prompt": "a portrait", "kind": "video", "reference": SimpleUploadedFile("clip.mp4", clip)},
        multipart=True,
    )

    assert response.status_code == 400 and "reference" in field_errors(response)
    assert Generation.objects.count() == 0


# Backend and shape ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"steps": 0}, "steps"),
        ({"steps": 51}, "steps"),
        ({"width": 128}, "width"),
        ({"height": 1030}, "height"),
        ({"width": 2048}, "width"),
        ({"frames": 8}, "frames"),  # an image has no frames
        ({"kind": "video", "frames": 49}, "frames"),
        ({"backend": "diffusers"}, "backend"),  # not configured here
        ({"backend": "midjourney"}, "backend"),
        ({"kind": "gif"}, "kind"),
        ({"seed": -1}, "seed"),
        ({"cameos": ["not-a-uuid"]}, "cameos"),
    ],
)
def test_requests_outside_the_limits_are_refused_by_field_and_nothing_is_stored(
    api_client,
    registry,  # noqa: F811
    settings,
    changes,
    field,
) -> None:
    settings.SIGILLO_DIFFUSERS_MODEL = ""
    api_client.force_authenticate(registry.creator)
    decisions = Decision.objects.count()

    response = post(api_client, {"prompt": "a quiet harbour at dawn", "kind": "image", **changes})

    assert response.status_code == 400, response.content
    assert field in field_errors(response)
    assert Generation.objects.count() == 0 and Decision.objects.count() == decisions


def test_the_requested_size_reaches_the_animatic_backend(api_client, registry):  # noqa: F811
    api_client.force_authenticate(registry.creator)
    body = post(api_client, {"prompt": "a quiet harbour at dawn", "kind": "image", "width": 320, "height": 256}).json()

    services.generation_generate(generation_id=body["id"])

    generation = Generation.objects.get(pk=body["id"])
    output = Image.open(io.BytesIO(crypto.read_encrypted_file(generation.output_path)))
    assert output.size == (320, 256) and generation.status == Status.SCANNING


# Reverse search -------------------------------------------------------------------------------


def release_showing(api_client, creator, photo: str) -> str:
    """Release an image made from a reference photo of someone nobody registered yet; return its id."""
    api_client.force_authenticate(creator)
    body = post(
        api_client,
        {"prompt": "a pianist on stage", "kind": "image", "reference": upload(photo)},
        multipart=True,
    ).json()
    assert body["status"] == Status.QUEUED, body["decisions"]["pre_generation"]["reasons"]
    services.generation_generate(generation_id=body["id"])
    services.generation_scan(generation_id=body["id"])
    assert Generation.objects.get(pk=body["id"]).status == Status.RELEASED
    return body["id"]


def test_a_person_who_registers_later_finds_the_releases_that_showed_them(
    api_client,
    registry,  # noqa: F811
    settings,
    make_user,
    django_capture_on_commit_callbacks,
) -> None:
    settings.SIGILLO_GATE_UNKNOWN_FACE = "allow"  # an unregistered face in a reference passes
    generation_id = release_showing(api_client, registry.creator, "alex_lacamoire/img1.jpg")
    face = ReleasedFace.objects.get(generation_id=generation_id)
    assert face.likeness_id is None  # nobody knew this face when it was released

    alex_owner = make_user(Role.RIGHTS_HOLDER, username="alex")
    with django_capture_on_commit_callbacks(execute=True):
        alex = consent_services.likeness_enroll(
            owner=alex_owner, display_name="Alex Lacamoire", photos=photos("alex_lacamoire/alex-lacamoire.png")
        ).likeness

    face.refresh_from_db()
    assert face.likeness_id == alex.pk
    api_client.force_authenticate(alex_owner)
    rows = api_client.get("/api/v1/likenesses/%s/appearances/" % alex.pk).json()
    assert [(row["generation"], row["status"], row["as_cameo"], row["seen_in_output"]) for row in rows] == [
        (generation_id, "released", False, True)
    ]
    # Somebody else's face is not linked to them.
    assert not ReleasedFace.objects.filter(likeness=registry.kit).exists()

    consent_services.likeness_erase(actor=alex_owner, likeness=alex)

    face.refresh_from_db()
    alex.refresh_from_db()
    assert alex.handle is None  # the handle was made from the name, which is gone
    assert face.embedding is None  # erasure takes the face data of releases too; the record stays
    assert str(face.generation_id) == generation_id


def test_an_estate_learns_where_the_face_appeared_only_once_a_moderator_verified_it(
    api_client,
    registry,  # noqa: F811
    settings,
    make_user,
    django_capture_on_commit_callbacks,
) -> None:
    from datetime import date

    from consent.enrollment import PhotoInput
    from consent.models import EstateClaim

    settings.SIGILLO_GATE_UNKNOWN_FACE = "allow"
    generation_id = release_showing(api_client, registry.creator, "alex_lacamoire/img1.jpg")
    estate = make_user(Role.ESTATE_REPRESENTATIVE, username="estate")
    with django_capture_on_commit_callbacks(execute=True):
        pending = consent_services.likeness_enroll(
            owner=estate,
            display_name="Alex Lacamoire",
            subject="deceased",
            date_of_death=date(2020, 1, 1),
            estate_document=PhotoInput(name="letters.pdf", data=b"%PDF-1.4 letters of administration"),
            photos=photos("alex_lacamoire/alex-lacamoire.png"),
        ).likeness
    assert not ReleasedFace.objects.filter(generation_id=generation_id, likeness=pending).exists()

    with django_capture_on_commit_callbacks(execute=True):
        consent_services.estate_claim_decide(
            moderator=registry.moderator, claim=EstateClaim.objects.get(likeness=pending), verified=True
        )

    assert ReleasedFace.objects.filter(generation_id=generation_id, likeness=pending).exists()


def test_an_output_approved_after_review_is_released_by_a_worker_with_its_faces(
    client,
    registry,  # noqa: F811
    monkeypatch,
    django_capture_on_commit_callbacks,
) -> None:
    from generation import scan, tasks
    from moderation.models import Flag
    from moderation.services import gate_review_decide

    generation = services.generation_request(
        requester=registry.creator, prompt="a portrait", kind="image", use="personal", cameos=[str(registry.kit.pk)]
    )
    services.generation_generate(generation_id=str(generation.pk))

    def broken(image):
        raise RuntimeError("NudeNet is not here")

    with monkeypatch.context() as patch:
        patch.setattr(scan, "nsfw_detect", broken)
        services.generation_scan(generation_id=str(generation.pk))
    generation.refresh_from_db()
    assert generation.status == Status.IN_REVIEW  # the scan could not run: held back
    from moderation.selectors import decision_evidence

    [evidence] = decision_evidence(generation.output_decision)  # an image: its one frame, for the moderator
    client.force_login(registry.moderator)
    shown = client.get("/moderation/decisions/%s/evidence/0/" % generation.output_decision.pk)
    assert shown.status_code == 200 and Image.open(io.BytesIO(shown.content)).size == (evidence["width"], 360)
    sent = []
    monkeypatch.setattr(tasks.generation_release_task, "apply_async", lambda args, queue: sent.append((args, queue)))
    flag = Flag.objects.get(gate_decision=generation.output_decision)

    with django_capture_on_commit_callbacks(execute=True):
        gate_review_decide(moderator=registry.moderator, flag=flag, decision="approve", note="checked by hand")

    assert sent == [([str(generation.pk)], "scanning")]
    generation.refresh_from_db()
    assert generation.status == Status.IN_REVIEW  # the web process released nothing itself
    tasks.generation_release_task(str(generation.pk))
    generation.refresh_from_db()
    assert generation.status == Status.RELEASED
    assert ReleasedFace.objects.filter(generation=generation, likeness=registry.kit).exclude(embedding=None).exists()
