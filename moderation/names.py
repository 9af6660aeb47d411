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

import itertools
import logging
import threading
import time
from array import array
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import jellyfish
import numpy as np
from rapidfuzz.distance import OSA, JaroWinkler

from moderation.text import (
    LEET_SYMBOLS,
    NormalisedText,
    normalise_text,
    reversed_reading,
    visual_reading,
    vocabulary,
    vocabulary_path,
    word_spans,
)
from moderation.text import leet_forms as _leet_forms

logger = logging.getLogger(__name__)

#: The most candidate registered tokens kept per prompt token, and name lookups per window.
MAX_CANDIDATES = 8
MAX_COMBINATIONS = 64
#: Longest registered name, in tokens, looked up (longer names are still found by their first tokens).
MAX_NAME_TOKENS = 6
#: Non-token characters allowed between two tokens of one name ("robin - williams").
MAX_GAP = 3
#: Letters a token needs before it is matched fuzzily or phonetically.
FUZZY_MIN_LENGTH = 4
#: Letters a prompt word needs before it is read as a misspelling ("Wil" of "Will Smith").
FUZZY_MIN_LENGTH_PROMPT = 3
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
    path = vocabulary_path()
    if path is None:
        logger.warning("Sentence model vocabulary not found: name matching knows only %d common words", len(words))
        return frozenset(words)
    rows = path.read_text(encoding="utf-8").split("\n")[VOCABULARY_ROWS]
    words.update(row for row in rows if row.isascii() and row.isalpha() and len(row) >= 3)
    return frozenset(words - VOCABULARY_NAMES)


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


def _raw_tokens(text: str, *, symbols: bool = True) -> list[tuple[int, int]]:
    """Return the spans of the tokens of ``text``: runs of letters, digits and (with ``symbols``) leet symbols."""
    return word_spans(text, symbols=symbols)


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


#: Longest syllable of a name written in parts ("Oh-bah-mah", "Bi-den").
MAX_SYLLABLE = 4


def _tokens(text: str) -> list[list[_Token]]:
    """Return the readings of normalised ``text`` as token lists, the first as written.

    The others, when they differ: letters written apart ("R o b i n") and syllables joined by
    hyphens ("Oh-bah-mah") joined into one token; and every symbol a boundary ("Obama@Biden",
    "Biden@home", "kit#harington"), since leet symbols join words as often as they stand for
    letters.
    """
    spans = _raw_tokens(text)
    tokens = [_Token(start, end, _forms(text[start:end], start)) for start, end in spans]
    readings = [tokens]
    joined = _joined(text, spans, tokens)
    if joined is not None:
        readings.append(joined)
    split = _raw_tokens(text, symbols=False)
    if split != spans:
        readings.append([_Token(start, end, _forms(text[start:end], start)) for start, end in split])
    return readings


def _joined(text: str, spans: list[tuple[int, int]], tokens: list[_Token]) -> list[_Token] | None:
    """Return ``tokens`` with runs of spaced letters and of hyphenated syllables joined (None if none)."""
    runs: list[list[int]] = []
    kinds: list[bool] = []  # True: spaced letters; False: syllables
    for index, (start, end) in enumerate(spans):
        if runs and runs[-1][-1] == index - 1:
            gap = text[spans[index - 1][1] : start]
            previous = spans[index - 1]
            if kinds[-1] and end - start == 1 and _joins(gap):
                runs[-1].append(index)
                continue
            if (
                not kinds[-1]
                and gap == "-"
                and end - start <= MAX_SYLLABLE
                and text[start:end].isalpha()
                and previous[1] - previous[0] <= MAX_SYLLABLE
            ):
                runs[-1].append(index)
                continue
        if end - start == 1:
            runs.append([index])
            kinds.append(True)
        elif end - start <= MAX_SYLLABLE and text[start:end].isalpha():
            runs.append([index])
            kinds.append(False)
    chosen = {
        run[0]: (run, spaced) for run, spaced in zip(runs, kinds, strict=True) if len(run) >= (3 if spaced else 2)
    }
    if not chosen:
        return None
    joined: list[_Token] = []
    skip = 0
    for index, token in enumerate(tokens):
        if skip:
            skip -= 1
            continue
        if index not in chosen:
            joined.append(token)
            continue
        run, spaced = chosen[index]
        raw = "".join(text[spans[i][0] : spans[i][1]] for i in run)
        start, end = spans[run[0]][0], spans[run[-1]][1]
        forms = tuple(_Form(form.text, start, end, form.leet) for form in _forms(raw, start))
        joined.append(_Token(start, end, forms, spaced=spaced))
        skip = len(run) - 1
    return joined


def _joins(gap: str) -> bool:
    """Say whether letters separated by ``gap`` are read as one word ("r o b", "r.o.b", "r. o. b")."""
    if len(gap) <= 2 and gap.isspace():
        return True  # "r o b", "r  o  b"
    return len(gap) <= 3 and len(gap.strip()) == 1  # "r.o.b", "r. o. b", "r . o . b"


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
_FORWARD, _ROTATED, _JOINED, _SURNAME = 0, 1, 2, 3
_KINDS = 4
_METHOD_ORDER = ("sound", "phonetic", "fuzzy", "leet", "surname", "reordered", "joined", "normalised", "exact")


