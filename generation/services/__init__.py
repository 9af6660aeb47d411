"""The generation pipeline: request (gate) → render → scan the output → re-check consent → release.

``request`` takes a request through the gate, ``render`` runs its backend, ``release`` scans,
re-checks consent, marks, signs and releases. Each step is a service called by a thin Celery task
with the generation's id. Steps lock the row and check its status first, so a redelivered task
never runs a step twice or releases twice.
"""

from generation.services.release import (
    SeenFaces,
    generation_output_download,
    generation_release,
    generation_scan,
)
from generation.services.render import ANIMATIC_MODEL, OUTPUT_FOLDER, generation_generate
from generation.services.request import (
    BACKENDS,
    MIN_SIZE,
    REFERENCE_FOLDER,
    generation_after_consent_answer,
    generation_after_review,
    generation_expire_waiting,
    generation_fail,
    generation_gate,
    generation_request,
    generation_time_limit,
)

__all__ = [
    "ANIMATIC_MODEL",
    "BACKENDS",
    "MIN_SIZE",
    "OUTPUT_FOLDER",
    "REFERENCE_FOLDER",
    "SeenFaces",
    "generation_after_consent_answer",
    "generation_after_review",
    "generation_expire_waiting",
    "generation_fail",
    "generation_gate",
    "generation_generate",
    "generation_output_download",
    "generation_release",
    "generation_request",
    "generation_scan",
    "generation_time_limit",
]
