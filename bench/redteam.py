"""Red-team accuracy of the prompt gate on the labelled corpus in ``bench/data/redteam/``.

Every prompt goes through the product's own stage functions, against a registry made by the
product's own services from ``registry.json`` (names, aliases, descriptors and handles of 22
people, as protected entries): registered names (``moderation.names``), ``@handle`` mentions
(``consent.handles``), descriptors (``moderation.descriptors``), policy categories
(``moderation.policy``) and forbidden topics (``consent.topics``). Figures are reported per
stage and class, for the development half (tuned on) and the test half (never tuned on).

``python -m bench --only redteam`` writes its section of ``docs/accuracy.md``; the suite's
``tests/moderation/test_redteam.py`` holds the test half to the figures reached.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import ROOT, machine, today

DATA = ROOT / "bench" / "data" / "redteam"
ACCURACY_DOC = ROOT / "docs" / "accuracy.md"
#: Stages whose prompts are about finding people (by name, handle or description).
PEOPLE_STAGES = ("names", "handles", "descriptors")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--redteam-split", default="dev,test", help="halves of the corpus to measure")


def load() -> tuple[list[dict[str, Any]], list[dict[str, str]], list[dict[str, Any]]]:
    """Return the red-team registry, topics and prompts."""
    registry = json.loads((DATA / "registry.json").read_text(encoding="utf-8"))
    topics = json.loads((DATA / "topics.json").read_text(encoding="utf-8"))
    prompts = [json.loads(line) for line in (DATA / "prompts.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return registry, topics, prompts


def registry_create(registry: list[dict[str, Any]]) -> tuple[dict[str, str], list[str]]:
    """Register every person of ``registry`` as a protected entry; return id → display name, and refusals.

    Names go through the same validation as any registration: an alias the product refuses (too
    short, a common word alone) is left out and listed.
    """
    from django.core.exceptions import ValidationError

    from accounts.models import User
    from accounts.roles import Role
    from accounts.services import user_register
    from consent import services
    from consent.models import Likeness

    moderator = User.objects.filter(username="redteam-moderator").first() or user_register(
        username="redteam-moderator",
        password=secrets.token_urlsafe(16),
        display_name="Red-team moderator",
        roles=(Role.MODERATOR,),
        operator=True,
    )
    names: dict[str, str] = {}
    refused: list[str] = []
    for person in registry:
        aliases = list(person.get("aliases", []))
        while True:
            try:
                likeness = services.likeness_register_protected(
                    moderator=moderator,
                    display_name=person["display_name"],
                    aliases=aliases,
                    descriptors=person.get("descriptors", []),
                )
                break
            except ValidationError as error:
                bad = _refused_aliases(error, aliases)
                if not bad:
                    raise
                refused += ["%s (alias of %s)" % (alias, person["display_name"]) for alias in bad]
                aliases = [alias for alias in aliases if alias not in bad]
        Likeness.objects.filter(pk=likeness.pk).update(handle=person["handle"])
        names[str(likeness.pk)] = person["display_name"]
    return names, refused


def _refused_aliases(error: Any, aliases: list[str]) -> list[str]:
    messages = " ".join(str(message) for message in getattr(error, "messages", [str(error)]))
    return [alias for alias in aliases if repr(alias) in messages or ('"%s"' % alias) in messages or alias in messages]


@dataclass
class Tally:
    """Counts for one group of prompts."""

    prompts: int = 0
    positives: int = 0
    caught: int = 0
    flagged: int = 0  # prompts with any prediction
    false_alarms: int = 0  # prompts with a wrong prediction
    misses: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.caught / self.positives if self.positives else None

    @property
    def precision(self) -> float | None:
        return (self.flagged - self.false_alarms) / self.flagged if self.flagged else None


@dataclass
class Report:
    split: str
    people: dict[str, Tally]  # by class, plus "all"
    policy: dict[str, Tally]  # by category, plus "all"
    topics: dict[str, Tally]  # by topic id, plus "all"
    refused: list[str]
    seconds: float


def measure(split: str, *, names: dict[str, str], refused: list[str]) -> Report:
    """Run every prompt of ``split`` through the stages; the registry must exist (``registry_create``)."""
    from consent.handles import mentions_resolve
    from consent.topics import topic_hits
    from moderation.descriptors import find_descriptors
    from moderation.names import find_names, registry_name_index
    from moderation.policy import load_policy, policy_check

    _registry, topics, prompts = load()
    topic_text = {topic["id"]: topic["text"] for topic in topics}
    # The categories the corpus labels (an operator's extra category, or "suggestive", which the
    # corpus does not label, is not counted either way).
    labelled = {code for prompt in prompts for code in prompt["policy"]}
    categories = {category.code for category in load_policy().categories} & labelled
    prompts = [prompt for prompt in prompts if prompt["split"] == split]
    people: dict[str, Tally] = defaultdict(Tally)
    policy: dict[str, Tally] = defaultdict(Tally)
    topic_tallies: dict[str, Tally] = defaultdict(Tally)
    started = time.monotonic()
    index = registry_name_index()
    for item in prompts:
        prompt = item["prompt"]
        if item["stage"] in PEOPLE_STAGES:
            name_hits = find_names(prompt, index)
            found = {names.get(str(hit.likeness_id)) for hit in name_hits}
            found |= {names.get(str(hit.likeness_id)) for hit in find_descriptors(prompt, names=name_hits)}
            mentioned, _unknown = mentions_resolve(prompt)
            found |= {names.get(str(likeness.pk)) for likeness in mentioned}
            found.discard(None)
            expected = set(item["names"])
            for key in (item["class"], "all"):
                _count(people[key], item["id"], prompt, expected=bool(expected), predicted=bool(found),
                       right=expected <= found, wrong=bool(found - expected))  # fmt: skip
        hits = {hit.category for hit in policy_check(prompt)} & categories
        expected_categories = set(item["policy"])
        for category in sorted(categories):
            expected, predicted = category in expected_categories, category in hits
            if expected or predicted or item["stage"] == "policy":
                _count(policy[category], item["id"], prompt, expected=expected, predicted=predicted,
                       right=predicted, wrong=predicted and not expected, count_prompt=expected or predicted)  # fmt: skip
        _count(policy["all"], item["id"], prompt, expected=bool(expected_categories), predicted=bool(hits),
               right=expected_categories <= hits, wrong=bool(hits - expected_categories))  # fmt: skip
        if item["stage"] == "topics":
            hit = bool(topic_hits(prompt=prompt, topics=[topic_text[item["topic"]]]))
            for key in (item["topic"], "all"):
                _count(topic_tallies[key], item["id"], prompt, expected=item["hit"], predicted=hit,
                       right=hit, wrong=hit and not item["hit"])  # fmt: skip
    return Report(
        split=split,
        people=dict(people),
        policy=dict(policy),
        topics=dict(topic_tallies),
        refused=refused,
        seconds=time.monotonic() - started,
    )


def _count(
    tally: Tally,
    ident: str,
    prompt: str,
    *,
    expected: bool,
    predicted: bool,
    right: bool,
    wrong: bool,
    count_prompt: bool = True,
) -> None:
    if count_prompt:
        tally.prompts += 1
    if expected:
        tally.positives += 1
        if right:
            tally.caught += 1
        else:
            tally.misses.append("%s: %s" % (ident, prompt))
    if predicted:
        tally.flagged += 1
        if wrong:
            tally.false_alarms += 1
            tally.wrong.append("%s: %s" % (ident, prompt))


def _figure(value: float | None) -> str:
    return "—" if value is None else "%.3f" % value


def _table(title: str, tallies: dict[str, Tally], label: str) -> list[str]:
    lines = [
        "**%s**" % title,
        "",
        "| %s | prompts | positives | recall | flagged | precision | false alarms |" % label,
        "|---|---|---|---|---|---|---|",
    ]
    for key in sorted(tallies, key=lambda key: (key == "all", key)):
        tally = tallies[key]
        lines.append(
            "| %s | %d | %d | %s | %d | %s | %d |"
            % (
                "**all**" if key == "all" else key,
                tally.prompts,
                tally.positives,
                _figure(tally.recall),
                tally.flagged,
                _figure(tally.precision),
                tally.false_alarms,
            )
        )
    return [*lines, ""]


def report_markdown(reports: list[Report]) -> str:
    lines = [
        "Measured %s on %s, with `python -m bench --only redteam`." % (today(), machine()),
        "",
        "- **Data:** `bench/data/redteam/` (README there): labelled prompts written for this purpose, split into "
        "a development half (thresholds, lexicons and code were tuned on it) and a test half (never looked at "
        "while tuning). Registry: 22 people as protected entries made by the product's services (names, "
        "aliases, descriptors, handles).",
        "- **People:** a prompt naming, mentioning (`@handle`) or describing registered people counts as caught "
        "when every one of them is found by the names, handles or descriptors stage; recall is over those "
        "prompts, precision over the prompts where anybody was found (a false alarm finds someone not meant).",
        "- **Policy:** per category over every prompt of the half (each carries its categories); *all* counts a "
        "prompt caught when every expected category is found.",
        "- **Topics:** each prompt against the one forbidden topic it tests (hits and look-alikes).",
        "",
    ]
    for report in reports:
        lines += ["### %s half (%.0f s)" % (report.split.capitalize(), report.seconds), ""]
        if report.refused:
            lines += ["Aliases the product refused at registration: %s." % ", ".join(report.refused), ""]
        lines += _table("People (names, handles, descriptors), by evasion class", report.people, "class")
        lines += _table("Policy, by category", report.policy, "category")
        lines += _table("Forbidden topics, by topic", report.topics, "topic")
        if report.split == "test":
            misses = [m for tally in (report.people, report.policy, report.topics) for m in tally["all"].misses]
            wrong = [w for tally in (report.people, report.policy, report.topics) for w in tally["all"].wrong]
            lines += ["Test-half misses: %d; false alarms: %d (listed by `tests/moderation/test_redteam.py -s`)." % (
                len(misses), len(wrong)), ""]  # fmt: skip
    return "\n".join(lines)


def run(options: argparse.Namespace) -> str:
    """Measure inside a transaction that is rolled back: the registry never stays in the database."""
    from django.db import transaction

    registry, _topics, _prompts = load()
    reports = []
    with transaction.atomic():
        names, refused = registry_create(registry)
        for split in getattr(options, "redteam_split", "dev,test").split(","):
            reports.append(measure(split, names=names, refused=refused))
        transaction.set_rollback(True)
    return report_markdown(reports)


def write_section(name: str, section: str, doc: Path = ACCURACY_DOC) -> None:
    """Write ``section`` between the markers of ``name`` in docs/accuracy.md (added at the end if absent)."""
    start, end = "<!-- accuracy:%s:start -->" % name, "<!-- accuracy:%s:end -->" % name
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Accuracy\n"
    block = "%s\n%s\n%s" % (start, section.strip(), end)
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")
