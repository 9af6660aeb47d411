"""Prompt policy: categories of content (sexual, minors, violence, hate ...) and what to do about them.

The rules live in a versioned JSON file, not in code: ``moderation/policies/default.json``, or
the operator's own file named by the setting ``SIGILLO_POLICY_FILE``. Each category has an
``action`` (``block``, ``review`` or ``allow``), a cosine ``threshold``, ``keywords`` (regular
expressions, matched case-insensitively), ``terms`` / ``exclusions`` / ``together`` (a curated
lexicon, below) and ``examples`` / ``counter_examples`` (phrases). A ``combinations`` section
names categories that, all found in one prompt (``all_of``, plus one of ``any_of`` if given),
make a category of their own (minors with sexual content or with suggestive content: always
blocked in the default file).

``policy_check`` finds the categories a prompt touches, three ways:

* keyword: a regular expression matches; the hit's span is the match;
* lexicon: one of the category's ``terms`` (curated words and phrases: "nekkid", "birthday
  suit", "unalive") is in the prompt, read as a person would, not inside one of its
  ``exclusions`` ("naked eye", "sex on the beach") and not refused ("not naked"); or, for each
  entry of ``together``, a term of every one of its groups is (a politician *and* "in
  handcuffs"). Matching is ``consent.topics.lexicon_find``'s: whole words, plurals and -ing/-ed
  forms; exclusions and refused terms also keep the model from judging the words around them;
* semantic: a part of the prompt (the whole, a clause, a word window; ``consent.topics``) is at
  least ``threshold`` close to one of the category's examples, and closer to it than to any
  counter-example; the hit's span is the closest part.

Every hit carries the policy's version and the sha256 of its file; ``policy_info`` gives them
for a prompt without hits. Hits of ``allow`` categories are returned too (callers ignore them;
combinations use them). The sentence model is the one of ``consent.topics``, loaded once per
process; if it cannot run the check raises ``TextModelUnavailable`` (``PolicyCheckUnavailable``)
and callers must treat the prompt as not passed. Importing this module imports no model library.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from consent import topics
from moderation import text_model
from moderation.text import NormalisedText, plain_reading
from moderation.text_model import TextModelUnavailable

if TYPE_CHECKING:
    import numpy as np

#: The policy used when the setting ``SIGILLO_POLICY_FILE`` is empty or absent.
DEFAULT_POLICY_FILE = Path(__file__).resolve().parent / "policies" / "default.json"

METHOD_KEYWORD = "keyword"
METHOD_LEXICON = "lexicon"
METHOD_SEMANTIC = "semantic"
METHOD_COMBINATION = "combination"

_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

#: The check cannot run (the sentence model is missing or broken): not passed, never "no hits".
PolicyCheckUnavailable = TextModelUnavailable


class PolicyAction(StrEnum):
    """What the gate does with a prompt in a category."""

    BLOCK = "block"
    REVIEW = "review"
    ALLOW = "allow"


class PolicyConfigError(Exception):
    """The policy file is missing, not JSON, or does not follow the schema; the message says where."""


@dataclass(frozen=True)
class PolicyCategory:
    """One category of the policy, as configured."""

    code: str
    label: str
    action: PolicyAction
    threshold: float
    keywords: tuple[re.Pattern[str], ...]
    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]
    #: ``terms`` and ``exclusions``, compiled (``None`` without terms).
    lexicon: topics.LexiconEntry | None = None
    #: Per ``together`` entry, one lexicon per group (sharing the category's exclusions).
    together: tuple[tuple[topics.LexiconEntry, ...], ...] = ()


@dataclass(frozen=True)
class PolicyCombination:
    """Categories that, all touched by one prompt, make a category of their own."""

    code: str
    label: str
    action: PolicyAction
    all_of: tuple[str, ...]
    #: If given, at least one of these must be touched too ("minors" with sexual content *or* suggestive).
    any_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    """A loaded policy file: its version, the sha256 of its bytes, its categories and combinations."""

    version: str
    sha256: str
    path: str
    categories: tuple[PolicyCategory, ...]
    combinations: tuple[PolicyCombination, ...]
    #: The one-word terms of the categories: what a masked word ("s*x") is read as first.
    words: frozenset[str] = frozenset()

    def category(self, code: str) -> PolicyCategory:
        """Return the category called ``code``; raise ``KeyError`` if there is none."""
        for category in self.categories:
            if category.code == code:
                return category
        raise KeyError(code)


@dataclass(frozen=True)
class PolicyHit:
    """A category the prompt touches.

    ``score`` is the cosine similarity of the closest part of the prompt to ``matched_example``
    (semantic), 1.0 for a keyword (``matched_example`` is then the matching text), and the lowest
    score of the parts for a combination. ``span`` is ``(start, end)`` in the prompt.
    """

    category: str
    action: PolicyAction
    score: float
    span: tuple[int, int]
    method: str
    matched_example: str
    policy_version: str
    policy_sha256: str


_lock = threading.Lock()
_policies: dict[tuple[str, int, int], Policy] = {}
# Embeddings of each category's examples and counter-examples, per (policy sha256, model folder).
_example_embeddings: dict[tuple[str, str], dict[str, tuple[np.ndarray, np.ndarray]]] = {}


def _fail(path: Path, where: str, message: str) -> PolicyConfigError:
    return PolicyConfigError("%s: %s: %s" % (path, where, message))


def _string_list(path: Path, where: str, value: Any, *, required: bool) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise _fail(path, where, "must be a list of non-empty strings")
    return tuple(item.strip() for item in value)


def _action(path: Path, where: str, value: Any) -> PolicyAction:
    if value is None:
        raise _fail(path, where, "is missing (one of block, review, allow)")
    try:
        return PolicyAction(value)
    except ValueError:
        raise _fail(path, where, "unknown action %r (one of block, review, allow)" % (value,)) from None


def _code(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str) or not _CODE_RE.match(value):
        raise _fail(path, where, "must be a lower-case identifier such as sexual_content, got %r" % (value,))
    return value


def _parse_category(path: Path, index: int, raw: Any) -> PolicyCategory:
    if not isinstance(raw, dict):
        raise _fail(path, "categories[%d]" % index, "must be an object")
    code = _code(path, "categories[%d].code" % index, raw.get("code"))
    where = "category %s" % code
    unknown = sorted(
        set(raw)
        - {
            "code",
            "label",
            "action",
            "threshold",
            "keywords",
            "terms",
            "exclusions",
            "together",
            "examples",
            "counter_examples",
        }
    )
    if unknown:
        raise _fail(path, where, "unknown field(s) %s" % ", ".join(unknown))
    label = raw.get("label", code)
    if not isinstance(label, str):
        raise _fail(path, where + ".label", "must be a string")
    action = _action(path, where + ".action", raw.get("action"))
    threshold = raw.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0.0 < threshold <= 1.0:
        raise _fail(path, where + ".threshold", "must be a number in (0, 1], got %r" % (threshold,))
    keywords = []
    for position, pattern in enumerate(_string_list(path, where + ".keywords", raw.get("keywords"), required=False)):
        try:
            keywords.append(re.compile(pattern, re.IGNORECASE))
        except re.error as error:
            raise _fail(
                path, "%s.keywords[%d]" % (where, position), "bad regular expression %r: %s" % (pattern, error)
            ) from error
    terms = _string_list(path, where + ".terms", raw.get("terms"), required=False)
    exclusions = _string_list(path, where + ".exclusions", raw.get("exclusions"), required=False)
    raw_together = raw.get("together", [])
    if not isinstance(raw_together, list):
        raise _fail(path, where + ".together", "must be a list of lists of term groups")
    groups_of: list[list[tuple[str, ...]]] = []
    for position, entry in enumerate(raw_together):
        entry_where = "%s.together[%d]" % (where, position)
        if not isinstance(entry, list) or len(entry) < 2:
            raise _fail(path, entry_where, "must be a list of at least two term groups")
        groups_of.append(
            [
                _string_list(path, "%s[%d]" % (entry_where, index), group, required=True)
                for index, group in enumerate(entry)
            ]
        )
    try:
        lexicon = topics.lexicon_entry(code, terms, exclusions) if terms else None
        together = tuple(
            tuple(topics.lexicon_entry(code, group, exclusions) for group in groups) for groups in groups_of
        )
    except topics.LexiconTermError as error:
        raise _fail(path, where + ".terms", str(error)) from error
    examples = _string_list(path, where + ".examples", raw.get("examples"), required=False)
    if not examples and not keywords and not terms and not together:
        raise _fail(path, where, "needs examples, keywords, terms or together")
    counter_examples = _string_list(path, where + ".counter_examples", raw.get("counter_examples"), required=False)
    return PolicyCategory(
        code=code,
        label=label,
        action=action,
        threshold=float(threshold),
        keywords=tuple(keywords),
        examples=examples,
        counter_examples=counter_examples,
        lexicon=lexicon,
        together=together,
    )


def _parse_combination(path: Path, index: int, raw: Any, codes: set[str]) -> PolicyCombination:
    if not isinstance(raw, dict):
        raise _fail(path, "combinations[%d]" % index, "must be an object")
    code = _code(path, "combinations[%d].code" % index, raw.get("code"))
    where = "combination %s" % code
    if code in codes:
        raise _fail(path, where, "has the code of a category")
    label = raw.get("label", code)
    if not isinstance(label, str):
        raise _fail(path, where + ".label", "must be a string")
    action = _action(path, where + ".action", raw.get("action"))
    unknown = sorted(set(raw) - {"code", "label", "action", "all_of", "any_of"})
    if unknown:
        raise _fail(path, where, "unknown field(s) %s" % ", ".join(unknown))
    all_of = _string_list(path, where + ".all_of", raw.get("all_of"), required=True)
    any_of = _string_list(path, where + ".any_of", raw.get("any_of"), required=False)
    if len(all_of) + min(len(any_of), 1) < 2:
        raise _fail(path, where + ".all_of", "must name at least two categories (with any_of)")
    missing = [name for name in all_of + any_of if name not in codes]
    if missing:
        raise _fail(path, where + ".all_of", "unknown categor(y/ies) %s" % ", ".join(missing))
    return PolicyCombination(code=code, label=label, action=action, all_of=all_of, any_of=any_of)


def parse_policy(data: bytes, *, path: Path) -> Policy:
    """Return the policy in the JSON ``data`` read from ``path``; raise ``PolicyConfigError`` if invalid."""
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _fail(path, "file", "is not valid JSON: %s" % error) from error
    if not isinstance(raw, dict):
        raise _fail(path, "file", "must hold a JSON object")
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        raise _fail(path, "version", "is missing (a non-empty string such as 2026-11-24.1)")
    raw_categories = raw.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        raise _fail(path, "categories", "must be a non-empty list")
    categories = [_parse_category(path, index, item) for index, item in enumerate(raw_categories)]
    codes: set[str] = set()
    for category in categories:
        if category.code in codes:
            raise _fail(path, "category %s" % category.code, "is defined twice")
        codes.add(category.code)
    raw_combinations = raw.get("combinations", [])
    if not isinstance(raw_combinations, list):
        raise _fail(path, "combinations", "must be a list")
    combinations = [_parse_combination(path, index, item, codes) for index, item in enumerate(raw_combinations)]
    return Policy(
        version=version.strip(),
        sha256=hashlib.sha256(data).hexdigest(),
        path=str(path),
        categories=tuple(categories),
        combinations=tuple(combinations),
        words=frozenset(
            word
            for category in categories
            for entry in ([category.lexicon] if category.lexicon else [])
            + [g for groups in category.together for g in groups]
            for word in topics.lexicon_words(entry)
        ),
    )


def policy_path() -> Path:
    """Return the policy file in force: the setting ``SIGILLO_POLICY_FILE``, or the default file."""
    configured = settings.SIGILLO_POLICY_FILE
    return Path(configured) if configured else DEFAULT_POLICY_FILE


def load_policy(path: Path | None = None) -> Policy:
    """Return the policy in ``path`` (default: ``policy_path()``), read again whenever the file changes.

    Raise ``PolicyConfigError`` if it cannot be read or is invalid.
    """
    path = path or policy_path()
    try:
        stat = path.stat()
    except OSError as error:
        raise _fail(path, "file", "cannot be read: %s" % error) from error
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    policy = _policies.get(key)
    if policy is not None:
        return policy
    try:
        data = path.read_bytes()
    except OSError as error:
        raise _fail(path, "file", "cannot be read: %s" % error) from error
    policy = parse_policy(data, path=path)
    with _lock:
        for stale in [cached for cached in _policies if cached[0] == key[0]]:
            del _policies[stale]
        _policies[key] = policy
    return policy


def policy_info(policy: Policy | None = None) -> dict[str, str]:
    """Return the version, sha256 and file name of the policy in force, to record with a decision
    (never the server path: a Decision is read by its requester)."""
    policy = policy or load_policy()
    return {"version": policy.version, "sha256": policy.sha256, "file": Path(policy.path).name}


def clear_policy_cache() -> None:
    """Forget the loaded policies and their example embeddings (tests, or after replacing the model)."""
    with _lock:
        _policies.clear()
        _example_embeddings.clear()


def _category_embeddings(policy: Policy) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return each category's example and counter-example embeddings, computed once per policy and model."""
    key = (policy.sha256, str(text_model.model_folder()))
    cached = _example_embeddings.get(key)
    if cached is not None:
        return cached
    texts: list[str] = []
    for category in policy.categories:
        texts.extend(category.examples)
        texts.extend(category.counter_examples)
    embeddings = text_model.embed_texts(texts)
    result: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    offset = 0
    for category in policy.categories:
        examples = embeddings[offset : offset + len(category.examples)]
        offset += len(category.examples)
        counters = embeddings[offset : offset + len(category.counter_examples)]
        offset += len(category.counter_examples)
        result[category.code] = (examples, counters)
    with _lock:
        _example_embeddings[key] = result
    return result


