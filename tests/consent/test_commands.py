"""Operator commands of the registry: reembed, verify_audit."""

import pytest
from django.core.management import CommandError, call_command

from consent.faces import get_engine
from consent.matching import image_match
from consent.models import Face, FaceIndexChange
from moderation.models import AuditEvent
from tests.consent.faces import photo_image

pytestmark = pytest.mark.django_db


def test_reembed_replaces_faces_of_another_model_and_matching_still_works(enroll):
    likeness_id = enroll("obama/obama.jpg", "obama/obama2.jpg", name="Obama").json()["id"]
    # Pretend the faces came from an older model: reembed must replace them with the current one.
    Face.objects.update(model="an-older-model")

    call_command("reembed")

    faces = Face.objects.filter(likeness_id=likeness_id)
    assert faces.count() == 2
    assert set(faces.values_list("model", flat=True)) == {get_engine().model}
    assert FaceIndexChange.objects.filter(op="remove").count() == 2
    assert image_match(image=photo_image("obama/obama-240p.jpg"))[0].best.likeness_id == likeness_id
    call_command("reembed")  # idempotent
    assert Face.objects.filter(likeness_id=likeness_id).count() == 2


def test_verify_audit_finds_a_tampered_entry(enroll, capsys):
    enroll("rose_leslie/img1.jpg")
    call_command("verify_audit")
    assert "whole" in capsys.readouterr().out

    event = AuditEvent.objects.order_by("seq").first()
    tamper_with_audit_row(event.seq, '{"status": "something else"}')

    with pytest.raises(CommandError, match="broken at entry %d" % event.seq):
        call_command("verify_audit")


def tamper_with_audit_row(seq: int, data_json: str) -> None:
    """Change a row behind the application's back, as someone with database access could."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE moderation_auditevent DISABLE TRIGGER moderation_auditevent_append_only")
        cursor.execute("UPDATE moderation_auditevent SET data = %s WHERE seq = %s", [data_json, seq])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE moderation_auditevent ENABLE TRIGGER moderation_auditevent_append_only")


def test_the_application_cannot_change_or_remove_audit_entries(enroll):
    from django.db import DatabaseError, connection, transaction

    from moderation.models import AuditImmutable

    enroll("rose_leslie/img1.jpg")
    event = AuditEvent.objects.first()
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(action="nothing")
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditImmutable):
        event.delete()
    event.action = "nothing"
    with pytest.raises(AuditImmutable):
        event.save()
    if connection.vendor == "postgresql":  # the database refuses too
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM moderation_auditevent WHERE seq = %s", [event.seq])
    assert AuditEvent.objects.filter(pk=event.pk, action="likeness.enroll").exists()
