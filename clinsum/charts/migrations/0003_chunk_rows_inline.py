from django.db import migrations


class Migration(migrations.Migration):
    """Keep a chunk row (text, tsvector, vector) in the heap page instead of moving the vector
    to TOAST once the row passes 2 kB: a per-patient search then reads one page per chunk,
    not a page plus a TOAST index lookup and a TOAST page (bench/README.md, retrieval)."""

    dependencies = [("charts", "0002_source_ids_service_token_fulltext")]

    operations = [
        migrations.RunSQL(
            sql="ALTER TABLE charts_chunk SET (toast_tuple_target = 8160)",
            reverse_sql="ALTER TABLE charts_chunk RESET (toast_tuple_target)",
        ),
    ]
