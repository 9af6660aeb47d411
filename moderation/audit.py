"""The audit trail: an append-only, signed log of every consent and moderation change.

Three layers, each for what the one before it cannot stop:

- **A signed chain.** Each row carries an HMAC-SHA256, keyed with ``SIGILLO_AUDIT_KEY`` (kept
  outside the database), over every column (seq, actor, actor label, action, target, data, time)
  and the previous row's HMAC. Changing a column, or removing or inserting a row, breaks the chain
  there, and recomputing the chain after it needs the key.
- **Checkpoints outside the database.** Removing the newest rows, or all of them, leaves a chain
  that is whole. The beat sweep (and ``verify_audit --checkpoint``) appends the newest row's seq and
  HMAC, signed and chained with the same key, to ``SIGILLO_AUDIT_CHECKPOINT_FILE``: a trail that
  ends before the last checkpoint, or a checkpointed row that changed or went, is found.
- **The database refuses.** The model and its queryset refuse changes; on PostgreSQL triggers
  refuse UPDATE, DELETE and TRUNCATE, and the application connects as a role that may only INSERT
  and SELECT the table (``manage.py audit_grants``), so it can neither disable nor drop them.

``audit_report`` checks all of it, ``audit_verify`` answers its first problem (None when the trail
and its checkpoints are whole), ``manage.py verify_audit`` prints it.
"""

import fcntl
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection as default_connection
from django.db import transaction
from django.utils import timezone

from moderation.models import AuditEvent

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
#: The PostgreSQL advisory lock that serialises writers of the trail ("SIGAUDIT").
WRITERS_LOCK = 0x5349_4741_5544_4954
#: The most problems a report lists: a chain recomputed from an early row makes every later row one.
MAX_PROBLEMS = 20


class AuditTampered(Exception):
    """The trail or its checkpoints were changed: no checkpoint is written over them."""


@dataclass(frozen=True)
class AuditProblem:
    """One thing found wrong: the entry it concerns (None for the checkpoint file) and what."""

    seq: int | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Checkpoint:
    """One line of the checkpoint file: the newest entry at a time, signed, chained to the line before."""

    seq: int
    hash: str
    at: str
    prev: str
    mac: str
    line: int = 0

    def as_line(self) -> bytes:
        fields = {"seq": self.seq, "hash": self.hash, "at": self.at, "prev": self.prev, "mac": self.mac}
        return (json.dumps(fields, separators=(",", ":")) + "\n").encode()


@dataclass
class AuditReport:
    """What ``audit_report`` found: the entries, the checkpoints that hold, and every problem."""

    entries: int = 0
    newest: int | None = None
    checkpoints: list[Checkpoint] = field(default_factory=list)
    problems: list[AuditProblem] = field(default_factory=list)
    unlisted: int = 0  # problems past MAX_PROBLEMS
    notes: list[str] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        return not self.problems

    def add(self, seq: int | None, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(AuditProblem(seq, message))
        else:
            self.unlisted += 1


def _key() -> bytes:
    key = getattr(settings, "SIGILLO_AUDIT_KEY", "")
    if not key:
        raise ImproperlyConfigured("No audit key: set SIGILLO_AUDIT_KEY (it is kept outside the database)")
    return key.encode()


def _mac(key: bytes, items: list[Any]) -> str:
    payload = json.dumps(items, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def _canonical(value: Any) -> Any:
    """``value`` as every database gives it back: PostgreSQL's jsonb returns 1e+20 as the integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def entry_hash(event: AuditEvent, *, key: bytes | None = None) -> str:
    """The HMAC of an entry: every column, the previous entry's HMAC included."""
    return _mac(
        key or _key(),
        [
            "sigillo.audit.entry",
            event.seq,
            event.actor_id,
            event.actor_label,
            event.action,
            event.target_type,
            event.target_id,
            _canonical(event.data),
            event.created_at.astimezone(UTC).isoformat(),
            event.prev_hash,
        ],
    )


def _checkpoint_mac(key: bytes, *, seq: int, hash: str, at: str, prev: str) -> str:  # noqa: A002
    return _mac(key, ["sigillo.audit.checkpoint", seq, hash, at, prev])


# Writing.


def audit_record(*, actor: Any, action: str, target: Any = None, data: dict | None = None) -> AuditEvent:
    """Append one event; must run inside the transaction of the change it records."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    key = _key()
    data = json.loads(json.dumps(data or {}, default=str))
    last = _lock_newest(connection)
    actor_id = getattr(actor, "pk", None)
    event = AuditEvent(
        seq=_next_seq(connection, last),
        actor=actor if actor_id else None,
        actor_label=str(getattr(actor, "username", "") or "system"),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data,
        created_at=timezone.now(),
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = entry_hash(event, key=key)
    # INSERT only: with a primary key given, a plain save() tries an UPDATE first, which the
    # application's role may not run on this table.
    event.save(force_insert=True)
    return event


def _lock_newest(connection: Any) -> AuditEvent | None:
    """Serialise writers until this transaction ends, and return the newest entry.

    On PostgreSQL with an advisory lock: SELECT ... FOR UPDATE needs the UPDATE privilege, which the
    application's role does not have on this table (and it locks nothing while the table is empty).
    SQLite transactions are IMMEDIATE: one writer at a time already.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [WRITERS_LOCK])
        return AuditEvent.objects.order_by("-seq").first()
    return AuditEvent.objects.select_for_update().order_by("-seq").first()


def _next_seq(connection: Any, last: AuditEvent | None) -> int:
    """The seq of the next entry; it is signed, so it is chosen before the row is written."""
    after = last.seq if last else 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'seq'))", [AuditEvent._meta.db_table])
            (value,) = cursor.fetchone()
        return max(value, after + 1)
    return after + 1


