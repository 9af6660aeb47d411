"""Forbidden topics of a consent policy, checked against a generation prompt.

A person may write topics they refuse in free text ("never show me drinking alcohol", "no
political rallies"). ``topic_hits`` says which of them a prompt touches, in two passes:

* semantic: the sentence model (all-MiniLM-L6-v2) compares each topic with the whole prompt,
  with its clauses and with sliding word windows, and keeps the best cosine similarity;
* lexical: every content word of the topic found in the prompt (light stemming, fuzzy for
  misspellings) is a hit whatever the model scores, so an exact mention is never missed.

The model is loaded lazily, once per process, from local files only; call this from workers,
not from web processes. Importing this module imports neither torch nor sentence-transformers.
If the model cannot be loaded the check raises ``TextModelUnavailable``: it never answers
"no hits" without having run.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from rapidfuzz import fuzz

from moderation.text_model import (
    embed_texts,
    model_encode,
    model_folder,
    model_load,
    model_vocabulary,
)

logger = logging.getLogger(__name__)

#: Sizes, in words, of the sliding windows compared with each topic. Single words are left out:
#: alone, "shots" is close to "guns" and "drinking" to "alcohol"; in a window they have context.
WINDOW_SIZES = (2, 3, 4, 6)
#: Smallest rapidfuzz ratio at which two words of five letters or more count as the same word,
#: unless both are words of the model's vocabulary ("alchohol" is a misspelling of "alcohol";
#: "protect" is a word of its own, not a misspelling of "protest").
FUZZY_MIN_RATIO = 85.0
#: Words shorter than this must match exactly (after stemming): "gun" is not "gum".
FUZZY_MIN_LENGTH = 5

METHOD_SEMANTIC = "semantic"
METHOD_LEXICAL = "lexical"
METHOD_LEXICON = "lexicon"

#: Curated neighbourhoods of common topics: per topic id, "anchors" that describe it, "terms" that
#: put a prompt on it ("pint", "keg stand" for alcohol) and "exclusions", look-alikes that are not
#: it ("pint of milk", "orange juice"). The sentence model cannot be trusted with either: it finds
#: "at a pub with friends" far from "drinking alcohol" and "drinking orange juice" close to it.
LEXICON_PATH = Path(__file__).with_name("topic_lexicon.json")
#: Cosine similarity between a person's topic (or one of its parts: "guns" in "no guns or weapons
#: of any kind") and a lexicon topic's anchor at which the lexicon topic is used for it.
LEXICON_MATCH_THRESHOLD = 0.65
#: For a topic with a lexicon, the semantic pass only adds what the terms missed, so it needs more
#: certainty than the default threshold; below this the terms decide.
LEXICON_SEMANTIC_THRESHOLD = 0.55
#: A term is negated by one of these among the few words before it in its clause ("no alcohol",
#: "without guns", "not drinking beer"), or by a hyphenated "free" after it ("alcohol-free").
NEGATION_WINDOW = 3
#: Words on either side of a look-alike or refused term whose windows the model may not judge.
EXCLUSION_REACH = 4
_NEGATIONS = frozenset("no not never without non nor zero none neither nothing".split())


@dataclass(frozen=True)
class TopicHit:
    """A forbidden topic that a prompt touches.

    ``topic`` is the text as the person wrote it. ``score`` is the best cosine similarity between
    the topic and the prompt or one of its parts, also for lexical hits (where it is below the
    threshold). ``span`` is ``(start, end)`` in the prompt of what matched: the best part, without
    stop words at its ends, for a semantic hit; from the first to the last matched word for a
    lexical one. ``method`` is ``"semantic"`` or ``"lexical"``.
    """

    topic: str
    score: float
    span: tuple[int, int]
    method: str


@dataclass(frozen=True)
class _Token:
    text: str
    stem: str
    start: int
    end: int
    content: bool


@dataclass(frozen=True)
class _Segment:
    """A part of the prompt compared with the topics; ``span`` is it without stop words at its ends."""

    start: int
    end: int
    span: tuple[int, int]


_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Ends a clause wherever it stands between two words.
_CLAUSE_PUNCTUATION_RE = re.compile(r"[,.;:!?()\[\]{}\"“”/|]|\s[-–—]+\s|[–—]")
_CONJUNCTIONS = frozenset(
    "and or but nor while whilst with without as then because so where when whereas who which that".split()
)
_STOPWORDS = frozenset(
    """
    a an the this that these those some any each every all both other another such
    i me my mine myself we us our ours you your yours he him his she her hers it its they them their
    theirs himself herself itself themselves yourself
    is am are was were be been being do does did doing have has had having will would shall should
    can could may might must
    and or but nor so yet for of in on at to from by with without about into onto over under
    above below up down out off near next through across between around behind before after
    during while whilst as than then there here where when who whom which what how why
    not no never nothing none nobody very too just also only even ever again still
    don't doesn't didn't isn't aren't wasn't weren't won't can't
    please want wants like image images photo photos picture pictures video videos
    """.split()
)

# Instruction wrappers around a topic. A refusal ("never", "don't", "no" ...) is stripped from its
# start, and after one, the verbs and prepositions that lead to the topic ("show me", "put me in",
# "with" ...), again and again; so "show jumping" keeps its "show" and "no show jumping" does not.
_REFUSALS = (
    "please",
    "i",
    "i would",
    "i'd",
    "i do not want",
    "i don't want",
    "i never want",
    "i refuse to",
    "i refuse",
    "never ever",
    "never",
    "don't",
    "dont",
    "do not",
    "does not",
    "doesn't",
    "must not",
    "mustn't",
    "should not",
    "shouldn't",
    "under no circumstances",
    "no more",
    "no",
    "not",
    "nothing",
    "none",
    "without",
    "avoid",
    "exclude",
)
_LEADS = (
    "show me",
    "show",
    "depict me",
    "depict",
    "generate me",
    "generate",
    "put me in",
    "put me",
    "place me in",
    "place me",
    "make me",
    "use me in",
    "use me for",
    "use my face in",
    "use my face for",
    "use my likeness in",
    "use my likeness for",
    "want to see",
    "want",
    "to be shown",
    "be shown",
    "to be",
    "be",
    "see me",
    "me",
    "include",
    "involving",
    "with",
    "in",
    "of",
    "anything",
    "any",
    "images of",
    "pictures of",
    "photos of",
    "videos of",
    "content with",
    "content involving",
    "scenes with",
    "scenes of",
    "ever",
)


def _alternation(phrases: tuple[str, ...]) -> re.Pattern[str]:
    ordered = sorted(phrases, key=len, reverse=True)
    # A phrase ends at a space or punctuation, not inside a word: "no" is not the "no" of "no-go".
    return re.compile(r"^(?:%s)(?=[\s,:;]|$)[\s,:;]*" % "|".join(re.escape(p) for p in ordered), re.IGNORECASE)


_REFUSAL_RE = _alternation(_REFUSALS)
_LEAD_RE = _alternation(_LEADS)
_TOPIC_SUFFIX_RE = re.compile(r"[\s,;:-]*\b(?:please|ever|at all|thanks|thank you)$", re.IGNORECASE)
_TRIM = " \t.!;,:\"'“”"


def normalise_topic(text: str) -> str:
    """Return the topic itself, without its instruction wrapper, lower-cased.

    "Never show me drinking alcohol." gives "drinking alcohol"; "don't put me in lingerie"
    gives "lingerie". If nothing would be left, return the whole text, cleaned.
    """
    cleaned = " ".join(text.replace("’", "'").split()).strip(_TRIM).lower()
    topic = _TOPIC_SUFFIX_RE.sub("", cleaned).strip(_TRIM)
    refused = False
    while True:
        stripped = _REFUSAL_RE.sub("", topic, count=1)
        if stripped != topic:
            refused = True
        elif refused:
            stripped = _LEAD_RE.sub("", topic, count=1)
        stripped = stripped.strip(_TRIM)
        if stripped == topic or not stripped:
            break
        topic = stripped
    return topic or cleaned


def _stem(word: str) -> str:
    """Reduce ``word`` (lower case) to a rough stem: "rallies" → "rally", "smoking" → "smok"."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix, min_length in (("ing", 6), ("ed", 5)):
        if len(word) >= min_length and word.endswith(suffix):
            word = word[: -len(suffix)]
            if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # running → run
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in _WORD_RE.finditer(text):
        word = match.group().lower().replace("’", "'")
        tokens.append(
            _Token(
                text=word,
                stem=_stem(word),
                start=match.start(),
                end=match.end(),
                content=word not in _STOPWORDS and len(word) > 1,
            )
        )
    return tokens


