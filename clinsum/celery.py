"""The Celery app, configured from Django settings (CELERY_ namespace)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinsum.settings")

app = Celery("clinsum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Carry the web request's id into the task, so one id ties a click to the work it caused.
@signals.before_task_publish.connect
def _request_id_out(headers=None, **kwargs):
    from clinsum.logs import request_id_var

    if headers is not None and request_id_var.get():
        headers["clinsum_request_id"] = request_id_var.get()


@signals.task_prerun.connect
def _request_id_in(task=None, **kwargs):
    from clinsum.logs import request_id_var

    request_id_var.set(getattr(task.request, "clinsum_request_id", None) or task.request.id or "")
