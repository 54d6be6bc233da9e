"""The Celery app, configured from Django settings (CELERY_ namespace)."""

import logging
import os
import time

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


@signals.celeryd_after_setup.connect
def _clinical_warm(sender=None, instance=None, **kwargs):
    """Summaries and drafts read notes with the clinical text layer: load it once in the main
    worker process, after its queues are known and before the pool forks, so every pool process
    (a replacement after a crash too) starts with it. Not in worker_process_init: a child that
    takes longer than worker_proc_alive_timeout (4 s) to come up is killed and replaced, over
    and over. Embed-only GPU workers never need it."""
    from retrieval.clinical import clinical_warm

    queues = set(app.amqp.queues.consume_from or ())
    if not queues or "llm" in queues:
        started = time.monotonic()
        clinical_warm()
        logging.getLogger(__name__).info("clinical text layer loaded in %.1f s", time.monotonic() - started)
