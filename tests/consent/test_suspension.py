"""A moderator suspends a likeness (it then grants nothing) with a note the person sees, and lifts it."""

from typing import Any

import pytest
from django.test import Client

from accounts.roles import Role
from config.api import ApiErrorCode
from consent.errors import ConsentReason
from consent.evaluation import consent_evaluate
from consent.models import ConsentVersion, Likeness
from moderation.audit import audit_verify
from moderation.models import AuditEvent
from moderation.reasons import ReasonCode, Verdict
from tests.consent.web import csrf_post

pytestmark = pytest.mark.django_db

NOTE = "Reported as impersonation; we are checking the photos. Reply through support."


def no_topics(**kwargs: Any) -> list:
    return []


@pytest.fixture
def owner(make_user: Any) -> Any:
    return make_user(Role.RIGHTS_HOLDER, Role.CREATOR, username="rita")


@pytest.fixture
def moderator(make_user: Any) -> Any:
    return make_user(Role.MODERATOR, username="mona")


@pytest.fixture
def likeness(enroll: Any, owner: Any, api_client: Any) -> Likeness:
    body = enroll("rose_leslie/img1.jpg", user=owner, name="Rose Leslie").json()
    api_client.force_authenticate(owner)
    response = api_client.put(
        "/api/v1/likenesses/%s/consent/" % body["id"], {"audience": "everyone", "uses": ["personal"]}, format="json"
    )
    assert response.status_code == 200, response.content
    api_client.force_authenticate(None)
    return Likeness.objects.get(pk=body["id"])


def suspend(api_client: Any, user: Any, likeness: Likeness, note: Any = NOTE, action: str = "suspend") -> Any:
    api_client.force_authenticate(user)
    body = {} if note is None else {"note": note}
    return api_client.post("/api/v1/likenesses/%s/%s/" % (likeness.pk, action), body, format="json")


def test_a_suspended_likeness_grants_nothing_even_to_its_owner(api_client, moderator, owner, likeness, make_user):
    creator = make_user(Role.CREATOR)
    assert consent_evaluate(likeness=likeness, requester=creator, use="personal", topic_matcher=no_topics).allowed

    response = suspend(api_client, moderator, likeness)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["suspended"] is True and body["suspension_note"] == NOTE and body["suspended_at"]
    likeness.refresh_from_db()
    for requester in (creator, owner):
        result = consent_evaluate(likeness=likeness, requester=requester, use="personal", topic_matcher=no_topics)
        assert not result.allowed
        assert result.codes == [ConsentReason.LIKENESS_SUSPENDED]
    # The consent itself is untouched: lifting the suspension restores it.
    assert ConsentVersion.objects.filter(likeness=likeness).count() == 2
    event = AuditEvent.objects.get(action="likeness.suspend", target_id=str(likeness.pk))
    assert event.actor == moderator and event.data["note"] == NOTE
    assert audit_verify() is None


def test_the_gate_blocks_a_cameo_of_a_suspended_likeness(api_client, moderator, likeness, make_user):
    suspend(api_client, moderator, likeness)
    api_client.force_authenticate(make_user(Role.CREATOR))

    response = api_client.post(
        "/api/v1/checks/", {"prompt": "a portrait in a garden", "use": "personal", "cameos": [str(likeness.pk)]},
        format="json",
    )  # fmt: skip

    assert response.status_code == 200, response.content
    decision = response.json()
    assert decision["verdict"] == Verdict.BLOCK
    # The note is for the person, and the suspension itself is not the creator's to know (issue 15):
    # the creator reads what an id nobody has gets; the moderator reads why.
    assert NOTE not in str(decision) and "suspend" not in str(decision)
    assert [reason["code"] for reason in decision["reasons"]] == [ReasonCode.CAMEO_UNAVAILABLE]
    api_client.force_authenticate(moderator)
    decision = api_client.get("/api/v1/decisions/%s/" % decision["id"]).json()
    found = [reason for reason in decision["reasons"] if reason["code"] == ReasonCode.LIKENESS_SUSPENDED]
    assert found and found[0]["likeness_id"] == str(likeness.pk) and found[0]["verdict"] == Verdict.BLOCK
    assert NOTE not in str(decision)  # the note is for the person
    assert [r["likeness_id"] for r in decision["reasons"] if r["code"] == ReasonCode.CONSENT_ALLOWS] == []


def test_lifting_the_suspension_restores_the_consent(api_client, moderator, likeness, make_user):
    suspend(api_client, moderator, likeness)

    response = suspend(api_client, moderator, likeness, note="Photos checked: it is her.", action="lift-suspension")

    assert response.status_code == 200, response.content
    assert response.json()["suspended"] is False
    likeness.refresh_from_db()
    creator = make_user(Role.CREATOR)
    assert consent_evaluate(likeness=likeness, requester=creator, use="personal", topic_matcher=no_topics).allowed
    event = AuditEvent.objects.get(action="likeness.lift_suspension", target_id=str(likeness.pk))
    assert event.actor == moderator and event.data["note"] == "Photos checked: it is her."


