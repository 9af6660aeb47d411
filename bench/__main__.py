"""Run the benchmarks and write their figures into docs/benchmarks.md.

python -m bench                                   # every benchmark, default sizes
python -m bench --only face_search --sizes 10000,100000,1000000
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

#: Benchmark name -> module with ``add_arguments(parser)`` (optional) and ``run(options) -> str``.
BENCHMARKS = {
    "face_search": "bench.face_search",
    "prompt_names": "bench.prompt_names",
    "gate": "bench.gate",
    "scan": "bench.scan",
    "release": "bench.release",
    "redteam": "bench.redteam",
    "face_accuracy": "bench.face_accuracy",
    "image_check": "bench.image_check",
    "cold_start": "bench.cold_start",
}


def main(argv: list[str] | None = None) -> int:
    # The benchmarks use the product's own classes, whose modules need Django's app registry.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated benchmarks to run (%s)" % ", ".join(BENCHMARKS))
    parser.add_argument("--sizes", help="comma-separated sizes, e.g. 10000,100000,1000000")
    parser.add_argument("--no-write", action="store_true", help="print the sections instead of writing the doc")
    modules = {name: importlib.import_module(path) for name, path in BENCHMARKS.items()}
    for module in modules.values():
        if hasattr(module, "add_arguments"):
            module.add_arguments(parser)
    options = parser.parse_args(argv)
    options.sizes = [int(size.replace("_", "")) for size in options.sizes.split(",")] if options.sizes else None
    wanted = options.only.split(",") if options.only else list(BENCHMARKS)
    unknown = sorted(set(wanted) - set(BENCHMARKS))
    if unknown:
        parser.error("unknown benchmark: %s" % ", ".join(unknown))

    from bench import write_section

    for name in wanted:
        started = time.monotonic()
        print("== %s" % name, flush=True)
        section = modules[name].run(options)
        if options.no_write:
            print(section)
        else:
            # A module with its own writer (redteam: docs/accuracy.md) writes its own document.
            getattr(modules[name], "write_section", write_section)(name, section)
            print("== %s done in %.0f s" % (name, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
