"""Disputes, estates, protected entries, erasure and who may see what."""

import io
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import Role
from config.api import ApiErrorCode
from consent.errors import ConsentReason
from consent.evaluation import consent_evaluate
from consent.faces import get_engine
from consent.faces.index import face_search
from consent.matching import image_match
from consent.models import Face, FaceIndexChange, Likeness, LikenessPhoto
from moderation.audit import audit_verify
from moderation.models import AuditEvent, Flag
from tests.consent.conftest import upload
from tests.consent.faces import photo_bytes, photo_image

pytestmark = pytest.mark.django_db


def no_topics(**kwargs):
    return []


def media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_second_account_enrolling_obamas_photo_gets_a_disputed_likeness_and_a_flag(enroll, make_user, api_client):
    original = enroll("obama/obama.jpg", name="Barack Obama").json()
    impostor = make_user(Role.RIGHTS_HOLDER)

    body = enroll("obama/obama2.jpg", user=impostor, name="Totally Barack").json()

    assert body["status"] == "disputed"
    flag = Flag.objects.get(likeness_id=body["id"])
    assert (flag.kind, flag.status, flag.reason) == ("dispute", "open", "face_matches_registered_likeness")
    assert flag.evidence["matches"][0]["likeness_id"] == original["id"]
    assert flag.evidence["matches"][0]["distance"] <= flag.evidence["matches"][0]["match"]
    # A disputed likeness grants nothing...
    disputed = Likeness.objects.get(pk=body["id"])
    api_client.force_authenticate(impostor)
    api_client.put(
        "/api/v1/likenesses/%s/consent/" % disputed.pk, {"audience": "everyone", "uses": ["personal"]}, format="json"
    )
    result = consent_evaluate(
        likeness=disputed, requester=make_user(Role.CREATOR), use="personal", topic_matcher=no_topics
    )
    assert result.codes == [ConsentReason.LIKENESS_DISPUTED]


