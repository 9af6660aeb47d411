"""Accounts that cannot be brute-forced, and floods answered 429, through the real endpoints and
the suite's shared cache (Redis on the production install, the database on the embedded one)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.throttling import ScopedRateThrottle

from accounts.lockout import LOCKED_MESSAGE
from accounts.roles import Role
from config.api import ApiErrorCode
from generation.models import Generation
from moderation.models import AuditEvent, Decision
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(monkeypatch):
    """Set a scope's rate for this test (DRF reads its rates once, at import)."""

    def set_rate(scope: str, rate: str) -> None:
        monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rate


def token(api_client, username, password, forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return api_client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json", **extra)


def test_a_forged_forwarded_for_header_does_not_reset_the_token_throttle(api_client, make_user, rates, settings):
    rates("auth", "5/min")
    settings.SIGILLO_LOGIN_MAX_FAILURES = 1000  # the throttle, not the lock-out, is under test
    user = make_user(Role.CREATOR)

    answers = [token(api_client, user.username, "wrong", forwarded="10.0.0.%d" % n).status_code for n in range(6)]

    assert answers == [400] * 5 + [429]
    refused = token(api_client, user.username, PASSWORD, forwarded="10.9.9.9")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused.json()["error"]["code"] == ApiErrorCode.THROTTLED


def test_an_account_locks_after_repeated_failures_even_for_the_right_password(api_client, make_user, settings):
    settings.SIGILLO_LOGIN_MAX_FAILURES = 3
    user = make_user(Role.CREATOR)

    assert [token(api_client, user.username, "wrong").status_code for _ in range(3)] == [400] * 3
    locked = token(api_client, user.username, PASSWORD)

    assert locked.status_code == 429 and int(locked["Retry-After"]) == settings.SIGILLO_LOGIN_LOCKOUT_SECONDS
    assert locked.json()["error"]["message"].startswith(LOCKED_MESSAGE)
    event = AuditEvent.objects.get(action="auth.lockout")
    assert event.target_id == str(user.pk) and event.data["locked"] == "user"


def test_the_web_sign_in_locks_too_and_says_so(client, make_user, settings):
    settings.SIGILLO_LOGIN_MAX_FAILURES = 3
    user = make_user(Role.CREATOR)
    for _ in range(3):
        assert client.post("/accounts/login/", {"username": user.username, "password": "wrong"}).status_code == 200

    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 200 and LOCKED_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_sign_in_shares_the_lock(client, make_user, settings):
    settings.SIGILLO_LOGIN_MAX_FAILURES = 2
    admin = make_user(Role.ADMIN, is_staff=True, is_superuser=True)
    for _ in range(2):
        client.post("/admin/login/", {"username": admin.username, "password": "wrong"})

    response = client.post("/admin/login/?next=/admin/", {"username": admin.username, "password": PASSWORD})

    assert response.status_code == 200 and LOCKED_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_address_that_tries_many_accounts_is_locked(api_client, make_user, settings):
    settings.SIGILLO_LOGIN_MAX_FAILURES_PER_ADDRESS = 4
    victims = [make_user(Role.CREATOR) for _ in range(4)]
    for victim in victims:
        assert token(api_client, victim.username, "wrong").status_code == 400
    bystander = make_user(Role.CREATOR)

    assert token(api_client, bystander.username, PASSWORD).status_code == 429
    assert AuditEvent.objects.filter(action="auth.lockout", data__locked="address").exists()


def test_a_flood_of_checks_is_answered_429_and_stores_nothing(api_client, make_user, rates):
    rates("checks", "3/min")
    creator = make_user(Role.CREATOR)
    api_client.force_authenticate(creator)

    answers = [api_client.post("/api/v1/checks/", {"prompt": "a lake"}, format="json") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    assert Decision.objects.filter(requester=creator).count() == 3
    other = make_user(Role.CREATOR)  # the limit is per user
    api_client.force_authenticate(other)
    assert api_client.post("/api/v1/checks/", {"prompt": "a lake"}, format="json").status_code == 200


def test_many_accounts_from_one_address_share_the_address_limit(api_client, make_user, rates):
    """Fresh accounts do not buy a flood: every check, scan, generation and verify from one address
    counts against SIGILLO_ADDRESS_THROTTLE, whoever signed in."""
    rates("address", "3/min")
    first, second = make_user(Role.CREATOR), make_user(Role.CREATOR)

    def check(user, **extra):
        api_client.force_authenticate(user)
        return api_client.post("/api/v1/checks/", {"prompt": "a lake"}, format="json", **extra).status_code

    assert [check(first), check(first), check(second)] == [200, 200, 200]
    refused = check(second)
    assert refused == 429
    assert Decision.objects.filter(requester=second).count() == 1
    assert check(second, REMOTE_ADDR="198.51.100.7") == 200  # another address has its own count


def test_a_flood_of_generations_from_the_studio_page_is_answered_429(client, make_user, rates):
    rates("generations", "1/min")
    creator = make_user(Role.CREATOR)
    client.force_login(creator)
    assert client.post("/studio/", {"prompt": "", "kind": "image", "use": "personal"}).status_code == 400

    refused = client.post("/studio/", {"prompt": "a lake at dawn", "kind": "image", "use": "personal"})

    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many requests" in refused.content.decode()
    assert not Generation.objects.exists()


def test_the_public_verify_page_is_rate_limited(client, rates):
    rates("verify", "2/min")
    upload = lambda: {"file": SimpleUploadedFile("x.png", b"not an image")}  # noqa: E731

    answers = [client.post("/verify/", upload()) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [400, 400, 429]
    assert int(answers[-1]["Retry-After"]) > 0 and "Too many files" in answers[-1].content.decode()