def _semantic_hit(
    category: PolicyCategory,
    policy: Policy,
    windows: list[tuple[int, int, str]],
    window_embeddings: np.ndarray,
    examples: np.ndarray,
    counters: np.ndarray,
    judged: np.ndarray,
) -> PolicyHit | None:
    if not len(examples) or not windows:
        return None
    similarities = window_embeddings @ examples.T  # windows x examples
    best_example = similarities.argmax(axis=1)
    best = similarities.max(axis=1)
    eligible = (best >= category.threshold) & judged
    if len(counters):
        # A part closer to a counter-example ("a mother breastfeeding") than to any example is not a hit.
        eligible &= best > (window_embeddings @ counters.T).max(axis=1)
    if not eligible.any():
        return None
    window = int((best * eligible).argmax())
    start, end, _ = windows[window]
    return PolicyHit(
        category=category.code,
        action=category.action,
        score=float(best[window]),
        span=(start, end),
        method=METHOD_SEMANTIC,
        matched_example=category.examples[int(best_example[window])],
        policy_version=policy.version,
        policy_sha256=policy.sha256,
    )


def _keyword_hit(category: PolicyCategory, policy: Policy, prompt: str, reading: NormalisedText) -> PolicyHit | None:
    """Match the category's keywords in the prompt as written, then in its plain reading."""
    for pattern in category.keywords:
        match = pattern.search(prompt)
        span = (match.start(), match.end()) if match is not None else None
        if match is None or match.end() == match.start():
            match = pattern.search(reading.text)
            span = reading.original_span(match.start(), match.end()) if match is not None else None
        if match is not None and span is not None and match.end() > match.start():
            return PolicyHit(
                category=category.code,
                action=category.action,
                score=1.0,
                span=span,
                method=METHOD_KEYWORD,
                matched_example=match.group(),
                policy_version=policy.version,
                policy_sha256=policy.sha256,
            )
    return None


