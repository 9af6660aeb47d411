"""``manage.py reembed``: re-enroll every stored photo after a face engine or model change."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.faces import get_engine
from consent.faces.base import EngineUnavailable
from consent.services import faces_reembed


class Command(BaseCommand):
    help = "Re-embed every enrolled face with the configured (or given) engine; faces of other engines are replaced."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--engine", help="dlib, sface or insightface (default: SIGILLO_FACE_ENGINE)")

    def handle(self, *args: Any, engine: str | None = None, **options: Any) -> None:
        try:
            face_engine = get_engine(engine)
        except EngineUnavailable as error:
            raise CommandError(str(error)) from error
        report = faces_reembed(engine=face_engine)
        self.stdout.write(
            "Re-embedded %d photos with %s/%s: %d faces created, %d replaced."
            % (report.photos, face_engine.name, face_engine.model, report.faces_created, report.faces_removed)
        )
        for failure in report.failures:
            self.stderr.write("  " + failure)
        if report.failures:
            raise CommandError("%d photos could not be re-embedded (their old faces were kept)." % len(report.failures))
