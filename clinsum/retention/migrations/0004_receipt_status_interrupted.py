from django.db import migrations, models

# Receipts sealed by the next run because their own run died were stored as 'partial', which the
# receipt page labels "round limit". Their audit event names the reason: relabel those. Receipts
# are append-only (0002), so the guard trigger is off for this one statement, as the owner.
RELABEL = """
ALTER TABLE retention_deletionreceipt DISABLE TRIGGER retention_receipt_no_rewrite;
UPDATE retention_deletionreceipt r SET status = 'interrupted'
 WHERE r.status = 'partial' AND EXISTS (
   SELECT 1 FROM audit_auditevent e
    WHERE e.action = 'retention_purge' AND e.object_type = 'deletion_receipt'
      AND e.object_id = r.id::text AND e.reason LIKE '%(interrupted; sealed by the next run)%');
ALTER TABLE retention_deletionreceipt ENABLE TRIGGER retention_receipt_no_rewrite;
"""
UNLABEL = """
ALTER TABLE retention_deletionreceipt DISABLE TRIGGER retention_receipt_no_rewrite;
UPDATE retention_deletionreceipt SET status = 'partial' WHERE status = 'interrupted';
ALTER TABLE retention_deletionreceipt ENABLE TRIGGER retention_receipt_no_rewrite;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0003_retention_floor_approval"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deletionreceipt",
            name="status",
            field=models.CharField(
                choices=[
                    ("running", "Running"),
                    ("done", "Done"),
                    ("partial", "Stopped at the round limit; the next run continues"),
                    ("interrupted", "Interrupted; sealed by the next run, which continues"),
                ],
                default="running",
                max_length=16,
            ),
        ),
        migrations.RunSQL(RELABEL, UNLABEL),
    ]
