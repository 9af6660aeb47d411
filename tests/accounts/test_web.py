"""The web pages of accounts and the role-gated pages of every app."""

import pytest
from django.test import Client

from accounts.models import User, UserRole
from accounts.roles import Role
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

#: Every role-gated page and the roles it admits.
PROTECTED_PAGES = {
    "/studio/": {Role.CREATOR},
    "/likenesses/": {Role.RIGHTS_HOLDER, Role.ESTATE_REPRESENTATIVE},
    "/moderation/": {Role.MODERATOR},
    "/accounts/users/": {Role.ADMIN},
}


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_post(client: Client, url: str, data: dict) -> object:
    """POST a form the way a browser does: fetch the page first, send its CSRF token back."""
    client.get(url)
    return client.post(url, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def test_home_page_answers_everyone(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"face without their consent." in response.content


def test_login_and_logout(client, make_user):
    make_user(Role.CREATOR, username="cleo")

    response = csrf_post(client, "/accounts/login/", {"username": "cleo", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/studio/").status_code == 200

    client.post("/accounts/logout/", {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert client.get("/studio/").status_code == 302


def test_login_with_wrong_password_says_so(client, make_user):
    make_user(username="cleo")
    response = csrf_post(client, "/accounts/login/", {"username": "cleo", "password": "not-the-password"})

    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_login_without_csrf_token_is_refused(make_user):
    make_user(username="cleo")
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "cleo", "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize(("path", "allowed"), PROTECTED_PAGES.items(), ids=PROTECTED_PAGES.keys())
@pytest.mark.parametrize("role", list(Role))
def test_each_page_admits_only_its_roles(client, make_user, path, allowed, role):
    client.force_login(make_user(role))
    response = client.get(path)
    assert response.status_code == (200 if role in allowed else 403)


@pytest.mark.parametrize("path", PROTECTED_PAGES)
def test_protected_pages_send_anonymous_users_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_navigation_follows_roles(client, make_user):
    client.force_login(make_user(Role.RIGHTS_HOLDER, Role.CREATOR))
    content = client.get("/").content.decode()

    assert 'data-nav="studio"' in content
    assert 'data-nav="likenesses"' in content
    assert 'data-nav="queue"' not in content
    assert 'data-nav="users"' not in content


GOOD_FORM = {
    "username": "nadia",
    "display_name": "Nadia",
    "email": "nadia@example.org",
    "password1": "a-long-enough-passphrase",
    "password2": "a-long-enough-passphrase",
    "roles": ["rights_holder"],
}


def test_register_form_creates_and_signs_in(client):
    response = csrf_post(client, "/accounts/register/", GOOD_FORM)

    assert response.status_code == 302
    user = User.objects.get(username="nadia")
    assert user.role_set == {"rights_holder"}
    assert client.get("/likenesses/").status_code == 200


def test_register_form_defaults_to_creator(client):
    csrf_post(client, "/accounts/register/", {key: value for key, value in GOOD_FORM.items() if key != "roles"})
    assert User.objects.get(username="nadia").role_set == {"creator"}


BAD_FORMS = {
    "missing username": ({"username": ""}, "This field is required."),
    "missing password": ({"password1": "", "password2": ""}, "This field is required."),
    "overlong username": ({"username": "n" * 151}, "Ensure this value has at most 150 characters"),
    "overlong email": ({"email": "n" * 250 + "@example.org"}, "Ensure this value has at most 254 characters"),
    "overlong password": ({"password1": "p" * 129, "password2": "p" * 129}, "at most 128 characters"),
    "passwords differ": ({"password2": "another-long-passphrase"}, "The two passwords differ."),
    "weak password": ({"password1": "password", "password2": "password"}, "This password is too common."),
    "bad username": ({"username": "nadia smith"}, "Use letters, digits and @/./+/-/_ only."),
    "moderator role": (
        {"roles": ["moderator"]},
        "Select a valid choice. moderator is not one of the available choices.",
    ),
    "bad email": ({"email": "nope"}, "Enter a valid email address."),
}


@pytest.mark.parametrize(("change", "message"), BAD_FORMS.values(), ids=BAD_FORMS.keys())
def test_register_form_rejects_bad_input_and_writes_nothing(client, change, message):
    response = csrf_post(client, "/accounts/register/", {**GOOD_FORM, **change})

    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not User.objects.exists()
    assert not UserRole.objects.exists()


def test_register_form_rejects_duplicate_username(client, make_user):
    make_user(username="NADIA")
    response = csrf_post(client, "/accounts/register/", GOOD_FORM)

    assert response.status_code == 400
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.count() == 1


def test_admin_grants_a_role_on_the_users_page(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    user = make_user(Role.CREATOR)

    page = client.get("/accounts/users/")
    assert user.username in page.content.decode()
    token = client.cookies["csrftoken"].value
    client.post(
        "/accounts/users/%d/roles/" % user.pk, {"role": "moderator", "action": "grant", "csrfmiddlewaretoken": token}
    )

    assert user.roles.filter(role=Role.MODERATOR).exists()


@pytest.mark.parametrize(
    "body", [{"role": "wizard", "action": "grant"}, {"role": "moderator", "action": "explode"}, {}]
)
def test_role_change_page_rejects_bad_input(client, make_user, body):
    client.force_login(make_user(Role.ADMIN))
    user = make_user(Role.CREATOR)
    client.get("/accounts/users/")
    response = client.post(
        "/accounts/users/%d/roles/" % user.pk,
        {**body, "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
        follow=True,
    )

    assert "Choose a known role and grant or revoke." in response.content.decode()
    assert set(user.roles.values_list("role", flat=True)) == {Role.CREATOR}


@pytest.mark.parametrize("role", [Role.CREATOR, Role.RIGHTS_HOLDER, Role.ESTATE_REPRESENTATIVE, Role.MODERATOR])
def test_role_change_page_refuses_non_admins(client, make_user, role):
    actor = make_user(role)
    client.force_login(actor)
    client.get("/")
    response = client.post(
        "/accounts/users/%d/roles/" % actor.pk,
        {"role": "admin", "action": "grant", "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
    )
    assert response.status_code == 403
    assert not actor.roles.filter(role=Role.ADMIN).exists()
