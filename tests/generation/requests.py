"""Requests in a given state, for tests of what happens to them next."""

from generation import services
from generation.models import Generation
from moderation.models import Flag


def reviewed_request(registry):
    """A creator's request the gate sent to review, and the moderators' flag it waits on."""
    generation = services.generation_request(
        requester=registry.creator,
        prompt="a senator led away in handcuffs, news photo",
        kind="image",
        use="personal",
        cameos=[],
    )
    assert generation.status == Generation.Status.IN_REVIEW  # deceptive_political: review
    return generation, Flag.objects.get(gate_decision=generation.pre_decision)
