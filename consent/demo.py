"""Demo likenesses for `make run`: a consenting rights holder and protected public figures.

Photos come from ``SIGILLO_DEMO_FACES_DIR`` (the test photos next to the checkout by default);
they are never shipped with the product. Without them, the entries are names only.
"""

from pathlib import Path

from django.conf import settings

from accounts.models import User
from consent import services
from consent.enrollment import PhotoInput
from consent.models import Likeness


def _photos(*relative: str) -> list[PhotoInput]:
    folder = Path(settings.SIGILLO_DEMO_FACES_DIR)
    return [PhotoInput(name=path, data=(folder / path).read_bytes()) for path in relative if (folder / path).is_file()]


def demo_likenesses_seed() -> list[str]:
    """Create the demo likenesses once; return a line describing each one created."""
    if Likeness.objects.exists():
        return []
    lines = []
    rights = User.objects.get(username="rights")
    moderator = User.objects.get(username="moderator")
    photos = _photos("kit_harington/john1.jpg")
    if photos:
        result = services.likeness_enroll(
            owner=rights,
            display_name="Kit Harington",
            aliases=["Christopher Harington"],
            descriptors=["the actor who played Jon Snow in Game of Thrones"],
            photos=photos,
        )
        # The demo has no camera: its moderator vouches for the person, as a moderator can.
        services.likeness_verify(
            moderator=moderator, likeness=result.likeness, note="Demo data: verified by the demo moderator."
        )
        services.consent_set(
            actor=rights,
            likeness=result.likeness,
            audience="everyone",
            uses=["personal", "parody"],
            forbidden_topics=["never show me drinking alcohol"],
        )
        lines.append(
            "Kit Harington (owned by 'rights'): anyone may use it for personal use and parody, never drinking alcohol"
        )
    for name, aliases, descriptors, paths in (
        (
            "Barack Obama",
            ["Obama", "Barack H. Obama"],
            ["the 44th president of the United States"],
            ("obama/obama.jpg",),
        ),
        ("Joe Biden", ["Biden", "Joseph R. Biden"], ["the 46th president of the United States"], ("biden/biden.jpg",)),
    ):
        entry = services.likeness_register_protected(
            moderator=moderator, display_name=name, aliases=aliases, descriptors=descriptors
        )
        with_photos = _photos(*paths)
        if with_photos:
            services.likeness_add_photos(actor=moderator, likeness=entry, photos=with_photos)
        lines.append("%s: protected public figure%s" % (name, " with a photo" if with_photos else " (names only)"))
    return lines
