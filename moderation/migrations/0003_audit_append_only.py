"""On PostgreSQL, refuse UPDATE and DELETE of audit entries in the database itself."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION moderation_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only (%% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER moderation_auditevent_append_only
    BEFORE UPDATE OR DELETE ON moderation_auditevent
    FOR EACH ROW EXECUTE FUNCTION moderation_audit_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS moderation_auditevent_append_only ON moderation_auditevent;
DROP FUNCTION IF EXISTS moderation_audit_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("moderation", "0002_gate_decisions")]

    operations = [migrations.RunPython(forward, backward)]
