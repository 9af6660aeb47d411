"""Descriptors of registered likenesses, found in prompts on the real sentence model."""

import dataclasses
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from accounts.roles import Role
from consent import services
from consent.models import Likeness, LikenessStatus
from moderation import descriptors, text_model
from moderation.descriptors import DescriptorHit, find_descriptors, get_index, model_info
from moderation.text_model import TextModelUnavailable

pytestmark = pytest.mark.django_db

REGISTRY = {
    "kit": ["the actor who played Jon Snow in Game of Thrones"],
    "obama": ["the 44th president of the United States"],
    "robin": ["the actor who played the Genie in Aladdin"],
    "taylor": ["the singer of Shake It Off"],
    "elon": ["the founder of a rocket company who wants to colonise Mars"],
    "angela": ["the first female chancellor of Germany"],
}

# (prompt, who it describes, a word its span must contain). Scores at the default threshold 0.62:
# the lowest is 0.69 ("forty-fourth US president").
POSITIVES = [
    ("the guy who was Jon Snow", "kit", "Jon Snow"),
    ("Game of Thrones' Jon Snow actor drinking coffee", "kit", "Snow"),
    ("the actor from Game of Thrones who played Jon Snow, on a beach", "kit", "Jon Snow"),
    ("Jon Snow's actor riding a bike", "kit", "Snow"),
    ("the forty-fourth US president playing basketball", "obama", "president"),
    ("America's 44th president at a barbecue", "obama", "44th president"),
    ("the comedian who voiced the Genie in Aladdin", "robin", "Genie"),
    ("the guy who did the voice of Aladdin's genie, laughing", "robin", "genie"),
    ("the singer who sang Shake It Off, on stage", "taylor", "sang Shake"),
    ("the billionaire who wants to go to Mars with his rockets", "elon", "Mars"),
    ("Germany's first woman chancellor eating a pretzel", "angela", "chancellor"),
]

# Describe no one in the registry: generic descriptions that fit many people, things that share
# a word with a descriptor, and other people. Without the generic filter, "a German politician at
# a press conference" (0.61), "the president of France at a dinner" (0.59), "the actor who played
# Harry Potter" (0.60) and "a president giving a speech" (0.59) come close to the threshold; with
# it the highest here is 0.56 ("a genie coming out of a magic lamp").
NEGATIVES = [
    "an actor on a film set",
    "a president giving a speech",
    "a singer on stage with a microphone",
    "a billionaire on his yacht",
    "an astronaut walking on Mars",
    "a German politician at a press conference",
    "a man in a medieval costume with a sword in the snow",
    "a fantasy TV show with dragons",
    "a genie coming out of a magic lamp",
    "a basketball player dunking",
    "the president of France at a dinner",
    "a woman dancing at a concert",
    "a comedian telling jokes",
    "a rocket launching at sunrise",
    "Nadia reading a book in a quiet library",
    "the actor who played Harry Potter",
    "the singer of Bohemian Rhapsody",
    "a snowman in the garden",
]

# Should not hit, and do: a different person of the same kind, told apart only by a number (0.67).
OVERMATCHES = ["the 16th president of the United States giving the Gettysburg address"]
# Should hit, and do not: knowing who came after whom is beyond a sentence model (0.44).
MISSES = [("the president who came after George W. Bush", "obama")]


@pytest.fixture(autouse=True)
def _fresh_index(settings: Any) -> Iterator[None]:
    settings.SIGILLO_DESCRIPTOR_INDEX_SYNC_INTERVAL = 0.0
    settings.SIGILLO_SENTENCE_MODEL_DIR = ""
    descriptors.reset_index()
    yield
    descriptors.reset_index()


@pytest.fixture
def moderator(make_user: Any) -> Any:
    return make_user(Role.MODERATOR, username="mod")


@pytest.fixture
def registry(moderator: Any) -> SimpleNamespace:
    return SimpleNamespace(
        **{
            key: services.likeness_register_protected(
                moderator=moderator, display_name="%s Doe" % key.title(), descriptors=texts
            )
            for key, texts in REGISTRY.items()
        }
    )


