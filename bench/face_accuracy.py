"""Face accuracy of every engine on the shared photos and harder cases built from them.

Writes its section of ``docs/accuracy.md`` and the distance histograms ``docs/face-distances.png``.

The cases: every photo of ``../shared/faces`` (manifest.json: twelve people, three group photos),
each as it is and varied as the threat varies it: mirrored, turned 30 and 90 degrees, darkened,
scaled small and pasted into a wide 1920x1080 frame, half out of frame, re-encoded as a poor JPEG.

For each engine, with its configured thresholds:

* **detection**: the share of cases in which the engine finds at least one face;
* **true match**: for each case and each person listed in it, whether a face of the case matches
  that person's other photos (the photo itself is left out of the gallery, so this is always a
  different photograph of the person); people with no other photo are not counted;
* **false and near matches, leave one person out**: the gallery holds every original photo of
  every person, and each case is matched against the people *not* in it: as if the person in
  the photo were not registered, does anyone else come back? Counted per case;
* **distances**: genuine (same person, different photographs) and impostor (different people) —
  every face of every case against every gallery photo of every other person;
* **false-identification rate at scale**: the impostor distances fitted with a normal distribution
  (mean, standard deviation), whose lower tail gives the chance that one comparison with a stranger
  falls under a threshold; against N enrolled faces a probe is falsely identified with probability
  1 - (1 - p)^N. This is an extrapolation from about ten thousand impostor pairs of twelve people,
  and says so.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from bench import ROOT, machine, today
from consent.faces.base import fpir, normal_tail

FACES = ROOT.parent / "shared" / "faces"
PLOT = ROOT / "docs" / "face-distances.png"
REGISTRY_SIZES = (1_000, 10_000, 100_000, 1_000_000)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--face-engines", default="sface,insightface,dlib", help="comma-separated engines (face_accuracy)"
    )


def _rotate(angle: int) -> Any:
    return lambda image: image.rotate(angle, expand=True, fillcolor=(128, 128, 128))


def _small_in_wide(image: Image.Image) -> Image.Image:
    scale = 260 / max(image.size)
    small = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    canvas = Image.new("RGB", (1920, 1080), (70, 80, 90))
    canvas.paste(small, (1400, 600))
    return canvas


def _half_out(image: Image.Image) -> Image.Image:
    # The photos are framed on their subject: keeping the left 55 % cuts the face through the middle.
    return image.crop((0, 0, max(1, int(image.width * 0.55)), image.height))


def _jpeg(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=15)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


VARIATIONS = {
    "original": lambda image: image,
    "mirrored": ImageOps.mirror,
    "turned 30°": _rotate(30),
    "turned 90°": _rotate(90),
    "dark (×0.35)": lambda image: ImageEnhance.Brightness(image).enhance(0.35),
    "small in a wide frame": _small_in_wide,
    "half out of frame": _half_out,
    "JPEG quality 15": _jpeg,
}


def photos() -> dict[str, set[str]]:
    """Return every shared photo with the people listed in it."""
    manifest = json.loads((FACES / "manifest.json").read_text())
    listed: dict[str, set[str]] = {}
    for section in ("identities", "more_identities"):
        for person, files in manifest[section].items():
            for name in files:
                listed.setdefault(name, set()).add(person)
    for section in ("groups", "more_groups"):
        for name, people in manifest[section].items():
            listed.setdefault(name, set()).update(people)
    return listed


@dataclass
class EngineFigures:
    name: str
    model: str
    match: float
    review: float
    seconds: float = 0.0
    cases: dict[str, int] = field(default_factory=dict)
    detected: dict[str, int] = field(default_factory=dict)
    genuine_total: dict[str, int] = field(default_factory=dict)
    true_match: dict[str, int] = field(default_factory=dict)
    true_near: dict[str, int] = field(default_factory=dict)
    false_match: dict[str, int] = field(default_factory=dict)
    false_near: dict[str, int] = field(default_factory=dict)
    genuine: list[float] = field(default_factory=list)
    impostor: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    false_cases: list[str] = field(default_factory=list)
    at_size: dict[int, tuple[float, float]] = field(default_factory=dict)


def _engine(name: str) -> Any:
    from consent.faces import get_engine
    from consent.faces.insightface_engine import InsightFaceEngine, bundled_pack_dir, unavailable_reason

    if name == "insightface" and unavailable_reason() and bundled_pack_dir() is not None:
        engine = InsightFaceEngine(bundled_pack_dir())
        engine.load()
        return engine
    return get_engine(name)


def measure(name: str) -> EngineFigures:
    from consent.faces import load_image

    engine = _engine(name)
    listed = photos()
    originals = {path: load_image((FACES / path).read_bytes()) for path in listed}
    figures = EngineFigures(name=name, model=engine.model, match=engine.match_threshold, review=engine.review_threshold)
    started = time.perf_counter()
    # The gallery: the largest face of every single-person original photo.
    gallery: dict[str, list[tuple[str, np.ndarray]]] = {}
    for path, people in listed.items():
        if len(people) == 1 and not path.startswith("groups/"):
            faces = engine.analyze(originals[path])
            if faces:
                gallery.setdefault(next(iter(people)), []).append((path, faces[0].embedding))
    for variation, vary in VARIATIONS.items():
        for key in ("cases", "detected", "genuine_total", "true_match", "true_near", "false_match", "false_near"):
            getattr(figures, key)[variation] = 0
        for path, people in listed.items():
            faces = engine.analyze(vary(originals[path]))
            figures.cases[variation] += 1
            figures.detected[variation] += bool(faces)
            for person in people:
                others = [vector for source, vector in gallery.get(person, []) if source != path]
                if not others:
                    continue
                figures.genuine_total[variation] += 1
                best = min(
                    (engine.distance(face.embedding, vector) for face in faces for vector in others), default=9.0
                )
                if faces:
                    figures.genuine.append(best)
                if best <= figures.match:
                    figures.true_match[variation] += 1
                elif best <= figures.review:
                    figures.true_near[variation] += 1
                else:
                    figures.misses.append("%s (%s)" % (path, variation))
            closest = 9.0
            for person, entries in gallery.items():
                if person in people:
                    continue
                for face in faces:
                    for _, vector in entries:
                        distance = engine.distance(face.embedding, vector)
                        figures.impostor.append(distance)
                        closest = min(closest, distance)
            if closest <= figures.match:
                figures.false_match[variation] += 1
                figures.false_cases.append("%s (%s, match %.3f)" % (path, variation, closest))
            elif closest <= figures.review:
                figures.false_near[variation] += 1
                figures.false_cases.append("%s (%s, near match %.3f)" % (path, variation, closest))
    figures.seconds = time.perf_counter() - started
    figures.at_size = {size: engine.thresholds_at(size) for size in REGISTRY_SIZES}
    return figures


def _target() -> float:
    from django.conf import settings

    return settings.SIGILLO_FACE_FPIR_TARGET


def _rate(numerator: int, denominator: int) -> str:
    return "%d/%d (%.1f %%)" % (numerator, denominator, 100.0 * numerator / denominator) if denominator else "–"


def _plot(all_figures: list[EngineFigures]) -> None:
    """Draw each engine's genuine (green) and impostor (red) distance histograms, one panel each."""
    width, panel_height, margin = 900, 220, 40
    image = Image.new("RGB", (width, panel_height * len(all_figures) + 10), "white")
    draw = ImageDraw.Draw(image)
    bins = 60
    for row, figures in enumerate(all_figures):
        top = row * panel_height + 10
        values = figures.genuine + figures.impostor
        low, high = min(values), max(values)
        span = (high - low) or 1.0

        def x_of(value: float, low: float = low, span: float = span) -> float:
            return margin + (value - low) / span * (width - 2 * margin)

        base = top + panel_height - 45
        for values, colour in ((figures.impostor, (210, 60, 60)), (figures.genuine, (40, 150, 70))):
            counts, _ = np.histogram(values, bins=bins, range=(low, high))
            peak = max(int(counts.max()), 1)
            for index, count in enumerate(counts):
                if not count:
                    continue
                left = margin + index * (width - 2 * margin) / bins
                right = left + (width - 2 * margin) / bins - 1
                height = max(1.0, count / peak * (panel_height - 80))
                draw.rectangle([left, base - height, right, base], fill=colour)
        for threshold, colour in ((figures.match, (0, 0, 0)), (figures.review, (120, 120, 120))):
            x = x_of(threshold)
            draw.line([x, top + 20, x, base], fill=colour, width=2)
        draw.line([margin, base, width - margin, base], fill=(0, 0, 0))
        for tick in np.linspace(low, high, 7):
            draw.text((x_of(float(tick)) - 12, base + 4), "%.2f" % tick, fill=(0, 0, 0))
        draw.text(
            (margin, top + 2),
            "%s (%s): genuine (green, each peak scaled to the panel) and impostor (red) distances; "
            "match (black) %.2f, review (grey) %.2f" % (figures.name, figures.model, figures.match, figures.review),
            fill=(0, 0, 0),
        )
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    image.save(PLOT)


