"""Disputed registrations and lookalikes at the gate (issue 11): every likeness a face is close to
is evaluated, a disputed duplicate never masks the original, a moderator's "different people"
decision never opens the real person's face, and a disputed registrant learns nothing.

Real default (sface) engine on the real shared photos, real registry, through the HTTP API
throughout (the generation worker's steps are called as the worker calls them).

Distances between the photos used here (sface): obama.jpg–obama2.jpg 0.73, obama.jpg–obama_small.jpg
0.30, obama.jpg–obama-240p.jpg 0.39, biden.jpg–obama*.jpg 1.21–1.34; john1.jpg–johnsnow_test1.jpg
(Kit Harington) 0.63.
"""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import Role
from consent.models import ConsentReceipt
from generation import services as generation_services
from moderation.models import AuditEvent, Flag
from moderation.reasons import ReasonCode, Verdict
from tests.consent.faces import photo_bytes, photo_image
from tests.moderation.conftest import photos

pytestmark = pytest.mark.django_db

OBAMA_PHOTOS = [
    "obama/obama.jpg",
    "obama/obama2.jpg",
    "obama/obama-240p.jpg",
    "obama/obama_small.jpg",
    "groups/obama_and_biden_two_people.jpg",
]


# -- Helpers: each one a call a user makes -------------------------------------------------------


