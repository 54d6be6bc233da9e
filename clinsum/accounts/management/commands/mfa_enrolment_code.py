"""manage.py mfa_enrolment_code USERNAME: a one-time code to set up an authenticator.

For the first administrator (nobody can issue them one in the browser) and for the help desk on
the server. Printed once; audited with no actor and "issued on the command line"."""

from django.core.management.base import BaseCommand, CommandError

from clinsum.accounts.models import User
from clinsum.accounts.services import AccountError, mfa_enrolment_code_issue


class Command(BaseCommand):
    help = "Issue a one-time MFA enrolment code for an administrator or privacy officer (printed once)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **opts):
        user = User.objects.filter(username__iexact=username.strip()).first()
        if user is None:
            raise CommandError("No such user.")
        try:
            code = mfa_enrolment_code_issue(actor=None, user_id=user.pk)
        except AccountError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"enrolment code for {user.username}: {code} (one use; give it in person or by phone)")
