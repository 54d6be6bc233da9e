"""The recovery round (Celery beat, every minute): job state lives in rows and is recovered
from rows. Notes pending embedding too long are queued again (charts), and summaries, drafts and
questions whose task was lost are sent again or, after their last try, failed with a reason
(clinsum/summaries/generation/recovery.py). Project layer: it joins the apps, as pages.py does."""

import logging

from celery import shared_task

from clinsum.asking.services import questions_recover
from clinsum.charts.services import notes_embedding_recover
from clinsum.drafting.services import drafts_recover
from clinsum.summaries.services import summaries_recover

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240, ignore_result=True)
def work_recover() -> dict[str, int]:
    found = {
        "notes": notes_embedding_recover(),
        "summaries": summaries_recover(),
        "drafts": drafts_recover(),
        "questions": questions_recover(),
    }
    if any(found.values()):
        logger.info("recovery: %s", found)
    return found
