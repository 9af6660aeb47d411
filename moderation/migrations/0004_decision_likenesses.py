"""Decisions link the likenesses they are about (a relation both databases can query), filled from
the cameos and reasons already stored."""

import uuid

from django.db import migrations, models


def _ids(values):
    ids = set()
    for value in values:
        try:
            ids.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    return ids


def link_existing(apps, schema_editor):
    Decision = apps.get_model("moderation", "Decision")
    Likeness = apps.get_model("consent", "Likeness")
    known = set(Likeness.objects.values_list("pk", flat=True))
    for decision in Decision.objects.only("pk", "cameos", "reasons").iterator(chunk_size=500):
        named = [*decision.cameos, *(reason.get("likeness_id") for reason in decision.reasons)]
        ids = _ids(named) & known
        if ids:
            decision.likenesses.set(ids)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0003_likeness_handle"),
        ("moderation", "0003_audit_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="decision",
            name="likenesses",
            field=models.ManyToManyField(blank=True, related_name="decisions", to="consent.likeness"),
        ),
        migrations.RunPython(link_existing, migrations.RunPython.noop),
    ]
