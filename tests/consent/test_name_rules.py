"""Names and aliases must be long and distinctive enough not to match everyday prompts.

An alias ``a`` would make "a boat on a lake" a registered-name hit for every creator; so would a
protected entry called "the". Every way of saving a name says which one was refused, and why.
"""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.roles import Role
from config.api import ApiErrorCode
from consent.errors import NameRejection
from consent.models import Likeness
from tests.consent.conftest import stored

pytestmark = pytest.mark.django_db

#: Names refused on their own, with the reason.
REFUSED = {
    "a": NameRejection.TOO_SHORT,
    "x": NameRejection.TOO_SHORT,
    "Jo": NameRejection.TOO_SHORT,
    "J. L.": NameRejection.TOO_SHORT,
    "the": NameRejection.COMMON_WORD,
    "boat": NameRejection.COMMON_WORD,
    "Will": NameRejection.COMMON_WORD,
    "Rose": NameRejection.COMMON_WORD,
    "ROSE!": NameRejection.COMMON_WORD,
    "a boat": NameRejection.COMMON_WORD,
    "The Boat": NameRejection.COMMON_WORD,
    "of the": NameRejection.COMMON_WORD,
}
#: Names accepted: several words (even common ones), or one distinctive word of 3 letters or more.
ACCEPTED = ["Will Smith", "Grace Kelly", "Rose Leslie", "Obama", "Beyoncé", "Cher", "Ada", "J. Lo Lopez", "李小龍"]


@pytest.fixture
def moderator(make_user: Any) -> Any:
    return make_user(Role.MODERATOR)


def field_error(response: Any, field: str) -> dict:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == ApiErrorCode.INVALID
    return error["fields"][field][0]


@pytest.mark.parametrize(("alias", "code"), REFUSED.items(), ids=REFUSED.keys())
def test_a_protected_entry_refuses_a_junk_alias_and_says_why(api_client, moderator, alias, code):
    api_client.force_authenticate(moderator)

    response = api_client.post(
        "/api/v1/likenesses/protected/", {"display_name": "Joe Biden", "aliases": ["Uncle Joe", alias]}, format="json"
    )

    error = field_error(response, "aliases")
    assert error["code"] == code
    assert alias.strip() in error["message"]
    assert ("3 letters" if code == NameRejection.TOO_SHORT else "common English word") in error["message"]
    assert not Likeness.objects.exists()


@pytest.mark.parametrize("name", ["x", "the", "Will"])
def test_a_protected_entry_refuses_a_junk_name(api_client, moderator, name):
    api_client.force_authenticate(moderator)

    response = api_client.post("/api/v1/likenesses/protected/", {"display_name": name}, format="json")

    assert field_error(response, "display_name")["code"] in set(NameRejection)
    assert not Likeness.objects.exists()


@pytest.mark.parametrize("name", ACCEPTED)
def test_distinctive_names_are_accepted(api_client, moderator, name):
    api_client.force_authenticate(moderator)

    response = api_client.post(
        "/api/v1/likenesses/protected/", {"display_name": name, "aliases": [name + " Jr"]}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["display_name"] == name


def test_enrollment_refuses_a_one_letter_alias_before_storing_anything(enroll):
    before = stored()

    response = enroll("rose_leslie/img1.jpg", name="Rose Leslie", aliases=["Ygritte", "a"], expect=400)

    error = field_error(response, "aliases")
    assert error["code"] == NameRejection.TOO_SHORT and "“a”" in error["message"]
    assert stored() == before


def test_enrollment_refuses_a_common_word_as_the_name(enroll):
    response = enroll("rose_leslie/img1.jpg", name="Rose", expect=400)

    assert field_error(response, "display_name")["code"] == NameRejection.COMMON_WORD
    assert not Likeness.objects.exists()


def test_an_update_refuses_junk_names_and_changes_nothing(enroll, api_client, make_user):
    owner = make_user(Role.RIGHTS_HOLDER)
    likeness_id = enroll("rose_leslie/img1.jpg", user=owner, name="Rose Leslie", aliases=["Ygritte"]).json()["id"]
    api_client.force_authenticate(owner)
    url = "/api/v1/likenesses/%s/" % likeness_id

    alias = api_client.patch(url, {"aliases": ["Ygritte", "a"]}, format="json")
    name = api_client.patch(url, {"display_name": "Rose"}, format="json")

    assert field_error(alias, "aliases")["code"] == NameRejection.TOO_SHORT
    assert field_error(name, "display_name")["code"] == NameRejection.COMMON_WORD
    likeness = Likeness.objects.get(pk=likeness_id)
    assert (likeness.display_name, likeness.aliases) == ("Rose Leslie", ["Ygritte"])
    # Descriptors are descriptions, not names: short common words are fine there.
    described = api_client.patch(url, {"descriptors": ["the actress who played Ygritte"]}, format="json")
    assert described.status_code == 200


def test_a_csv_import_says_which_line_holds_a_junk_name(api_client, moderator):
    api_client.force_authenticate(moderator)
    data = b"display_name,aliases\nJoe Biden,Uncle Joe\nthe,\nBarack Obama,Obama;a\n"

    response = api_client.post(
        "/api/v1/likenesses/protected/import/", {"file": SimpleUploadedFile("p.csv", data)}, format="multipart"
    )

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == ApiErrorCode.IMPORT_REJECTED
    rows = {row["line"]: row["message"] for row in error["rows"]}
    assert set(rows) == {3, 4}
    assert "“the”" in rows[3] and "common English word" in rows[3]
    assert "“a”" in rows[4] and "3 letters" in rows[4]
    assert not Likeness.objects.exists()


# --- the web forms ---------------------------------------------------------------------------


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_post(client: Client, url: str, data: dict) -> Any:
    client.get(url)
    return client.post(url, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def page_text(response: Any) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def test_the_protected_entry_form_says_why_a_name_is_refused(client, moderator):
    client.force_login(moderator)
    before = stored()

    response = csrf_post(client, "/moderation/protected/new/", {"display_name": "the", "aliases": "Obama\nx"})

    assert response.status_code == 400
    content = page_text(response)
    assert "common English word" in content and "3 letters" in content
    assert stored() == before


def test_the_edit_form_says_why_an_alias_is_refused(client, enroll, make_user):
    owner = make_user(Role.RIGHTS_HOLDER)
    likeness_id = enroll("rose_leslie/img1.jpg", user=owner, name="Rose Leslie").json()["id"]
    client.force_login(owner)

    response = csrf_post(client, "/likenesses/%s/" % likeness_id, {"display_name": "Rose Leslie", "aliases": "a"})

    assert response.status_code == 400
    assert "3 letters" in page_text(response)
    assert Likeness.objects.get(pk=likeness_id).aliases == []
