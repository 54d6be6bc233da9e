"""The Celery app, configured from Django settings (CELERY_ namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinsum.settings")

app = Celery("clinsum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