def _segments(prompt: str, tokens: list[_Token]) -> list[_Segment]:
    """Return the parts of ``prompt`` to compare with each topic, without repeats.

    The whole prompt, its clauses (split on punctuation and conjunctions) and sliding windows
    of ``WINDOW_SIZES`` words; parts made only of stop words are left out.
    """
    if not tokens:
        return []
    segments: dict[tuple[int, int], tuple[int, int]] = {}

    def add(part: list[_Token]) -> None:
        content = [token for token in part if token.content]
        if content:
            segments.setdefault((part[0].start, part[-1].end), (content[0].start, content[-1].end))

    add(tokens)

    clause: list[_Token] = []
    clauses: list[list[_Token]] = []
    for index, token in enumerate(tokens):
        if index and _CLAUSE_PUNCTUATION_RE.search(prompt, tokens[index - 1].end, token.start):
            clauses.append(clause)
            clause = []
        if token.text in _CONJUNCTIONS:
            clauses.append(clause)
            clause = []
            continue
        clause.append(token)
    clauses.append(clause)
    for part in clauses:
        add(part)

    for size in WINDOW_SIZES:
        for first in range(0, max(len(tokens) - size + 1, 0)):
            add(tokens[first : first + size])
    return [_Segment(start, end, span) for (start, end), span in segments.items()]


