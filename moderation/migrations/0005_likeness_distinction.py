"""Two likenesses a moderator judged to be different people (lookalikes): LikenessDistinction."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0004_likeness_suspension"),
        ("moderation", "0004_decision_likenesses"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LikenessDistinction",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("note", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "flag",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="moderation.flag",
                    ),
                ),
                (
                    "likeness_a",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="consent.likeness"
                    ),
                ),
                (
                    "likeness_b",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="consent.likeness"
                    ),
                ),
            ],
            options={
                "ordering": ("created_at",),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("likeness_a", "likeness_b"), name="likeness_distinction_unique_pair"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("likeness_a__lt", models.F("likeness_b"))),
                        name="likeness_distinction_ordered_pair",
                    ),
                ],
            },
        ),
    ]