def _lexicon_hit(category: PolicyCategory, policy: Policy, reading: NormalisedText) -> tuple[PolicyHit | None, list]:
    """Return the category's lexicon hit (a term, or every group of a ``together`` entry) and the blocked places.

    Blocked places (look-alikes, refused terms) are spans of ``reading.text``.
    """
    blocked: list[tuple[int, int]] = []
    span = None
    if category.lexicon is not None:
        found = topics.lexicon_find([category.lexicon], reading)
        blocked.extend(found.blocked)
        span = found.span
    for groups in category.together:
        if span is not None:
            break
        finds = [topics.lexicon_find([group], reading) for group in groups]
        for found in finds:
            blocked.extend(found.blocked)
        places = [found.span for found in finds]
        if all(place is not None for place in places):
            span = (min(place[0] for place in places if place), max(place[1] for place in places if place))
    if span is None:
        return None, blocked
    start, end = reading.original_span(*span)
    hit = PolicyHit(
        category=category.code,
        action=category.action,
        score=1.0,
        span=(start, end),
        method=METHOD_LEXICON,
        matched_example=reading.original[start:end],
        policy_version=policy.version,
        policy_sha256=policy.sha256,
    )
    return hit, blocked


def policy_check(prompt: str, *, policy: Policy | None = None) -> list[PolicyHit]:
    """Return the categories of the policy in force that ``prompt`` touches, in the policy's order.

    One hit per category (a keyword hit before a semantic one), then one per combination whose
    categories were all hit. ``allow`` categories are included. Raise ``PolicyConfigError`` if
    the policy file is invalid and ``TextModelUnavailable`` if the sentence model cannot run.
    """
    import numpy

    policy = policy or load_policy()
    embeddings = _category_embeddings(policy)  # loads the model: fails closed even for an empty prompt
    # The model reads the prompt as a person would: "a n4ked man" is "a naked man" (moderation.text).
    reading = plain_reading(prompt, prefer=policy.words)
    reading_windows = topics.prompt_windows(reading.text)
    windows = [(*reading.original_span(start, end), text) for start, end, text in reading_windows]
    window_embeddings = text_model.embed_texts([text for _, _, text in windows]) if windows else None

    hits: dict[str, PolicyHit] = {}
    for category in policy.categories:
        hit = _keyword_hit(category, policy, prompt, reading)
        blocked: list[tuple[int, int]] = []
        if hit is None:
            hit, blocked = _lexicon_hit(category, policy, reading)
        if hit is None and window_embeddings is not None:
            examples, counters = embeddings[category.code]
            # A window holding a look-alike or a refused term ("naked eye", "not naked") is no evidence.
            judged = numpy.array(
                [not any(a < end and start < b for a, b in blocked) for start, end, _ in reading_windows], dtype=bool
            )
            hit = _semantic_hit(category, policy, windows, window_embeddings, examples, counters, judged)
        if hit is not None:
            hits[category.code] = hit

    for combination in policy.combinations:
        parts = [hits.get(code) for code in combination.all_of]
        alternatives = [hits[code] for code in combination.any_of if code in hits]
        if any(part is None for part in parts) or (combination.any_of and not alternatives):
            continue
        found = [part for part in parts if part is not None] + alternatives[:1]
        hits[combination.code] = PolicyHit(
            category=combination.code,
            action=combination.action,
            score=min(part.score for part in found),
            span=(min(part.span[0] for part in found), max(part.span[1] for part in found)),
            method=METHOD_COMBINATION,
            matched_example=" + ".join(part.matched_example for part in found),
            policy_version=policy.version,
            policy_sha256=policy.sha256,
        )
    return list(hits.values())