def _same_word(topic_word: _Token, prompt_word: _Token, vocabulary: frozenset[str]) -> bool:
    if topic_word.stem == prompt_word.stem or topic_word.text == prompt_word.text:
        return True
    if min(len(topic_word.text), len(prompt_word.text)) < FUZZY_MIN_LENGTH:
        return False
    if topic_word.text in vocabulary and prompt_word.text in vocabulary:
        return False  # two real words, not a word and its misspelling
    return (
        max(
            fuzz.ratio(topic_word.text, prompt_word.text),
            fuzz.ratio(topic_word.stem, prompt_word.stem),
        )
        >= FUZZY_MIN_RATIO
    )


def _lexical_span(
    topic_tokens: list[_Token], prompt_tokens: list[_Token], vocabulary: frozenset[str]
) -> tuple[int, int] | None:
    """Return the span of the prompt words that mention every content word of the topic, if any."""
    wanted = [token for token in topic_tokens if token.content]
    if not wanted:
        return None
    found = []
    for word in wanted:
        match = next((token for token in prompt_tokens if token.content and _same_word(word, token, vocabulary)), None)
        if match is None:
            return None
        found.append(match)
    return min(token.start for token in found), max(token.end for token in found)


@dataclass(frozen=True)
class _Pattern:
    """A lexicon term or exclusion: the accepted forms of each of its words, in order."""

    forms: tuple[frozenset[str], ...]
    #: Written with a hyphen ("sit-in", "brand-new"): its words must be joined in the prompt too.
    joined: bool


@dataclass(frozen=True)
class _LexiconTopic:
    id: str
    anchors: tuple[str, ...]
    terms: tuple[_Pattern, ...]
    exclusions: tuple[_Pattern, ...]


#: A curated neighbourhood of terms and look-alike exclusions (``lexicon_entry``), for topics and
#: for the policy's categories.
LexiconEntry = _LexiconTopic


class LexiconTermError(ValueError):
    """A lexicon term or exclusion does not read as words (``"1488"``, ``"#"``)."""


@dataclass(frozen=True)
class LexiconFind:
    """What ``lexicon_find`` found in a prompt, as spans of the prompt's reading (``reading.text``).

    ``span`` is the first affirmed term (``None`` if none); ``blocked`` the places of look-alikes
    and refused terms, widened by ``EXCLUSION_REACH`` words, which a model should not judge either.
    """

    span: tuple[int, int] | None
    blocked: tuple[tuple[int, int], ...]


_VOWELS = frozenset("aeiou")


