"""POST /api/v1/auth/token/ and token authentication."""

import pytest

from accounts.roles import Role
from config.api import ApiErrorCode
from tests.factories import PASSWORD

URL = "/api/v1/auth/token/"

pytestmark = pytest.mark.django_db


def test_token_for_good_credentials_authenticates_later_requests(api_client, make_user):
    make_user(Role.RIGHTS_HOLDER, username="rita")

    response = api_client.post(URL, {"username": "rita", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]

    api_client.credentials(HTTP_AUTHORIZATION="Token " + token)
    me = api_client.get("/api/v1/accounts/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "rita"
    assert me.json()["roles"] == ["rights_holder"]


def test_same_token_is_returned_twice(api_client, make_user):
    make_user(username="rita")
    first = api_client.post(URL, {"username": "rita", "password": PASSWORD}, format="json").json()
    second = api_client.post(URL, {"username": "rita", "password": PASSWORD}, format="json").json()
    assert first == second


@pytest.mark.parametrize(
    "body",
    [
        {"username": "rita", "password": "wrong-password!"},
        {"username": "nobody", "password": PASSWORD},
    ],
    ids=["wrong password", "unknown user"],
)
def test_token_refused_for_bad_credentials(api_client, make_user, body):
    make_user(username="rita")
    response = api_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["non_field_errors"][0]["message"].startswith("Unable to sign in")


def test_token_refused_for_inactive_user(api_client, make_user):
    make_user(username="rita", is_active=False)
    response = api_client.post(URL, {"username": "rita", "password": PASSWORD}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "username"),
        ({"username": "rita"}, "password"),
        ({"username": ["rita"], "password": PASSWORD}, "username"),
        ({"username": "r" * 151, "password": PASSWORD}, "username"),
        ({"username": "rita", "password": "p" * 129}, "password"),
    ],
    ids=["missing username", "missing password", "username list", "overlong username", "overlong password"],
)
def test_token_rejects_bad_input(api_client, body, field):
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_bad_token_is_refused(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = api_client.get("/api/v1/accounts/me/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == ApiErrorCode.AUTHENTICATION_FAILED


def test_anonymous_is_refused(api_client):
    response = api_client.get("/api/v1/accounts/me/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == ApiErrorCode.NOT_AUTHENTICATED


def test_token_requests_are_rate_limited(api_client, settings):
    # The rate limit, not the lock-out (tests/accounts/test_brute_force.py), is under test.
    settings.SIGILLO_LOGIN_MAX_FAILURES = settings.SIGILLO_LOGIN_MAX_FAILURES_PER_ADDRESS = 1000
    body = {"username": "nobody", "password": "wrong-password!"}
    statuses = [api_client.post(URL, body, format="json").status_code for _ in range(31)]

    assert statuses[:30] == [400] * 30
    assert statuses[30] == 429
    assert api_client.post(URL, body, format="json").json()["error"]["code"] == ApiErrorCode.THROTTLED