def run(options: argparse.Namespace) -> str:
    from consent.faces import EngineUnavailable

    names = [name.strip() for name in options.face_engines.split(",") if name.strip()]
    all_figures, skipped = [], []
    for name in names:
        try:
            all_figures.append(measure(name))
        except EngineUnavailable as error:
            skipped.append("%s (%s)" % (name, error))
    if all_figures:
        _plot(all_figures)
    lines = [
        "## Faces: detection and matching per engine",
        "",
        "Measured %s on %s by `python -m bench --only face_accuracy` (`bench/face_accuracy.py`, whose"
        " docstring gives the method). %d shared photos of twelve people and three group photos, each"
        " in %d forms; the thresholds are the engines' configured ones."
        % (today(), machine(), len(photos()), len(VARIATIONS)),
        "",
    ]
    if skipped:
        lines += ["Not measured: %s." % "; ".join(skipped), ""]
    lines += [
        "![Genuine and impostor distances per engine](face-distances.png)",
        "",
        "| engine | model | match / review | detection | true match | true near match | false match per probe |"
        " false near match per probe | genuine max | impostor min | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for figures in all_figures:
        total = {
            key: sum(getattr(figures, key).values())
            for key in ("cases", "detected", "genuine_total", "true_match", "true_near", "false_match", "false_near")
        }
        lines.append(
            "| %s | %s | %.2f / %.2f | %s | %s | %s | %s | %s | %.3f | %.3f | %.0f |"
            % (
                figures.name,
                figures.model,
                figures.match,
                figures.review,
                _rate(total["detected"], total["cases"]),
                _rate(total["true_match"], total["genuine_total"]),
                _rate(total["true_near"], total["genuine_total"]),
                _rate(total["false_match"], total["cases"]),
                _rate(total["false_near"], total["cases"]),
                max(figures.genuine, default=float("nan")),
                min(figures.impostor, default=float("nan")),
                figures.seconds,
            )
        )
    lines += ["", "### Per case", ""]
    lines += [
        "| case | " + " | ".join("%s detection / true match / false or near" % f.name for f in all_figures) + " |",
        "|---|" + "---|" * len(all_figures),
    ]
    for variation in VARIATIONS:
        cells = []
        for figures in all_figures:
            cells.append(
                "%d/%d · %d/%d · %d"
                % (
                    figures.detected[variation],
                    figures.cases[variation],
                    figures.true_match[variation],
                    figures.genuine_total[variation],
                    figures.false_match[variation] + figures.false_near[variation],
                )
            )
        lines.append("| %s | %s |" % (variation, " | ".join(cells)))
    lines += [
        "",
        "### False identification as the registry grows",
        "",
        "The impostor distances above, fitted with a normal distribution (mean ± sd): the chance that a"
        " stranger comes within the calibrated match threshold of *someone* among N enrolled faces"
        " (false-positive identification rate, FPIR = 1 - (1 - p)^N), extrapolated to N from the impostor"
        " pairs counted; then the match threshold the product uses at that size (`FaceEngine.thresholds_at`,"
        " from the fit recorded in the engine, FPIR target %g) and the share of genuine pairs (same person,"
        " other photograph, all eight forms) still within it." % _target(),
        "",
        "| engine | impostor pairs | mean ± sd | FPIR at the calibrated match, "
        + " / ".join(f"{size:,}" for size in REGISTRY_SIZES)
        + " | match threshold used, "
        + " / ".join(f"{size:,}" for size in REGISTRY_SIZES)
        + " | genuine pairs kept, "
        + " / ".join(f"{size:,}" for size in REGISTRY_SIZES)
        + " |",
        "|---|---|---|---|---|---|",
    ]
    for figures in all_figures:
        mean, deviation = statistics.fmean(figures.impostor), statistics.stdev(figures.impostor)
        rates = " / ".join("%.2g" % fpir(normal_tail(figures.match, mean, deviation), size) for size in REGISTRY_SIZES)
        used = [figures.at_size[size][0] for size in REGISTRY_SIZES]
        kept = " / ".join(
            "%.0f %%" % (100.0 * sum(1 for value in figures.genuine if value <= threshold) / len(figures.genuine))
            for threshold in used
        )
        lines.append(
            "| %s | %d | %.3f ± %.3f | %s | %s | %s |"
            % (
                figures.name,
                len(figures.impostor),
                mean,
                deviation,
                rates,
                " / ".join("%.3f" % value for value in used),
                kept,
            )
        )
    lines += [
        "",
        "### What still fails",
        "",
        "A case is *not matched* when no face of it comes within the match threshold of another photo of the"
        " person listed: either no face was found (a face cut through the eyes by the frame: *half out of"
        " frame* keeps the left 55 % of the photo), or the face found is too far from the person's other"
        " photos (a head turned and tilted at once, heavy stage make-up). A *false or near match* is a case in"
        " which a face comes within the review threshold of someone not in it. Per engine:",
        "",
    ]
    for figures in all_figures:
        lines.append(
            "- **%s** — not matched to their other photos (%d): %s. False or near matches (%d): %s."
            % (
                figures.name,
                len(figures.misses),
                ", ".join(figures.misses) or "none",
                len(figures.false_cases),
                ", ".join(figures.false_cases) or "none",
            )
        )
    return "\n".join(lines)


def write_section(name: str, section: str) -> None:
    from bench.redteam import write_section as write_accuracy

    write_accuracy(name, section)