def _word_forms(word: str) -> frozenset[str]:
    """Return ``word`` with its plurals and, from four letters on, its -ing and -ed forms.

    Narrower than ``_stem`` on purpose: "bar" must not find "bare" or "baring", nor "wine" "winning".
    """
    forms = {word, word + "s", word + "es"}
    if len(word) > 2 and word.endswith("y") and word[-2] not in _VOWELS:
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if len(word) >= 4 and word.isalpha():
        base = word[:-1] if word.endswith("e") and not word.endswith("ee") else word
        forms |= {base + "ing", base + "ed", word + "d"}
        if word[-1] not in _VOWELS and word[-1] not in "wxy" and word[-2] in _VOWELS and word[-3] not in _VOWELS:
            forms |= {word + word[-1] + "ing", word + word[-1] + "ed"}
    return frozenset(forms)


def _pattern(phrase: str) -> _Pattern | None:
    words = _phrase_words(phrase)
    return _pattern_of(words, phrase) if words else None


def _pattern_of(words: list[str], phrase: str) -> _Pattern:
    return _Pattern(forms=tuple(_word_forms(word) for word in words), joined="-" in phrase)


def _phrase_words(phrase: str) -> list[str]:
    """Return the words of ``phrase`` read as a prompt is (``moderation.text.plain_reading``)."""
    from moderation.text import plain_reading

    return [match.group() for match in _WORD_RE.finditer(plain_reading(phrase).text)]


def _strict_pattern(phrase: str) -> _Pattern:
    """Return the pattern of ``phrase``; raise ``LexiconTermError`` unless every part of it is a word.

    A term is read as the prompt is (``moderation.text.plain_reading``), where digits and symbols
    are word boundaries: "14 words" would silently become "words". Such terms belong in a regular
    expression instead.
    """
    from moderation.text import normalise_text

    def letters(text: str) -> str:
        return "".join(char for char in text if char.isalpha())

    words = _phrase_words(phrase)
    if (
        not words
        or any(char.isdigit() for char in phrase)
        or letters("".join(words)) != letters(normalise_text(phrase).text)
    ):
        raise LexiconTermError("%r does not read as words (digits and symbols belong in a keyword)" % phrase)
    return _pattern_of(words, phrase)


def lexicon_entry(entry_id: str, terms: Iterable[str], exclusions: Iterable[str] = ()) -> LexiconEntry:
    """Return a lexicon entry of ``terms`` and ``exclusions`` (phrases, matched word by word).

    Each word of a phrase also matches its plurals and -ing/-ed forms; a phrase written with a
    hyphen needs its words joined in the prompt too. Raise ``LexiconTermError`` for a phrase that
    does not read as words.
    """
    return _LexiconTopic(
        id=entry_id,
        anchors=(),
        terms=tuple(_strict_pattern(term) for term in terms),
        exclusions=tuple(_strict_pattern(phrase) for phrase in exclusions),
    )


def lexicon_words(entry: LexiconEntry) -> frozenset[str]:
    """Return ``entry``'s one-word terms as written in the lexicon (no plurals or -ing forms).

    What a masked word ("p**n") is read as first: a word a prompt hides, not a word that only
    means something inside a phrase ("pain" of "end the pain").
    """
    return frozenset(min(pattern.forms[0], key=len) for pattern in entry.terms if len(pattern.forms) == 1)


def lexicon_find(entries: Iterable[LexiconEntry], reading: Any) -> LexiconFind:
    """Return where the prompt read as ``reading`` (``moderation.text.plain_reading``) affirms a term of ``entries``.

    A term inside one of the entries' exclusions ("sex on the beach", "pint of milk") or refused
    in its clause ("no beer", "not naked", "alcohol-free") does not count.
    """
    span, blocked = _lexicon_scan(list(entries), _tokens(reading.text), reading.text, reading)
    return LexiconFind(span=span, blocked=tuple(blocked))


@functools.cache
def _lexicon() -> tuple[_LexiconTopic, ...]:
    """Return the curated topics of ``LEXICON_PATH``, read once per process."""
    data = json.loads(LEXICON_PATH.read_text(encoding="utf-8"))
    topics = []
    for topic_id, entry in data.items():
        if topic_id.startswith("_"):
            continue
        topics.append(
            _LexiconTopic(
                id=topic_id,
                anchors=tuple(entry["anchors"]),
                terms=tuple(filter(None, map(_pattern, entry["terms"]))),
                exclusions=tuple(filter(None, map(_pattern, entry.get("exclusions", ())))),
            )
        )
    return tuple(topics)


