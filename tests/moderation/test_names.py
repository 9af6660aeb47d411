"""Registered names found in prompts despite evasion, and not in innocent prompts (moderation.names)."""

import random
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from consent.models import Likeness, LikenessStatus
from moderation.names import NameHit, NameIndex, find_names, normalise_text, registry_name_index, reset_name_index

#: The registered people: likeness id -> display name and aliases.
PEOPLE = {
    "robin": ["Robin Williams"],
    "obama": ["Barack Obama", "Obama"],
    "biden": ["Joe Biden"],
    "beyonce": ["Beyoncé Knowles", "Beyoncé"],
    "kit": ["Kit Harington"],
    "bush": ["George Bush", "Bush"],
    "rose": ["Rose Leslie"],
    "baker": ["Tom Baker"],
    "arnold": ["Arnold Schwarzenegger"],
}

#: Evasions: prompt, likeness that must be found, text of the prompt the hit must point at.
EVASIONS = [
    # case
    ("a portrait of robin williams", "robin", "robin williams"),
    ("ROBIN WILLIAMS on stage", "robin", "ROBIN WILLIAMS"),
    ("rObIn WiLlIaMs laughing", "robin", "rObIn WiLlIaMs"),
    ("obama at the beach", "obama", "obama"),
    # diacritics
    ("Beyonce singing", "beyonce", "Beyonce"),
    ("bëyoncé in a gown", "beyonce", "bëyoncé"),
    ("Róbín Wíllíáms", "robin", "Róbín Wíllíáms"),
    ("Barack Öbama", "obama", "Barack Öbama"),
    # Cyrillic and Greek look-alikes
    ("\u041eb\u0430m\u0430 waving", "obama", "\u041eb\u0430m\u0430"),  # Cyrillic О, а
    ("J\u043ee Bid\u0435n", "biden", "J\u043ee Bid\u0435n"),  # Cyrillic о, е
    ("\u039fbama on a horse", "obama", "\u039fbama"),  # Greek Ο
    ("K\u03b9t H\u03b1rington", "kit", "K\u03b9t H\u03b1rington"),  # Greek ι, α
    ("R\u043ebin Willi\u0430ms", "robin", "R\u043ebin Willi\u0430ms"),
    # zero-width, soft hyphens and other invisible characters
    ("Ob\u200bama", "obama", "Ob\u200bama"),
    ("Rob\u200cin Wil\u200dliams", "robin", "Rob\u200cin Wil\u200dliams"),
    ("Bey\u00adon\u00adcé", "beyonce", "Bey\u00adon\u00adcé"),
    ("\ufeffJoe\u2060 Biden", "biden", "Joe\u2060 Biden"),
    # full-width and mathematical letters (NFKC)
    ("\uff2f\uff42\uff41\uff4d\uff41 smiling", "obama", "\uff2f\uff42\uff41\uff4d\uff41"),
    (
        "\U0001d40e\U0001d41b\U0001d41a\U0001d426\U0001d41a",
        "obama",
        "\U0001d40e\U0001d41b\U0001d41a\U0001d426\U0001d41a",
    ),
    # leetspeak
    ("0b4m4 eating", "obama", "0b4m4"),
    ("R0b1n W1ll14m5", "robin", "R0b1n W1ll14m5"),
    ("joe b1d3n", "biden", "joe b1d3n"),
    ("j0e b!den", "biden", "j0e b!den"),
    ("b3y0nc3", "beyonce", "b3y0nc3"),
    ("@rnold $chw4rzenegger", "arnold", "@rnold $chw4rzenegger"),
    ("k1t h4r1ngt0n", "kit", "k1t h4r1ngt0n"),
    # spacing and punctuation inside names
    ("R o b i n  W i l l i a m s", "robin", "R o b i n  W i l l i a m s"),
    ("O b a m a giving a speech", "obama", "O b a m a"),
    ("r.o.b.i.n williams", "robin", "r.o.b.i.n williams"),
    ("B-e-y-o-n-c-e", "beyonce", "B-e-y-o-n-c-e"),
    ("robin-williams", "robin", "robin-williams"),
    ("robin_williams", "robin", "robin_williams"),
    ("joe.biden in a suit", "biden", "joe.biden"),
    ("kit - harington", "kit", "kit - harington"),
    # written as one word
    ("robinwilliams", "robin", "robinwilliams"),
    ("#JoeBiden rally", "biden", "JoeBiden"),
    ("KitHarington", "kit", "KitHarington"),
    ("R o b i n W i l l i a m s", "robin", "R o b i n W i l l i a m s"),
    # last name first
    ("Williams, Robin", "robin", "Williams, Robin"),
    ("Biden Joe at a desk", "biden", "Biden Joe"),
    ("harington, kit", "kit", "harington, kit"),
    # misspellings
    ("Robin Wiliams", "robin", "Robin Wiliams"),
    ("Barak Obamma", "obama", "Barak Obamma"),
    ("Joe Bidden", "biden", "Joe Bidden"),
    ("Arnold Schwarzeneger", "arnold", "Arnold Schwarzeneger"),
    ("Arnold Shwarzenegger", "arnold", "Arnold Shwarzenegger"),
    ("Kit Harrington", "kit", "Kit Harrington"),
    ("Obamma", "obama", "Obamma"),
    ("Beyoncee", "beyonce", "Beyoncee"),
    ("Robin Willaims", "robin", "Robin Willaims"),
    ("robinwiliams", "robin", "robinwiliams"),
    # spelled as it sounds
    ("Beyonsay", "beyonce", "Beyonsay"),
    ("Byonsay", "beyonce", "Byonsay"),
    ("Kit Harringtun", "kit", "Kit Harringtun"),
    ("Joe Baiden", "biden", "Joe Baiden"),
    # a one-word name that is an everyday word, read as a name
    ("a portrait of President Bush", "bush", "Bush"),
    ("paint Bush waving from a ranch", "bush", "Bush"),
    ("George Bush", "bush", "George Bush"),
    ("Tom Baker as the Doctor", "baker", "Tom Baker"),
    ("Rose Leslie in a castle", "rose", "Rose Leslie"),
    # stuck to digits or symbols
    ("obama2024", "obama", "obama"),
    ("@obama!", "obama", "obama"),
]

