"""The audit trail cannot be rewritten unnoticed, even by someone with the database owner's rights.

Each attack is raw SQL through a cursor, as someone holding the database's keys would run it (on
PostgreSQL with the triggers switched off first, which the owner may do). The entries attacked are
written the way the product writes them: an administrator granting and revoking roles through
the API.
"""

import importlib
import io
import json
import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from accounts.roles import Role
from moderation.audit import AuditTampered, audit_checkpoint, audit_report, audit_verify, entry_hash
from moderation.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
TABLE = AuditEvent._meta.db_table
#: What an attacker signs with: anything but SIGILLO_AUDIT_KEY, which is not in the database.
ATTACKERS_KEY = b"the attacker does not have the key"


def as_owner(sql: str, params: list[Any] | None = None) -> None:
    """Run ``sql`` with the owner's powers: on PostgreSQL the owner may switch the triggers off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE %s DISABLE TRIGGER USER" % TABLE)
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE %s ENABLE TRIGGER USER" % TABLE)


def grant_and_revoke(api_client: Any, admin: Any, *users: Any) -> None:
    api_client.force_authenticate(admin)
    for user in users:
        url = "/api/v1/accounts/users/%d/roles/" % user.pk
        assert api_client.post(url, {"role": "moderator"}, format="json").status_code == 200
        assert api_client.delete(url, {"role": "moderator"}, format="json").status_code == 200


@pytest.fixture
def trail(api_client: Any, make_user: Any) -> SimpleNamespace:
    """Four entries by the administrator "root"; ``more()`` writes two more."""
    admin = make_user(Role.ADMIN, username="root")
    cleo, dora = make_user(username="cleo"), make_user(username="dora")
    grant_and_revoke(api_client, admin, cleo, dora)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [event.action for event in events[-4:]] == ["role.grant", "role.revoke"] * 2
    assert audit_verify() is None
    return SimpleNamespace(events=events, more=lambda: grant_and_revoke(api_client, admin, make_user()))


def checkpoint_lines(settings: Any) -> list[str]:
    return Path(settings.SIGILLO_AUDIT_CHECKPOINT_FILE).read_text().splitlines()


def verify_audit_fails() -> str:
    """Run ``verify_audit``; it must fail (exit status 1 from manage.py). Return its message."""
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=io.StringIO(), stderr=io.StringIO())
    return str(failure.value)


@pytest.mark.django_db
def test_a_row_rewritten_with_the_chain_recomputed_without_the_key_is_found(trail):
    events = trail.events
    forged = events[-3]  # a revoke, made into a grant of admin
    forged.data, forged.action = {"role": "admin"}, "role.grant"
    prev_hash = forged.prev_hash
    for event in events[events.index(forged) :]:
        event.prev_hash = prev_hash
        event.hash = entry_hash(event, key=ATTACKERS_KEY)
        as_owner(
            "UPDATE moderation_auditevent SET action = %s, data = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [event.action, json.dumps(event.data), event.prev_hash, event.hash, event.seq],
        )
        prev_hash = event.hash

    problem = audit_verify()

    assert problem is not None and problem.seq == forged.seq
    assert "does not match its HMAC" in problem.message
    assert "broken at entry %d" % forged.seq in verify_audit_fails()
    # Every link of the forged chain holds: only the key tells each rewritten entry apart.
    problems = audit_report().problems
    assert [problem.seq for problem in problems] == [event.seq for event in events[events.index(forged) :]]
    assert all("does not match its HMAC" in problem.message for problem in problems)


@pytest.mark.django_db
def test_a_rewritten_actor_label_is_found(trail):
    first = next(event for event in trail.events if event.actor_label == "root")
    as_owner("UPDATE moderation_auditevent SET actor_label = %s WHERE seq = %s", ["cleo", first.seq])

    problem = audit_verify()

    assert problem is not None and problem.seq == first.seq
    assert AuditEvent.objects.get(seq=first.seq).actor_label == "cleo"


@pytest.mark.django_db
def test_deleting_the_newest_entries_after_a_checkpoint_is_found(trail, settings):
    anchored = audit_checkpoint()
    assert anchored is not None and anchored.seq == trail.events[-1].seq
    as_owner("DELETE FROM moderation_auditevent WHERE seq > %s", [trail.events[-3].seq])
    # What is left is a whole chain: only the checkpoint knows what was there.
    assert [problem.seq for problem in audit_report().problems] == [anchored.seq]

    problem = audit_verify()

    assert problem is not None and problem.seq == anchored.seq
    assert "the trail ends at entry %d" % trail.events[-3].seq in problem.message
    assert "newest entries were deleted" in verify_audit_fails()

    # The application goes on writing: the entries after the hole do not cover it up.
    trail.more()
    problem = audit_verify()
    assert problem is not None and problem.seq == anchored.seq
    # And the sweep does not anchor the changed trail.
    from generation.tasks import sweep_task

    swept = sweep_task()
    assert swept["audit_checkpoint"] is None and "entry %d" % anchored.seq in swept["audit_tampered"]
    assert len(checkpoint_lines(settings)) == 1


@pytest.mark.django_db
def test_truncating_the_trail_is_refused_and_emptying_it_is_found(trail):
    anchored = audit_checkpoint()
    if connection.vendor == "postgresql":  # the database refuses, even its superuser, triggers on
        with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE moderation_auditevent")
        assert AuditEvent.objects.count() == len(trail.events)
        as_owner("TRUNCATE moderation_auditevent")  # the owner switches the triggers off first
    else:
        as_owner("DELETE FROM moderation_auditevent")
    assert not AuditEvent.objects.exists()

    problem = audit_verify()

    assert problem is not None
    assert "holds no entries, but the checkpoint" in problem.message and "entry %d" % anchored.seq in problem.message
    assert "whole" not in verify_audit_fails()
    with pytest.raises(AuditTampered):
        audit_checkpoint()


@pytest.mark.django_db
def test_an_edited_checkpoint_file_is_found(trail, settings):
    path = Path(settings.SIGILLO_AUDIT_CHECKPOINT_FILE)
    first = audit_checkpoint()
    trail.more()
    second = audit_checkpoint()
    assert first and second and second.seq > first.seq
    lines = checkpoint_lines(settings)
    assert len(lines) == 2 and audit_verify() is None

    # Delete the newest entries, then make the last checkpoint say the trail ended there.
    as_owner("DELETE FROM moderation_auditevent WHERE seq > %s", [first.seq])
    edited = json.loads(lines[1]) | {"seq": first.seq, "hash": first.hash}
    path.write_text(lines[0] + "\n" + json.dumps(edited) + "\n")
    problem = audit_verify()
    assert problem is not None and "line 2" in problem.message and "forged" in problem.message
    with pytest.raises(AuditTampered, match="forged"):
        audit_checkpoint()

    # Or drop that line: the first still holds, so the trail looks whole ...
    path.write_text(lines[0] + "\n")
    assert audit_verify() is None
    # ... unless the first line goes too: the second no longer follows from anything.
    path.write_text(lines[1] + "\n")
    problem = audit_verify()
    assert problem is not None and "does not follow the one before it" in problem.message

    # A line made up from nothing.
    made_up = {"seq": 1, "hash": "0" * 64, "at": "2026-01-01T00:00:00+00:00", "prev": "0" * 64, "mac": "0" * 64}
    path.write_text(lines[0] + "\n" + json.dumps(made_up) + "\n")
    problem = audit_verify()
    assert problem is not None and "forged" in problem.message


@pytest.mark.django_db
def test_the_sweep_and_verify_audit_anchor_the_trail_once_per_change(trail, settings, caplog):
    from generation.tasks import sweep_task

    assert sweep_task()["audit_checkpoint"] == trail.events[-1].seq
    assert sweep_task()["audit_checkpoint"] is None  # nothing new, no new line
    assert len(checkpoint_lines(settings)) == 1
    trail.more()
    out = io.StringIO()
    call_command("verify_audit", checkpoint=True, stdout=out)
    newest = AuditEvent.objects.order_by("-seq").first()
    assert "The audit trail is whole (%d entries" % AuditEvent.objects.count() in out.getvalue()
    assert "Checkpoint written: entry %d" % newest.seq in out.getvalue()
    assert len(checkpoint_lines(settings)) == 2
    assert json.loads(checkpoint_lines(settings)[-1])["hash"] == newest.hash
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "the last of 2 checkpoints" in out.getvalue() and "records entry %d" % newest.seq in out.getvalue()


@pytest.mark.django_db
def test_an_entry_verifies_whatever_numbers_its_data_holds(make_user):
    """PostgreSQL's jsonb gives 1e20 back as an integer: the HMAC must not depend on the spelling."""
    from moderation.audit import audit_record

    data = {"big": 1e20, "tiny": 1e-7, "half": 0.5, "whole": 1.0, "nested": [{"x": -0.0}], "text": "é"}
    with transaction.atomic():
        audit_record(actor=make_user(), action="test.numbers", data=data)
    assert audit_verify() is None


