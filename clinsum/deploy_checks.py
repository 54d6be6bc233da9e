"""`manage.py check --deploy`: production requirements that Django's own checks do not know.

Run in production with `--fail-level WARNING`, so that any of these fails the check."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def data_at_rest_check(app_configs, **kwargs) -> list[Warning]:
    if not settings.SECURE or settings.DATA_AT_REST != "none":
        return []
    return [
        Warning(
            "Production runs without a declared encryption at rest for notes and chunks "
            "(CLINSUM_DATA_AT_REST is 'none').",
            hint="Put PostgreSQL's data directory, its WAL and BACKUP_DIR on an AES-256 encrypted volume "
            "(LUKS2, or the storage's own encryption), then set CLINSUM_DATA_AT_REST=luks or storage "
            "(README, 'Encryption at rest').",
            id="clinsum.W101",
        )
    ]


@register(Tags.security, deploy=True)
def backup_recipients_check(app_configs, **kwargs) -> list[Warning]:
    if not settings.SECURE or settings.BACKUP_RECIPIENTS:
        return []
    return [
        Warning(
            "Production has no backup public key (CLINSUM_BACKUP_RECIPIENTS is empty): deploy/backup.sh "
            "refuses to run, since it never writes an unencrypted backup in production.",
            hint="Generate a key pair off the host, put the public key file on the host and name it in "
            "CLINSUM_BACKUP_RECIPIENTS in .env (README, 'Backup keys').",
            id="clinsum.W102",
        )
    ]
