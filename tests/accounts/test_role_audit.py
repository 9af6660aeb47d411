"""Every change of a role is in the audit trail, whichever interface made it: API, admin, command."""

from datetime import datetime

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User, UserRole
from accounts.roles import Role
from moderation.audit import audit_verify
from moderation.models import AuditEvent

pytestmark = pytest.mark.django_db


def role_events(user: User, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, target_type="accounts.user", target_id=str(user.pk)))


def test_a_grant_and_a_revoke_through_the_api_are_audited_with_the_administrator(api_client, make_user):
    admin = make_user(Role.ADMIN, username="root")
    user = make_user(Role.CREATOR, username="cleo")
    api_client.force_authenticate(admin)
    url = "/api/v1/accounts/users/%d/roles/" % user.pk

    assert api_client.post(url, {"role": "moderator"}, format="json").status_code == 200
    assert api_client.post(url, {"role": "moderator"}, format="json").status_code == 200  # held already
    assert api_client.delete(url, {"role": "moderator"}, format="json").status_code == 200

    [grant] = role_events(user, "role.grant")
    assert (grant.actor, grant.actor_label, grant.data) == (admin, "root", {"role": "moderator"})
    [revoke] = role_events(user, "role.revoke")
    assert (revoke.actor, revoke.data) == (admin, {"role": "moderator"})
    assert audit_verify() is None


def test_a_refused_grant_writes_nothing(api_client, make_user):
    actor = make_user(Role.MODERATOR)
    api_client.force_authenticate(actor)

    response = api_client.post("/api/v1/accounts/users/%d/roles/" % actor.pk, {"role": "admin"}, format="json")

    assert response.status_code == 403
    assert not role_events(actor, "role.grant")


def test_revoking_a_role_the_user_does_not_hold_writes_nothing(api_client, make_user):
    admin = make_user(Role.ADMIN)
    user = make_user(Role.CREATOR)
    api_client.force_authenticate(admin)

    response = api_client.delete("/api/v1/accounts/users/%d/roles/" % user.pk, {"role": "moderator"}, format="json")

    assert response.status_code == 200
    assert not role_events(user, "role.revoke")


def test_the_roles_a_user_registers_with_are_audited_as_their_own(api_client):
    response = api_client.post(
        "/api/v1/accounts/register/",
        {"username": "rhea", "password": "a-long-enough-passphrase", "roles": ["rights_holder"]},
        format="json",
    )
    assert response.status_code == 201, response.content

    user = User.objects.get(username="rhea")
    [grant] = role_events(user, "role.grant")
    assert grant.actor == user
    assert grant.data == {"role": "rights_holder", "registration": True, "operator": False}


def test_the_create_user_command_audits_each_role_as_the_operators(monkeypatch):
    monkeypatch.setenv("SIGILLO_NEW_USER_PASSWORD", "a-long-enough-passphrase")

    call_command("create_user", "mona", "--role", "moderator", "--role", "creator")

    user = User.objects.get(username="mona")
    grants = role_events(user, "role.grant")
    assert sorted(event.data["role"] for event in grants) == ["creator", "moderator"]
    assert {(event.actor_id, event.actor_label, event.data["operator"]) for event in grants} == {(None, "system", True)}


def _admin_change_data(client: Client, user: User) -> tuple[str, dict]:
    """The admin's change form for ``user`` as the page fills it in (what a browser would send back)."""
    url = "/admin/accounts/user/%d/change/" % user.pk
    page = client.get(url)
    assert page.status_code == 200
    data = {}
    form = page.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value is None or name == "password":
            continue
        if isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, datetime):  # the admin's split date and time widget
            data[name + "_0"], data[name + "_1"] = value.strftime("%Y-%m-%d"), value.strftime("%H:%M:%S")
        else:
            data[name] = str(value)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data["%s-%s" % (formset.prefix, key)] = value
        for row in formset.initial_forms:
            for name in ("id", "user", "role"):
                value = row[name].value()
                data[row.add_prefix(name)] = str(value) if value is not None else ""
    return url, data


def test_roles_changed_in_the_django_admin_go_through_the_services_and_are_audited(make_user):
    admin = make_user(Role.ADMIN, username="root")
    user = make_user(Role.CREATOR, username="cleo")
    client = Client()
    client.force_login(admin)

    url, data = _admin_change_data(client, user)
    prefix = "roles"
    total = int(data["%s-TOTAL_FORMS" % prefix])
    data.update({"%s-TOTAL_FORMS" % prefix: total + 1, "%s-%d-role" % (prefix, total): "moderator"})
    data["%s-%d-user" % (prefix, total)] = str(user.pk)
    data["%s-0-DELETE" % prefix] = "on"  # and take "creator" away
    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert set(UserRole.objects.filter(user=user).values_list("role", flat=True)) == {"moderator"}
    assert UserRole.objects.get(user=user).granted_by == admin
    [grant] = role_events(user, "role.grant")
    [revoke] = role_events(user, "role.revoke")
    assert (grant.actor, grant.data) == (admin, {"role": "moderator"})
    assert (revoke.actor, revoke.data) == (admin, {"role": "creator"})
