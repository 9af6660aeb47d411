"""Benchmarks of Sigillo's hot paths, run with ``python -m bench`` (``make bench``).

Each benchmark module has ``run(options) -> str``, returning its Markdown section; ``python -m
bench`` writes that section into ``docs/benchmarks.md`` between ``<!-- bench:NAME:start -->`` and
``<!-- bench:NAME:end -->``, leaving the other benchmarks' sections as they are.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
DOC_HEADER = (
    "# Benchmarks\n\n"
    "Figures measured by `python -m bench` (`make bench`) on the machine named in each section. Each\n"
    "benchmark rewrites only its own section, between its `<!-- bench:NAME:start/end -->` markers.\n"
)


def machine() -> str:
    """Describe this machine: CPU model, cores, memory, Python and NumPy."""
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = ", %.0f GB RAM" % (int(line.split()[1]) / 1024**2)
                break
    except OSError:
        pass
    return "%s, %d cores%s; Python %s, NumPy %s" % (
        cpu,
        os.cpu_count() or 1,
        memory,
        platform.python_version(),
        np.__version__,
    )


def today() -> str:
    return datetime.datetime.now(tz=datetime.UTC).date().isoformat()


def rss_bytes() -> int:
    """Return this process's resident memory (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def write_section(name: str, markdown: str, *, path: Path = DOC) -> None:
    """Replace the section of benchmark ``name`` in ``path`` (append it when absent)."""
    start, end = "<!-- bench:%s:start -->" % name, "<!-- bench:%s:end -->" % name
    block = "%s\n%s\n%s" % (start, markdown.strip(), end)
    text = path.read_text() if path.exists() else DOC_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
