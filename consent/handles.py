"""Cameo handles: the short ``@name`` a creator types to put a registered person in a prompt.

Every likeness gets a handle when it is registered (derived from the display name, made unique
with a number); its owner can change it. A handle is 3 to 30 lower-case ASCII letters, digits or
underscores. Mentions are found case-insensitively, and never inside an e-mail address
("mail ada@example.org" mentions nobody).
"""

import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from consent.models import Likeness

HANDLE_MIN, HANDLE_MAX = 3, 30
HANDLE_PATTERN = re.compile(r"^[a-z0-9_]{%d,%d}$" % (HANDLE_MIN, HANDLE_MAX))
MENTION_PATTERN = re.compile(r"(?<![\w@.])@([A-Za-z0-9_]{%d,%d})(?![\w@])" % (HANDLE_MIN, HANDLE_MAX))
HANDLE_RULE = "A handle is %d to %d lower-case letters, digits or underscores." % (HANDLE_MIN, HANDLE_MAX)


def handle_suggest(display_name: str) -> str:
    """Return a free handle made from ``display_name`` ("Zoë O'Brien" → "zoe_obrien", then "zoe_obrien_2")."""
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode("ascii").lower()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name.replace("'", "")).strip("_")[: HANDLE_MAX - 4].strip("_")
    if len(base) < HANDLE_MIN:
        base = (base + "_person").strip("_")
    taken = set(
        Likeness.objects.filter(handle__startswith=base).values_list("handle", flat=True)  # one query, not one per try
    )
    if base not in taken:
        return base
    number = 2
    while "%s_%d" % (base, number) in taken:
        number += 1
    return "%s_%d" % (base, number)


def handle_clean(handle: str, *, likeness: Likeness | None = None) -> str:
    """Return ``handle`` normalised (without a leading @, lower case), or raise ValidationError."""
    cleaned = (handle or "").strip().removeprefix("@").lower()
    if not HANDLE_PATTERN.match(cleaned):
        raise ValidationError({"handle": [HANDLE_RULE]}, code="invalid")
    others = Likeness.objects.filter(handle=cleaned)
    if likeness is not None:
        others = others.exclude(pk=likeness.pk)
    if others.exists():
        raise ValidationError({"handle": ["The handle @%s is taken." % cleaned]}, code="taken")
    return cleaned


def mentions_find(prompt: str) -> list[str]:
    """Return the handles mentioned in ``prompt``, lower-cased, in order, each once."""
    seen: dict[str, None] = {}
    for match in MENTION_PATTERN.finditer(prompt or ""):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def mentions_resolve(prompt: str) -> tuple[QuerySet[Likeness], list[str]]:
    """Return the likenesses mentioned in ``prompt`` and the mentioned handles nobody has.

    Registry-wide, whoever asks: for measurements (bench/redteam.py) only. What a request
    answers comes from ``mentions_resolve_for``.
    """
    handles = mentions_find(prompt)
    likenesses = Likeness.objects.filter(handle__in=handles)
    known = {likeness.handle for likeness in likenesses}
    return likenesses, [handle for handle in handles if handle not in known]


def mentions_resolve_for(prompt: str, *, asker: Any) -> tuple[list[Likeness], list[str]]:
    """Return the likenesses mentioned in ``prompt`` that ``asker`` may know, and the other handles.

    A handle whose person is a secret to ``asker`` (consent.access.likeness_ids_known_to) is
    answered exactly as one nobody has: an "unavailable" handle either way, so that probing
    handles tells nobody who is registered (issue 15).
    """
    from consent.access import likeness_ids_known_to

    handles = mentions_find(prompt)
    likenesses = list(Likeness.objects.filter(handle__in=handles))
    known = likeness_ids_known_to(asker, [likeness.pk for likeness in likenesses])
    available = [likeness for likeness in likenesses if str(likeness.pk) in known]
    names = {likeness.handle for likeness in available}
    return available, [handle for handle in handles if handle not in names]


def mentions_unavailable_message(handles: list[str]) -> str:
    """The one answer to handles nobody has and to handles of people the asker may not know."""
    return "Nobody you may cast goes by %s." % ", ".join("@" + handle for handle in handles)


def mentions_expand(prompt: str, names: dict[str, str]) -> str:
    """Replace each ``@handle`` found in ``names`` (handle → display name) by the name, for the model."""

    def replace(match: re.Match[str]) -> str:
        return names.get(match.group(1).lower(), match.group(0))

    return MENTION_PATTERN.sub(replace, prompt)
