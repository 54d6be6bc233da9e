"""What accounts tells the apps above it, which it does not import."""

from django.dispatch import Signal

# Sent inside the deactivation's transaction with `user`. A receiver ends what the user held
# and returns a short "name=count" text for the audit event (access: care teams, grants).
user_deactivated = Signal()
