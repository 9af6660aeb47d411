"""The registry tells other apps what changed through signals: after commit, except an erasure,
whose receivers act inside its transaction (what they forget goes with it, or stays).

Tests run inside a transaction that is never committed: what is sent after commit is only sent
when the test runs the captured on-commit callbacks."""

from typing import Any

import pytest

from consent import services
from consent.models import ConsentRequest, Likeness
from consent.signals import biometrics_erased, consent_answered, faces_enrolled
from generation.models import Generation, ReleasedFace
from tests.moderation.conftest import photos, registry  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard() -> Any:
    """Listen to the three signals; keep each call's name and arguments."""
    calls: list[tuple[str, dict[str, Any]]] = []
    signals = (
        ("consent_answered", consent_answered),
        ("faces_enrolled", faces_enrolled),
        ("biometrics_erased", biometrics_erased),
    )
    for name, signal in signals:

        def receiver(sender: Any, name: str = name, **kwargs: Any) -> None:
            kwargs.pop("signal")
            calls.append((name, {"sender": sender, **kwargs}))

        signal.connect(receiver, weak=False, dispatch_uid="test.%s" % name)
    yield calls
    for name, signal in signals:
        signal.disconnect(dispatch_uid="test.%s" % name)


def test_an_enrollment_announces_its_faces_after_commit(make_user, heard, django_capture_on_commit_callbacks):
    from accounts.roles import Role

    owner = make_user(Role.RIGHTS_HOLDER)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        likeness = services.likeness_enroll(
            owner=owner, display_name="Kit Harington", photos=photos("kit_harington/john1.jpg")
        ).likeness
    assert heard == []
    for callback in callbacks:
        callback()

    assert heard == [("faces_enrolled", {"sender": Likeness, "likeness_id": likeness.pk})]


def test_an_answer_to_a_consent_request_is_announced_after_commit(registry, heard, django_capture_on_commit_callbacks):  # noqa: F811
    request = services.consent_request_open(likeness=registry.kit, requester=registry.creator, use="personal")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.consent_request_decide(actor=registry.kit_owner, request=request, approve=True)
    assert heard == []
    for callback in callbacks:
        callback()

    assert heard == [("consent_answered", {"sender": ConsentRequest, "request_id": request.pk})]


def test_an_erasure_is_announced_inside_its_transaction_and_released_faces_forget_their_embedding(
    registry,  # noqa: F811
    heard,
    django_capture_on_commit_callbacks,
):
    generation = Generation.objects.create(
        requester=registry.creator, prompt="a portrait", kind="image", use="personal", status=Generation.Status.RELEASED
    )
    face = ReleasedFace.objects.create(generation=generation, likeness=registry.kit, box={}, embedding=b"secret")

    with django_capture_on_commit_callbacks(execute=False):
        services.likeness_erase(actor=registry.kit_owner, likeness=registry.kit)

    # Heard although nothing was committed: the receivers ran inside the erasing transaction.
    assert heard == [("biometrics_erased", {"sender": Likeness, "likeness_id": registry.kit.pk})]
    face.refresh_from_db()
    assert face.embedding is None  # the generation app's receiver forgot it, with the erasure
