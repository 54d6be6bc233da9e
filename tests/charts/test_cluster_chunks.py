"""manage.py cluster_chunks: the chunk table rewritten with each patient's chunks together."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from clinsum.charts.models import Chunk, Note, Patient


@pytest.fixture
def interleaved(transactional_db):
    """Two patients whose notes arrived alternately, so their chunks alternate on disk."""
    from django.utils import timezone

    patients = [Patient.objects.create(mrn=f"CL-{i}", family_name=f"P{i}", unit="4W") for i in range(2)]
    for n in range(6):
        patient = patients[n % 2]
        note = Note.objects.create(
            patient=patient, note_type="progress", authored_at=timezone.now(), text="x" * 40, content_hash=f"{n:064x}"
        )
        for ordinal in range(3):
            Chunk.objects.create(note=note, patient=patient, ordinal=ordinal, char_start=0, char_end=10, text="x")
    return patients


def physical_order() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT patient_id FROM charts_chunk ORDER BY ctid")
        return [row[0] for row in cursor.fetchall()]


def test_it_puts_each_patients_chunks_together(interleaved):
    before = physical_order()
    assert before != sorted(before)
    out = io.StringIO()
    call_command("cluster_chunks", stdout=out)
    assert physical_order() == sorted(before)
    assert "Clustered 18 chunks by patient" in out.getvalue()
    # the copied note fields survive the rewrite
    assert Chunk.objects.count() == 18
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM charts_chunk WHERE note_type = 'progress' AND authored_at IS NOT NULL")
        assert cursor.fetchone()[0] == 18


def test_a_bad_lock_timeout_is_refused(transactional_db):
    with pytest.raises(CommandError, match="lock-timeout"):
        call_command("cluster_chunks", lock_timeout=0)


def test_a_busy_table_is_left_as_it_was(interleaved):
    """A search holding the table: the command gives up after its lock timeout, changing nothing."""
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    ) as other:
        other.execute("SELECT count(*) FROM charts_chunk")  # holds ACCESS SHARE until the transaction ends
        before = physical_order()
        with pytest.raises(CommandError, match=r"busy \(waited 1 s\); nothing changed"):
            call_command("cluster_chunks", lock_timeout=1)
        assert physical_order() == before