#: Prompts that must find nobody (name-like words, parts of names, words near names).
INNOCENT = [
    "a bush in the garden",
    "Bush fire on a hillside",  # sentence-initial capital: not read as a name (see known misses)
    "A BUSH IN THE GARDEN",
    "trim the bushes",
    "a baker icing a cake",
    "Tom bakes a cake",  # Tom is not Tom Baker; "bakes" is not matched to "Baker"
    "a golden retriever",
    "a rose in a vase",
    "a rose and a lily",
    "robins in a williams pear tree",
    "a robin on a branch",
    "will you paint a lighthouse",
    "I will draw a kit",
    "a leslie speaker cabinet",
    "the obamacare debate",  # a policy, not the person
    "a kit for harrington jackets",
    "a harrington jacket",
    "a first aid kit",
    "joe's diner at night",
    "a cup of joe",
    "tom and jerry cartoon style",
    "a tomcat on a fence",
    "george the giraffe",
    "barack-style architecture",  # one word of a two-word name
    "williams pears in a bowl",
    "serena williams forehand",  # another Williams
    "robin hood in sherwood forest",
    "Robin Hood and his merry men",
    "kit kat wrapper",
    "a baking competition",
    "baked bread",
    "a red bush",
    "a thorny rose bush",
    "golden hour photography",
    "graceful dancer",
    "joey fixed the bidet",
    "bidet in a bathroom",
    "an obelisk in a square",
    "bayonets in a museum",
    "beyond the horizon",
    "harrier jet over the sea",
    "a kite on the beach",
    "obtain a license",
    "a rosé wine glass",
    "rose leaves on a table",
    "tom-tom drums",
    "the leslie family picnic",
    "schwarz forest cake",
    "williamsburg bridge at dusk",
    "1080p render, 4k, 8k uhd",
    "a cat wearing a h4t",
    "r o b o t dancing",
    "a b c d e f",
    "",
]