@functools.cache
def _lexicon_words() -> frozenset[str]:
    return frozenset(word for entry in _lexicon() for word in lexicon_words(entry))


def _topic_parts(text: str) -> list[str]:
    """Return ``text`` (a normalised topic) and its parts: "guns or weapons of any kind" gives "guns" ..."""
    parts = [text]
    for piece in re.split(r"[,;:/]|\b(?:or|and|nor)\b", text):
        piece = normalise_topic(piece)
        if piece and piece not in parts:
            parts.append(piece)
    return parts


def _lexicon_topics(texts: list[str], model: Any) -> list[list[_LexiconTopic]]:
    """Return, for each normalised topic, the lexicon topics it is about (by their anchors)."""
    lexicon = _lexicon()
    anchors = [(entry, anchor) for entry in lexicon for anchor in entry.anchors]
    parts = [_topic_parts(text) for text in texts]
    flat = [part for topic_parts in parts for part in topic_parts]
    vectors = embed_texts(flat + [anchor for _, anchor in anchors])
    similarities = vectors[: len(flat)] @ vectors[len(flat) :].T
    found: list[list[_LexiconTopic]] = []
    row = 0
    for topic_parts in parts:
        entries: dict[str, _LexiconTopic] = {}
        # Each part is about one subject at most: its nearest ("fighting" is violence, if also
        # close to "combat"; "political parties" is politics, not partying).
        for part_row in similarities[row : row + len(topic_parts)]:
            best = int(part_row.argmax())
            if part_row[best] >= LEXICON_MATCH_THRESHOLD:
                entries.setdefault(anchors[best][0].id, anchors[best][0])
        row += len(topic_parts)
        found.append(list(entries.values()))
    return found


def _occurrences(pattern: _Pattern, tokens: list[_Token], original: str, reading: Any) -> list[tuple[int, int]]:
    """Return ``(first, last + 1)`` token indexes of each place where ``pattern`` is in ``tokens``."""
    size = len(pattern.forms)
    places = []
    for first in range(len(tokens) - size + 1):
        if all(tokens[first + offset].text in forms for offset, forms in enumerate(pattern.forms)):
            if pattern.joined and size > 1:
                start, end = reading.original_span(tokens[first].start, tokens[first + size - 1].end)
                if any(char.isspace() for char in original[start:end]):
                    continue
            places.append((first, first + size))
    return places


def _negated(first: int, last: int, tokens: list[_Token], text: str, original: str, reading: Any) -> bool:
    """Say whether the term at tokens ``first``..``last - 1`` is refused by the prompt around it."""
    for index in range(first - 1, max(first - 1 - NEGATION_WINDOW, -1), -1):
        if _CLAUSE_PUNCTUATION_RE.search(text, tokens[index].end, tokens[index + 1].start):
            break
        if tokens[index].text in _NEGATIONS:
            return True
    if last < len(tokens) and tokens[last].text == "free":
        start, end = reading.original_span(tokens[last - 1].start, tokens[last].end)
        return "-" in original[start:end]
    return False


def _lexicon_scan(
    entries: list[_LexiconTopic], tokens: list[_Token], text: str, reading: Any
) -> tuple[tuple[int, int] | None, list[tuple[int, int]]]:
    """Return the first term of ``entries`` the prompt affirms, and the excluded or negated places.

    Both as character spans of the plain reading; a term inside an exclusion ("pint of milk")
    or refused ("no beer") does not count.
    """
    original = reading.original
    blocked: list[tuple[int, int]] = []
    found: list[tuple[int, int]] = []
    for entry in entries:
        excluded = [place for pattern in entry.exclusions for place in _occurrences(pattern, tokens, original, reading)]
        blocked.extend(excluded)
        for pattern in entry.terms:
            for first, last in _occurrences(pattern, tokens, original, reading):
                if any(a <= first and last <= b for a, b in excluded):
                    continue
                if _negated(first, last, tokens, text, original, reading):
                    blocked.append((first, last))
                    continue
                found.append((first, last))
    # Around a look-alike, the model's evidence is the look-alike ("drinking a cup of coffee").
    spans = [
        (tokens[max(first - EXCLUSION_REACH, 0)].start, tokens[min(last - 1 + EXCLUSION_REACH, len(tokens) - 1)].end)
        for first, last in blocked
    ]
    if not found:
        return None, spans
    first, last = min(found, key=lambda place: (place[0], -place[1]))
    return (tokens[first].start, tokens[last - 1].end), spans


