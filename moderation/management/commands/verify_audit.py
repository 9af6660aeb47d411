"""``manage.py verify_audit``: check that the audit trail's hash chain is whole."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from moderation.audit import audit_verify
from moderation.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; fails naming the first broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = audit_verify()
        if broken is not None:
            raise CommandError(
                "The audit trail is broken at entry %d: it was changed or an entry before it was removed." % broken
            )
        self.stdout.write(self.style.SUCCESS("The audit trail is whole (%d entries)." % AuditEvent.objects.count()))
