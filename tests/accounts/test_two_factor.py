"""Two-factor sign-in for moderators and administrators, through the real login views, the admin,
the API's token endpoint and the pages behind them (accounts/two_factor.py)."""

from datetime import timedelta

import pytest
from rest_framework.authtoken.models import Token

from accounts import totp, two_factor
from accounts.lockout import LOCKED_MESSAGE
from accounts.models import RecoveryCode, TOTPDevice
from accounts.roles import Role
from moderation.models import AuditEvent
from tests.conftest import totp_code, totp_enrol, totp_wrong_code
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
FLAGS_URL = "/api/v1/moderation/flags/"
#: Pages only moderators or administrators may see, from several apps.
STAFF_PAGES = ("/moderation/", "/likenesses/all/", "/accounts/users/", "/admin/")


def sign_in(client, user, **extra):
    return client.post("/accounts/login/", {"username": user.username, "password": PASSWORD, **extra})


def send_code(client, code):
    return client.post("/accounts/two-factor/", {"code": code})


def token(api_client, user, **extra):
    return api_client.post(TOKEN_URL, {"username": user.username, "password": PASSWORD, **extra}, format="json")


@pytest.fixture
def moderator(make_user):
    user = make_user(Role.MODERATOR, username="mona")
    user.totp_secret, user.recovery_codes = totp_enrol(user)
    return user


@pytest.fixture
def admin(make_user):
    user = make_user(Role.ADMIN, Role.MODERATOR, username="ada")
    user.totp_secret, user.recovery_codes = totp_enrol(user)
    return user


# The hole: a password alone.


def test_a_moderators_password_alone_signs_in_nobody_and_opens_no_staff_page(client, moderator):
    response = sign_in(client, moderator)

    assert response.status_code == 302 and response["Location"] == "/accounts/two-factor/"
    assert "_auth_user_id" not in client.session
    assert client.get("/moderation/")["Location"].startswith("/accounts/login/")
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get("/api/v1/moderation/flags/").status_code == 401


def test_an_administrators_password_alone_does_not_pass_the_admins_sign_in(client, admin):
    response = client.post("/admin/login/?next=/admin/", {"username": "ada", "password": PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/accounts/two-factor/"
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302

    done = send_code(client, totp_code(admin))

    assert done.status_code == 302 and done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_moderators_password_alone_gets_no_api_token(api_client, moderator):
    response = token(api_client, moderator)

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["otp"][0]["code"] == "otp_required"
    blank = token(api_client, moderator, otp=" ")
    assert blank.status_code == 400 and blank.json()["error"]["fields"]["otp"][0]["code"] == "otp_required"


# With a right code.


def test_with_a_right_code_a_moderator_reaches_the_queue(client, moderator):
    sign_in(client, moderator, next="/moderation/")

    response = send_code(client, totp_code(moderator))

    assert response.status_code == 302 and response["Location"] == "/moderation/"
    assert client.session["_auth_user_id"] == str(moderator.pk)
    assert client.get("/moderation/").status_code == 200
    assert client.get("/api/v1/moderation/flags/").status_code == 200


def test_with_a_right_code_a_moderator_gets_a_token_that_works(api_client, moderator):
    response = token(api_client, moderator, otp=totp_code(moderator))

    assert response.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION="Token " + response.json()["token"])
    assert api_client.get("/api/v1/moderation/flags/").status_code == 200


def test_a_token_issued_before_two_factor_is_refused_until_one_is_asked_for_with_a_code(api_client, make_user):
    """A staff token issued on a password alone (before two-factor was turned on or enrolled) was a
    way around the second step; it counts only once replaced by one asked for with a code."""
    user = make_user(Role.MODERATOR, username="otto")
    old = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION="Token " + old.key)
    assert api_client.get(FLAGS_URL).status_code == 401  # not enrolled yet

    user.totp_secret, _ = totp_enrol(user)
    confirmed_at = TOTPDevice.objects.get(user=user).confirmed_at
    Token.objects.filter(pk=old.pk).update(created=confirmed_at - timedelta(seconds=1))
    refused = api_client.get(FLAGS_URL)
    assert refused.status_code == 401 and "issued without two-factor" in refused.json()["error"]["message"]

    api_client.credentials()
    fresh = token(api_client, user, otp=totp_code(user)).json()["token"]
    assert fresh != old.key and not Token.objects.filter(key=old.key).exists()
    api_client.credentials(HTTP_AUTHORIZATION="Token " + fresh)
    assert api_client.get(FLAGS_URL).status_code == 200


def test_resetting_an_authenticator_retires_the_tokens_issued_with_it(api_client, moderator):
    fresh = token(api_client, moderator, otp=totp_code(moderator)).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION="Token " + fresh)
    assert api_client.get(FLAGS_URL).status_code == 200

    TOTPDevice.objects.filter(user=moderator).delete()  # what the admin's reset does

    assert api_client.get(FLAGS_URL).status_code == 401