@pytest.fixture(scope="module")
def index() -> NameIndex:
    return NameIndex((likeness, name) for likeness, names in PEOPLE.items() for name in names)


@pytest.mark.parametrize(("prompt", "likeness", "matched"), EVASIONS)
def test_evasion_is_found(index: NameIndex, prompt: str, likeness: str, matched: str) -> None:
    hits = find_names(prompt, index)
    found = [hit for hit in hits if hit.likeness_id == likeness]
    assert found, "%r found %r" % (prompt, hits)
    hit = found[0]
    assert hit.matched == matched
    assert prompt[hit.span[0] : hit.span[1]] == matched
    assert 0 < hit.score <= 1


def test_enough_cases() -> None:
    assert len(EVASIONS) >= 40
    assert len(INNOCENT) >= 40


@pytest.mark.parametrize("prompt", INNOCENT)
def test_innocent_prompt_finds_nobody(index: NameIndex, prompt: str) -> None:
    assert find_names(prompt, index) == []


@pytest.mark.parametrize(
    ("prompt", "method"),
    [
        ("Robin Williams", "exact"),
        ("Beyonce", "normalised"),
        ("0b4m4", "leet"),
        ("Robin Wiliams", "fuzzy"),
        ("Byonsay", "phonetic"),
        ("Williams, Robin", "reordered"),
        ("robinwilliams", "joined"),
    ],
)
def test_method_says_how_it_was_found(index: NameIndex, prompt: str, method: str) -> None:
    (hit,) = find_names(prompt, index)
    assert hit.method == method


def test_spans_point_at_the_original_prompt(index: NameIndex) -> None:
    prompt = "Draw \u200bB\u0430r\u0430ck  Ob\u00adama next to a bush, then K1t Harington and Beyoncé."
    hits = find_names(prompt, index)
    assert [(hit.likeness_id, hit.matched) for hit in hits] == [
        ("obama", "B\u0430r\u0430ck  Ob\u00adama"),
        ("kit", "K1t Harington"),
        ("beyonce", "Beyoncé"),
    ]
    for hit in hits:
        assert prompt[hit.span[0] : hit.span[1]] == hit.matched
    assert hits[0].name == "Barack Obama"
    assert hits[2].name == "Beyoncé"
    assert all(isinstance(hit, NameHit) for hit in hits)


def test_longer_name_hides_the_alias_inside_it(index: NameIndex) -> None:
    hits = find_names("Barack Obama and George Bush", index)
    assert [(hit.likeness_id, hit.name) for hit in hits] == [("obama", "Barack Obama"), ("bush", "George Bush")]


def test_several_people_in_one_prompt(index: NameIndex) -> None:
    hits = find_names("r0b1n williams hugging j.o.e b.i.d.e.n and kit harington", index)
    assert [hit.likeness_id for hit in hits] == ["robin", "biden", "kit"]


def test_normalise_text_maps_back_to_the_original() -> None:
    text = "X\u200bÉ\u0301ß\u041e"
    normalised = normalise_text(text)
    assert normalised.text == "xesso"
    assert len(normalised.offsets) == len(normalised.text)
    assert normalised.original_span(1, 2) == (2, 3)  # "e" came from "É"
    assert normalised.original_span(2, 4) == (4, 5)  # "ss" came from "ß"


