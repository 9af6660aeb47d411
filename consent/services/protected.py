"""Protected entries: people nobody may generate (public figures, the deceased whose estate said no),
entered one by one or imported from CSV by moderators."""

import csv
import io
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from accounts.roles import Role
from consent.handles import handle_suggest
from consent.models import (
    ConsentVersion,
    Likeness,
    LikenessStatus,
    Subject,
)
from consent.services.likenesses import _clean_names, _clean_person_names, name_problem
from moderation.audit import audit_record


@transaction.atomic
def likeness_register_protected(
    *,
    moderator: User,
    display_name: str,
    aliases: list[str] | None = None,
    descriptors: list[str] | None = None,
    jurisdiction: str = "",
    subject: str = Subject.SELF,
    date_of_death: date | None = None,
) -> Likeness:
    """Register a protected entry (a public figure, say): enforced on prompts, never grants consent."""
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators register protected entries.")
    display_name, aliases = _clean_person_names(display_name=display_name, aliases=aliases or [], required=True)
    likeness = Likeness.objects.create(
        owner=None,
        created_by=moderator,
        display_name=display_name,
        handle=handle_suggest(display_name),
        aliases=aliases,
        descriptors=_clean_names(descriptors, field_name="descriptors", max_length=500),
        jurisdiction=(jurisdiction or "").strip()[:64],
        subject=Subject(subject),
        date_of_death=date_of_death,
        status=LikenessStatus.ACTIVE,
        protected=True,
    )
    ConsentVersion.objects.create(likeness=likeness, number=1, created_by=moderator)
    audit_record(actor=moderator, action="likeness.register_protected", target=likeness, data={"name": display_name})
    return likeness


CSV_COLUMNS = ("display_name", "aliases", "descriptors", "jurisdiction")


@dataclass(frozen=True)
class CsvRowError:
    line: int
    message: str


class CsvImportRejected(Exception):
    def __init__(self, errors: list[CsvRowError]) -> None:
        super().__init__("; ".join("line %d: %s" % (error.line, error.message) for error in errors))
        self.errors = errors


def protected_entries_import_csv(*, moderator: User, data: bytes, max_rows: int = 10_000) -> list[Likeness]:
    """Import protected entries from CSV (display_name, aliases, descriptors, jurisdiction; lists split on ';').

    Every row is checked first; one bad row imports nothing.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvImportRejected([CsvRowError(0, "The file is not UTF-8 text.")]) from None
    if "\x00" in text:  # PostgreSQL stores no NUL in text, and no name holds one
        line = text[: text.index("\x00")].count("\n") + 1
        raise CsvImportRejected([CsvRowError(line, "The file holds a NUL character; it is not a CSV of names.")])
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "display_name" not in reader.fieldnames:
        raise CsvImportRejected([CsvRowError(1, "The header must name the columns: %s." % ", ".join(CSV_COLUMNS))])
    unknown = set(reader.fieldnames) - set(CSV_COLUMNS)
    if unknown:
        raise CsvImportRejected([CsvRowError(1, "Unknown columns: %s." % ", ".join(sorted(unknown)))])
    rows, errors = [], []
    try:
        for row in reader:
            line = reader.line_num
            if len(rows) >= max_rows:
                errors.append(CsvRowError(line, "At most %d rows per import." % max_rows))
                break
            if None in row:
                errors.append(CsvRowError(line, "This row has more cells than the header."))
                continue
            name = " ".join((row.get("display_name") or "").split())
            if not name:
                errors.append(CsvRowError(line, "display_name is empty."))
                continue
            if len(name) > 200:
                errors.append(CsvRowError(line, "display_name has more than 200 characters."))
                continue
            split = lambda value: [part for part in (value or "").split(";") if part.strip()]  # noqa: E731
            aliases = split(row.get("aliases"))
            refused = [problem for value in [name, *aliases] if (problem := name_problem(" ".join(value.split())))]
            if refused:
                errors.extend(CsvRowError(line, " ".join(problem.messages)) for problem in refused)
                continue
            rows.append((name, aliases, split(row.get("descriptors")), (row.get("jurisdiction") or "")))
    except csv.Error as error:
        errors.append(CsvRowError(reader.line_num, "The file is not valid CSV (%s)." % error))
    if not rows and not errors:
        errors.append(CsvRowError(2, "The file has no rows."))
    if errors:
        raise CsvImportRejected(errors)
    created = []
    with transaction.atomic():
        for name, aliases, descriptors, jurisdiction in rows:
            try:
                created.append(
                    likeness_register_protected(
                        moderator=moderator,
                        display_name=name,
                        aliases=aliases,
                        descriptors=descriptors,
                        jurisdiction=jurisdiction,
                    )
                )
            except ValidationError as error:
                raise CsvImportRejected([CsvRowError(0, "%s: %s" % (name, " ".join(error.messages)))]) from error
    return created
