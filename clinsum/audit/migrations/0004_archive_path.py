from django.db import migrations

# Events stay append-only: UPDATE is always rejected, and so is DELETE, except on the one
# explicit archive path (clinsum.audit.archive): a transaction that has said
# `SET LOCAL clinsum.audit_archive = 'on'` may delete events that are older than six years
# (2192 days, the legal minimum: no setting can lower it) AND lie inside an AuditArchive anchor
# that the same transaction recorded first. Checkpoints and archive anchors never change.
# TRUNCATE is not a row operation and stays possible for the table owner (the test runner's
# flush needs it); production revokes it from the application role.
SQL = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('clinsum.audit_archive', true) = 'on' THEN
        IF OLD.at >= now() - interval '2192 days' THEN
            RAISE EXCEPTION 'audit_auditevent is append-only: event % is younger than six years and cannot be archived', OLD.seq
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM audit_auditarchive a WHERE OLD.seq BETWEEN a.first_seq AND a.last_seq) THEN
            RAISE EXCEPTION 'audit_auditevent is append-only: event % is not covered by an archive record', OLD.seq
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only (% rejected)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION audit_record_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% rejected)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_checkpoint_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION audit_record_immutable();
CREATE TRIGGER audit_archive_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditarchive
    FOR EACH ROW EXECUTE FUNCTION audit_record_immutable();
"""

REVERSE = """
DROP TRIGGER IF EXISTS audit_archive_no_update_delete ON audit_auditarchive;
DROP TRIGGER IF EXISTS audit_checkpoint_no_update_delete ON audit_auditcheckpoint;
DROP FUNCTION IF EXISTS audit_record_immutable();
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only (% rejected)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_checkpoint_archive")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
