"""Only the person (or their verified estate) grants, changes, answers, revokes or erases.

Moderators read what they need for reviews and keep their own duties (protected entries), but
every route that speaks for the person refuses them: the API with 403 ``permission_denied``, the
web pages with 403, and the pages do not offer the buttons.
"""

from typing import Any

import pytest
from django.test import Client

from accounts.roles import Role
from config.api import ApiErrorCode
from consent.models import ConsentRequest, ConsentVersion, EstateClaim, Likeness, LikenessStatus, Subject
from consent.services import consent_request_open
from moderation.models import AuditEvent
from tests.consent.conftest import stored
from tests.consent.web import csrf_post

pytestmark = pytest.mark.django_db

OPEN_POLICY = {"audience": "everyone", "uses": ["personal", "commercial", "adult"]}


@pytest.fixture
def owner(make_user: Any) -> Any:
    return make_user(Role.RIGHTS_HOLDER, username="rita")


@pytest.fixture
def moderator(make_user: Any) -> Any:
    return make_user(Role.MODERATOR, username="mona")


@pytest.fixture
def likeness(enroll: Any, owner: Any) -> Likeness:
    return Likeness.objects.get(pk=enroll("rose_leslie/img1.jpg", user=owner, name="Rose Leslie").json()["id"])


def as_user(api_client: Any, user: Any) -> Any:
    api_client.force_authenticate(user)
    return api_client


def assert_refused(response: Any) -> None:
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == ApiErrorCode.PERMISSION_DENIED


# --- the API -------------------------------------------------------------------------------


def test_a_moderator_cannot_rewrite_a_persons_consent(api_client, moderator, likeness):
    before = stored()

    response = as_user(api_client, moderator).put(
        "/api/v1/likenesses/%s/consent/" % likeness.pk, OPEN_POLICY, format="json"
    )

    assert_refused(response)
    assert stored() == before
    assert list(ConsentVersion.objects.filter(likeness=likeness).values_list("number", flat=True)) == [1]


def test_a_moderator_cannot_revoke_or_erase(api_client, moderator, likeness):
    before = stored()
    client = as_user(api_client, moderator)

    assert_refused(client.post("/api/v1/likenesses/%s/revoke/" % likeness.pk))
    assert_refused(client.delete("/api/v1/likenesses/%s/" % likeness.pk, {"keep_name": False}, format="json"))

    assert stored() == before
    likeness.refresh_from_db()
    assert likeness.status == LikenessStatus.ACTIVE and likeness.photos.count() == 1


def test_a_moderator_cannot_rename_a_person(api_client, moderator, likeness):
    response = as_user(api_client, moderator).patch(
        "/api/v1/likenesses/%s/" % likeness.pk, {"aliases": ["Ygritte"]}, format="json"
    )

    assert_refused(response)
    likeness.refresh_from_db()
    assert likeness.aliases == []


def test_a_moderator_cannot_answer_a_per_use_request(api_client, owner, moderator, likeness, make_user):
    as_user(api_client, owner).put(
        "/api/v1/likenesses/%s/consent/" % likeness.pk, {**OPEN_POLICY, "per_use_approval": True}, format="json"
    )
    request = consent_request_open(likeness=likeness, requester=make_user(Role.CREATOR), use="commercial")

    response = as_user(api_client, moderator).post(
        "/api/v1/likenesses/%s/requests/%s/decision/" % (likeness.pk, request.pk), {"approve": True}, format="json"
    )

    assert_refused(response)
    request.refresh_from_db()
    assert request.status == ConsentRequest.Status.PENDING
    assert not AuditEvent.objects.filter(action="consent.request_decide").exists()


def test_a_moderator_still_reads_what_a_review_needs(api_client, moderator, likeness):
    client = as_user(api_client, moderator)

    body = client.get("/api/v1/likenesses/%s/" % likeness.pk).json()
    assert body["display_name"] == "Rose Leslie"
    assert client.get("/api/v1/likenesses/%s/consent/" % likeness.pk).status_code == 200
    assert client.get("/api/v1/likenesses/%s/requests/" % likeness.pk).status_code == 200
    assert client.get(body["photos"][0]["url"]).status_code == 200


def test_the_person_does_all_of_it(api_client, owner, likeness):
    client = as_user(api_client, owner)

    assert (
        client.patch("/api/v1/likenesses/%s/" % likeness.pk, {"aliases": ["Ygritte"]}, format="json").status_code == 200
    )
    assert client.put("/api/v1/likenesses/%s/consent/" % likeness.pk, OPEN_POLICY, format="json").status_code == 200
    assert client.post("/api/v1/likenesses/%s/revoke/" % likeness.pk).status_code == 200
    assert client.delete("/api/v1/likenesses/%s/" % likeness.pk).status_code == 200
    assert Likeness.objects.get(pk=likeness.pk).status == LikenessStatus.ERASED


# --- protected entries: the moderators' own -------------------------------------------------


def test_moderators_edit_and_erase_protected_entries_but_never_grant(api_client, moderator):
    client = as_user(api_client, moderator)
    entry = client.post("/api/v1/likenesses/protected/", {"display_name": "Joe Biden"}, format="json").json()

    renamed = client.patch("/api/v1/likenesses/%s/" % entry["id"], {"aliases": ["Joseph Biden"]}, format="json")
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["aliases"] == ["Joseph Biden"]
    granted = client.put("/api/v1/likenesses/%s/consent/" % entry["id"], OPEN_POLICY, format="json")
    assert granted.status_code in (400, 403)
    assert_refused(client.post("/api/v1/likenesses/%s/revoke/" % entry["id"]))
    erased = client.delete("/api/v1/likenesses/%s/" % entry["id"])
    assert erased.status_code == 200 and erased.json()["status"] == LikenessStatus.ERASED


