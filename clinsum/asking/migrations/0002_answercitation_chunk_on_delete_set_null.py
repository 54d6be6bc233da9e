from django.db import migrations

# The chunk link of a citation is a convenience: what a citation shows is its note span (note,
# char_start/char_end, quote). Re-indexing replaces a note's chunks with one raw DELETE
# (retrieval.store.chunks_replace_many), which Django's on_delete=SET_NULL never sees, so the
# database must do it: ON DELETE SET NULL on the constraint itself. Its name is Django's hash,
# read from pg_constraint rather than written here.
ALTER = """
DO $$
DECLARE name text;
BEGIN
    SELECT conname INTO STRICT name FROM pg_constraint
     WHERE conrelid = 'asking_answercitation'::regclass AND confrelid = 'charts_chunk'::regclass AND contype = 'f';
    EXECUTE format('ALTER TABLE asking_answercitation DROP CONSTRAINT %I', name);
    EXECUTE format('ALTER TABLE asking_answercitation ADD CONSTRAINT %I FOREIGN KEY (chunk_id) REFERENCES charts_chunk (id)'
                   ' ON DELETE %s DEFERRABLE INITIALLY DEFERRED', name, '{action}');
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("asking", "0001_initial")]
    operations = [migrations.RunSQL(ALTER.replace("{action}", "SET NULL"), ALTER.replace("{action}", "NO ACTION"))]
