"""Moderators' web pages: the queue, flags with their evidence and decisions, protected entries."""

import datetime
from typing import Any

import pytest
from django.test import Client

from accounts.roles import Role
from consent.enrollment import PhotoInput
from consent.models import EstateClaim, Likeness, LikenessPhoto, LikenessStatus, Subject
from consent.services import likeness_enroll
from moderation.models import AuditEvent, Flag
from tests.consent.conftest import upload
from tests.consent.faces import photo_bytes
from tests.consent.test_web import csrf_post, stored, text

pytestmark = pytest.mark.django_db

DOCUMENT = b"%PDF-1.4 letters testamentary for the estate"


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def moderator(make_user: Any) -> Any:
    return make_user(Role.MODERATOR, username="mona")


def enroll(owner: Any, path: str, name: str, **fields: Any) -> Likeness:
    photo = PhotoInput(name=path.rsplit("/", 1)[-1], data=photo_bytes(path))
    return likeness_enroll(owner=owner, display_name=name, photos=[photo], **fields).likeness


@pytest.fixture
def dispute(make_user: Any) -> Flag:
    """Rita registers Obama; then Ian registers another photo of the same face: a dispute."""
    enroll(make_user(Role.RIGHTS_HOLDER, username="rita"), "obama/obama.jpg", "Barack Obama")
    disputed = enroll(make_user(Role.RIGHTS_HOLDER, username="ian"), "obama/obama2.jpg", "Not Obama")
    assert disputed.status == LikenessStatus.DISPUTED
    return Flag.objects.get(likeness=disputed, kind=Flag.Kind.DISPUTE)


@pytest.fixture
def estate(make_user: Any) -> Flag:
    likeness = enroll(
        make_user(Role.ESTATE_REPRESENTATIVE, username="erin"),
        "biden/biden.jpg",
        "Late Person",
        subject=Subject.DECEASED,
        date_of_death=datetime.date(2001, 2, 3),
        estate_document=PhotoInput(name="letters.pdf", data=DOCUMENT),
    )
    return Flag.objects.get(likeness=likeness, kind=Flag.Kind.ESTATE)


# --- who may open which page -------------------------------------------------------------


def moderation_paths(flag: Flag) -> list[str]:
    claim = EstateClaim.objects.first()
    paths = ["/moderation/", "/moderation/flags/%s/" % flag.pk, "/moderation/protected/new/"]
    paths.append("/moderation/protected/import/")
    if claim:
        paths.append("/moderation/estate-claims/%d/document/" % claim.pk)
    return paths


def test_anonymous_visitors_are_sent_to_sign_in(client, estate):
    for path in moderation_paths(estate):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path


@pytest.mark.parametrize("role", [Role.CREATOR, Role.RIGHTS_HOLDER, Role.ESTATE_REPRESENTATIVE, Role.ADMIN])
def test_only_moderators_open_moderation_pages(client, make_user, estate, role):
    client.force_login(make_user(role))
    for path in moderation_paths(estate):
        assert client.get(path).status_code == 403, path


def test_the_estate_representative_cannot_decide_their_own_claim(client, estate):
    client.force_login(estate.likeness.owner)
    response = csrf_post(client, "/moderation/flags/%s/" % estate.pk, {"decision": "verified"}, page="/likenesses/")
    assert response.status_code == 403
    estate.refresh_from_db()
    assert estate.status == Flag.Status.OPEN


