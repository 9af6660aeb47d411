"""Benchmark of finding registered names in prompts (``moderation.names``) at 100, 10k and 100k names.

The product's own ``NameIndex`` is built from synthetic names ("First Lastname", surnames made of
2 to 4 random syllables, so that nearly every surname is distinct) plus a few real-looking ones
the evasive prompts aim at, without the database. For each size it measures the build time, the
memory the index takes, and ``find_names`` latency over a mix of innocent and evasive prompts.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from dataclasses import dataclass

import numpy as np

from bench import machine, rss_bytes, today

DEFAULT_SIZES = (100, 10_000, 100_000)
FIRST = (
    "james mary robert patricia john jennifer michael linda david elizabeth william barbara richard "
    "susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew betty "
    "anthony margaret mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle"
).split()
SYLLABLES = "ka lo mi ra ten vos bar del fin gor hal jun kes lam mor nev pil quo rus sta tor ul ven wex yor zan".split()
#: Names the evasive prompts aim at (registered at every size).
TARGETS = [
    ("robin", "Robin Williams"),
    ("obama", "Barack Obama"),
    ("obama", "Obama"),
    ("biden", "Joe Biden"),
    ("beyonce", "Beyoncé Knowles"),
    ("beyonce", "Beyoncé"),
    ("kit", "Kit Harington"),
    ("bush", "George Bush"),
    ("bush", "Bush"),
]
EVASIVE = [
    "a portrait of robin williams at sunset, oil on canvas, dramatic lighting",
    "\u041eb\u0430m\u0430 waving from a balcony in the rain",
    "Ob\u200bama giving a speech, 35mm photo",
    "0b4m4 eating an ice cream cone",
    "R0b1n W1ll14m5 as a pirate, highly detailed",
    "R o b i n  W i l l i a m s on a stage",
    "robin_williams and joe.biden playing chess in a park",
    "Williams, Robin, in a colourful sweater",
    "Barak Obamma shaking hands with a robot",
    "Joe Bidden riding a bicycle along the beach",
    "Kit Harrington in a snowy castle courtyard",
    "Byonsay performing in a stadium, confetti",
    "bëyoncé in a golden gown, studio portrait",
    "#RobinWilliams tribute mural on a brick wall",
    "a photo of President Bush at a ranch",
]
INNOCENT = [
    "a bush in the garden with red berries, watercolour",
    "a baker icing a cake in a sunny kitchen",
    "a golden retriever running through a field of flowers",
    "a rose in a glass vase on a wooden table, soft light",
    "will you paint a lighthouse on a cliff at dusk",
    "robins in a williams pear tree, spring morning",
    "a leslie speaker cabinet next to a hammond organ",
    "a kit for harrington jackets laid out on a table",
    "cyberpunk city street at night, neon reflections, 4k, ultra detailed",
    "a cat wearing a tiny crown sitting on a velvet cushion",
    "an astronaut riding a horse on the moon, digital art",
    "a bowl of ramen with steam rising, food photography",
    "the obamacare debate illustrated as a political cartoon",
    "a medieval knight standing guard at a castle gate, oil painting",
    "a watercolour of a fishing village with boats in the harbour at dawn",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("prompt_names")
    group.add_argument("--prompts", type=int, default=600, help="prompts timed per size (default 600)")
    group.add_argument("--name-seed", type=int, default=20260101)


@dataclass(frozen=True)
class Row:
    names: int
    likenesses: int
    build_s: float
    memory_mb: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    evasive_found: float
    innocent_clean: float
    synthetic_found: float
    prompts: int


def synthetic_names(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """Return ``count`` distinct (likeness id, "First Lastname") pairs."""
    names: dict[str, str] = {}
    while len(names) < count:
        surname = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        names.setdefault("%s %s" % (rng.choice(FIRST).title(), surname.title()), "id%d" % len(names))
    return [(likeness, name) for name, likeness in names.items()]


def _prompts(names: list[tuple[str, str]], count: int, rng: random.Random) -> list[tuple[str, str | None]]:
    """Return ``count`` prompts, a third of each kind, with what each should find ("evasive", a likeness or None)."""
    prompts: list[tuple[str, str | None]] = []
    while len(prompts) < count:
        kind = len(prompts) % 3
        if kind == 0:
            prompts.append((rng.choice(EVASIVE), "evasive"))
        elif kind == 1:
            prompts.append((rng.choice(INNOCENT), None))
        else:
            likeness, name = rng.choice(names)
            first, last = name.split()
            template = rng.choice(["a photo of %s at the beach", "%s, %s in a suit", "oil painting of %s"])
            text = template % ((last, first) if template.count("%s") == 2 else (name,))
            prompts.append((text, likeness))
    return prompts


def measure(size: int, options: argparse.Namespace, log) -> Row:
    from moderation.names import NameIndex, find_names

    rng = random.Random("%d-%d" % (options.name_seed, size))
    synthetic = synthetic_names(max(0, size - len(TARGETS)), rng)
    entries = [*TARGETS, *synthetic]
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    index = NameIndex(entries)
    build = time.perf_counter() - started
    gc.collect()
    memory = (rss_bytes() - before) / 2**20
    log("  %d names: built in %.2f s, %.0f MB" % (size, build, memory))
    prompts = _prompts(synthetic or TARGETS, options.prompts, rng)
    for prompt, _ in prompts[:20]:  # warm the per-character caches
        find_names(prompt, index)
    latencies = np.empty(len(prompts))
    evasive = innocent = synthetic_ok = 0
    counts = {"evasive": 0, "innocent": 0, "synthetic": 0}
    for position, (prompt, wanted) in enumerate(prompts):
        started = time.perf_counter()
        hits = find_names(prompt, index)
        latencies[position] = time.perf_counter() - started
        if wanted == "evasive":
            counts["evasive"] += 1
            evasive += bool(hits)
        elif wanted is None:
            counts["innocent"] += 1
            innocent += not hits
        else:
            counts["synthetic"] += 1
            synthetic_ok += wanted in {hit.likeness_id for hit in hits}
    row = Row(
        names=len(index),
        likenesses=index.likeness_count,
        build_s=build,
        memory_mb=memory,
        p50_ms=float(np.percentile(latencies, 50) * 1e3),
        p95_ms=float(np.percentile(latencies, 95) * 1e3),
        p99_ms=float(np.percentile(latencies, 99) * 1e3),
        max_ms=float(latencies.max() * 1e3),
        evasive_found=evasive / max(1, counts["evasive"]),
        innocent_clean=innocent / max(1, counts["innocent"]),
        synthetic_found=synthetic_ok / max(1, counts["synthetic"]),
        prompts=len(prompts),
    )
    log("  %d names: p50 %.3f ms, p95 %.3f ms" % (size, row.p50_ms, row.p95_ms))
    return row


def _size(size: int) -> str:
    if size >= 1000 and size % 1000 == 0:
        return "%dk" % (size // 1000)
    return str(size)


def run(options: argparse.Namespace) -> str:
    """Run the benchmark at every size and return its Markdown section."""
    sizes = tuple(options.sizes or DEFAULT_SIZES)

    def log(message: str) -> None:
        print(message, flush=True)

    started = time.monotonic()
    rows = []
    for size in sizes:
        log("prompt_names: %d names" % size)
        rows.append(measure(size, options, log))
        gc.collect()
    elapsed = time.monotonic() - started
    command = "python -m bench --only prompt_names --sizes %s" % ",".join(str(size) for size in sizes)
    lines = [
        "## Names in prompts",
        "",
        "`moderation.names.find_names` with a `NameIndex` built directly from synthetic names (no database).",
        "",
        "- **Machine:** %s." % machine(),
        "- **Date:** %s; the whole run took %.0f s." % (today(), elapsed),
        "- **Command:** `%s`." % command,
        "- **Names:** %d names aimed at by the evasive prompts (Robin Williams, Barack Obama and "
        '"Obama", Joe Biden, Beyoncé Knowles and "Beyoncé", Kit Harington, George Bush and "Bush") '
        'plus synthetic "First Lastname" names: 40 common first names, surnames of 2 to 4 random '
        "syllables out of 26 (nearly all distinct, so the fuzzy and phonetic indexes hold about as "
        "many surnames as there are names)." % len(TARGETS),
        "- **Prompts:** %d per size, one at a time, in turn: an evasive prompt (%d kinds: look-alike "
        "letters, zero-width characters, leetspeak, spaced letters, underscores, reversed order, "
        "misspellings, sound-alikes, hashtags), an innocent one (%d kinds: everyday words that are "
        "parts of names, ordinary image prompts) and a synthetic name in a short prompt (as written or "
        "last name first). Found: share of evasive prompts with a hit; clean: share of innocent "
        "prompts with none; synthetic: share of synthetic-name prompts that found that likeness."
        % (options.prompts, len(EVASIVE), len(INNOCENT)),
        "- **Memory:** growth of the process's resident memory while the index was built (every "
        "process that checks prompts holds its own index).",
        "",
        "| names | likenesses | build (s) | memory (MB) | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) "
        "| found | clean | synthetic | prompts |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        "| %s | %d | %.2f | %.0f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %d |"
        % (
            _size(row.names),
            row.likenesses,
            row.build_s,
            row.memory_mb,
            row.p50_ms,
            row.p95_ms,
            row.p99_ms,
            row.max_ms,
            row.evasive_found,
            row.innocent_clean,
            row.synthetic_found,
            row.prompts,
        )
        for row in rows
    ]
    first, last = rows[0], rows[-1]
    lines += [
        "",
        "From %s to %s names the median prompt goes from %.3f to %.3f ms (p95 %.3f to %.3f ms): candidates "
        "are gathered by hash lookups (token sequences, a deletion neighbourhood for misspellings, "
        "Metaphone keys), so the cost follows the prompt, not the registry. Building the index for %s "
        "names takes %.1f s and about %.0f MB per process; the registry's index is rebuilt when "
        "the registry changes (`SIGILLO_NAME_INDEX_SYNC_INTERVAL`)."
        % (
            _size(first.names),
            _size(last.names),
            first.p50_ms,
            last.p50_ms,
            first.p95_ms,
            last.p95_ms,
            _size(last.names),
            last.build_s,
            last.memory_mb,
        ),
    ]
    return "\n".join(lines)
