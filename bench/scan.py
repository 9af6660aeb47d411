"""Benchmark of the output scan per second of video: decoding and sampling, NudeNet, face matching.

The clips are real H.264 MP4s rendered by the animatic backend (``generation.backends.animatic``)
from the shared test photos (a title card, then each photo with a pan and zoom), and the same
backend's title card alone for clips without a face. Each clip goes through the product's scan:
``sample_video_frames`` at its default of one frame every 0.25 s (and every new shot), then
``output_scan`` with the default face engine and NudeNet, matching faces against a registry of real enrolled likenesses in the
database named by ``DATABASE_URL`` (migrated and filled on first use; give the benchmark a database
of its own).

A second, frame-by-frame pass over the same frames splits the face check into detection plus
embedding (``FaceEngine.analyze``) and the registry search (``consent.matching.face_match``: the
face index and the database lookup of the likenesses it returns).
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from bench import machine, today

DEFAULT_DURATIONS = (4, 10)
#: The animatic's default frame size, and 720p (the size of many video models' outputs).
DEFAULT_SIZES = ((640, 360), (1280, 720))
FPS = 12
#: Processes scanning at once in the throughput test (each its own worker process).
THROUGHPUT_PROCESSES = (1, 2)
#: Share of the machine's CPU time used by other processes above which the section says it was shared.
SHARED = 0.1
#: Photos shown in the clips with faces, in order: people who are all enrolled, from other photos.
CLIP_PHOTOS = (
    "obama/obama2.jpg",
    "groups/obama_and_biden_two_people.jpg",
    "alex_lacamoire/alex-lacamoire.png",
    "kit_harington/john1.jpg",
)
OWNER, MODERATOR = "bench-scan-owner", "bench-scan-moderator"
#: The registry: (display name, photo, protected). Self-registered likenesses belong to OWNER.
REGISTRY = (
    ("Kit Harington", "kit_harington/john1.jpg", False),
    ("Rose Leslie", "rose_leslie/img1.jpg", False),
    ("Alex Lacamoire", "alex_lacamoire/img1.jpg", False),
    ("Barack Obama", "obama/obama.jpg", True),
    ("Joe Biden", "biden/biden.jpg", True),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scan-repeats", type=int, default=3, help="timed scans of each clip after a warm-up (scan)")
    parser.add_argument(
        "--scan-durations",
        default=",".join(str(duration) for duration in DEFAULT_DURATIONS),
        help="comma-separated clip durations in seconds (scan)",
    )
    parser.add_argument(
        "--scan-sizes",
        default=",".join("%dx%d" % size for size in DEFAULT_SIZES),
        help="comma-separated frame sizes, e.g. 640x360,1280x720 (scan)",
    )


@dataclass(frozen=True)
class Clip:
    name: str
    data: bytes
    duration: float
    photos: int
    size: tuple[int, int]


def _cpu_seconds() -> tuple[float, float]:
    """Return (CPU seconds used by the whole machine, by this process and its finished children) so far."""
    from pathlib import Path

    machine_busy = 0.0
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        # user, nice, system, idle, iowait, irq, softirq, steal: everything but idle and iowait is busy.
        machine_busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    times = os.times()
    return machine_busy, times.user + times.system + times.children_user + times.children_system


def _percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def _database() -> str:
    """Migrate the benchmark's database and return its name; refuse to run on the default one."""
    from django.conf import settings
    from django.core.management import call_command

    if not os.environ.get("DATABASE_URL"):
        raise SystemExit(
            "The scan benchmark enrolls likenesses: give it a database of its own, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/sigillo_bench_scan python -m bench --only scan"
        )
    call_command("migrate", verbosity=0, interactive=False)
    database = settings.DATABASES["default"]
    return "%s %s" % (database["ENGINE"].rsplit(".", 1)[-1], database["NAME"])


def _user(username: str, roles: list[str]):  # noqa: ANN202
    from accounts.models import User
    from accounts.services import user_register

    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_register(username=username, password=secrets.token_urlsafe(24), roles=roles, operator=True)
    return user


