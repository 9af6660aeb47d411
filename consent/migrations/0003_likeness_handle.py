import re
import unicodedata

from django.db import migrations, models


def give_handles(apps, schema_editor):  # noqa: ANN001, ANN201 - migration callable
    """Give every likeness registered before handles existed one made from its name."""
    Likeness = apps.get_model("consent", "Likeness")
    taken = set(Likeness.objects.exclude(handle=None).values_list("handle", flat=True))
    for likeness in Likeness.objects.filter(handle=None).order_by("created_at"):
        name = unicodedata.normalize("NFKD", likeness.display_name).encode("ascii", "ignore").decode("ascii").lower()
        base = re.sub(r"[^a-z0-9]+", "_", name.replace("'", "")).strip("_")[:26].strip("_")
        if len(base) < 3:
            base = (base + "_person").strip("_")
        handle, number = base, 2
        while handle in taken:
            handle, number = "%s_%d" % (base, number), number + 1
        taken.add(handle)
        Likeness.objects.filter(pk=likeness.pk).update(handle=handle)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0002_consent_request"),
    ]

    operations = [
        migrations.AddField(
            model_name="likeness",
            name="handle",
            field=models.CharField(blank=True, max_length=30, null=True, unique=True),
        ),
        migrations.RunPython(give_handles, migrations.RunPython.noop),
    ]
