"""The web process never imports the heavy model libraries (STYLE.md, "Heavy models stay at the edges")."""

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "diffusers", "dlib", "insightface", "onnxruntime")
ROOT = Path(__file__).resolve().parents[2]


def test_url_configuration_imports_no_model_library():
    code = (
        "import django, json, sys; django.setup();"
        "import config.urls, config.wsgi;"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in %r)))" % (HEAVY,)
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )  # noqa: S603

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == []
