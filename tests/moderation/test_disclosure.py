"""Issue 15, disclosure: a check names a registered person only to whom they are no secret, and a
handle of a person the asker may not know answers exactly as one nobody has.

Rose (tests/moderation/conftest.py) consents to "friend" only: to the creator Cleo she is private.
Obama is a protected public figure; the moderator sees everything.
"""

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from moderation.reasons import ReasonCode, Verdict
from tests.consent.faces import photo_bytes
from tests.moderation.conftest import registry  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def post_check(api_client, user, body, *, multipart=False):
    api_client.force_authenticate(user)
    return api_client.post("/api/v1/checks/", body, format="multipart" if multipart else "json")


def rose_leaks(text: str, registry) -> list[str]:  # noqa: F811
    """What of Rose a text gives away: her names, her handle, her id."""
    rose = registry.rose
    return [secret for secret in ("Rose", "Leslie", rose.handle, str(rose.pk)) if secret.lower() in text.lower()]


def test_a_creator_uploading_a_private_persons_photo_learns_only_that_someone_registered_has_not_consented(
    api_client,
    registry,  # noqa: F811
):
    photo = {"images": [SimpleUploadedFile("her.jpg", photo_bytes("rose_leslie/img1.jpg"))]}
    response = post_check(api_client, registry.creator, {"prompt": "Barack Obama beside her", **photo}, multipart=True)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verdict"] == Verdict.BLOCK
    assert rose_leaks(response.content.decode(), registry) == []
    face = next(r for r in body["reasons"] if r["code"] == ReasonCode.REGISTERED_FACE)
    assert set(face["box"]) == {"x", "y", "width", "height"} and face["file"] == 0
    assert "likeness_id" not in face and face["detail"] == "A registered person's face."
    consent = [r for r in body["reasons"] if r["stage"] == "consent" and r.get("found_by") == "face"]
    assert consent == [
        {
            "code": ReasonCode.NO_CONSENT,
            "verdict": "block",
            "stage": "consent",
            "detail": "A registered person who has not consented to this request.",
            "found_by": "face",
        }
    ]
    (matched,) = body["media"][1]["faces"]
    assert matched["best"]["likeness_id"] is None and matched["best"]["display_name"] is None
    assert matched["best"]["status"] is None and matched["best"]["outcome"] == "match"
    # A protected public figure is named to everyone.
    protected = next(r for r in body["reasons"] if r["code"] == ReasonCode.PROTECTED_ENTRY)
    assert protected["likeness_id"] == str(registry.obama.pk) and "Barack Obama" in protected["detail"]
    url = "/api/v1/decisions/%s/" % body["id"]
    assert rose_leaks(api_client.get(url).content.decode(), registry) == []

    # The moderator reads the same Decision whole: who, and why.
    api_client.force_authenticate(registry.moderator)
    seen = api_client.get(url).json()
    assert seen["media"][1]["faces"][0]["best"]["display_name"] == "Rose Leslie"
    refused = next(r for r in seen["reasons"] if r["code"] == ReasonCode.REQUESTER_NOT_IN_AUDIENCE)
    assert refused["likeness_id"] == str(registry.rose.pk) and refused["detail"].startswith("Rose Leslie: ")

    # Someone her consent takes in is told who she is.
    friend = post_check(
        api_client,
        registry.friend,
        {"prompt": "a portrait", "images": [SimpleUploadedFile("her.jpg", photo_bytes("rose_leslie/img1.jpg"))]},
        multipart=True,
    ).json()
    allowed = next(r for r in friend["reasons"] if r["code"] == ReasonCode.CONSENT_ALLOWS)
    assert friend["verdict"] == Verdict.ALLOW and allowed["likeness_id"] == str(registry.rose.pk)
    assert friend["media"][1]["faces"][0]["best"]["display_name"] == "Rose Leslie"


def test_a_private_persons_handle_answers_exactly_as_one_nobody_has(api_client, registry):  # noqa: F811
    def probe(path, handle, **extra):
        api_client.force_authenticate(registry.creator)
        response = api_client.post(path, {"prompt": "@%s on a beach" % handle, **extra}, format="json")
        return response.status_code, json.loads(response.content.decode().replace(handle, "HANDLE"))

    for path, extra in (("/api/v1/checks/", {}), ("/api/v1/generations/", {"kind": "image"})):
        private, nobody = probe(path, registry.rose.handle, **extra), probe(path, "nobody_at_all", **extra)
        assert private == nobody, (path, private, nobody)
        assert private[0] == 400
        assert private[1]["error"]["fields"]["prompt"][0]["message"] == "Nobody you may cast goes by @HANDLE."
    # A public figure's handle and a handle of someone who consented to the asker still resolve.
    public = post_check(api_client, registry.creator, {"prompt": "@%s on a beach" % registry.obama.handle})
    assert public.status_code == 200 and public.json()["verdict"] == Verdict.BLOCK
    friend = post_check(api_client, registry.friend, {"prompt": "@%s on a beach" % registry.rose.handle})
    assert friend.status_code == 200 and friend.json()["cameos"] == [str(registry.rose.pk)]


def test_a_private_persons_id_as_a_cameo_answers_as_an_id_nobody_has_in_the_api_and_the_studio(
    api_client,
    client,
    registry,  # noqa: F811
):
    api_client.force_authenticate(registry.creator)
    answers, ids = [], []
    for cameo in (registry.rose.pk, uuid.uuid4()):
        response = api_client.post(
            "/api/v1/generations/", {"prompt": "a portrait", "kind": "image", "cameos": [str(cameo)]}, format="json"
        )
        assert response.status_code == 202, response.content
        ids.append(response.json()["id"])
        body = api_client.get("/api/v1/generations/%s/" % ids[-1]).json()
        (reason,) = body["decisions"]["pre_generation"]["reasons"]
        assert reason.pop("likeness_id") == str(cameo)  # what the creator sent, echoed
        answers.append((body["status"], reason))
    assert answers[0] == answers[1]
    assert answers[0][0] == "blocked" and answers[0][1]["code"] == ReasonCode.CAMEO_UNAVAILABLE

    client.force_login(registry.creator)
    page = client.get("/studio/generations/%s/" % ids[0]).content.decode()
    assert 'data-status="blocked"' in page and rose_leaks(page, registry) == []
    assert 'data-testid="cameos">nobody<' in page


def test_a_person_who_leaves_the_audience_is_no_longer_named_in_earlier_decisions(api_client, registry):  # noqa: F811
    from consent import services

    allowed = post_check(api_client, registry.creator, {"prompt": "Kit Harington on a horse"}).json()
    assert allowed["verdict"] == Verdict.ALLOW and "Kit Harington" in json.dumps(allowed)

    services.consent_set(actor=registry.kit_owner, likeness=registry.kit, audience="nobody", uses=[])
    again = api_client.get("/api/v1/decisions/%s/" % allowed["id"]).json()

    assert again["verdict"] == Verdict.ALLOW  # what was decided stands; who it was is no longer told
    told = json.dumps({key: again[key] for key in ("reasons", "media", "cameos")})  # the prompt is the creator's own
    assert "Harington" not in told and str(registry.kit.pk) not in told
    assert [(r["code"], r["detail"]) for r in again["reasons"]] == [
        (ReasonCode.REGISTERED_NAME, "The prompt names a registered person."),
        (ReasonCode.CONSENT_ALLOWS, "A registered person whose consent allows this request."),
    ]