@pytest.mark.parametrize("note", [None, "", "   "])
@pytest.mark.parametrize("action", ["suspend", "lift-suspension"])
def test_a_note_is_required(api_client, moderator, likeness, note, action):
    if action == "lift-suspension":
        suspend(api_client, moderator, likeness)
    before = AuditEvent.objects.count()

    response = suspend(api_client, moderator, likeness, note=note, action=action)

    assert response.status_code == 400, response.content
    assert "note" in response.json()["error"]["fields"]
    assert AuditEvent.objects.count() == before


def test_suspending_twice_or_lifting_nothing_is_refused(api_client, moderator, likeness):
    assert suspend(api_client, moderator, likeness, action="lift-suspension").status_code == 400
    assert suspend(api_client, moderator, likeness).status_code == 200
    assert suspend(api_client, moderator, likeness).status_code == 400


@pytest.mark.parametrize("role", [Role.RIGHTS_HOLDER, Role.CREATOR, Role.ESTATE_REPRESENTATIVE, Role.ADMIN])
def test_only_moderators_suspend(api_client, make_user, owner, likeness, role):
    for user in (owner, make_user(role)):
        for action in ("suspend", "lift-suspension"):
            response = suspend(api_client, user, likeness, action=action)
            assert response.status_code == 403, (user, action)
            assert response.json()["error"]["code"] == ApiErrorCode.PERMISSION_DENIED
    likeness.refresh_from_db()
    assert likeness.suspended_at is None


def test_an_unknown_likeness_is_not_found(api_client, moderator):
    api_client.force_authenticate(moderator)
    for likeness_id in ("00000000-0000-0000-0000-000000000000", "nope"):
        response = api_client.post("/api/v1/likenesses/%s/suspend/" % likeness_id, {"note": NOTE}, format="json")
        assert response.status_code == 404


def test_the_person_reads_the_note(api_client, owner, moderator, likeness):
    suspend(api_client, moderator, likeness)
    api_client.force_authenticate(owner)

    body = api_client.get("/api/v1/likenesses/%s/" % likeness.pk).json()

    assert body["suspended"] is True and body["suspension_note"] == NOTE
    assert "suspended_by" not in body  # who moderated stays with the moderators
    listed = api_client.get("/api/v1/likenesses/").json()
    assert listed[0]["suspended"] is True


# --- the web pages ---------------------------------------------------------------------------


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


def test_a_moderator_suspends_and_lifts_from_the_likeness_page(client, moderator, owner, likeness):
    page = "/likenesses/%s/" % likeness.pk
    client.force_login(moderator)
    content = client.get(page).content.decode()
    assert 'data-testid="suspend-form"' in content

    empty = csrf_post(client, "/likenesses/%s/suspend/" % likeness.pk, {"note": " "}, page=page)
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    response = csrf_post(client, "/likenesses/%s/suspend/" % likeness.pk, {"note": NOTE}, page=page)

    assert response.status_code == 302 and response["Location"] == page
    likeness.refresh_from_db()
    assert likeness.suspended_at is not None and likeness.suspension_note == NOTE
    content = client.get(page).content.decode()
    assert 'data-testid="lift-suspension-form"' in content and 'data-testid="suspend-form"' not in content

    client.force_login(owner)
    content = client.get(page).content.decode()
    assert 'data-testid="suspension-notice"' in content and NOTE.split(";")[0] in content
    assert 'data-testid="lift-suspension-form"' not in content
    refused = csrf_post(client, "/likenesses/%s/lift-suspension/" % likeness.pk, {"note": "mine"}, page=page)
    assert refused.status_code == 403

    client.force_login(moderator)
    lifted = csrf_post(client, "/likenesses/%s/lift-suspension/" % likeness.pk, {"note": "Checked."}, page=page)
    assert lifted.status_code == 302
    likeness.refresh_from_db()
    assert likeness.suspended_at is None
    client.force_login(owner)
    assert 'data-testid="suspension-notice"' not in client.get(page).content.decode()


def test_the_pages_refuse_suspension_to_anyone_but_moderators(client, make_user, likeness):
    client.force_login(make_user(Role.RIGHTS_HOLDER))
    response = csrf_post(client, "/likenesses/%s/suspend/" % likeness.pk, {"note": NOTE}, page="/likenesses/")
    assert response.status_code == 403
    likeness.refresh_from_db()
    assert likeness.suspended_at is None


def test_a_flag_about_a_likeness_offers_the_suspension(client, moderator, likeness):
    from moderation.models import Flag

    flag = Flag.objects.create(kind=Flag.Kind.DISPUTE, likeness=likeness, reason="face_matches_registered_likeness")
    client.force_login(moderator)

    content = client.get("/moderation/flags/%s/" % flag.pk).content.decode()

    assert 'data-testid="flag-suspension"' in content
    assert 'action="/likenesses/%s/suspend/"' % likeness.pk in content
