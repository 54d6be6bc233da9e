"""CareTeamMember (from charts) and BreakGlassGrant (from accounts) move here.

State only: the tables keep their names (db_table), so nothing in the database changes. charts
0006 and accounts 0004 take the models out of their old apps' state."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0003_separation_of_duties"),
        ("charts", "0005_note_origin_and_versions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="CareTeamMember",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("added_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "patient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="care_team",
                                to="charts.patient",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="care_teams",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "charts_careteammember",
                        "constraints": [
                            models.UniqueConstraint(fields=("patient", "user"), name="careteam_unique_member")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="BreakGlassGrant",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "reason",
                            models.TextField(
                                help_text="Why the chart was opened, in the user's words (no PHI by design)"
                            ),
                        ),
                        ("granted_at", models.DateTimeField()),
                        ("expires_at", models.DateTimeField()),
                        ("reviewed_at", models.DateTimeField(blank=True, null=True)),
                        ("review_comment", models.TextField(blank=True)),
                        (
                            "patient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="break_glass_grants",
                                to="charts.patient",
                            ),
                        ),
                        (
                            "reviewed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="break_glass_grants",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_breakglassgrant",
                        "ordering": ["-granted_at", "-id"],
                        "indexes": [
                            models.Index(fields=["user", "expires_at"], name="breakglass_user_expiry"),
                            models.Index(
                                condition=models.Q(("reviewed_at__isnull", True)),
                                fields=["granted_at"],
                                name="breakglass_unreviewed",
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
