import psycopg
import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from clinsum.audit.models import AuditEvent
from clinsum.audit.services import GENESIS_HASH, audit_fields, audit_hash, audit_record
from tests.conftest import owner_connection


def test_events_are_chained_in_sequence(db, clinician):
    first = audit_record(action="chart_view", actor=clinician, patient_id=1)
    second = audit_record(action="note_view", actor=clinician, patient_id=1, object_type="note", object_id=5)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.hash
    stored = AuditEvent.objects.get(seq=2)
    assert audit_hash(stored.prev_hash, audit_fields(stored)) == stored.hash


@pytest.mark.parametrize("sql", ["UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"])
def test_the_database_rejects_update_and_delete(transactional_db, clinician, sql):
    """The app role has no such right; the owner has it, and the trigger still refuses."""
    audit_record(action="chart_view", actor=clinician, patient_id=1)
    with pytest.raises(DatabaseError, match="permission denied for table audit_auditevent"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    with pytest.raises(psycopg.Error, match="append-only"):
        with owner_connection() as conn:
            conn.execute(sql)
    assert AuditEvent.objects.get().action == "chart_view"
