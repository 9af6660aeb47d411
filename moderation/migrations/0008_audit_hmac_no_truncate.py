"""Sign the audit trail with a key kept outside the database, and refuse TRUNCATE on PostgreSQL.

Entries written before this migration carry an unkeyed SHA-256 chain, which anyone who can write
the table could recompute. This migration checks that chain and then re-signs every entry, in
order, with the HMAC of ``moderation.audit`` keyed with ``SIGILLO_AUDIT_KEY`` from the settings,
so that the whole trail is verified one way from here on. A broken chain is not re-signed (that
would launder whatever was done to it): the migration stops and names the entry, for the operator
to look into before migrating again.

On PostgreSQL the append-only trigger is dropped for the re-signing and created again right after,
in the same transaction, with a statement trigger that refuses TRUNCATE.

The HMAC is copied here, not imported: this migration must keep signing as it did when written.
"""

import hashlib
import hmac
import json
from datetime import UTC

from django.conf import settings
from django.db import migrations

GENESIS = "0" * 64

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS moderation_auditevent_append_only ON moderation_auditevent;
DROP TRIGGER IF EXISTS moderation_auditevent_no_truncate ON moderation_auditevent;
"""
APPEND_ONLY = """
CREATE TRIGGER moderation_auditevent_append_only
    BEFORE UPDATE OR DELETE ON moderation_auditevent
    FOR EACH ROW EXECUTE FUNCTION moderation_audit_append_only();
"""
NO_TRUNCATE = """
CREATE TRIGGER moderation_auditevent_no_truncate
    BEFORE TRUNCATE ON moderation_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION moderation_audit_append_only();
"""


def legacy_hash(event, prev_hash):
    """The unkeyed chain of migration 0003 (prev hash, actor id, action, target, data, time)."""
    payload = json.dumps(
        [prev_hash, event.actor_id, event.action, event.target_type, event.target_id, event.data,
         event.created_at.isoformat()],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )  # fmt: skip
    return hashlib.sha256(payload.encode()).hexdigest()


def canonical(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def keyed_hash(event, prev_hash, key):
    """``moderation.audit.entry_hash`` as of this migration: every column, keyed."""
    payload = json.dumps(
        ["sigillo.audit.entry", event.seq, event.actor_id, event.actor_label, event.action, event.target_type,
         event.target_id, canonical(event.data), event.created_at.astimezone(UTC).isoformat(), prev_hash],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )  # fmt: skip
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def resign(apps, schema_editor, *, check, sign):
    """Check every entry with ``check``, then give each the hash ``sign`` computes, in order."""
    AuditEvent = apps.get_model("moderation", "AuditEvent")
    events = list(AuditEvent.objects.using(schema_editor.connection.alias).order_by("seq"))
    prev_hash = GENESIS
    for event in events:
        if event.prev_hash != prev_hash or event.hash != check(event, prev_hash):
            raise RuntimeError(
                "The audit trail is broken at entry %d: it was changed before its entries could be re-signed. "
                "Find out what happened to it (restore it from a backup), then migrate again." % event.seq
            )
        prev_hash = event.hash
    with schema_editor.connection.cursor() as cursor:
        prev_hash = GENESIS
        for event in events:
            event.hash = sign(event, prev_hash)
            cursor.execute(
                "UPDATE moderation_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s",
                [prev_hash, event.hash, event.seq],
            )
            prev_hash = event.hash


def _key():
    key = getattr(settings, "SIGILLO_AUDIT_KEY", "")
    if not key:
        raise RuntimeError("Set SIGILLO_AUDIT_KEY to re-sign the audit trail (see the README)")
    return key.encode()


def _has_entries(apps, schema_editor):
    AuditEvent = apps.get_model("moderation", "AuditEvent")
    return AuditEvent.objects.using(schema_editor.connection.alias).exists()


def forward(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(DROP_TRIGGERS)
    if _has_entries(apps, schema_editor):
        key = _key()
        resign(
            apps,
            schema_editor,
            check=legacy_hash,
            sign=lambda event, prev_hash: keyed_hash(event, prev_hash, key),
        )
    if postgresql:
        schema_editor.execute(APPEND_ONLY + NO_TRUNCATE)


def backward(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(DROP_TRIGGERS)
    if _has_entries(apps, schema_editor):
        key = _key()
        resign(
            apps,
            schema_editor,
            check=lambda event, prev_hash: keyed_hash(event, prev_hash, key),
            sign=legacy_hash,
        )
    if postgresql:
        schema_editor.execute(APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [("moderation", "0007_checks_without_side_effects")]

    operations = [migrations.RunPython(forward, backward)]
