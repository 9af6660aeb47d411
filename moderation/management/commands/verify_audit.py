"""``manage.py verify_audit [--checkpoint]``: check the audit trail against its HMACs and checkpoints.

Exits non-zero, naming what it found, when an entry was changed, inserted or removed, the newest
entries were deleted or the table emptied since a checkpoint, or the checkpoint file was edited.
With ``--checkpoint``, a whole trail is then anchored: a signed checkpoint of its newest entry is
appended to ``SIGILLO_AUDIT_CHECKPOINT_FILE`` (the sweep does the same every interval).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from moderation.audit import AuditTampered, audit_checkpoint, audit_report


class Command(BaseCommand):
    help = (
        "Verify the audit trail: every entry's HMAC and link, and the trail against the signed checkpoints "
        "outside the database; fails naming what was changed or removed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            action="store_true",
            help="when the trail is whole, append a signed checkpoint of its newest entry to the checkpoint file",
        )

    def handle(self, *args: Any, checkpoint: bool = False, **options: Any) -> None:
        report = audit_report()
        for note in report.notes:
            self.stdout.write(self.style.WARNING("Note: " + note))
        if not report.whole:
            for problem in report.problems:
                self.stderr.write("- " + problem.message)
            if report.unlisted:
                self.stderr.write("- and %d more" % report.unlisted)
            raise CommandError(
                "The audit trail was tampered with (%d finding%s); the first: %s"
                % (
                    len(report.problems) + report.unlisted,
                    "" if len(report.problems) + report.unlisted == 1 else "s",
                    report.problems[0],
                )
            )
        anchor = ""
        if report.checkpoints:
            last = report.checkpoints[-1]
            anchor = "; the last of %d checkpoints, of %s, records entry %d" % (
                len(report.checkpoints),
                last.at,
                last.seq,
            )
        self.stdout.write(self.style.SUCCESS("The audit trail is whole (%d entries%s)." % (report.entries, anchor)))
        if checkpoint:
            try:
                written = audit_checkpoint()
            except AuditTampered as error:  # changed between the check and now
                raise CommandError("No checkpoint written: %s" % error) from error
            if written is None:
                self.stdout.write("Nothing new to checkpoint.")
            else:
                self.stdout.write("Checkpoint written: entry %d, at %s." % (written.seq, written.at))