@pytest.mark.django_db
def test_verify_audit_says_when_the_application_could_rewrite_the_trail(trail):
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    if connection.vendor == "postgresql":  # the suite connects as a superuser
        assert "could disable the triggers" in out.getvalue()
    assert "No checkpoint yet" in out.getvalue()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="database roles and grants are PostgreSQL's; the embedded SQLite install has none",
)
@pytest.mark.django_db(transaction=True)
def test_the_application_role_may_only_append_to_and_read_the_trail(trail, settings):
    import psycopg

    role, password = "sigillo_app_test_%d" % os.getpid(), secrets.token_hex(16)
    quoted = connection.ops.quote_name(role)
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    app = None
    try:
        call_command("audit_grants", app_role=role, stdout=io.StringIO())
        with connection.cursor() as cursor:
            cursor.execute("ALTER ROLE %s PASSWORD %%s" % quoted, [password])
        app = psycopg.connect(host=host, port=port, dbname=db["NAME"], user=role, password=password, autocommit=True)
        with app.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM moderation_auditevent")
            assert cursor.fetchone()[0] == len(trail.events)
            for statement in (
                "UPDATE moderation_auditevent SET actor_label = 'cleo'",
                "DELETE FROM moderation_auditevent",
                "TRUNCATE moderation_auditevent",
                "ALTER TABLE moderation_auditevent DISABLE TRIGGER moderation_auditevent_append_only",
                "ALTER TABLE moderation_auditevent DISABLE TRIGGER USER",
                "DROP TRIGGER moderation_auditevent_no_truncate ON moderation_auditevent",
                "DROP TRIGGER moderation_auditevent_append_only ON moderation_auditevent",
                "DROP TABLE moderation_auditevent",
                "SET session_replication_role = replica",
                "SELECT setval(pg_get_serial_sequence('moderation_auditevent', 'seq'), 1)",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    cursor.execute(statement)
            # The other tables as before.
            cursor.execute("UPDATE accounts_user SET display_name = 'Cleo' WHERE username = 'cleo'")
            assert cursor.rowcount == 1
        assert AuditEvent.objects.count() == len(trail.events)

        # The application itself, as that role: it appends, verifies and anchors the trail.
        code = (
            "import django; django.setup()\n"
            "from django.core.management import call_command\n"
            "from django.db import transaction\n"
            "from moderation.audit import audit_record\n"
            "with transaction.atomic():\n"
            "    audit_record(actor=None, action='test.as_app_role')\n"
            "call_command('verify_audit', checkpoint=True)\n"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": "postgres://%s:%s@%s:%s/%s" % (role, password, host, port, db["NAME"]),
            "SIGILLO_AUDIT_KEY": settings.SIGILLO_AUDIT_KEY,
            "SIGILLO_AUDIT_CHECKPOINT_FILE": str(settings.SIGILLO_AUDIT_CHECKPOINT_FILE),
        }
        result = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "whole (%d entries" % (len(trail.events) + 1) in result.stdout
        assert "Checkpoint written" in result.stdout and "could disable the triggers" not in result.stdout
        assert audit_verify() is None

        # It may append: a row it makes up without the key is found.
        with app.cursor() as cursor:
            cursor.execute(
                "INSERT INTO moderation_auditevent (seq, actor_label, action, target_type, target_id, data, "
                "created_at, prev_hash, hash) SELECT max(seq) + 1, 'root', 'role.grant', '', '', '{}', now(), "
                "(SELECT hash FROM moderation_auditevent ORDER BY seq DESC LIMIT 1), %s FROM moderation_auditevent",
                ["f" * 64],
            )
        problem = audit_verify()
        assert problem is not None and "does not match its HMAC" in problem.message
    finally:
        if app is not None:
            app.close()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone():
                cursor.execute("DROP OWNED BY %s" % quoted)
                cursor.execute("DROP ROLE %s" % quoted)


@pytest.mark.django_db
def test_audit_grants_refuses_a_role_that_could_undo_it():
    if connection.vendor != "postgresql":
        out = io.StringIO()
        call_command("audit_grants", app_role="sigillo_app", stdout=out)
        assert "no database roles" in out.getvalue()
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(CommandError, match="owns the tables"):
        call_command("audit_grants", app_role=owner)
    with pytest.raises(CommandError, match="not a role name"):
        call_command("audit_grants", app_role='x"; DROP TABLE moderation_auditevent; --')


@pytest.mark.django_db(transaction=True)
def test_the_migration_re_signs_a_whole_legacy_chain_and_stops_at_a_broken_one():
    from django.db.migrations.executor import MigrationExecutor

    migration = importlib.import_module("moderation.migrations.0008_audit_hmac_no_truncate")
    before = [("moderation", "0007_checks_without_side_effects")]
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()

    def migrate(targets: list[tuple[str, str]]) -> None:
        MigrationExecutor(connection).migrate(targets)

    migrate(before)
    try:
        # Entries as the code before the migration wrote them: an unkeyed SHA-256 chain.
        prev_hash = migration.GENESIS
        for seq, (label, action) in enumerate([("root", "role.grant"), ("system", "auth.lockout"), ("mod", "x")], 1):
            event = SimpleNamespace(
                seq=seq, actor_id=None, actor_label=label, action=action, target_type="accounts.user",
                target_id=str(seq), data={"n": seq}, created_at=datetime(2026, 1, seq, 12, 0, 0, 5, tzinfo=UTC),
            )  # fmt: skip
            hash_ = migration.legacy_hash(event, prev_hash)
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO moderation_auditevent (seq, actor_id, actor_label, action, target_type, target_id, "
                    "data, created_at, prev_hash, hash) VALUES (%s, NULL, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [seq, label, action, event.target_type, event.target_id, json.dumps(event.data),
                     event.created_at, prev_hash, hash_],
                )  # fmt: skip
            prev_hash = hash_

        migrate(latest)

        events = list(AuditEvent.objects.order_by("seq"))
        assert [event.hash for event in events] == [entry_hash(event) for event in events]
        assert audit_verify() is None
        if connection.vendor == "postgresql":  # the triggers are back
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("DELETE FROM moderation_auditevent")

        # Back to the unkeyed chain, an entry changed behind its back: the migration will not sign it.
        migrate(before)
        as_owner("UPDATE moderation_auditevent SET data = %s WHERE seq = 2", ['{"n": 99}'])
        with pytest.raises(RuntimeError, match="broken at entry 2"):
            migrate(latest)
    finally:
        as_owner("DELETE FROM moderation_auditevent")
        migrate(latest)
    assert not AuditEvent.objects.exists()
