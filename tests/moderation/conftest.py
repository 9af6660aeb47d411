"""A small registry for the gate's tests: consenting, protected (by photo and by name only) people."""

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from accounts.roles import Role
from consent import services
from consent.enrollment import PhotoInput
from tests.consent.faces import photo_bytes


def photos(*paths: str) -> list[PhotoInput]:
    return [PhotoInput(name=path, data=photo_bytes(path)) for path in paths]


@pytest.fixture
def registry(make_user: Any) -> SimpleNamespace:
    """Kit (consents: anyone, personal and parody, never alcohol), Rose (only for 'friend'),
    Obama (protected, with a photo), Robin Williams (protected, deceased, names only)."""
    moderator = make_user(Role.MODERATOR, username="mod")
    kit_owner = make_user(Role.RIGHTS_HOLDER, Role.CREATOR, username="kit")
    rose_owner = make_user(Role.RIGHTS_HOLDER, username="rose")
    friend = make_user(Role.CREATOR, username="friend")
    creator = make_user(Role.CREATOR, username="cleo")

    kit = services.likeness_enroll(
        owner=kit_owner,
        display_name="Kit Harington",
        descriptors=["the actor who played Jon Snow in Game of Thrones"],
        photos=photos("kit_harington/john1.jpg"),
    ).likeness
    services.consent_set(
        actor=kit_owner,
        likeness=kit,
        audience="everyone",
        uses=["personal", "parody"],
        forbidden_topics=["never show me drinking alcohol"],
    )
    rose = services.likeness_enroll(
        owner=rose_owner, display_name="Rose Leslie", photos=photos("rose_leslie/img1.jpg")
    ).likeness
    services.consent_set(
        actor=rose_owner, likeness=rose, audience="approved_users", approved_users=[friend.pk], uses=["personal"]
    )
    obama = services.likeness_register_protected(
        moderator=moderator,
        display_name="Barack Obama",
        aliases=["Obama"],
        descriptors=["the 44th president of the United States"],
    )
    services.likeness_add_photos(actor=moderator, likeness=obama, photos=photos("obama/obama.jpg"))
    robin = services.likeness_register_protected(
        moderator=moderator,
        display_name="Robin Williams",
        descriptors=["the actor who played the Genie in Aladdin"],
        subject="deceased",
        date_of_death=date(2014, 8, 11),
    )
    return SimpleNamespace(
        moderator=moderator, kit_owner=kit_owner, rose_owner=rose_owner, friend=friend, creator=creator,
        kit=kit, rose=rose, obama=obama, robin=robin,
    )  # fmt: skip