def test_module_imports_no_heavy_library() -> None:
    code = (
        "import sys, moderation.names as m; m.common_words(); "
        "print(sorted(n for n in ('torch', 'dlib', 'onnxruntime', 'transformers') if n in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# -- Scale --------------------------------------------------------------------------------------

FIRST = (
    "james mary robert patricia john jennifer michael linda david elizabeth william barbara richard "
    "susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew betty "
    "anthony margaret mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle"
).split()
SYLLABLES = "ka lo mi ra ten vos bar del fin gor hal jun kes lam mor nev pil quo rus sta tor ul ven wex yor zan".split()


def synthetic_names(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """Return ``count`` (likeness id, "First Lastname") pairs with surnames made of 2 to 4 syllables."""
    rng = random.Random(seed)
    names: dict[str, str] = {}
    while len(names) < count:
        surname = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        name = "%s %s" % (rng.choice(FIRST).title(), surname.title())
        names.setdefault(name, "id%d" % len(names))
    return [(likeness, name) for name, likeness in names.items()]


def test_index_of_100k_names_finds_the_right_people() -> None:
    names = synthetic_names(100_000)
    big = NameIndex([*names, *((likeness, name) for likeness, names_ in PEOPLE.items() for name in names_)])
    assert len(big) >= 100_000
    rng = random.Random(11)
    for likeness, name in rng.sample(names, 200):
        first, last = name.split()
        hits = find_names("a photo of %s by the sea" % name, big)
        assert likeness in {hit.likeness_id for hit in hits}, name
        hits = find_names("%s, %s" % (last, first), big)
        assert likeness in {hit.likeness_id for hit in hits}, name
    for prompt, likeness, _matched in EVASIONS:
        assert likeness in {hit.likeness_id for hit in find_names(prompt, big)}, prompt
    # A misspelt synthetic surname (one letter doubled) still finds its person.
    likeness, name = names[123]
    first, last = name.split()
    misspelt = "%s %s%s" % (first, last[:3], last[2:])
    assert likeness in {hit.likeness_id for hit in find_names(misspelt, big)}


# -- The registry -------------------------------------------------------------------------------


@pytest.fixture
def fresh_index() -> Iterator[None]:
    reset_name_index()
    yield
    reset_name_index()


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_index")
def test_registry_index_holds_live_and_do_not_generate_names() -> None:
    active = Likeness.objects.create(display_name="Robin Williams", aliases=["Mork"], status=LikenessStatus.ACTIVE)
    revoked = Likeness.objects.create(display_name="Joe Biden", status=LikenessStatus.REVOKED)
    kept = Likeness.objects.create(
        display_name="Kit Harington", status=LikenessStatus.ERASED, do_not_generate=True, aliases=["Jon Snow"]
    )
    gone = Likeness.objects.create(display_name="Rose Leslie", status=LikenessStatus.ERASED)
    hits = find_names("Mork and j0e b1den with Jon Snow and Rose Leslie, plus robinwilliams")
    found = {hit.likeness_id for hit in hits}
    assert found == {str(active.id), str(revoked.id), str(kept.id)}
    assert str(gone.id) not in found


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_index")
def test_registry_change_is_picked_up_on_the_next_call() -> None:
    likeness = Likeness.objects.create(display_name="Robin Williams", status=LikenessStatus.ACTIVE)
    first = registry_name_index()
    assert find_names("Mrs Doubtfire") == []
    likeness.aliases = ["Mrs Doubtfire"]
    likeness.save()
    assert [hit.likeness_id for hit in find_names("Mrs Doubtfire")] == [str(likeness.id)]
    assert registry_name_index() is not first
    assert registry_name_index() is registry_name_index()  # unchanged registry: no rebuild
    added = Likeness.objects.create(display_name="Barack Obama", status=LikenessStatus.ACTIVE)
    assert [hit.likeness_id for hit in find_names("barack obama")] == [str(added.id)]
    likeness.status = LikenessStatus.ERASED
    likeness.save()
    assert find_names("Mrs Doubtfire") == []


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_index")
def test_sync_interval_skips_the_check(settings: Any) -> None:
    settings.SIGILLO_NAME_INDEX_SYNC_INTERVAL = 3600
    Likeness.objects.create(display_name="Robin Williams", status=LikenessStatus.ACTIVE)
    assert find_names("robin williams")
    Likeness.objects.create(display_name="Barack Obama", status=LikenessStatus.ACTIVE)
    assert find_names("barack obama") == []  # within the interval: the old index
    settings.SIGILLO_NAME_INDEX_SYNC_INTERVAL = 0
    assert find_names("barack obama")