def enroll(api_client: Any, user: Any, path: str, name: str) -> dict:
    api_client.force_authenticate(user)
    upload = SimpleUploadedFile(path.rsplit("/", 1)[-1], photo_bytes(path), content_type="image/jpeg")
    response = api_client.post("/api/v1/likenesses/", {"display_name": name, "photos": [upload]}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def consent_to_everyone(api_client: Any, owner: Any, likeness_id: str, uses: tuple[str, ...] = ("personal",)) -> None:
    api_client.force_authenticate(owner)
    response = api_client.put(
        "/api/v1/likenesses/%s/consent/" % likeness_id, {"audience": "everyone", "uses": list(uses)}, format="json"
    )
    assert response.status_code in (200, 201), response.content


def decide_dispute(api_client: Any, moderator: Any, likeness_id: str, decision: str, note: str = "") -> dict:
    flag = Flag.objects.get(kind=Flag.Kind.DISPUTE, likeness_id=likeness_id)
    api_client.force_authenticate(moderator)
    response = api_client.post(
        "/api/v1/moderation/flags/%s/decision/" % flag.pk, {"decision": decision, "note": note}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def check(api_client: Any, user: Any, path: str, prompt: str = "a portrait", **fields: Any) -> dict:
    api_client.force_authenticate(user)
    image = SimpleUploadedFile(path.rsplit("/", 1)[-1], photo_bytes(path))
    body = {"prompt": prompt, "use": "personal", "images": [image], **fields}
    response = api_client.post("/api/v1/checks/", body, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def scan(api_client: Any, user: Any, path: str) -> dict:
    api_client.force_authenticate(user)
    upload = SimpleUploadedFile(path.rsplit("/", 1)[-1], photo_bytes(path))
    response = api_client.post("/api/v1/scans/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def as_moderator(api_client: Any, moderator: Any, decision: dict) -> dict:
    """The Decision as a moderator reads it: whole. A creator is not told of a disputed registration (issue 15)."""
    api_client.force_authenticate(moderator)
    response = api_client.get("/api/v1/decisions/%s/" % decision["id"])
    assert response.status_code == 200, response.content
    return response.json()


def faces_of(decision: dict) -> list[dict]:
    return next(item["faces"] for item in decision["media"] if "faces" in item)


def reasons_for(decision: dict, likeness_id: Any) -> list[tuple[str, str]]:
    """(code, verdict) of every reason that names ``likeness_id``."""
    return [
        (reason["code"], reason["verdict"])
        for reason in decision["reasons"]
        if reason.get("likeness_id") == str(likeness_id)
    ]


@pytest.fixture
def troll(make_user: Any) -> Any:
    """A new account that registers other people's faces as its own."""
    return make_user(Role.RIGHTS_HOLDER, Role.CREATOR, username="troll")


# -- Hole 1: a disputed duplicate masks the original ---------------------------------------------


def test_a_disputed_duplicate_of_a_protected_face_does_not_unblock_a_check(api_client, registry, troll):
    """The duplicate is the nearest match of its own photo: the protected original is still evaluated."""
    duplicate = enroll(api_client, troll, "obama/obama2.jpg", "Tobias Fenwright")
    assert duplicate["status"] == "disputed"

    decision = check(api_client, registry.creator, "obama/obama2.jpg")

    assert decision["verdict"] == Verdict.BLOCK, decision["reasons"]
    # The troll's claim is not the creator's to know (issue 15); the moderator reads it.
    assert "Tobias" not in str(decision) and duplicate["id"] not in str(decision)
    decision = as_moderator(api_client, registry.moderator, decision)
    assert (ReasonCode.PROTECTED_ENTRY, "block") in reasons_for(decision, registry.obama.pk)
    assert (ReasonCode.REGISTERED_FACE, "allow") in reasons_for(decision, registry.obama.pk)
    # The duplicate is nearer than the original by far: it is an unproven claim on its own, and blocks.
    assert (ReasonCode.LIKENESS_DISPUTED, "block") in reasons_for(decision, duplicate["id"])
    assert [r["likeness_id"] for r in decision["reasons"] if r["code"] == ReasonCode.CONSENT_ALLOWS] == []


def test_a_disputed_duplicate_of_a_protected_face_does_not_unblock_a_scan(api_client, registry, troll):
    duplicate = enroll(api_client, troll, "obama/obama2.jpg", "Tobias Fenwright")

    body = scan(api_client, registry.creator, "obama/obama2.jpg")

    assert body["decision"]["verdict"] == Verdict.BLOCK, body["decision"]["reasons"]
    assert (ReasonCode.PROTECTED_ENTRY, "block") in reasons_for(body["decision"], registry.obama.pk)
    [face] = body["faces"]
    assert {hit["likeness_id"] for hit in face["hits"]} == {str(registry.obama.pk), None}  # the claim, anonymous
    [face] = faces_of(as_moderator(api_client, registry.moderator, body["decision"]))
    assert {hit["likeness_id"] for hit in face["hits"]} == {str(registry.obama.pk), duplicate["id"]}


def test_the_disputed_registrant_cannot_unblock_the_face_for_themselves(api_client, registry, troll):
    enroll(api_client, troll, "obama/obama2.jpg", "Tobias Fenwright")

    decision = check(api_client, troll, "obama/obama2.jpg")

    assert decision["verdict"] == Verdict.BLOCK
    assert (ReasonCode.PROTECTED_ENTRY, "block") in reasons_for(decision, registry.obama.pk)


def test_an_exact_duplicate_is_recorded_and_the_originals_consent_governs(api_client, registry, troll):
    """Kit consents (anyone, personal use): a troll re-registering Kit's photo neither allows nor blocks."""
    duplicate = enroll(api_client, troll, "kit_harington/john1.jpg", "Kit Harington")
    assert duplicate["status"] == "disputed"

    decision = check(api_client, registry.creator, "kit_harington/john1.jpg")

    assert decision["verdict"] == Verdict.ALLOW, decision["reasons"]
    decision = as_moderator(api_client, registry.moderator, decision)
    assert (ReasonCode.CONSENT_ALLOWS, "allow") in reasons_for(decision, registry.kit.pk)
    [recorded] = [reason for reason in decision["reasons"] if reason.get("likeness_id") == duplicate["id"]]
    assert recorded["code"] == ReasonCode.DISPUTED_DUPLICATE and recorded["verdict"] == "allow"
    assert recorded["duplicate_of"] == str(registry.kit.pk)
    assert [r["likeness_id"] for r in decision["reasons"] if r["code"] == ReasonCode.CONSENT_ALLOWS] == [
        str(registry.kit.pk)
    ]
    # Named in a prompt (the troll chose Kit's name), the duplicate does not block Kit's name either.
    named = check(api_client, registry.creator, "kit_harington/john1.jpg", prompt="Kit Harington on a horse")
    assert named["verdict"] == Verdict.ALLOW, named["reasons"]
    # The protected original still blocks its exact duplicate.
    obama_copy = enroll(api_client, troll, "obama/obama.jpg", "Nolan Obermeyer")
    protected = as_moderator(api_client, registry.moderator, check(api_client, registry.creator, "obama/obama.jpg"))
    assert protected["verdict"] == Verdict.BLOCK
    assert (ReasonCode.PROTECTED_ENTRY, "block") in reasons_for(protected, registry.obama.pk)
    assert (ReasonCode.DISPUTED_DUPLICATE, "allow") in reasons_for(protected, obama_copy["id"])


def test_a_disputed_registration_named_alone_still_blocks(api_client, registry, troll):
    """Found by its own name only, a disputed likeness grants nothing: it is not skipped."""
    enroll(api_client, troll, "obama/obama2.jpg", "Zebulon Quartermaine")

    decision = check(api_client, registry.creator, "kit_harington/john1.jpg", prompt="Zebulon Quartermaine waving")

    assert decision["verdict"] == Verdict.BLOCK, decision["reasons"]
    assert ReasonCode.NO_CONSENT in [reason["code"] for reason in decision["reasons"]]  # to the creator: no one
    decision = as_moderator(api_client, registry.moderator, decision)
    assert ReasonCode.LIKENESS_DISPUTED in [reason["code"] for reason in decision["reasons"]]


def test_every_likeness_within_the_thresholds_is_found_not_only_the_nearest_five(api_client, registry, make_user):
    copies = [
        enroll(api_client, make_user(Role.RIGHTS_HOLDER), path, "Copy Number%s Person" % "ABCDEFG"[number])["id"]
        for number, path in enumerate(["obama/obama2.jpg"] * 3 + ["obama/obama_small.jpg", "obama/obama-240p.jpg"] * 2)
    ]

    body = scan(api_client, registry.creator, "obama/obama2.jpg")

    [face] = faces_of(as_moderator(api_client, registry.moderator, body["decision"]))
    assert {hit["likeness_id"] for hit in face["hits"]} == {str(registry.obama.pk), *copies}
    distances = [hit["distance"] for hit in face["hits"]]
    assert distances == sorted(distances) and distances[-1] <= body["decision"]["engines"]["faces"]["review"]
    assert (ReasonCode.PROTECTED_ENTRY, "block") in reasons_for(body["decision"], registry.obama.pk)


def test_in_an_output_a_disputed_registration_the_face_is_clearly_nearest_to_still_blocks(api_client, registry, troll):
    """Only a duplicate (the established likeness at least about as close) gives way to the cameo's consent."""
    from generation.scan import output_scan
    from moderation.media import Frame

    lookalike = enroll(api_client, troll, "kit_harington/johnsnow_test1.jpg", "Jon Snowden")  # 0.37 from Kit's photo
    frames = [Frame(image=photo_image("kit_harington/johnsnow_test1.jpg"), index=None, time=None)]

    result = output_scan(frames=frames, cameo_likeness_ids={str(registry.kit.pk)}, adult_allowed_ids=set())

    assert result.verdict == "block"
    assert [(reason["code"], reason["likeness_id"]) for reason in result.reasons] == [
        (ReasonCode.REGISTERED_FACE, lookalike["id"])
    ]


def _generate_and_scan(api_client: Any, user: Any, cameo: Any) -> dict:
    api_client.force_authenticate(user)
    response = api_client.post(
        "/api/v1/generations/",
        {"prompt": "a portrait", "kind": "image", "use": "personal", "cameos": [str(cameo)], "seed": 3},
        format="json",
    )
    assert response.status_code == 202, response.content
    created = response.json()
    assert created["status"] == "queued", created
    # What the generation and scanning workers run.
    generation_services.generation_generate(generation_id=created["id"])
    generation_services.generation_scan(generation_id=created["id"])
    return api_client.get("/api/v1/generations/%s/" % created["id"]).json()


def test_a_disputed_duplicate_does_not_block_the_consented_cameos_output(api_client, registry, troll):
    """The output shows Kit (his enrolled photo, composed by the animatic backend) and so matches the
    troll's copy of that photo just as closely: Kit's consent governs, the output is released."""
    duplicate = enroll(api_client, troll, "kit_harington/john1.jpg", "Kit Harington")

    body = _generate_and_scan(api_client, registry.creator, registry.kit.pk)

    assert body["status"] == "released", body
    output = as_moderator(api_client, registry.moderator, body["decisions"]["output"])
    assert output["verdict"] == Verdict.ALLOW
    assert (ReasonCode.DISPUTED_DUPLICATE, "allow") in reasons_for(output, duplicate["id"])
    assert reasons_for(output, registry.kit.pk) == []


def test_a_disputed_registrant_sees_no_appearances(api_client, client, registry, troll):
    """Other users' checks and generations that matched the duplicate stay hidden from its registrant."""
    duplicate = enroll(api_client, troll, "obama/obama2.jpg", "Tobias Fenwright")
    kit_copy = enroll(api_client, troll, "kit_harington/john1.jpg", "Kit Harington")
    check(api_client, registry.creator, "obama/obama2.jpg")
    _generate_and_scan(api_client, registry.creator, registry.kit.pk)

    api_client.force_authenticate(troll)
    for likeness_id in (duplicate["id"], kit_copy["id"]):
        response = api_client.get("/api/v1/likenesses/%s/appearances/" % likeness_id)
        assert response.status_code == 200 and response.json() == []
    client.force_login(troll)
    page = client.get("/likenesses/%s/" % duplicate["id"]).content.decode()
    assert 'data-testid="no-appearances"' in page and "cleo" not in page
    # The rights holder of the original sees them.
    api_client.force_authenticate(registry.kit_owner)
    rows = api_client.get("/api/v1/likenesses/%s/appearances/" % registry.kit.pk).json()
    assert [row["type"] for row in rows] == ["generation"]


# -- Hole 2: a "legitimate lookalike" decision opens the real person ------------------------------


@pytest.fixture
def lookalike(api_client: Any, registry: Any, make_user: Any) -> dict:
    """A photo of Obama registered as someone else, wrongly judged a legitimate lookalike, consenting to all."""
    owner = make_user(Role.RIGHTS_HOLDER, Role.CREATOR, username="barry")
    likeness = enroll(api_client, owner, "obama/obama2.jpg", "Barry Lookalike")
    assert likeness["status"] == "disputed"
    decide_dispute(api_client, registry.moderator, likeness["id"], "legitimate", "A different man who looks alike.")
    consent_to_everyone(api_client, owner, likeness["id"], uses=("personal", "parody", "commercial"))
    return {**likeness, "owner": owner}


@pytest.mark.parametrize("path", OBAMA_PHOTOS)
def test_a_legitimate_lookalike_does_not_open_the_real_persons_face(api_client, registry, lookalike, path):
    receipts_before = ConsentReceipt.objects.filter(likeness_id=lookalike["id"]).count()

    decision = check(api_client, registry.creator, path)

    assert decision["verdict"] == Verdict.BLOCK, decision["reasons"]
    assert (ReasonCode.PROTECTED_ENTRY, "block") in reasons_for(decision, registry.obama.pk)
    # The face is Obama's beyond doubt: the lookalike's consent cannot cover it (at most it is
    # recorded as a face that could also be the lookalike's, for a person to look at).
    assert sorted(reasons_for(decision, lookalike["id"])) == [
        (ReasonCode.FACE_AMBIGUOUS, "review"),
        (ReasonCode.REGISTERED_FACE, "allow"),
    ], decision["reasons"]
    assert [r["likeness_id"] for r in decision["reasons"] if r["code"] == ReasonCode.CONSENT_ALLOWS] == []
    assert ConsentReceipt.objects.filter(likeness_id=lookalike["id"]).count() == receipts_before


def test_the_lookalike_decision_is_recorded_as_two_different_people(api_client, registry, lookalike):
    from moderation.models import LikenessDistinction

    [distinction] = LikenessDistinction.objects.all()
    assert {str(distinction.likeness_a_id), str(distinction.likeness_b_id)} == {str(registry.obama.pk), lookalike["id"]}
    assert distinction.decided_by == registry.moderator and distinction.note == "A different man who looks alike."
    event = AuditEvent.objects.filter(action="dispute.decide").get()
    assert event.data["distinct_from"] == [str(registry.obama.pk)]


def test_a_rejected_dispute_records_no_distinction(api_client, registry, troll):
    from moderation.models import LikenessDistinction

    duplicate = enroll(api_client, troll, "obama/obama2.jpg", "Tobias Fenwright")
    decide_dispute(api_client, registry.moderator, duplicate["id"], "rejected")

    assert not LikenessDistinction.objects.exists()


@pytest.fixture
def loose_thresholds(face_thresholds: Any) -> None:
    """Thresholds loose enough that Biden's face matches Obama's (sface: 1.21–1.34): two real lookalikes."""
    face_thresholds(1.36, 1.40)


def test_distinct_people_each_match_only_their_own_faces(api_client, make_user, loose_thresholds):
    from consent import services as consent_services
    from generation.scan import output_scan
    from moderation.media import Frame
    from moderation.models import LikenessDistinction

    moderator = make_user(Role.MODERATOR, username="mod")
    creator = make_user(Role.CREATOR, username="cleo")
    obama = consent_services.likeness_register_protected(moderator=moderator, display_name="Barack Obama")
    consent_services.likeness_add_photos(actor=moderator, likeness=obama, photos=photos("obama/obama.jpg"))
    biden_owner = make_user(Role.RIGHTS_HOLDER, username="joe")
    biden = enroll(api_client, biden_owner, "biden/biden.jpg", "Joe Biden")
    assert biden["status"] == "disputed"  # his face is within the (loose) match threshold of Obama's

    before = check(api_client, creator, "biden/biden.jpg")
    assert before["verdict"] == Verdict.BLOCK
    assert (ReasonCode.PROTECTED_ENTRY, "block") in reasons_for(before, obama.pk)

    decide_dispute(api_client, moderator, biden["id"], "legitimate", "Two different presidents.")
    consent_to_everyone(api_client, biden_owner, biden["id"])

    biden_face = check(api_client, creator, "biden/biden.jpg")
    assert biden_face["verdict"] == Verdict.ALLOW, biden_face["reasons"]
    assert reasons_for(biden_face, obama.pk) == []
    assert [r["likeness_id"] for r in biden_face["reasons"] if r["code"] == ReasonCode.CONSENT_ALLOWS] == [biden["id"]]
    obama_face = check(api_client, creator, "obama/obama2.jpg")
    assert obama_face["verdict"] == Verdict.BLOCK
    assert (ReasonCode.PROTECTED_ENTRY, "block") in reasons_for(obama_face, obama.pk)
    assert reasons_for(obama_face, biden["id"]) == []
    # In an output, Biden as a consented cameo is not taken for Obama.
    result = output_scan(
        frames=[Frame(image=photo_image("biden/biden.jpg"), index=None, time=None)],
        cameo_likeness_ids={biden["id"]},
        adult_allowed_ids=set(),
    )
    assert result.verdict == "allow", result.reasons

    # Without the record, both are evaluated again.
    LikenessDistinction.objects.all().delete()
    again = check(api_client, creator, "biden/biden.jpg")
    assert again["verdict"] == Verdict.BLOCK
    assert (ReasonCode.PROTECTED_ENTRY, "block") in reasons_for(again, obama.pk)