# Checking.


def _entry_problem(event: AuditEvent, prev_hash: str, key: bytes) -> str | None:
    if not hmac.compare_digest(event.hash, entry_hash(event, key=key)):
        return (
            "broken at entry %d: its content does not match its HMAC (a column was changed, or the chain "
            "was recomputed without the key)" % event.seq
        )
    if event.prev_hash != prev_hash:
        return (
            "broken at entry %d: it does not follow the entry before it (an entry before it was removed or "
            "inserted)" % event.seq
        )
    return None


def _parse_checkpoint(raw: bytes, line: int) -> Checkpoint | None:
    try:
        item = json.loads(raw)
        return Checkpoint(
            seq=int(item["seq"]),
            hash=str(item["hash"]),
            at=str(item["at"]),
            prev=str(item["prev"]),
            mac=str(item["mac"]),
            line=line,
        )
    except (ValueError, TypeError, KeyError):
        return None


def _signed(checkpoint: Checkpoint, key: bytes) -> bool:
    expected = _checkpoint_mac(key, seq=checkpoint.seq, hash=checkpoint.hash, at=checkpoint.at, prev=checkpoint.prev)
    return hmac.compare_digest(checkpoint.mac, expected)


def checkpoint_path() -> Path:
    return Path(settings.SIGILLO_AUDIT_CHECKPOINT_FILE)


def _read_checkpoints(key: bytes, report: AuditReport) -> list[Checkpoint]:
    """The checkpoints of the file whose HMAC holds; every line that does not is a problem."""
    path = checkpoint_path()
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return []
    except OSError as error:
        report.add(None, "the checkpoint file %s cannot be read (%s)" % (path, error.strerror))
        return []
    held = []
    prev = GENESIS
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        checkpoint = _parse_checkpoint(raw, number)
        if checkpoint is None:
            report.add(None, "line %d of the checkpoint file is not a checkpoint: the file was edited" % number)
            continue
        if not _signed(checkpoint, key):
            report.add(
                None,
                "the checkpoint on line %d (entry %d) is forged: its HMAC does not hold" % (number, checkpoint.seq),
            )
        else:
            if checkpoint.prev != prev:
                report.add(
                    None,
                    "the checkpoint on line %d does not follow the one before it: checkpoints were removed or "
                    "reordered" % number,
                )
            held.append(checkpoint)
        prev = checkpoint.mac
    return held


def audit_report() -> AuditReport:
    """Check every entry's HMAC and link, and the trail against every checkpoint that holds."""
    key = _key()
    report = AuditReport()
    report.checkpoints = _read_checkpoints(key, report)
    expected = {checkpoint.seq: checkpoint for checkpoint in report.checkpoints}
    seen: set[int] = set()
    prev_hash = GENESIS
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        report.entries += 1
        report.newest = event.seq
        problem = _entry_problem(event, prev_hash, key)
        if problem:
            report.add(event.seq, problem)
        checkpoint = expected.get(event.seq)
        if checkpoint is not None:
            seen.add(event.seq)
            if not hmac.compare_digest(checkpoint.hash, event.hash):
                report.add(
                    event.seq,
                    "entry %d is not the one the checkpoint of %s recorded: it was rewritten"
                    % (event.seq, checkpoint.at),
                )
        prev_hash = event.hash
    missing = sorted(seq for seq in expected if seq not in seen)
    beyond = [seq for seq in missing if report.newest is None or seq > report.newest]
    if beyond:
        last = expected[beyond[-1]]
        if report.newest is None:
            report.add(
                None,
                "the trail holds no entries, but the checkpoint of %s recorded entry %d: it was emptied "
                "(truncated or deleted)" % (last.at, last.seq),
            )
        else:
            report.add(
                last.seq,
                "the trail ends at entry %d, but the checkpoint of %s recorded entry %d: the newest entries "
                "were deleted" % (report.newest, last.at, last.seq),
            )
    for seq in missing:
        if seq not in beyond:
            report.add(
                seq, "entry %d, recorded by the checkpoint of %s, is missing: it was deleted" % (seq, expected[seq].at)
            )
    if not report.checkpoints and report.entries:
        report.notes.append(
            "No checkpoint yet (%s): deleting the newest entries would go unnoticed until the sweep "
            "writes one." % checkpoint_path()
        )
    rewriter = connection_can_rewrite()
    if rewriter:
        report.notes.append(rewriter)
    return report


