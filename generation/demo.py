"""Demo activity for `make run`: a released cameo, a blocked attempt and a review in the queue.

With it, every page of every role has something to show on a fresh install: Kit's rights holder
sees who used his face, the creator has a result in the gallery, the moderator has a flag with
its evidence. Runs the jobs in this process (the animatic backend, no model weights), once.
"""

from pathlib import Path

from django.conf import settings

from accounts.models import User
from consent.models import Likeness
from generation import services
from generation.models import Generation
from moderation.gate import MediaInput, gate_check


def demo_activity_seed() -> list[str]:
    """Create the demo activity once (when there is none yet); return a line describing each item."""
    if Generation.objects.exists():
        return []
    creator = User.objects.get(username="creator")
    lines = []
    kit = Likeness.objects.filter(display_name="Kit Harington", owner__username="rights").first()
    if kit is not None and kit.faces.exists():
        generation = services.generation_request(
            requester=creator,
            prompt="@%s as a knight riding through the snow" % kit.handle,
            kind="image",
            use="personal",
            cameos=[],
            backend="animatic",
        )
        services.generation_generate(generation_id=str(generation.pk))
        services.generation_scan(generation_id=str(generation.pk))
        generation.refresh_from_db()
        lines.append("'creator' cast Kit Harington in an image: %s" % generation.get_status_display().lower())
    blocked = gate_check(requester=creator, prompt="Barack Obama shaking hands with Joe Biden", use="personal")
    lines.append("'creator' checked a prompt naming Obama and Biden: %s" % blocked.verdict)
    unknown = Path(settings.SIGILLO_DEMO_FACES_DIR) / "rose_leslie" / "img1.jpg"
    if unknown.is_file():
        review = gate_check(
            requester=creator,
            prompt="a portrait in the style of this photo",
            use="personal",
            media=[MediaInput(name="reference.jpg", data=unknown.read_bytes())],
            kind="scan",
        )
        lines.append("'creator' sent a reference photo of someone not registered: %s" % review.verdict)
    return lines