@pytest.mark.parametrize("role", [Role.RIGHTS_HOLDER, Role.ESTATE_REPRESENTATIVE, Role.CREATOR])
def test_nobody_else_touches_a_protected_entry(api_client, make_user, role):
    entry = as_user(api_client, make_user(Role.MODERATOR)).post(
        "/api/v1/likenesses/protected/", {"display_name": "Joe Biden"}, format="json"
    )
    client = as_user(api_client, make_user(role))

    assert client.patch("/api/v1/likenesses/%s/" % entry.json()["id"], {"aliases": ["Joey"]}).status_code == 404
    assert client.delete("/api/v1/likenesses/%s/" % entry.json()["id"]).status_code == 404
    assert Likeness.objects.get().aliases == []


# --- estates ---------------------------------------------------------------------------------


@pytest.fixture
def deceased(enroll: Any, make_user: Any) -> Likeness:
    from tests.consent.conftest import upload

    representative = make_user(Role.ESTATE_REPRESENTATIVE, username="esther")
    body = enroll(
        "alex_lacamoire/alex-lacamoire.png",
        user=representative,
        name="Alex Lacamoire",
        subject=Subject.DECEASED,
        date_of_death="2024-03-01",
        estate_document=upload("letters.pdf", b"%PDF-1.4 letters", "application/pdf"),
    ).json()
    return Likeness.objects.get(pk=body["id"])


@pytest.mark.parametrize(
    ("status", "expected"),
    [(EstateClaim.Status.PENDING, 403), (EstateClaim.Status.REJECTED, 404), (EstateClaim.Status.VERIFIED, 200)],
)
def test_another_representative_acts_only_once_their_claim_is_verified(
    api_client, make_user, deceased, status, expected
):
    other = make_user(Role.ESTATE_REPRESENTATIVE)
    EstateClaim.objects.create(likeness=deceased, representative=other, status=status)

    response = as_user(api_client, other).put(
        "/api/v1/likenesses/%s/consent/" % deceased.pk, OPEN_POLICY, format="json"
    )

    assert response.status_code == expected, response.content


def test_a_representative_whose_own_claim_was_rejected_no_longer_acts(api_client, deceased):
    EstateClaim.objects.filter(likeness=deceased).update(status=EstateClaim.Status.REJECTED)

    response = as_user(api_client, deceased.owner).put(
        "/api/v1/likenesses/%s/consent/" % deceased.pk, OPEN_POLICY, format="json"
    )

    assert response.status_code in (403, 404)
    assert ConsentVersion.objects.filter(likeness=deceased).count() == 1


# --- the web pages ---------------------------------------------------------------------------


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


def test_the_likeness_page_offers_a_moderator_no_consent_revoke_rename_or_erase(client, owner, moderator, likeness):
    client.force_login(owner)
    own = client.get("/likenesses/%s/" % likeness.pk).content.decode()
    assert 'href="/likenesses/%s/consent/"' % likeness.pk in own
    assert 'data-testid="erase-form"' in own and 'data-testid="edit-form"' in own
    client.force_login(moderator)

    page = client.get("/likenesses/%s/" % likeness.pk)

    assert page.status_code == 200
    content = page.content.decode()
    assert "Rose Leslie" in content
    assert 'href="/likenesses/%s/consent/"' % likeness.pk not in content
    assert "/likenesses/%s/revoke/" % likeness.pk not in content
    assert 'data-testid="erase-form"' not in content and 'data-testid="edit-form"' not in content
    listing = client.get("/likenesses/all/").content.decode()
    assert "Rose Leslie" in listing and "/likenesses/%s/consent/" % likeness.pk not in listing


def test_the_pages_refuse_a_moderators_post(client, moderator, likeness):
    client.force_login(moderator)
    page = "/likenesses/%s/" % likeness.pk
    before = stored()

    posts = {
        "/likenesses/%s/consent/": {"audience": "everyone", "uses": ["personal", "adult"]},
        "/likenesses/%s/revoke/": {},
        "/likenesses/%s/erase/": {"confirm_name": "Rose Leslie"},
        "/likenesses/%s/": {"display_name": "Rose Leslie", "aliases": "Ygritte"},
    }
    for path, data in posts.items():
        response = csrf_post(client, path % likeness.pk, data, page=page)
        assert response.status_code == 403, path
    assert client.get("/likenesses/%s/consent/" % likeness.pk).status_code == 403
    assert stored() == before


def test_a_moderator_edits_a_protected_entry_on_its_page(client, moderator):
    from consent.services import likeness_register_protected

    entry = likeness_register_protected(moderator=moderator, display_name="Joe Biden")
    client.force_login(moderator)
    content = client.get("/likenesses/%s/" % entry.pk).content.decode()
    assert 'data-testid="edit-form"' in content and 'data-testid="erase-form"' in content
    assert "/likenesses/%s/consent/" % entry.pk not in content

    response = csrf_post(
        client,
        "/likenesses/%s/" % entry.pk,
        {"display_name": "Joe Biden", "aliases": "Joseph Biden"},
        page="/likenesses/%s/" % entry.pk,
    )

    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.aliases == ["Joseph Biden"]
