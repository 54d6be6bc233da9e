"""CareTeamMember now lives in the access app (access 0001); its table stays as it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("charts", "0005_note_origin_and_versions"),
        ("access", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="CareTeamMember")],
        ),
    ]
