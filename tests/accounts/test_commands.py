"""Management commands: create_user and seed_demo."""

import pytest
from django.core.management import CommandError, call_command

from accounts.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS
from accounts.models import User

pytestmark = pytest.mark.django_db


def test_create_user_with_several_roles(monkeypatch, capsys):
    monkeypatch.setenv("SIGILLO_NEW_USER_PASSWORD", "a-long-enough-passphrase")

    call_command("create_user", "mona", "--role", "moderator", "--role", "creator", "--email", "mona@example.org")

    user = User.objects.get(username="mona")
    assert user.role_set == {"moderator", "creator"}
    assert user.check_password("a-long-enough-passphrase")
    assert "Created mona" in capsys.readouterr().out


def test_create_user_refuses_weak_password_and_writes_nothing(monkeypatch):
    monkeypatch.setenv("SIGILLO_NEW_USER_PASSWORD", "123")
    with pytest.raises(CommandError, match="password"):
        call_command("create_user", "mona", "--role", "admin")
    assert not User.objects.exists()


def test_create_user_refuses_unknown_role(monkeypatch):
    monkeypatch.setenv("SIGILLO_NEW_USER_PASSWORD", "a-long-enough-passphrase")
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("create_user", "mona", "--role", "wizard")
    assert not User.objects.exists()


def test_seed_demo_is_idempotent_and_covers_every_role(capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    assert User.objects.count() == len(DEMO_USERS)
    roles = set().union(*(user.role_set for user in User.objects.all()))
    assert roles == {"creator", "rights_holder", "estate_representative", "moderator", "admin"}
    assert User.objects.get(username="admin").check_password(DEMO_PASSWORD)
    assert DEMO_PASSWORD in capsys.readouterr().out


def test_seed_demo_registers_demo_likenesses_once(capsys):
    from consent.models import Likeness

    call_command("seed_demo")
    call_command("seed_demo")

    kit = Likeness.objects.get(display_name="Kit Harington")
    assert kit.owner.username == "rights" and kit.status == "active" and kit.faces.count() == 1
    assert kit.consent_versions.count() == 2
    protected = Likeness.objects.filter(protected=True)
    assert set(protected.values_list("display_name", flat=True)) == {"Barack Obama", "Joe Biden"}
    assert all(entry.faces.count() == 1 for entry in protected)
    assert "Kit Harington" in capsys.readouterr().out