class NameIndex:
    """Registered names and aliases, searchable in free text at a cost independent of their number."""

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self._common = common_words()
        self._entries: list[_Entry] = []
        # Token sequence -> entry number * _KINDS + kind (a list of them when several).
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
            # A common word of a longer name ("Will" of "Will Smith") is matched fuzzily too: the
            # whole name must still be found, so "Wil Smyth" is Will Smith and "a wild smith" is not
            # (a prompt word that is itself a common word is never read as a misspelling).
            self._vocabulary(token, companion=len(tokens) > 1)
        if len(tokens) > 1:
            self._key((tokens[-1], *tokens[:-1]), number, _ROTATED)
            joined = "".join(tokens)
            if joined not in self._common:
                self._key((joined,), number, _JOINED)
                self._lengths.add(1)  # "MattDamon" is one token of the prompt
                self._vocabulary(joined, depth=1)
            surname = tokens[-1]
            if _rare_surname(surname, self._common):
                # "a portrait of Harington": a rare surname alone names the person where it reads as a name.
                self._key((surname,), number, _SURNAME)
                self._lengths.add(1)

    def _key(self, key: tuple[str, ...], number: int, kind: int) -> None:
        _post(self._keys, key, number * _KINDS + kind)

    def _vocabulary(self, token: str, *, depth: int | None = None, companion: bool = False) -> None:
        """Index ``token`` for fuzzy and phonetic lookups (once; common words only as part of a longer name)."""
        if token in self._token_ids or len(token) < (3 if companion else FUZZY_MIN_LENGTH):
            return
        if token in self._common and not companion:
            return
        number = self._token_ids[token] = len(self._tokens)
        self._tokens.append(token)
        for variant in _deletions(token, depth if depth is not None else _max_distance(token)):
            self._new_keys.append(hash(variant))
            self._new_ids.append(number)
        if depth is None:
            _post(self._sounds, jellyfish.metaphone(token), number)
            _post(self._sounds, _sound_key(token), number)

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
        readings = [(normalised, False), (reversed_reading(prompt), True)]
        visual = visual_reading(prompt)
        if visual is not None:
            readings.append((visual, False))  # as a right-to-left override shows it on screen
        best: dict[tuple[str, tuple[int, int]], NameHit] = {}
        for text, strict in readings:
            for tokens in _tokens(text.text):
                for hit in self._search(text, tokens):
                    if strict and hit.method in ("fuzzy", "phonetic", "sound"):
                        continue  # text read backwards: only a name spelled exactly counts
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
                        number, kind = divmod(code, _KINDS)
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
            if len(form.text) < FUZZY_MIN_LENGTH_PROMPT or form.text in self._common:
                continue
            for number in self._fuzzy(form.text):
                registered = self._tokens[number]
                if registered in self._common and _stem(registered) == _stem(form.text):
                    continue  # "Tom bakes" is baking, not Tom Baker: another form of the word is no misspelling
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
            # Spelled as it sounds with another first letter or more letters ("Jorj Kloo-nee",
            # "Rah-bin Wil-yums"): the same first sound and Soundex code. Coarse, so only ever a
            # part of a longer name (``_hit`` refuses it for a one-word name).
            for number in _posting(self._sounds, _sound_key(form.text)):
                registered = self._tokens[number]
                if registered not in found and len(form.text) >= FUZZY_MIN_LENGTH:
                    similarity = JaroWinkler.similarity(form.text, registered)
                    if similarity >= SOUND_MIN_SIMILARITY:
                        offer(_Candidate(registered, 0.8 * similarity, "sound", form))
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
        if "sound" in methods and (len(entry.tokens) == 1 or kind != _FORWARD):
            return None  # a Soundex code is too coarse for a one-word name: only in a whole longer name
        if kind == _SURNAME:
            # A rare surname alone, spelled right and written as a name: "a portrait of Harington".
            if methods - {"exact", "leet"}:
                return None
            if not _reads_as_name(normalised, tokens, start) and not _capitalised_unknown(normalised, tokens, start):
                return None
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
        elif kind == _SURNAME:
            labels.add("surname")
            score *= 0.9
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


#: The first sound of a word, from its first letters ("ch", "sh" and "z" sound like "s").
_FIRST_SOUNDS = (
    ("sch", "s"), ("ch", "s"), ("sh", "s"), ("ph", "f"), ("kn", "n"), ("wr", "r"), ("wh", "w"),
    ("ce", "s"), ("ci", "s"), ("cy", "s"), ("ge", "j"), ("gi", "j"), ("ya", "j"), ("ye", "j"),
    ("yo", "j"), ("yu", "j"), ("c", "k"), ("q", "k"), ("z", "s"), ("x", "s"),
)  # fmt: skip
SOUND_MIN_SIMILARITY = 0.5


def _sound_key(word: str) -> str:
    """Return the word's first sound and the digits of its Soundex code ("jorj" and "george": "j620")."""
    first = next((sound for prefix, sound in _FIRST_SOUNDS if word.startswith(prefix)), word[:1])
    return "~" + first + jellyfish.soundex(word)[1:]


def _rare_surname(token: str, common: frozenset[str]) -> bool:
    """Say whether the last word of a registered name is rare enough to name the person alone."""
    return len(token) >= 6 and token not in common and token not in VOCABULARY_NAMES


#: Endings of English words, longest first: "bakes" and "baker" are one word, "bake".
SUFFIXES = ("ers", "ing", "es", "ed", "er", "ly", "s", "d", "y")


def _stem(word: str) -> str:
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


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


def _capitalised_unknown(normalised: NormalisedText, tokens: list[_Token], position: int) -> bool:
    """Say whether ``tokens[position]`` is written with a capital and is no word of the vocabulary.

    At the start of a sentence a capital says nothing of a common word, but "Saldaña rock
    climbing" can only be a name.
    """
    start, _end = normalised.original_span(tokens[position].start, tokens[position].end)
    return normalised.original[start].isupper() and not ({form.text for form in tokens[position].forms} & vocabulary())


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
    return 1 if len(token) >= 3 else 0  # three letters: only words of a longer name are indexed ("Kitt Harington")


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

    interval = settings.SIGILLO_NAME_INDEX_SYNC_INTERVAL
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
