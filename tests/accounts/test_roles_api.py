"""Role administration through the API: administrators only, and never the last administrator."""

import pytest

from accounts.models import UserRole
from accounts.roles import Role
from config.api import ApiErrorCode

pytestmark = pytest.mark.django_db

NOT_ADMIN = [Role.CREATOR, Role.RIGHTS_HOLDER, Role.ESTATE_REPRESENTATIVE, Role.MODERATOR]


def test_admin_lists_users(api_client, make_user):
    admin = make_user(Role.ADMIN, username="root")
    make_user(Role.CREATOR, username="cleo")
    api_client.force_authenticate(admin)

    response = api_client.get("/api/v1/accounts/users/")

    assert response.status_code == 200
    assert {user["username"]: user["roles"] for user in response.json()} == {"cleo": ["creator"], "root": ["admin"]}


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_other_roles_cannot_list_users(api_client, make_user, role):
    api_client.force_authenticate(make_user(role))
    response = api_client.get("/api/v1/accounts/users/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == ApiErrorCode.PERMISSION_DENIED


def test_anonymous_cannot_list_users(api_client):
    assert api_client.get("/api/v1/accounts/users/").status_code == 401


def test_admin_grants_and_revokes_moderator(api_client, make_user):
    admin = make_user(Role.ADMIN)
    user = make_user(Role.CREATOR)
    api_client.force_authenticate(admin)
    url = "/api/v1/accounts/users/%d/roles/" % user.pk

    granted = api_client.post(url, {"role": "moderator"}, format="json")
    assert granted.status_code == 200
    assert granted.json()["roles"] == ["creator", "moderator"]
    assert UserRole.objects.get(user=user, role=Role.MODERATOR).granted_by == admin

    revoked = api_client.delete(url, {"role": "moderator"}, format="json")
    assert revoked.status_code == 200
    assert revoked.json()["roles"] == ["creator"]


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_only_admins_grant_moderator(api_client, make_user, role):
    actor = make_user(role)
    api_client.force_authenticate(actor)

    response = api_client.post("/api/v1/accounts/users/%d/roles/" % actor.pk, {"role": "moderator"}, format="json")

    assert response.status_code == 403
    assert not UserRole.objects.filter(user=actor, role=Role.MODERATOR).exclude(user__roles__role=role).exists()
    assert set(actor.roles.values_list("role", flat=True)) == {role}


def test_last_admin_keeps_the_role(api_client, make_user):
    admin = make_user(Role.ADMIN)
    api_client.force_authenticate(admin)

    response = api_client.delete("/api/v1/accounts/users/%d/roles/" % admin.pk, {"role": "admin"}, format="json")

    assert response.status_code == 400
    assert "last administrator" in response.json()["error"]["fields"]["non_field_errors"][0]["message"]
    assert admin.roles.filter(role=Role.ADMIN).exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"role": "wizard"}, {"role": ["admin"]}, {"role": "a" * 1000}],
    ids=["missing", "unknown", "list", "overlong"],
)
def test_role_change_rejects_bad_input(api_client, make_user, body):
    admin = make_user(Role.ADMIN)
    user = make_user(Role.CREATOR)
    api_client.force_authenticate(admin)

    response = api_client.post("/api/v1/accounts/users/%d/roles/" % user.pk, body, format="json")

    assert response.status_code == 400
    assert "role" in response.json()["error"]["fields"]
    assert set(user.roles.values_list("role", flat=True)) == {Role.CREATOR}


def test_role_change_for_unknown_user_is_not_found(api_client, make_user):
    api_client.force_authenticate(make_user(Role.ADMIN))
    response = api_client.post("/api/v1/accounts/users/999999/roles/", {"role": "creator"}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == ApiErrorCode.NOT_FOUND
