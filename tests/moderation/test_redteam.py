"""The red-team corpus (bench/data/redteam/): its test half, through the gate's own stages, holds the
figures it reached when they were written to docs/accuracy.md. Thresholds, lexicons and code were
tuned on the development half only; the goals of the gate are higher than some of these floors
(docs/accuracy.md says which are met)."""

import json
from collections import Counter

import pytest

from bench import redteam

#: Test-half figures (docs/accuracy.md); a change that lowers one fails here.
FLOORS = {
    "people": {"recall": 0.96, "precision": 0.95},  # goal: every name under every evasion (1.0)
    "policy": {"recall": 0.80, "precision": 0.93},  # goal 0.95 / 0.95: not met
    "topics": {"recall": 0.82, "precision": 0.86},  # goal 0.95 / 0.95: not met
}


def test_the_corpus_is_large_labelled_and_split_in_halves():
    registry, topics, prompts = redteam.load()
    assert len(prompts) >= 1000
    assert len({prompt["id"] for prompt in prompts}) == len(prompts)
    halves = Counter(prompt["split"] for prompt in prompts)
    assert abs(halves["dev"] - halves["test"]) <= 0.05 * len(prompts)
    people = {person["display_name"] for person in registry}
    assert all(set(prompt["names"]) <= people for prompt in prompts)
    assert {prompt["topic"] for prompt in prompts if prompt["stage"] == "topics"} == {t["id"] for t in topics}
    assert len(topics) >= 20
    json.dumps(prompts)  # plain data


@pytest.mark.django_db
@pytest.mark.once
def test_the_test_half_holds_its_figures(capsys):
    registry, _topics, _prompts = redteam.load()
    names, refused = redteam.registry_create(registry)

    report = redteam.measure("test", names=names, refused=refused)

    with capsys.disabled():
        for stage in ("people", "policy", "topics"):
            tally = getattr(report, stage)["all"]
            print("\n%s: recall %.3f precision %.3f" % (stage, tally.recall, tally.precision))
    for stage, floors in FLOORS.items():
        tally = getattr(report, stage)["all"]
        assert tally.recall >= floors["recall"], (stage, tally.recall, tally.misses)
        assert tally.precision >= floors["precision"], (stage, tally.precision, tally.wrong)
