"""manage.py seed_demo: a synthetic ward (invented people) and one demo login per role.

A project-level command: it loads charts, users and a retention policy, so it sits above those
apps (in the charts app it made charts import retention)."""

from __future__ import annotations

import secrets
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from clinsum.accounts.models import Role, User
from clinsum.accounts.services import mfa_enrolment_code_issue
from clinsum.charts.models import Patient
from clinsum.demo_ingest import demo_records_ingest
from clinsum.retention.models import RetentionPolicy
from demo import demo_ward_generate

DEMO_USERS = (
    ("clinician", Role.CLINICIAN, "4W", "Dana", "Reyes"),
    ("nurse", Role.NURSE, "4W", "Sam", "Okafor"),
    ("icu.clinician", Role.CLINICIAN, "ICU", "Lee", "Marsh"),
    ("admin", Role.ADMIN, "", "Avery", "Quinn"),
    ("privacy", Role.PRIVACY_OFFICER, "", "Jordan", "Blake"),
)


def demo_logins_path():
    return settings.VAR_DIR / "demo_logins.txt"


class Command(BaseCommand):
    help = "Load a synthetic demo ward and demo users (random passwords, written to var/demo_logins.txt)."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=20)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--if-empty", action="store_true", help="do nothing if any patient exists")

    def handle(self, *args, patients: int, seed: int, if_empty: bool, **opts):
        if if_empty and Patient.objects.exists():
            self.stdout.write("demo data already loaded")
            self._print_logins()
            self._print_enrolment_codes()
            return
        # Notes state local times ("Date of service"): generate them in the hospital's zone.
        ward = demo_ward_generate(seed=seed, n_patients=patients, tz=ZoneInfo(settings.TIME_ZONE))
        with transaction.atomic():
            result = demo_records_ingest(patients=ward.patients, notes=ward.notes)
            # Unsigned nursing drafts are working copies: the demo keeps them 30 days.
            RetentionPolicy.objects.get_or_create(target="draft", defaults={"keep_days": 30})
            lines = []
            for username, role, unit, first, last in DEMO_USERS:
                password = secrets.token_urlsafe(9)
                user, _ = User.objects.update_or_create(
                    username=username,
                    defaults={"role": role, "unit": unit, "first_name": first, "last_name": last},
                )
                user.set_password(password)
                user.save()
                lines.append(f"{role.label:<16} {username:<14} {password}")
        path = demo_logins_path()
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)
        self.stdout.write(
            f"demo ward: {result.patients_new} patients, {result.notes_new} notes (embedding runs in the worker)"
        )
        self._print_logins()
        self._print_enrolment_codes()

    def _print_enrolment_codes(self):
        """Demo admins and privacy officers without an authenticator get a fresh one-time code at
        each start (setting one up needs it; codes expire)."""
        from django_otp.plugins.otp_totp.models import TOTPDevice

        names = [username for username, role, *_ in DEMO_USERS if role in (Role.ADMIN, Role.PRIVACY_OFFICER)]
        enrolled = set(
            TOTPDevice.objects.filter(user__username__in=names, confirmed=True).values_list("user__username", flat=True)
        )
        for user in User.objects.filter(username__in=names, is_active=True).exclude(username__in=enrolled):
            if user.needs_mfa():
                code = mfa_enrolment_code_issue(actor=None, user_id=user.pk)
                self.stdout.write(f"MFA enrolment code for {user.username}: {code} (asked for at the first login)")

    def _print_logins(self):
        path = demo_logins_path()
        if path.exists():
            self.stdout.write("demo logins (role, username, password):\n" + path.read_text())