def test_unknown_flag_is_not_found(client, moderator):
    client.force_login(moderator)
    assert client.get("/moderation/flags/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get("/moderation/estate-claims/999999/document/").status_code == 404


# --- the queue ---------------------------------------------------------------------------


def test_queue_lists_open_flags_oldest_first(client, moderator, dispute, estate):
    client.force_login(moderator)
    content = client.get("/moderation/").content.decode()

    assert content.index(str(dispute.pk)) < content.index(str(estate.pk))
    assert "Disputed likeness" in content and "Estate verification" in content
    assert "Not Obama" in content and "Late Person" in content
    assert "matches 1 registered likeness" in content
    assert "/likenesses/all/" in content


def test_decided_flags_leave_the_queue(client, moderator, dispute):
    dispute.status = Flag.Status.DECIDED
    dispute.save()
    client.force_login(moderator)
    assert str(dispute.pk) not in client.get("/moderation/").content.decode()


# --- disputes ----------------------------------------------------------------------------


def test_dispute_shows_both_likenesses_photos_with_the_distance_and_thresholds(client, moderator, dispute):
    client.force_login(moderator)
    content = client.get("/moderation/flags/%s/" % dispute.pk).content.decode()

    original = Likeness.objects.get(display_name="Barack Obama")
    match = dispute.evidence["matches"][0]
    for likeness in (dispute.likeness, original):
        photo = LikenessPhoto.objects.get(likeness=likeness)
        assert "/api/v1/likenesses/%s/photos/%s/" % (likeness.pk, photo.pk) in content
        assert client.get("/api/v1/likenesses/%s/photos/%s/" % (likeness.pk, photo.pk)).status_code == 200
    assert content.count('data-testid="face-box"') == 2
    assert "Distance %s" % match["distance"] in content
    assert "same person at ≤ %s, review up to %s" % (match["match"], match["review"]) in content
    assert 'value="legitimate"' in content and 'value="rejected"' in content


def test_moderator_finds_a_dispute_legitimate(client, moderator, dispute):
    client.force_login(moderator)
    response = csrf_post(client, "/moderation/flags/%s/" % dispute.pk, {"decision": "legitimate", "note": "twins"})

    assert response.status_code == 302 and response["Location"] == "/moderation/"
    dispute.refresh_from_db()
    assert (dispute.status, dispute.decision, dispute.decision_note, dispute.decided_by) == (
        Flag.Status.DECIDED,
        "legitimate",
        "twins",
        moderator,
    )
    assert dispute.likeness.status == LikenessStatus.ACTIVE
    content = client.get("/moderation/flags/%s/" % dispute.pk).content.decode()
    assert "Decided <strong>legitimate</strong> by mona" in content
    assert 'data-testid="decision-form"' not in content


def test_moderator_rejects_a_dispute_and_its_face_data_goes(
    client, moderator, dispute, django_capture_on_commit_callbacks
):
    client.force_login(moderator)
    with django_capture_on_commit_callbacks(execute=True):
        response = csrf_post(client, "/moderation/flags/%s/" % dispute.pk, {"decision": "rejected"})

    assert response.status_code == 302
    likeness = Likeness.objects.get(pk=dispute.likeness_id)
    assert likeness.status == LikenessStatus.ERASED
    assert not likeness.photos.exists() and not likeness.faces.exists()
    assert Likeness.objects.get(display_name="Barack Obama").photos.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "This field is required."),
        ({"decision": "verified"}, "Select a valid choice. verified is not one of the available choices."),
        ({"decision": "legitimate", "note": "n" * 2001}, "Ensure this value has at most 2000 characters"),
    ],
)
def test_bad_decisions_are_refused_and_the_flag_stays_open(client, moderator, dispute, data, message):
    client.force_login(moderator)
    before = stored()
    response = csrf_post(client, "/moderation/flags/%s/" % dispute.pk, data)

    assert response.status_code == 400
    assert message in text(response)
    dispute.refresh_from_db()
    assert dispute.status == Flag.Status.OPEN
    assert stored() == before


def test_a_decided_flag_cannot_be_decided_again(client, moderator, dispute):
    client.force_login(moderator)
    csrf_post(client, "/moderation/flags/%s/" % dispute.pk, {"decision": "legitimate"})
    events = AuditEvent.objects.count()
    response = csrf_post(client, "/moderation/flags/%s/" % dispute.pk, {"decision": "rejected"})

    assert response.status_code == 400
    assert "This flag has already been decided." in text(response)
    dispute.refresh_from_db()
    assert dispute.decision == "legitimate"
    assert AuditEvent.objects.count() == events


# --- estates -----------------------------------------------------------------------------


def test_estate_flag_shows_the_claim_date_of_death_and_the_document(client, moderator, estate):
    client.force_login(moderator)
    content = client.get("/moderation/flags/%s/" % estate.pk).content.decode()
    claim = EstateClaim.objects.get()

    assert "erin" in content and "3 February 2001" in content
    assert "/moderation/estate-claims/%d/document/" % claim.pk in content
    assert 'value="verified"' in content and 'value="rejected"' in content
    assert content.count('data-testid="face-box"') == 1

    document = client.get("/moderation/estate-claims/%d/document/" % claim.pk)
    assert document.status_code == 200
    assert document.content == DOCUMENT
    assert document["Content-Type"] == "application/pdf"
    assert document["Content-Disposition"] == 'attachment; filename="letters.pdf"'
    assert "no-store" in document["Cache-Control"]


@pytest.mark.parametrize("name", ["proof.html", "proof.svg", "proof.js", "proof"])
def test_an_estate_document_is_never_served_as_a_type_its_file_name_chose(client, moderator, estate, name):
    client.force_login(moderator)
    claim = EstateClaim.objects.get()
    EstateClaim.objects.filter(pk=claim.pk).update(document_name=name)

    document = client.get("/moderation/estate-claims/%d/document/" % claim.pk)

    assert document.status_code == 200
    assert document["Content-Type"] == "application/octet-stream"
    assert document["X-Content-Type-Options"] == "nosniff"