@pytest.mark.parametrize(("prompt", "who", "span_word"), POSITIVES, ids=[case[0] for case in POSITIVES])
def test_paraphrases_of_a_descriptor_hit(
    settings: Any, registry: SimpleNamespace, prompt: str, who: str, span_word: str
) -> None:
    hits = find_descriptors(prompt)

    assert [hit.likeness_id for hit in hits] == [getattr(registry, who).pk]
    [hit] = hits
    assert hit.descriptor == REGISTRY[who][0]
    assert hit.method == "semantic"
    assert settings.SIGILLO_DESCRIPTOR_THRESHOLD <= hit.score <= 1.0
    assert span_word in prompt[slice(*hit.span)]


@pytest.mark.parametrize("prompt", NEGATIVES)
def test_generic_or_unrelated_prompts_do_not_hit(registry: SimpleNamespace, prompt: str) -> None:
    assert find_descriptors(prompt) == []


@pytest.mark.xfail(strict=True, reason="known over-match: a different person of the same kind")
@pytest.mark.parametrize("prompt", OVERMATCHES)
def test_known_overmatches(registry: SimpleNamespace, prompt: str) -> None:
    assert find_descriptors(prompt) == []


@pytest.mark.xfail(strict=True, reason="known miss: needs world knowledge")
@pytest.mark.parametrize(("prompt", "who"), MISSES)
def test_known_misses(registry: SimpleNamespace, prompt: str, who: str) -> None:
    assert [hit.likeness_id for hit in find_descriptors(prompt)] == [getattr(registry, who).pk]


def test_a_generic_descriptor_never_hits(moderator: Any) -> None:
    """A descriptor that fits many people singles no one out (hits would be noise)."""
    services.likeness_register_protected(moderator=moderator, display_name="Sam Someone", descriptors=["a president"])

    assert find_descriptors("a president giving a speech") == []


def test_a_hit_is_frozen_and_the_threshold_comes_from_settings(registry: SimpleNamespace, settings: Any) -> None:
    [hit] = find_descriptors("the guy who was Jon Snow")
    assert isinstance(hit, DescriptorHit)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.score = 0.0  # type: ignore[misc]

    settings.SIGILLO_DESCRIPTOR_THRESHOLD = 0.99

    assert find_descriptors("the guy who was Jon Snow") == []
    assert find_descriptors("the guy who was Jon Snow", threshold=0.5) != []


def test_several_likenesses_in_one_prompt_come_back_closest_first(registry: SimpleNamespace) -> None:
    hits = find_descriptors("the guy who was Jon Snow shaking hands with America's 44th president")

    assert {hit.likeness_id for hit in hits} == {registry.kit.pk, registry.obama.pk}
    assert hits[0].score >= hits[1].score


def test_words_that_name_or_better_describe_someone_else_describe_nobody_else(moderator: Any) -> None:
    obama = services.likeness_register_protected(
        moderator=moderator, display_name="Barack Obama", descriptors=["the 44th president of the United States"]
    )
    biden = services.likeness_register_protected(
        moderator=moderator,
        display_name="Joe Biden",
        descriptors=["Barack Obama's vice president", "the 46th president of the United States"],
    )
    named = "Barack Obama doing a crossword puzzle in a cafe"

    # Without the name, "Barack Obama" reads as Biden's descriptor; the name says who it is.
    assert biden.pk in {hit.likeness_id for hit in find_descriptors(named, names=[])}
    assert find_descriptors(named) == []
    assert [hit.likeness_id for hit in find_descriptors("the 46th president of the USA eating ice cream")] == [biden.pk]
    assert obama.pk in {hit.likeness_id for hit in find_descriptors("Obama's vice president and the 44th president")}


