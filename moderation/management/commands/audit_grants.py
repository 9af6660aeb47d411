"""``manage.py audit_grants --app-role ROLE``: the application's database role may append to the
audit trail and read it, and nothing more (PostgreSQL).

Run it as the owner of the tables, the role that runs migrations (the scripts use
``SIGILLO_MIGRATE_DATABASE_URL``), after every migrate. The application then connects as ROLE
(``DATABASE_URL``): it may INSERT and SELECT audit entries (and use their sequence), but not UPDATE,
DELETE or TRUNCATE them, nor disable or drop the triggers that refuse those, which only the owner
can; every other table it may read and write, including those later migrations create. ROLE is
created (LOGIN, no password: set one with ALTER ROLE) when it does not exist; one that is a
superuser, may create roles, or is a member of the owner is refused, since it could undo all this.
"""

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from moderation.models import AuditEvent

ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class Command(BaseCommand):
    help = (
        "On PostgreSQL, as the owner of the tables: let APP_ROLE only INSERT and SELECT the audit trail, "
        "and read and write every other table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--app-role", required=True, help="the role the application connects as (DATABASE_URL)")

    def handle(self, *args: Any, app_role: str, **options: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("%s has no database roles: nothing to grant." % connection.vendor)
            return
        if not ROLE_NAME.match(app_role):
            raise CommandError("%r is not a role name this command accepts (letters, digits, _)" % app_role)
        quote = connection.ops.quote_name
        table = AuditEvent._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_schema(), current_database()")
            owner_role, schema, database = cursor.fetchone()
            cursor.execute("SELECT tableowner FROM pg_tables WHERE schemaname = %s AND tablename = %s", [schema, table])
            found = cursor.fetchone()
            if found is None:
                raise CommandError("The audit table %s is missing: run migrate first." % table)
            table_owner = found[0]
            if app_role in (owner_role, table_owner):
                raise CommandError(
                    "%s owns the tables: run this as the owner (SIGILLO_MIGRATE_DATABASE_URL), for the role the "
                    "application connects as, which must be another." % app_role
                )
            cursor.execute("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = %s", [app_role])
            existing = cursor.fetchone()
            if existing is None:
                cursor.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
                if not cursor.fetchone()[0]:
                    raise CommandError(
                        "The role %s does not exist, and %s may not create roles: have an administrator of the "
                        "database server run CREATE ROLE %s LOGIN PASSWORD '...', then run this again."
                        % (app_role, owner_role, app_role)
                    )
                cursor.execute(
                    "CREATE ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
                    % quote(app_role)
                )
                self.stdout.write("Created the role %s (LOGIN; set its password with ALTER ROLE)." % app_role)
            else:
                superuser, createrole = existing
                if superuser:
                    raise CommandError(
                        "%s is a superuser: it could disable the audit triggers. Give the application a role "
                        "of its own (NOSUPERUSER)." % app_role
                    )
                if createrole:
                    raise CommandError(
                        "%s may create roles: it could make itself a member of the owner. ALTER ROLE %s "
                        "NOCREATEROLE first." % (app_role, app_role)
                    )
                cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [app_role, table_owner])
                if cursor.fetchone()[0]:
                    raise CommandError(
                        "%s is a member of %s, which owns the audit table: it could disable the audit "
                        "triggers. Revoke that membership first." % (app_role, table_owner)
                    )
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'seq')", [table])
            sequence = cursor.fetchone()[0]  # already qualified and quoted
            role, schema_name = quote(app_role), quote(schema)
            for statement in (
                "GRANT CONNECT ON DATABASE %s TO %s" % (quote(database), role),
                "GRANT USAGE ON SCHEMA %s TO %s" % (schema_name, role),
                # Every table as before, and those later migrations create (default privileges).
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %s TO %s" % (schema_name, role),
                "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %s TO %s" % (schema_name, role),
                "ALTER DEFAULT PRIVILEGES IN SCHEMA %s GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %s"
                % (schema_name, role),
                "ALTER DEFAULT PRIVILEGES IN SCHEMA %s GRANT USAGE, SELECT ON SEQUENCES TO %s" % (schema_name, role),
                # The audit trail: append and read only (no UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES).
                "REVOKE ALL ON %s FROM %s, PUBLIC" % (quote(table), role),
                "GRANT SELECT, INSERT ON %s TO %s" % (quote(table), role),
                "REVOKE ALL ON SEQUENCE %s FROM %s, PUBLIC" % (sequence, role),
                "GRANT USAGE ON SEQUENCE %s TO %s" % (sequence, role),
            ):
                cursor.execute(statement)
        self.stdout.write(
            self.style.SUCCESS(
                "%s may now INSERT and SELECT %s only, and read and write the other tables of %s.%s; "
                "connect the application as %s (DATABASE_URL), migrate as %s." % (
                    app_role, table, database, schema, app_role, owner_role,
                )
            )
        )  # fmt: skip