def _registry(log) -> int:  # noqa: ANN001
    """Enroll the registry's likenesses once (kept in the database between runs); return the enrolled faces."""
    from django.test import override_settings

    from accounts.roles import Role
    from consent import services
    from consent.enrollment import PhotoInput
    from consent.models import Face, Likeness
    from tests.consent.faces import photo_bytes

    owner = _user(OWNER, [Role.RIGHTS_HOLDER, Role.CREATOR])
    moderator = _user(MODERATOR, [Role.MODERATOR])
    # Enrolment stores the photos encrypted; the scan needs only the embeddings in the database.
    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
        for display_name, path, protected in REGISTRY:
            if Likeness.objects.filter(display_name=display_name, created_by__username__in=[OWNER, MODERATOR]).exists():
                continue
            photos = [PhotoInput(name=path, data=photo_bytes(path))]
            if protected:
                likeness = services.likeness_register_protected(moderator=moderator, display_name=display_name)
                services.likeness_add_photos(actor=moderator, likeness=likeness, photos=photos)
            else:
                services.likeness_enroll(owner=owner, display_name=display_name, photos=photos)
            log("  enrolled %s" % display_name)
    return Face.objects.count()


def _frames_for(duration: float, photos: int) -> int:
    """Return the frames per photo that make an animatic of ``photos`` photos last about ``duration`` s."""
    if not photos:
        return round(duration * FPS)
    # Title card and photos last ``per_photo`` frames each and overlap by a cross-fade of FPS // 2.
    return round((duration * FPS + photos * (FPS // 2)) / (photos + 1))


def _clips(durations: list[int], sizes: list[tuple[int, int]]) -> list[Clip]:
    from generation.backends.animatic import AnimaticRequest, animatic_render
    from tests.consent.faces import photo_image

    clips = []
    for (width, height), duration in ((size, duration) for size in sizes for duration in durations):
        count = max(1, min(len(CLIP_PHOTOS), round(duration / 4)))
        for photos in ([photo_image(path) for path in CLIP_PHOTOS[:count]], []):
            per_photo = _frames_for(duration, len(photos))
            output = animatic_render(
                AnimaticRequest(
                    prompt="a storyboard for the scan benchmark",
                    kind="video",
                    photos=photos,
                    width=width,
                    height=height,
                    fps=FPS,
                    seconds_per_photo=per_photo / FPS,
                    seed=duration,
                )
            )
            content = "%d photo%s" % (len(photos), "s" * (len(photos) > 1)) if photos else "no face"
            name = "%dp, %d s, %s" % (height, duration, content)
            clips.append(
                Clip(name=name, data=output.data, duration=output.duration, photos=len(photos), size=(width, height))
            )
    return clips


def _scan_once(clip: Clip) -> dict:
    from generation.scan import output_scan
    from moderation.media import sample_video_frames

    started = time.perf_counter()
    frames = sample_video_frames(clip.data)
    sampled = time.perf_counter()
    result = output_scan(frames=frames, cameo_likeness_ids=set(), adult_allowed_ids=set())
    finished = time.perf_counter()
    return {
        "frames": len(frames),
        "decode": sampled - started,
        "scan": finished - sampled,
        "total": finished - started,
        "faces": result.timings["faces_s"],
        "nsfw": result.timings["nsfw_s"],
        "face_frames": len({face["frame"] for face in result.faces}),
        "detections": len(result.faces),
        "verdict": result.verdict,
        "reasons": sorted({reason["code"] for reason in result.reasons}),
    }


def _per_frame(clip: Clip, per_frame: dict[str, list[float]]) -> None:
    """Time the stages of the scan on each sampled frame, apart: detection + embedding, search, NudeNet."""
    from consent.faces import get_engine
    from consent.matching import face_match
    from generation.scan import nsfw_detect
    from moderation.media import sample_video_frames

    engine = get_engine()
    for frame in sample_video_frames(clip.data):
        t0 = time.perf_counter()
        faces = engine.analyze(frame.image)
        t1 = time.perf_counter()
        for face in faces:
            started = time.perf_counter()
            face_match(embedding=face.embedding, engine=engine)
            per_frame["search"].append(time.perf_counter() - started)
        t2 = time.perf_counter()
        nsfw_detect(frame.image)
        t3 = time.perf_counter()
        kind = "face" if faces else "none"
        per_frame["analyze_" + kind].append(t1 - t0)
        per_frame["nsfw_" + kind].append(t3 - t2)


def _throughput_worker(clip: Clip, repeats: int, barrier, results) -> None:  # noqa: ANN001
    """Scan ``clip`` ``repeats`` times in a fresh process, once every process is warm; report the time taken."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    _scan_once(clip)  # warm-up, as a worker process is after its first task
    barrier.wait()
    started = time.perf_counter()
    for _ in range(repeats):
        _scan_once(clip)
    results.put(time.perf_counter() - started)


def _throughput(clip: Clip, processes: int, repeats: int) -> float:
    """Return the video-seconds per minute that ``processes`` processes scanning at once get through."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # like separate worker processes: nothing shared but the database
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_throughput_worker, args=(clip, repeats, barrier, results)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    elapsed = [results.get(timeout=900) for _ in workers]
    for worker in workers:
        worker.join()
        if worker.exitcode:
            raise RuntimeError("a throughput process failed (exit code %s)" % worker.exitcode)
    return processes * repeats * clip.duration / max(elapsed) * 60


def run(options: argparse.Namespace) -> str:
    def log(message: str) -> None:
        print(message, flush=True)

    from consent.faces import get_engine
    from generation.scan import nsfw_detector

    started = time.monotonic()
    load_before = os.getloadavg()[0]
    cpu_before = _cpu_seconds()
    durations = [int(value) for value in options.scan_durations.split(",")]
    sizes = [tuple(int(side) for side in value.split("x")) for value in options.scan_sizes.split(",")]
    database = _database()
    enrolled = _registry(log)
    render_started = time.perf_counter()
    clips = _clips(durations, sizes)  # type: ignore[arg-type]
    log("  rendered %d clips in %.1f s" % (len(clips), time.perf_counter() - render_started))
    engine = get_engine()
    load_started = time.perf_counter()
    _, nsfw_model = nsfw_detector()
    nsfw_load = time.perf_counter() - load_started
    _scan_once(clips[0])  # warm-up: models, face index, database connection
    rows = []
    per_frame: dict[tuple[int, int], dict[str, list[float]]] = {}
    for clip in clips:
        runs = [_scan_once(clip) for _ in range(options.scan_repeats)]
        stages = per_frame.setdefault(
            clip.size, {key: [] for key in ("analyze_face", "analyze_none", "nsfw_face", "nsfw_none", "search")}
        )
        if clip.photos:  # its title card gives frames without a face too
            _per_frame(clip, stages)
        frames = runs[0]["frames"]
        row = {
            "clip": clip,
            "frames": frames,
            "face_frames": runs[0]["face_frames"],
            "detections": runs[0]["detections"],
            "verdict": runs[0]["verdict"],
            "reasons": runs[0]["reasons"],
            "decode": _percentiles([r["decode"] for r in runs]),
            "nsfw": _percentiles([r["nsfw"] / frames for r in runs]),
            "faces": _percentiles([r["faces"] / frames for r in runs]),
            "total": _percentiles([r["total"] for r in runs]),
            "per_second": _percentiles([r["total"] / clip.duration for r in runs]),
        }
        rows.append(row)
        log(
            "  %s: %d frames, whole scan p50 %.2f s = %.2f s per video second"
            % (clip.name, frames, row["total"][0], row["per_second"][0])
        )
    # Throughput of 1 and 2 processes on the longest clip with faces at the smallest size.
    target = max((clip for clip in clips if clip.photos and clip.size == clips[0].size), key=lambda c: c.duration)
    throughput = {}
    for processes in THROUGHPUT_PROCESSES:
        throughput[processes] = _throughput(target, processes, options.scan_repeats)
        log("  %d process(es) at once: %.0f video-seconds per minute" % (processes, throughput[processes]))
    load_after = os.getloadavg()[0]
    elapsed = time.monotonic() - started
    cpu_after = _cpu_seconds()
    others = max(0.0, (cpu_after[0] - cpu_before[0]) - (cpu_after[1] - cpu_before[1]))
    return _section(
        options=options,
        rows=rows,
        clips=clips,
        per_frame=per_frame,
        throughput=(target, throughput),
        engine=engine,
        nsfw_model=nsfw_model,
        nsfw_load=nsfw_load,
        enrolled=enrolled,
        database=database,
        load=(load_before, load_after),
        others=others / (elapsed * (os.cpu_count() or 1)),
        elapsed=elapsed,
    )


def _ms(pair: tuple[float, float]) -> str:
    return "%.0f / %.0f" % (pair[0] * 1000, pair[1] * 1000)


def _section(**data) -> str:  # noqa: ANN003
    from generation.scan import nsfw_threshold

    rows, per_frame, options = data["rows"], data["per_frame"], data["options"]
    lines = [
        "## Output scan of videos",
        "",
        "The product's scan of a generated video (`generation.scan`): `sample_video_frames`, then `output_scan` on"
        " every sampled frame — faces matched against the registry (`consent.matching.image_match`) and NudeNet.",
        "",
        "- **Machine:** %s; CPU only (no GPU). Load average %.1f before the run, %.1f after; other processes"
        " used %.0f %% of the machine's CPU time during the run%s. **Date:** %s; the whole run took %.0f s."
        % (
            machine(),
            data["load"][0],
            data["load"][1],
            data["others"] * 100,
            " (the machine was shared: the figures are slower than on an idle machine, the throughput test most)"
            if data["others"] > SHARED
            else "",
            today(),
            data["elapsed"],
        ),
        "- **Command:** `DATABASE_URL=postgres://postgres@127.0.0.1:5432/sigillo_bench_scan python -m bench --only scan`"
        " (`--scan-durations 4,10`, `--scan-sizes 640x360,1280x720`, `--scan-repeats 3` are the defaults)."
        " The benchmark migrates that database and enrolls its registry there on first use: give it a database of"
        " its own (it refuses to run without `DATABASE_URL`).",
        "- **Clips:** real H.264 MP4s (libx264, yuv420p, %d fps) rendered by the animatic backend: a title card, then"
        " shared test photos in turn (%s; one photo per 4 s of clip) with a pan and zoom and cross-fades; the"
        " *no face* clips are the title card alone. Faces appear only after the title card, so a clip with photos"
        " has sampled frames of both kinds (*frames with a face*: frames where the face engine found one)."
        % (FPS, ", ".join("`%s`" % path for path in CLIP_PHOTOS[: max(clip.photos for clip in data["clips"])])),
        "- **Registry:** %d likenesses with %d enrolled faces (%s) in the database (%s); the clips show other photos"
        " of the same people, so faces match and the verdict is a block, as for an output showing registered"
        " people without their consent. Face engine %s (%s); NudeNet %s (threshold %.2f, loaded in %.1f s)."
        % (
            len(REGISTRY),
            data["enrolled"],
            ", ".join(name for name, _, _ in REGISTRY),
            data["database"],
            data["engine"].name,
            data["engine"].model,
            data["nsfw_model"],
            nsfw_threshold(),
            data["nsfw_load"],
        ),
        "- **Sampling:** one frame every 0.25 s of presentation time, the first included, and the first frame of"
        " every new shot — `sample_video_frames`' defaults, the one sampler of checks, scans and `generation_scan`:"
        " **4 frames per second of video** at least, so that a face on screen for half a second is in at least two"
        " sampled frames. At most 240 frames: past 60 s of video the interval widens so that the whole video is"
        " still covered.",
        "- **Timing:** one warm-up scan (models loaded, face index built), then %d timed scans of each clip in this"
        " one process. *Decode + sample* is `sample_video_frames`; NudeNet and faces (detection, landmarks,"
        " embedding and registry search) are `output_scan`'s own timings divided by the sampled frames; *whole"
        " scan* is decode + sample + `output_scan`. p50 / p95 over the repetitions (with so few, p95 is about the"
        " slowest)." % options.scan_repeats,
        "",
        "| clip | video (s) | frames sampled | frames with a face | decode + sample p50 / p95 (ms) |"
        " NudeNet p50 / p95 (ms per frame) | faces p50 / p95 (ms per frame) | whole scan p50 / p95 (s) |"
        " **scan s per video s, p50 / p95** | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        clip = row["clip"]
        lines.append(
            "| %s | %.1f | %d | %d | %s | %s | %s | %.2f / %.2f | **%.2f / %.2f** | %s |"
            % (
                clip.name,
                clip.duration,
                row["frames"],
                row["face_frames"],
                _ms(row["decode"]),
                _ms(row["nsfw"]),
                _ms(row["faces"]),
                *row["total"],
                *row["per_second"],
                "%s (%s)" % (row["verdict"], ", ".join(row["reasons"])) if row["reasons"] else row["verdict"],
            )
        )
    lines += [
        "",
        "Per sampled frame, from a frame-by-frame pass over the frames of the clips with photos that times the face check's"
        " parts apart (`FaceEngine.analyze`: detection, alignment and embedding; `consent.matching.face_match`"
        " per face: the face index and the database lookup of the likenesses it returns):",
        "",
        "| frame size | frame | frames | detection + embedding p50 / p95 (ms) | registry search p50 / p95 (ms per face) |"
        " NudeNet p50 / p95 (ms) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for (width, height), stages in per_frame.items():
        for kind, label in (("face", "with a face"), ("none", "without a face")):
            if not stages["analyze_" + kind]:
                continue
            lines.append(
                "| %d×%d | %s | %d | %s | %s | %s |"
                % (
                    width,
                    height,
                    label,
                    len(stages["analyze_" + kind]),
                    _ms(_percentiles(stages["analyze_" + kind])),
                    _ms(_percentiles(stages["search"])) if kind == "face" and stages["search"] else "–",
                    _ms(_percentiles(stages["nsfw_" + kind])),
                )
            )
    target, throughput = data["throughput"]
    lines += [
        "",
        "- **Throughput:** the %s clip scanned %d times by each of 1 and 2 separate processes at once (spawned"
        " fresh, warmed up, then started together): %s."
        % (
            target.name,
            options.scan_repeats,
            "; ".join(
                "**%d process%s: %.0f video-seconds per minute**" % (count, "es" * (count > 1), value)
                for count, value in throughput.items()
            ),
        ),
        "",
        *_reading(rows, throughput, shared=data["others"] > SHARED),
    ]
    return "\n".join(lines)


def _reading(rows: list[dict], throughput: dict[int, float], *, shared: bool) -> list[str]:
    """Say what the figures mean for capacity."""
    lines = []
    for size in dict.fromkeys(row["clip"].size for row in rows):
        here = [row for row in rows if row["clip"].size == size]
        faces = [row for row in here if row["clip"].photos] or here
        worst = max(faces, key=lambda row: row["per_second"][0])
        blank = [row["per_second"][0] for row in here if not row["clip"].photos]
        cost = worst["per_second"][0]
        per_frame = worst["total"][0] / worst["frames"]
        lines.append(
            "- At %d×%d, scanning costs about **%.2f s per second of video** with faces on screen (p50, %s)%s: one"
            " scanning worker process handles about **%.0f video-seconds per minute**; a clip of a minute or more"
            " (240 sampled frames, the cap) takes about %.0f s, against the scan task's 600 s soft time limit."
            % (
                size[0],
                size[1],
                cost,
                worst["clip"].name,
                " and %.2f s without" % min(blank) if blank else "",
                60 / cost,
                240 * per_frame,
            )
        )
    single, most = throughput[min(throughput)], throughput[max(throughput)]
    lines += [
        "",
        "The face check runs on every sampled frame whether a face is there or not (the detector scans the whole"
        " frame — for sface, once upright at up to 1280 pixels and four times at 640 for faces on their side or"
        " upside down — so its cost follows the frame's pixels); each face found adds its alignment and embedding, and the registry search is a few milliseconds per face at this registry's size"
        " (exact search of 1M enrolled faces adds about 13 ms per face: see *Face search*). NudeNet resizes every"
        " frame to 320 pixels, so it costs about the same at any size. Decoding and sampling are a small share.",
        "",
        "Scanning scales by adding worker processes on the `scanning` queue (`celery -A config worker -Q"
        " scanning`), on as many CPU machines as needed: each output is scanned by one process, and processes share"
        " nothing but the database. The detector runs on about one core per call, so plan on about one scanning"
        " process per core, each handling the figure above for its frame size. On this 2-core machine %d processes"
        " at once got through %.0f video-seconds per minute against %.0f for one (×%.1f)%s."
        % (
            max(throughput),
            most,
            single,
            most / single,
            ", but other work was using the machine during this run, so this ratio is not an idle machine's"
            if shared
            else "",
        ),
    ]
    return lines
