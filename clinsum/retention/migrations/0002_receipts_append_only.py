from django.db import migrations

# Receipts are evidence: a finished receipt never changes, receipts and their id lists are never
# deleted. A running receipt is updated by its own batches until it is sealed.
SQL = """
CREATE OR REPLACE FUNCTION retention_receipt_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status = 'running' THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only (% rejected)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION retention_item_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% rejected)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER retention_receipt_no_rewrite
    BEFORE UPDATE OR DELETE ON retention_deletionreceipt
    FOR EACH ROW EXECUTE FUNCTION retention_receipt_guard();
CREATE TRIGGER retention_deletedobject_no_rewrite
    BEFORE UPDATE OR DELETE ON retention_deletedobject
    FOR EACH ROW EXECUTE FUNCTION retention_item_guard();
"""
REVERSE = """
DROP TRIGGER IF EXISTS retention_deletedobject_no_rewrite ON retention_deletedobject;
DROP TRIGGER IF EXISTS retention_receipt_no_rewrite ON retention_deletionreceipt;
DROP FUNCTION IF EXISTS retention_item_guard();
DROP FUNCTION IF EXISTS retention_receipt_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("retention", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