def test_the_index_picks_up_a_new_descriptor(registry: SimpleNamespace, moderator: Any) -> None:
    prompt = "the lead singer of Queen on stage at Live Aid"
    assert find_descriptors(prompt) == []
    size = len(get_index())

    freddie = services.likeness_register_protected(
        moderator=moderator, display_name="Freddie Mercury", descriptors=["the frontman of Queen"]
    )

    assert [hit.likeness_id for hit in find_descriptors(prompt)] == [freddie.pk]
    assert len(get_index()) == size + 1

    # An edited descriptor replaces the old one.
    services.likeness_update(actor=moderator, likeness=freddie, descriptors=["the winner of the 1998 Tour de France"])
    assert find_descriptors(prompt) == []
    assert [hit.likeness_id for hit in find_descriptors("the cyclist who won the Tour de France in 1998")] == [
        freddie.pk
    ]


def test_within_the_sync_interval_the_registry_is_not_checked(
    registry: SimpleNamespace, moderator: Any, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.SIGILLO_DESCRIPTOR_INDEX_SYNC_INTERVAL = 3600.0
    find_descriptors("a portrait")
    services.likeness_register_protected(
        moderator=moderator, display_name="Freddie Mercury", descriptors=["the frontman of Queen"]
    )

    with django_assert_num_queries(0):
        assert find_descriptors("the lead singer of Queen") == []

    settings.SIGILLO_DESCRIPTOR_INDEX_SYNC_INTERVAL = 0.0
    assert find_descriptors("the lead singer of Queen") != []


def test_erased_likenesses_are_matched_only_when_kept_as_do_not_generate(
    registry: SimpleNamespace, moderator: Any
) -> None:
    # Erased with "keep my name": a do-not-generate entry, still enforced.
    services.likeness_erase(actor=moderator, likeness=registry.kit, keep_name=True)
    assert [hit.likeness_id for hit in find_descriptors("the guy who was Jon Snow")] == [registry.kit.pk]

    # Erased without it, with its descriptors left on the row (a dispute rejected): not matched.
    obama = Likeness.objects.get(pk=registry.obama.pk)
    obama.status, obama.do_not_generate = LikenessStatus.ERASED, False
    obama.save()
    assert obama.descriptors == REGISTRY["obama"]
    assert find_descriptors("America's 44th president at a barbecue") == []

    # Erased the ordinary way: the descriptors are gone.
    services.likeness_erase(actor=moderator, likeness=registry.robin)
    assert find_descriptors("the comedian who voiced the Genie in Aladdin") == []


def test_a_deleted_likeness_leaves_the_index(registry: SimpleNamespace) -> None:
    assert find_descriptors("the singer who sang Shake It Off")
    Likeness.objects.filter(pk=registry.taylor.pk).delete()

    assert find_descriptors("the singer who sang Shake It Off") == []


def test_an_empty_registry_or_prompt_has_no_hits(registry: SimpleNamespace) -> None:
    assert find_descriptors("") == []
    assert find_descriptors("   ...  ") == []
    Likeness.objects.all().delete()
    assert find_descriptors("the guy who was Jon Snow") == []


def test_a_missing_model_fails_closed(registry: SimpleNamespace, settings: Any, tmp_path: Any) -> None:
    text_model.clear_model_cache()
    settings.SIGILLO_SENTENCE_MODEL_DIR = str(tmp_path / "missing")

    with pytest.raises(TextModelUnavailable):
        find_descriptors("the guy who was Jon Snow")
    with pytest.raises(TextModelUnavailable):
        find_descriptors("")
    Likeness.objects.all().delete()
    with pytest.raises(TextModelUnavailable):
        find_descriptors("a portrait")  # nothing to match, and still not "no hits" without a model

    settings.SIGILLO_SENTENCE_MODEL_DIR = ""
    assert find_descriptors("a portrait") == []


def test_model_info_is_the_sentence_model_of_the_topic_check() -> None:
    assert model_info() == text_model.model_info()
    assert model_info()["name"] == "sentence-transformers/all-MiniLM-L6-v2"