def audit_verify() -> AuditProblem | None:
    """Return the first problem of the trail or its checkpoints, or None when both are whole."""
    report = audit_report()
    return report.problems[0] if report.problems else None


def connection_can_rewrite() -> str | None:
    """Say so when this connection's database role could disable the triggers and rewrite the trail."""
    if default_connection.vendor != "postgresql":
        return None
    with default_connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, r.rolsuper, pg_has_role(current_user, t.tableowner, 'MEMBER') "
            "FROM pg_roles r, pg_tables t "
            "WHERE r.rolname = current_user AND t.tablename = %s AND t.schemaname = current_schema()",
            [AuditEvent._meta.db_table],
        )
        row = cursor.fetchone()
    if row is None or not (row[1] or row[2]):
        return None
    return (
        "This connection's role (%s) %s: it could disable the triggers and rewrite the trail (the HMAC and "
        "the checkpoints would still tell). Connect the application as a role made by `manage.py "
        "audit_grants`." % (row[0], "is a superuser" if row[1] else "owns the audit table")
    )


# Checkpoints.


def _last_line(file: IO[bytes]) -> tuple[bytes, int] | None:
    """The last non-empty line of the file and its number (0 when not counted)."""
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(max(0, size - 16384))
    lines = [line for line in file.read().splitlines() if line.strip()]
    return (lines[-1], 0) if lines else None


def _verify_since(last: Checkpoint | None, newest: AuditEvent, key: bytes) -> str | None:
    """Check the entries from the last checkpoint (or the first entry) to ``newest``."""
    events = AuditEvent.objects.filter(seq__lte=newest.seq).order_by("seq")
    prev_hash = GENESIS
    if last is not None:
        events = events.filter(seq__gte=last.seq)
        first = events.first()
        if first is None or first.seq != last.seq:
            if newest.seq < last.seq:
                return (
                    "the trail ends at entry %d, but the checkpoint of %s recorded entry %d: the newest entries "
                    "were deleted" % (newest.seq, last.at, last.seq)
                )
            return "entry %d, recorded by the checkpoint of %s, is missing: it was deleted" % (last.seq, last.at)
        if not hmac.compare_digest(first.hash, last.hash):
            return "entry %d is not the one the checkpoint of %s recorded: it was rewritten" % (last.seq, last.at)
        events = events.filter(seq__gt=last.seq)
        prev_hash = last.hash
    for event in events.iterator(chunk_size=2000):
        problem = _entry_problem(event, prev_hash, key)
        if problem:
            return problem
        prev_hash = event.hash
    return None


def audit_checkpoint() -> Checkpoint | None:
    """Append a signed checkpoint of the newest entry to the checkpoint file (None: nothing new).

    The entries written since the last checkpoint are verified first: a trail that was changed is
    not anchored (``AuditTampered``). One writer at a time (an exclusive lock on the file).
    """
    key = _key()
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, "a+b") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        last = None
        tail = _last_line(file)
        if tail is not None:
            last = _parse_checkpoint(tail[0], tail[1])
            if last is None or not _signed(last, key):
                raise AuditTampered("the last line of the checkpoint file %s is forged: its HMAC does not hold" % path)
        newest = AuditEvent.objects.order_by("-seq").first()
        if newest is None:
            if last is not None:
                raise AuditTampered(
                    "the trail holds no entries, but the checkpoint of %s recorded entry %d: it was emptied "
                    "(truncated or deleted)" % (last.at, last.seq)
                )
            return None
        if last is not None and last.seq == newest.seq and hmac.compare_digest(last.hash, newest.hash):
            return None
        problem = _verify_since(last, newest, key)
        if problem:
            raise AuditTampered(problem)
        at = timezone.now().astimezone(UTC).isoformat()
        prev = last.mac if last is not None else GENESIS
        checkpoint = Checkpoint(
            seq=newest.seq,
            hash=newest.hash,
            at=at,
            prev=prev,
            mac=_checkpoint_mac(key, seq=newest.seq, hash=newest.hash, at=at, prev=prev),
        )
        file.write(checkpoint.as_line())
        file.flush()
        os.fsync(file.fileno())
    # The log is a second copy outside the database.
    logger.info("audit checkpoint: entry %d, %s, %s", checkpoint.seq, checkpoint.hash, checkpoint.mac)
    return checkpoint


def audit_sweep() -> dict[str, Any]:
    """The sweep's part: write a checkpoint, or log loudly why none could be written."""
    try:
        checkpoint = audit_checkpoint()
    except AuditTampered as error:
        logger.error("the audit trail was tampered with, no checkpoint written: %s", error)
        return {"audit_checkpoint": None, "audit_tampered": str(error)}
    except OSError as error:
        logger.error("could not write the audit checkpoint to %s: %s", checkpoint_path(), error)
        return {"audit_checkpoint": None, "audit_tampered": ""}
    return {"audit_checkpoint": checkpoint.seq if checkpoint else None, "audit_tampered": ""}