def prompt_windows(prompt: str) -> list[tuple[int, int, str]]:
    """Return the parts of ``prompt`` compared with a text: ``(start, end, text)`` each, no repeats.

    The parts are the whole prompt, its clauses and its sliding word windows (``WINDOW_SIZES``);
    ``text`` is the part as the model reads it and ``(start, end)`` its span in the prompt
    without stop words at its ends. Parts made only of stop words are left out.
    """
    return [
        (segment.span[0], segment.span[1], prompt[segment.start : segment.end])
        for segment in _segments(prompt, _tokens(prompt))
    ]


def topic_hits(*, prompt: str, topics: list[str], threshold: float | None = None) -> list[TopicHit]:
    """Return the forbidden ``topics`` that ``prompt`` touches, in the order given.

    A topic about a subject of the curated lexicon ("drinking alcohol", "guns") hits when the prompt
    names one of its terms ("pint", "rifle"), not refused and not inside a look-alike ("pint of
    milk"), or when the sentence model is sure (``LEXICON_SEMANTIC_THRESHOLD``, look-alikes left
    out). Any topic hits semantically when its best cosine similarity with the prompt, a clause or a
    word window reaches ``threshold`` (default: the setting ``SIGILLO_TOPIC_THRESHOLD``), and
    lexically when all its content words appear in the prompt. Raise ``TextModelUnavailable``
    if the model cannot run.
    """
    normalised = [(topic, normalise_topic(topic)) for topic in topics]
    normalised = [(topic, text) for topic, text in normalised if text]
    if not normalised:
        return []
    if threshold is None:
        threshold = settings.SIGILLO_TOPIC_THRESHOLD

    from moderation.text import plain_reading

    model_dir = model_folder()
    model = model_load(model_dir)
    # Read the prompt as a person would ("dr1nking b33r" is drinking beer); spans map back to it.
    reading = plain_reading(prompt, prefer=_lexicon_words())
    text_of_prompt = reading.text
    prompt_tokens = _tokens(text_of_prompt)
    reading_segments = _segments(text_of_prompt, prompt_tokens)
    if not reading_segments:
        return []
    topic_texts = [text for _, text in normalised]
    segment_texts = [text_of_prompt[segment.start : segment.end] for segment in reading_segments]
    embeddings = model_encode(model, topic_texts + segment_texts)
    similarities = embeddings[: len(topic_texts)] @ embeddings[len(topic_texts) :].T
    lexicon_topics = _lexicon_topics(topic_texts, model)

    hits = []
    for row, (topic, text) in enumerate(normalised):
        scores = similarities[row].copy()
        row_threshold = threshold
        if lexicon_topics[row]:
            term, blocked = _lexicon_scan(lexicon_topics[row], prompt_tokens, text_of_prompt, reading)
            # Parts that hold a look-alike or a refused term are no evidence for the model either.
            for index, segment in enumerate(reading_segments):
                if any(start < segment.end and segment.start < end for start, end in blocked):
                    scores[index] = -1.0
            best = int(scores.argmax())
            score = float(scores[best])
            if term is not None and score < threshold:
                method = METHOD_LEXICON
                lexical = _lexical_span(_tokens(text), prompt_tokens, model_vocabulary(model_dir))
                if lexical is not None:
                    term, method = lexical, METHOD_LEXICAL
                hits.append(TopicHit(topic=topic, score=score, span=reading.original_span(*term), method=method))
                continue
            if term is None:
                row_threshold = max(threshold, LEXICON_SEMANTIC_THRESHOLD)
        best = int(scores.argmax())
        score = float(scores[best])
        if score >= row_threshold:
            span = reading.original_span(*reading_segments[best].span)
            hits.append(TopicHit(topic=topic, score=score, span=span, method=METHOD_SEMANTIC))
            continue
        lexical = _lexical_span(_tokens(text), prompt_tokens, model_vocabulary(model_dir))
        if lexical is not None:
            hits.append(TopicHit(topic=topic, score=score, span=reading.original_span(*lexical), method=METHOD_LEXICAL))
    return hits
