"""POST /api/v1/accounts/register/: creates creators by default; bad input changes nothing."""

import json

import pytest

from accounts.models import User, UserRole
from accounts.roles import Role
from config.api import ApiErrorCode

URL = "/api/v1/accounts/register/"
GOOD = {"username": "nadia", "password": "a-long-enough-passphrase", "email": "nadia@example.org"}

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int]:
    return User.objects.count(), UserRole.objects.count()


def test_register_makes_a_creator_by_default(api_client):
    response = api_client.post(URL, GOOD, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["roles"] == ["creator"]
    user = User.objects.get(username="nadia")
    assert user.check_password(GOOD["password"])
    assert "password" not in response.json()


def test_register_takes_self_service_roles(api_client):
    response = api_client.post(URL, {**GOOD, "roles": ["rights_holder", "creator"]}, format="json")

    assert response.status_code == 201
    assert response.json()["roles"] == ["creator", "rights_holder"]


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
def test_register_refuses_privileged_roles(api_client, role):
    before = counts()
    response = api_client.post(URL, {**GOOD, "roles": [role.value]}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == ApiErrorCode.INVALID
    assert error["fields"]["roles"]
    assert counts() == before


BAD_INPUTS = {
    "missing username": ({"password": GOOD["password"]}, "username"),
    "missing password": ({"username": "nadia"}, "password"),
    "empty body": ({}, "username"),
    "username not a string": ({**GOOD, "username": {"a": 1}}, "username"),
    "password not a string": ({**GOOD, "password": ["x"]}, "password"),
    "roles not a list": ({**GOOD, "roles": "creator"}, "roles"),
    "unknown role": ({**GOOD, "roles": ["wizard"]}, "roles"),
    "roles with a number": ({**GOOD, "roles": [7]}, "roles"),
    "overlong username": ({**GOOD, "username": "n" * 151}, "username"),
    "overlong email": ({**GOOD, "email": "n" * 250 + "@example.org"}, "email"),
    "overlong password": ({**GOOD, "password": "p" * 129}, "password"),
    "overlong display name": ({**GOOD, "display_name": "d" * 151}, "display_name"),
    "username with spaces": ({**GOOD, "username": "nadia smith"}, "username"),
    "bad email": ({**GOOD, "email": "not-an-email"}, "email"),
    "short password": ({**GOOD, "password": "short"}, "password"),
    "common password": ({**GOOD, "password": "password123"}, "password"),
    "numeric password": ({**GOOD, "password": "83749201938475"}, "password"),
    "password like username": ({**GOOD, "username": "nadiaperson", "password": "nadiaperson1"}, "password"),
}


@pytest.mark.parametrize(("body", "field"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_register_rejects_bad_input_and_writes_nothing(api_client, body, field):
    before = counts()
    response = api_client.post(URL, body, format="json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == ApiErrorCode.INVALID
    assert field in error["fields"], error
    assert all(item["message"] for item in error["fields"][field])
    assert counts() == before


def test_register_rejects_duplicate_username_in_any_case(api_client, make_user):
    make_user(username="Nadia")
    before = counts()

    response = api_client.post(URL, GOOD, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["username"][0]["message"] == "A user with that username already exists."
    assert counts() == before


def test_register_rejects_malformed_json(api_client):
    before = counts()
    response = api_client.post(URL, data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == ApiErrorCode.PARSE_ERROR
    assert counts() == before


def test_register_rejects_a_json_list(api_client):
    response = api_client.post(URL, data=json.dumps([GOOD]), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == ApiErrorCode.INVALID


def test_register_rejects_unsupported_media_type(api_client):
    response = api_client.post(URL, data="username=nadia", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == ApiErrorCode.UNSUPPORTED_MEDIA_TYPE
    assert not User.objects.exists()