def test_a_wrong_code_keeps_the_moderator_out(client, moderator):
    sign_in(client, moderator)

    response = send_code(client, totp_wrong_code(moderator.totp_secret))

    assert response.status_code == 400 and two_factor.WRONG_CODE_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.otp_failure")
    assert event.target_id == str(moderator.pk) and event.data["username"] == "mona"


# Replay.


def test_a_code_used_once_is_refused_the_second_time(client, moderator):
    code = totp_code(moderator)
    sign_in(client, moderator)
    assert send_code(client, code).status_code == 302
    client.post("/accounts/logout/")

    sign_in(client, moderator)
    replayed = send_code(client, code)

    assert replayed.status_code == 400 and "_auth_user_id" not in client.session


def test_a_code_used_for_a_token_is_refused_the_second_time(api_client, moderator):
    code = totp_code(moderator)
    assert token(api_client, moderator, otp=code).status_code == 200

    replayed = token(api_client, moderator, otp=code)

    assert replayed.status_code == 400
    assert replayed.json()["error"]["fields"]["otp"][0]["code"] == "otp_invalid"


# Lock-out.


def test_wrong_codes_lock_the_account_even_when_the_password_is_typed_again(client, api_client, moderator, settings):
    settings.SIGILLO_LOGIN_MAX_FAILURES = 3
    wrong = totp_wrong_code(moderator.totp_secret)
    for _ in range(3):
        assert sign_in(client, moderator).status_code == 302  # the right password each time
        assert send_code(client, wrong).status_code == 400

    assert LOCKED_MESSAGE in sign_in(client, moderator).content.decode()
    assert token(api_client, moderator, otp=totp_code(moderator)).status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.otp_failure", target_id=str(moderator.pk)).count() == 3
    lock = AuditEvent.objects.get(action="auth.lockout")
    assert lock.data["locked"] == "user" and lock.data["via"] == "otp"


def test_wrong_codes_sent_to_the_token_endpoint_lock_too(api_client, moderator, settings):
    settings.SIGILLO_LOGIN_MAX_FAILURES = 2
    wrong = totp_wrong_code(moderator.totp_secret)
    assert [token(api_client, moderator, otp=wrong).status_code for _ in range(2)] == [400, 400]

    assert token(api_client, moderator, otp=totp_code(moderator)).status_code == 429


def test_a_locked_account_cannot_finish_a_pending_sign_in(client, moderator, settings):
    settings.SIGILLO_LOGIN_MAX_FAILURES = 2
    sign_in(client, moderator)
    wrong = totp_wrong_code(moderator.totp_secret)
    send_code(client, wrong)
    send_code(client, wrong)

    response = send_code(client, totp_code(moderator))

    assert response.status_code == 400 and LOCKED_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


# Recovery codes.


def test_a_recovery_code_signs_in_once(client, moderator):
    recovery = moderator.recovery_codes[0]
    sign_in(client, moderator)
    assert send_code(client, recovery.upper()).status_code == 302  # as typed from a printout
    assert client.get("/moderation/").status_code == 200
    assert AuditEvent.objects.get(action="auth.recovery_code_used").data["left"] == 9
    client.post("/accounts/logout/")

    sign_in(client, moderator)
    again = send_code(client, recovery)

    assert again.status_code == 400 and "_auth_user_id" not in client.session


def test_a_recovery_code_gets_a_token_once(api_client, moderator):
    recovery = moderator.recovery_codes[1]

    assert token(api_client, moderator, otp=recovery).status_code == 200
    assert token(api_client, moderator, otp=recovery).status_code == 400