def test_moderator_rejects_a_dispute_and_the_impostors_face_data_is_erased(enroll, make_user, api_client):
    enroll("obama/obama.jpg", name="Barack Obama")
    impostor_likeness = enroll("obama/obama2.jpg", name="Not Obama").json()["id"]
    flag = Flag.objects.get(likeness_id=impostor_likeness)
    moderator = make_user(Role.MODERATOR)
    api_client.force_authenticate(moderator)

    queue = api_client.get("/api/v1/moderation/flags/").json()
    assert [item["id"] for item in queue] == [str(flag.pk)]
    response = api_client.post(
        "/api/v1/moderation/flags/%s/decision/" % flag.pk,
        {"decision": "rejected", "note": "Same face as the registered Obama."},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["decision"] == "rejected"
    assert Likeness.objects.get(pk=impostor_likeness).status == "erased"
    assert not Face.objects.filter(likeness_id=impostor_likeness).exists()
    assert api_client.get("/api/v1/moderation/flags/").json() == []


def test_moderator_accepts_a_dispute_and_the_likeness_becomes_active(enroll, make_user, api_client):
    enroll("obama/obama.jpg", name="Barack Obama")
    twin = enroll("obama/obama2.jpg", name="Barack Twin").json()["id"]
    flag = Flag.objects.get(likeness_id=twin)
    api_client.force_authenticate(make_user(Role.MODERATOR))

    api_client.post("/api/v1/moderation/flags/%s/decision/" % flag.pk, {"decision": "legitimate"}, format="json")

    assert Likeness.objects.get(pk=twin).status == "active"


@pytest.mark.parametrize(
    "body",
    [{}, {"decision": "maybe"}, {"decision": "legitimate", "note": "n" * 2001}],
    ids=["missing", "unknown", "overlong note"],
)
def test_flag_decision_rejects_bad_input(enroll, make_user, api_client, body):
    enroll("obama/obama.jpg")
    disputed = enroll("obama/obama2.jpg").json()["id"]
    flag = Flag.objects.get(likeness_id=disputed)
    api_client.force_authenticate(make_user(Role.MODERATOR))

    response = api_client.post("/api/v1/moderation/flags/%s/decision/" % flag.pk, body, format="json")

    assert response.status_code == 400
    flag.refresh_from_db()
    assert flag.status == "open"
    assert Likeness.objects.get(pk=disputed).status == "disputed"


@pytest.mark.parametrize("role", [Role.CREATOR, Role.RIGHTS_HOLDER, Role.ESTATE_REPRESENTATIVE, Role.ADMIN])
def test_only_moderators_see_and_decide_flags(enroll, make_user, api_client, role):
    enroll("obama/obama.jpg")
    flag = Flag.objects.get(likeness_id=enroll("obama/obama2.jpg").json()["id"])
    api_client.force_authenticate(make_user(role))

    assert api_client.get("/api/v1/moderation/flags/").status_code == 403
    assert (
        api_client.post(
            "/api/v1/moderation/flags/%s/decision/" % flag.pk, {"decision": "legitimate"}, format="json"
        ).status_code
        == 403
    )
    flag.refresh_from_db()
    assert flag.status == "open"


def estate_body(**change):
    body = {
        "display_name": "Alex Lacamoire",
        "subject": "deceased",
        "date_of_death": "2024-03-01",
        "photos": [upload("alex.jpg", photo_bytes("alex_lacamoire/img1.jpg"))],
        "estate_document": SimpleUploadedFile(
            "letters-testamentary.pdf", b"%PDF-1.7 letters of administration", content_type="application/pdf"
        ),
    }
    body.update(change)
    return body


def test_estate_registers_a_deceased_person_who_is_protected_until_a_moderator_verifies(make_user, api_client):
    representative = make_user(Role.ESTATE_REPRESENTATIVE)
    api_client.force_authenticate(representative)

    response = api_client.post("/api/v1/likenesses/", estate_body(), format="multipart")

    assert response.status_code == 201, response.content
    likeness = Likeness.objects.get(pk=response.json()["id"])
    assert likeness.status == "pending_verification" and likeness.date_of_death == date(2024, 3, 1)
    # Protected: the face is found by the gate's matching...
    assert image_match(image=photo_image("alex_lacamoire/alex-lacamoire.png"))[0].best.likeness_id == str(likeness.pk)
    # ...and nothing is allowed, even with a consent policy.
    api_client.put(
        "/api/v1/likenesses/%s/consent/" % likeness.pk, {"audience": "everyone", "uses": ["personal"]}, format="json"
    )
    creator = make_user(Role.CREATOR)
    assert consent_evaluate(likeness=likeness, requester=creator, use="personal", topic_matcher=no_topics).codes == [
        ConsentReason.ESTATE_UNVERIFIED
    ]

    flag = Flag.objects.get(likeness=likeness, kind="estate")
    api_client.force_authenticate(make_user(Role.MODERATOR))
    response = api_client.post(
        "/api/v1/moderation/flags/%s/decision/" % flag.pk, {"decision": "verified"}, format="json"
    )

    assert response.status_code == 200, response.content
    likeness.refresh_from_db()
    assert likeness.status == "active"
    assert consent_evaluate(likeness=likeness, requester=creator, use="personal", topic_matcher=no_topics).allowed


BAD_ESTATES = {
    "no date of death": ({"date_of_death": ""}, "date_of_death"),
    "future date of death": ({"date_of_death": "2999-01-01"}, "date_of_death"),
    "no document": ({"estate_document": ""}, "estate_document"),
}


@pytest.mark.parametrize(("change", "field"), BAD_ESTATES.values(), ids=BAD_ESTATES.keys())
def test_estate_registration_needs_date_and_document(make_user, api_client, change, field):
    api_client.force_authenticate(make_user(Role.ESTATE_REPRESENTATIVE))
    body = {key: value for key, value in estate_body().items() if key not in change or change[key] != ""}
    body.update({key: value for key, value in change.items() if value != ""})

    response = api_client.post("/api/v1/likenesses/", body, format="multipart")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Likeness.objects.exists() and not media_files()


def test_only_estate_representatives_register_deceased_people(make_user, api_client):
    api_client.force_authenticate(make_user(Role.RIGHTS_HOLDER))
    assert api_client.post("/api/v1/likenesses/", estate_body(), format="multipart").status_code == 403
    assert not Likeness.objects.exists()


def test_deceased_person_without_verified_estate_is_protected_by_default(make_user):
    from consent.services import likeness_register_protected

    entry = likeness_register_protected(
        moderator=make_user(Role.MODERATOR),
        display_name="Robin Williams",
        subject="deceased",
        date_of_death=date(2014, 8, 11),
    )
    result = consent_evaluate(
        likeness=entry, requester=make_user(Role.CREATOR), use="personal", topic_matcher=no_topics
    )
    assert not result.allowed and result.codes == [ConsentReason.PROTECTED_ENTRY]


def test_moderator_registers_a_protected_public_figure_without_photos(make_user, api_client):
    api_client.force_authenticate(make_user(Role.MODERATOR))

    response = api_client.post(
        "/api/v1/likenesses/protected/",
        {
            "display_name": "Joe Biden",
            "aliases": ["Joseph R. Biden", "Uncle Joe"],
            "descriptors": ["the 46th president of the United States"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    entry = Likeness.objects.get(pk=response.json()["id"])
    assert entry.protected and entry.status == "active" and entry.faces.count() == 0
    assert consent_evaluate(
        likeness=entry, requester=make_user(Role.CREATOR), use="news", topic_matcher=no_topics
    ).codes == [ConsentReason.PROTECTED_ENTRY]
    # A protected entry never grants consent.
    assert (
        api_client.put(
            "/api/v1/likenesses/%s/consent/" % entry.pk, {"audience": "everyone", "uses": ["news"]}, format="json"
        ).status_code
        == 400
    )


def test_moderator_imports_protected_entries_from_csv(make_user, api_client):
    api_client.force_authenticate(make_user(Role.MODERATOR))
    csv_text = "display_name,aliases,descriptors,jurisdiction\nJoe Biden,Joseph Biden;Uncle Joe,the 46th US president,US\nKit Harington,,the actor who played Jon Snow,GB\n"

    response = api_client.post(
        "/api/v1/likenesses/protected/import/",
        {"file": SimpleUploadedFile("people.csv", csv_text.encode())},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2
    biden = Likeness.objects.get(display_name="Joe Biden")
    assert biden.aliases == ["Joseph Biden", "Uncle Joe"] and biden.protected


BAD_CSVS = {
    "no header": (b"", 1),
    "unknown column": (b"display_name,age\nJoe,80\n", 1),
    "empty name": (b"display_name,aliases\nJoe Biden,\n,Nobody\n", 3),
    "too many cells": (b"display_name\nJoe,extra\n", 2),
    "not utf-8": ("display_name\nJos\xe9\n".encode("latin-1"), 0),
    "overlong name": (b"display_name\n" + b"n" * 201 + b"\n", 2),
    "a NUL byte": (b"display_name\nJoe Biden\nJo\x00e\n", 3),
}


@pytest.mark.parametrize(("data", "line"), BAD_CSVS.values(), ids=BAD_CSVS.keys())
def test_a_bad_csv_imports_nothing_and_says_which_line(make_user, api_client, data, line):
    api_client.force_authenticate(make_user(Role.MODERATOR))

    response = api_client.post(
        "/api/v1/likenesses/protected/import/", {"file": SimpleUploadedFile("people.csv", data)}, format="multipart"
    )

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == ApiErrorCode.IMPORT_REJECTED
    assert error["rows"][0]["line"] == line and error["rows"][0]["message"]
    assert not Likeness.objects.exists()


@pytest.mark.parametrize("role", [Role.CREATOR, Role.RIGHTS_HOLDER, Role.ADMIN])
def test_only_moderators_register_protected_entries(make_user, api_client, role):
    api_client.force_authenticate(make_user(role))
    assert (
        api_client.post("/api/v1/likenesses/protected/", {"display_name": "Joe Biden"}, format="json").status_code
        == 403
    )
    assert (
        api_client.post(
            "/api/v1/likenesses/protected/import/",
            {"file": SimpleUploadedFile("p.csv", b"display_name\nJoe\n")},
            format="multipart",
        ).status_code
        == 403
    )
    assert not Likeness.objects.exists()


def test_erasure_removes_every_trace(enroll, make_user, api_client):
    owner = make_user(Role.RIGHTS_HOLDER)
    likeness_id = enroll(
        "kit_harington/john1.jpg", "kit_harington/johnsnow_test1.jpg", user=owner, name="Kit Harington"
    ).json()["id"]
    engine = get_engine()
    probe = engine.analyze(photo_image("kit_harington/johnsnow_test1.jpg"))[0].embedding
    assert face_search(embedding=probe, engine=engine.name, model=engine.model, max_distance=engine.match_threshold)
    assert len(media_files()) == 2
    api_client.force_authenticate(owner)

    with __import__("django.test", fromlist=["TestCase"]).TestCase.captureOnCommitCallbacks(execute=True):
        response = api_client.delete("/api/v1/likenesses/%s/" % likeness_id, {"keep_name": False}, format="json")

    assert response.status_code == 200, response.content
    likeness = Likeness.objects.get(pk=likeness_id)
    assert likeness.status == "erased" and likeness.display_name == "(erased)" and likeness.aliases == []
    assert not Face.objects.filter(likeness_id=likeness_id).exists()
    assert not LikenessPhoto.objects.filter(likeness_id=likeness_id).exists()
    assert media_files() == []
    assert face_search(embedding=probe, engine=engine.name, model=engine.model, max_distance=10.0) == []
    assert image_match(image=photo_image("kit_harington/john1.jpg"))[0].hits == ()
    assert FaceIndexChange.objects.filter(likeness_id=likeness_id, op="remove").count() == 2
    event = AuditEvent.objects.get(action="likeness.erase", target_id=likeness_id)
    assert event.data["faces"] == 2 and event.data["photos"] == 2
    assert audit_verify() is None


def test_erasure_can_keep_a_name_only_do_not_generate_entry(enroll, make_user, api_client):
    owner = make_user(Role.RIGHTS_HOLDER)
    likeness_id = enroll("rose_leslie/img1.jpg", user=owner, name="Rose Leslie", aliases=["Rosie"]).json()["id"]
    api_client.force_authenticate(owner)

    response = api_client.delete("/api/v1/likenesses/%s/?keep_name=true" % likeness_id)

    assert response.status_code == 200
    likeness = Likeness.objects.get(pk=likeness_id)
    assert (likeness.status, likeness.do_not_generate, likeness.display_name, likeness.aliases) == (
        "erased",
        True,
        "Rose Leslie",
        ["Rosie"],
    )
    assert likeness.faces.count() == 0
    result = consent_evaluate(
        likeness=likeness, requester=make_user(Role.CREATOR), use="personal", topic_matcher=no_topics
    )
    assert result.codes == [ConsentReason.LIKENESS_ERASED]


def test_photos_are_seen_only_by_the_owner_and_moderators(enroll, make_user, api_client):
    owner = make_user(Role.RIGHTS_HOLDER)
    body = enroll("rose_leslie/img1.jpg", user=owner).json()
    url = body["photos"][0]["url"]
    checks = [
        (owner, 200),
        (make_user(Role.MODERATOR), 200),
        (make_user(Role.RIGHTS_HOLDER), 404),
        (make_user(Role.CREATOR), 404),
    ]
    for user, expected in checks:
        api_client.force_authenticate(user)
        response = api_client.get(url)
        assert response.status_code == expected, user.role_set
        assert api_client.get("/api/v1/likenesses/%s/" % body["id"]).status_code == expected
        if expected == 200:
            assert response["Content-Type"] == "image/png"
            from PIL import Image

            assert Image.open(io.BytesIO(response.content)).size == (
                body["photos"][0]["width"],
                body["photos"][0]["height"],
            )
    api_client.force_authenticate(None)
    assert api_client.get(url).status_code == 401


def test_owner_edits_names_aliases_and_descriptors(enroll, make_user, api_client):
    owner = make_user(Role.RIGHTS_HOLDER)
    likeness_id = enroll("rose_leslie/img1.jpg", user=owner, name="Rosie").json()["id"]
    api_client.force_authenticate(owner)

    response = api_client.patch(
        "/api/v1/likenesses/%s/" % likeness_id,
        {
            "display_name": "Rose Leslie",
            "aliases": ["Ygritte", " Ygritte "],
            "descriptors": ["the actress who played Ygritte"],
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["aliases"] == ["Ygritte"]
    bad = api_client.patch(
        "/api/v1/likenesses/%s/" % likeness_id, {"display_name": "", "aliases": "Ygritte"}, format="json"
    )
    assert bad.status_code == 400
    assert Likeness.objects.get(pk=likeness_id).display_name == "Rose Leslie"


def test_unknown_and_malformed_ids_are_not_found(make_user, api_client):
    api_client.force_authenticate(make_user(Role.RIGHTS_HOLDER))
    assert api_client.get("/api/v1/likenesses/not-a-uuid/").status_code == 404
    assert api_client.get("/api/v1/likenesses/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_added_photos_must_show_the_same_person(enroll, make_user, api_client):
    owner = make_user(Role.RIGHTS_HOLDER)
    likeness_id = enroll("obama/obama.jpg", user=owner).json()["id"]
    api_client.force_authenticate(owner)

    ok = api_client.post(
        "/api/v1/likenesses/%s/photos/" % likeness_id,
        {"photos": [upload("o2.jpg", photo_bytes("obama/obama2.jpg"))]},
        format="multipart",
    )
    wrong = api_client.post(
        "/api/v1/likenesses/%s/photos/" % likeness_id,
        {"photos": [upload("b.jpg", photo_bytes("biden/biden.jpg"))]},
        format="multipart",
    )

    assert ok.status_code == 201, ok.content
    assert wrong.status_code == 400
    assert wrong.json()["error"]["photos"][0]["code"] == "different_people"
    assert Face.objects.filter(likeness_id=likeness_id).count() == 2
