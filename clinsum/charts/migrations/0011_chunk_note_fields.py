"""Copy each chunk's note type, author role and date onto the chunk, kept in step by triggers.

Every search returned these three note fields with its hits, so each statement joined its winners
to charts_note: on a patient's first search that is one note page read per winning note, scattered
over the notes table (at 10M chunks the join took a cold vector search from p99 3.0 to 8.3 ms;
bench/README.md). With the fields on the chunk, a search reads only the patient's chunks.

PostgreSQL keeps the copies right, whatever writes: a BEFORE INSERT trigger fills them from the
note (so no write path has to), and an AFTER UPDATE trigger on charts_note carries a change of any
of the three to the note's chunks. The ORM does not map the columns (as with `tsv`, migration 0002).
The backfill rewrites every chunk row once: about ten minutes per 10M chunks.
"""

from django.db import migrations

SQL = """
ALTER TABLE charts_chunk
    ADD COLUMN note_type varchar(32) NOT NULL DEFAULT '',
    ADD COLUMN author_role varchar(64) NOT NULL DEFAULT '',
    ADD COLUMN authored_at timestamptz;
UPDATE charts_chunk c
    SET note_type = n.note_type, author_role = n.author_role, authored_at = n.authored_at
    FROM charts_note n WHERE n.id = c.note_id;
CREATE OR REPLACE FUNCTION charts_chunk_note_fields() RETURNS trigger AS $$
BEGIN
    SELECT n.note_type, n.author_role, n.authored_at INTO NEW.note_type, NEW.author_role, NEW.authored_at
    FROM charts_note n WHERE n.id = NEW.note_id;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER charts_chunk_note_fields
    BEFORE INSERT OR UPDATE OF note_id, note_type, author_role, authored_at ON charts_chunk
    FOR EACH ROW EXECUTE FUNCTION charts_chunk_note_fields();
CREATE OR REPLACE FUNCTION charts_note_fields_to_chunks() RETURNS trigger AS $$
BEGIN
    -- touching note_id fires charts_chunk_note_fields, the one place the fields are read
    UPDATE charts_chunk SET note_id = note_id WHERE note_id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER charts_note_fields_to_chunks
    AFTER UPDATE OF note_type, author_role, authored_at ON charts_note
    FOR EACH ROW
    WHEN (OLD.note_type IS DISTINCT FROM NEW.note_type OR OLD.author_role IS DISTINCT FROM NEW.author_role
          OR OLD.authored_at IS DISTINCT FROM NEW.authored_at)
    EXECUTE FUNCTION charts_note_fields_to_chunks();
"""
REVERSE = """
DROP TRIGGER IF EXISTS charts_note_fields_to_chunks ON charts_note;
DROP TRIGGER IF EXISTS charts_chunk_note_fields ON charts_chunk;
DROP FUNCTION IF EXISTS charts_note_fields_to_chunks();
DROP FUNCTION IF EXISTS charts_chunk_note_fields();
ALTER TABLE charts_chunk DROP COLUMN note_type, DROP COLUMN author_role, DROP COLUMN authored_at;
"""


class Migration(migrations.Migration):
    dependencies = [("charts", "0010_chunk_one_patient_index")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