def test_recovery_codes_and_the_secret_are_not_stored_readable(moderator):
    device = TOTPDevice.objects.get(user=moderator)
    assert moderator.totp_secret.encode() not in bytes(device.secret_encrypted)
    stored = set(RecoveryCode.objects.filter(device=device).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not stored & set(moderator.recovery_codes)


# Who is asked.


def test_a_creator_is_not_asked_for_a_code(client, api_client, make_user):
    creator = make_user(Role.CREATOR, username="cleo")

    response = sign_in(client, creator)

    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/studio/").status_code == 200
    assert token(api_client, creator).status_code == 200


def test_a_creator_who_enrolled_is_asked_for_a_code(client, make_user):
    creator = make_user(Role.CREATOR, username="cleo")
    totp_enrol(creator)

    assert sign_in(client, creator)["Location"] == "/accounts/two-factor/"
    assert send_code(client, totp_code(creator)).status_code == 302
    assert client.get("/studio/").status_code == 200


def test_with_two_factor_not_required_a_moderator_without_it_signs_in_with_the_password(client, make_user, settings):
    settings.SIGILLO_TOTP_REQUIRED = False
    user = make_user(Role.MODERATOR)

    assert sign_in(client, user)["Location"] == "/"
    assert client.get("/moderation/").status_code == 200


# Enrolment.


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_moderator_without_an_authenticator_is_sent_to_set_one_up(client, make_user, path):
    user = make_user(Role.ADMIN, Role.MODERATOR)
    assert sign_in(client, user)["Location"].startswith("/accounts/two-factor/setup/")

    response = client.get(path)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/setup/?next=")
    assert client.get("/api/v1/moderation/flags/").status_code == 401


def test_setting_up_an_authenticator_shows_the_secret_takes_a_code_and_shows_recovery_codes_once(client, make_user):
    user = make_user(Role.MODERATOR, username="mo")
    sign_in(client, user)

    page = client.get("/accounts/two-factor/setup/?next=/moderation/")
    secret = TOTPDevice.objects.get(user=user)
    secret = two_factor.device_secret(secret)
    content = page.content.decode()
    assert page.status_code == 200 and "otpauth://totp/Sigillo:mo?secret=%s&amp;issuer=Sigillo" % secret in content
    assert secret[:4] in content and "Content-Security-Policy" in page.headers
    assert client.get("/accounts/two-factor/setup/").content.decode().count(secret[:4]) >= 1  # the same secret

    wrong = client.post("/accounts/two-factor/setup/", {"code": totp_wrong_code(secret), "next": "/moderation/"})
    assert wrong.status_code == 400 and client.get("/moderation/").status_code == 302

    done = client.post("/accounts/two-factor/setup/", {"code": totp.code_at(secret, totp.step_at())})

    assert done.status_code == 200
    shown = done.context["codes"]
    assert len(shown) == 10 and all(code in done.content.decode() for code in shown)
    assert client.get("/moderation/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.otp_enrolled", target_id=str(user.pk)).exists()
    again = client.get("/accounts/two-factor/setup/").content.decode()
    assert secret[:4] not in again and shown[0] not in again and "10 recovery codes left" in again


def test_a_session_that_became_a_moderators_must_pass_the_second_step(client, make_user):
    user = make_user(Role.CREATOR)
    sign_in(client, user)
    assert client.get("/studio/").status_code == 200
    user.roles.create(role=Role.MODERATOR)  # granted while signed in

    assert client.get("/studio/")["Location"].startswith("/accounts/two-factor/setup/")
    totp_enrol(user)
    assert client.get("/moderation/")["Location"] == "/accounts/two-factor/?next=%2Fmoderation%2F"

    done = client.post("/accounts/two-factor/", {"code": totp_code(user), "next": "/moderation/"})

    assert done["Location"] == "/moderation/" and client.get("/moderation/").status_code == 200


def test_the_pending_sign_in_expires(client, moderator, settings):
    settings.SIGILLO_TOTP_PENDING_SECONDS = -1
    sign_in(client, moderator)

    response = send_code(client, totp_code(moderator))

    assert response["Location"] == "/accounts/login/" and "_auth_user_id" not in client.session


def test_the_code_page_does_not_redirect_off_site(client, moderator):
    sign_in(client, moderator, next="https://evil.example/")

    response = send_code(client, totp_code(moderator))

    assert response["Location"] == "/"


def test_the_token_endpoint_refuses_a_moderator_who_has_not_enrolled(api_client, make_user):
    user = make_user(Role.MODERATOR)

    response = token(api_client, user, otp="123456")

    assert response.status_code == 403 and "two-factor" in response.json()["error"]["message"]


def test_the_schema_documents_the_code(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    request = schema["paths"][TOKEN_URL]["post"]["requestBody"]["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"][request["$ref"].rsplit("/", 1)[-1]]
    assert "otp_required" in component["properties"]["otp"]["description"]
    assert "otp" not in component["required"]  # creators sign in without one


# The demo.


def test_the_demo_moderator_signs_in_with_the_printed_key_or_demo_code(client, capsys):
    from django.core.management import call_command

    from accounts.management.commands.seed_demo import DEMO_PASSWORD, DEMO_TOTP_SECRET

    call_command("seed_demo", no_likenesses=True)
    assert DEMO_TOTP_SECRET in capsys.readouterr().out
    assert client.post("/accounts/login/", {"username": "moderator", "password": DEMO_PASSWORD})["Location"] == (
        "/accounts/two-factor/"
    )
    call_command("demo_code")
    code = capsys.readouterr().out.split()[0]

    assert send_code(client, code).status_code == 302
    assert client.get("/moderation/").status_code == 200
    assert totp.matching_step(DEMO_TOTP_SECRET, code, after=0) is not None  # the printed key makes the same codes


# The algorithm.


@pytest.mark.parametrize(
    ("when", "code"),
    [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")],
)
def test_codes_match_rfc_6238s_test_vectors(when, code):
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # b"12345678901234567890"

    assert totp.code_at(secret, totp.step_at(when)) == code
    assert totp.matching_step(secret, code, after=0, when=when + 30) == totp.step_at(when)
    assert totp.matching_step(secret, code, after=0, when=when + 90) is None
    assert totp.matching_step(secret, code, after=totp.step_at(when), when=when) is None