def test_moderator_verifies_an_estate_and_the_likeness_becomes_active(client, moderator, estate):
    client.force_login(moderator)
    response = csrf_post(client, "/moderation/flags/%s/" % estate.pk, {"decision": "verified"})

    assert response.status_code == 302
    estate.refresh_from_db()
    assert (estate.status, estate.decision) == (Flag.Status.DECIDED, "verified")
    assert EstateClaim.objects.get().status == EstateClaim.Status.VERIFIED
    assert estate.likeness.status == LikenessStatus.ACTIVE


def test_moderator_rejects_an_estate_claim(client, moderator, estate):
    client.force_login(moderator)
    csrf_post(client, "/moderation/flags/%s/" % estate.pk, {"decision": "rejected", "note": "forged"})

    assert EstateClaim.objects.get().status == EstateClaim.Status.REJECTED
    assert Likeness.objects.get().status == LikenessStatus.PENDING_VERIFICATION


# --- protected entries -------------------------------------------------------------------


def test_moderator_adds_a_protected_entry(client, moderator):
    client.force_login(moderator)
    response = csrf_post(
        client,
        "/moderation/protected/new/",
        {
            "display_name": "A Public Figure",
            "aliases": "APF\nPublic Figure",
            "descriptors": "the senator",
            "jurisdiction": "US",
        },
    )

    likeness = Likeness.objects.get()
    assert response.status_code == 302 and response["Location"] == "/likenesses/%s/" % likeness.pk
    assert likeness.protected and likeness.owner is None
    assert likeness.aliases == ["APF", "Public Figure"]
    content = client.get(response["Location"]).content.decode()
    assert "is now a protected entry" in content
    assert "Edit consent" not in content


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"display_name": ""}, "This field is required."),
        ({"display_name": "n" * 201}, "Ensure this value has at most 200 characters"),
        ({"aliases": "a" * 201}, "Each line may have at most 200 characters"),
        ({"descriptors": "d" * 501}, "Each line may have at most 500 characters"),
        ({"jurisdiction": "j" * 65}, "Ensure this value has at most 64 characters"),
    ],
)
def test_protected_entry_form_rejects_bad_input(client, moderator, change, message):
    client.force_login(moderator)
    before = stored()
    response = csrf_post(client, "/moderation/protected/new/", {"display_name": "Figure", **change})

    assert response.status_code == 400
    assert message in text(response)
    assert stored() == before


def test_moderator_imports_protected_entries_from_csv(client, moderator):
    client.force_login(moderator)
    csv = (
        "display_name,aliases,descriptors,jurisdiction\nAda Lovelace,Ada;Countess,mathematician,GB\nAlan Turing,,,GB\n"
    )
    response = csrf_post(
        client, "/moderation/protected/import/", {"file": upload("people.csv", csv.encode(), "text/csv")}
    )

    assert response.status_code == 302
    assert set(Likeness.objects.values_list("display_name", flat=True)) == {"Ada Lovelace", "Alan Turing"}
    assert Likeness.objects.get(display_name="Ada Lovelace").aliases == ["Ada", "Countess"]
    assert "Imported 2 protected entries." in client.get(response["Location"]).content.decode()


BAD_CSV = {
    "empty name on a row": (
        b"display_name,aliases\nAda Lovelace,\n,nameless\n",
        ['<td>3</td><td class="error">display_name is empty.</td>'],
    ),
    "unknown column": (b"display_name,age\nAda,36\n", ["Unknown columns: age."]),
    "not UTF-8": ("display_name\nAd\u00e9".encode("latin-1"), ["The file is not UTF-8 text."]),
    "no rows": (b"display_name\n", ["The file has no rows."]),
}


@pytest.mark.parametrize(("data", "messages"), BAD_CSV.values(), ids=BAD_CSV.keys())
def test_csv_import_shows_each_rows_problem_and_imports_nothing(client, moderator, data, messages):
    client.force_login(moderator)
    before = stored()
    response = csrf_post(client, "/moderation/protected/import/", {"file": upload("people.csv", data, "text/csv")})

    assert response.status_code == 400
    content = text(response)
    assert "Nothing was imported" in content
    for message in messages:
        assert message in content
    assert stored() == before


def test_csv_import_needs_a_file(client, moderator):
    client.force_login(moderator)
    response = csrf_post(client, "/moderation/protected/import/", {})
    assert response.status_code == 400
    assert "This field is required." in text(response)
