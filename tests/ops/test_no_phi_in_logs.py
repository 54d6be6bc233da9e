"""Sentinel names and note text planted in ingest, summaries, nurse drafts, questions asked of
the chart and errors never
reach the logs (the test process's and the worker's)."""

import json
import logging
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from clinsum.asking.models import Question
from clinsum.charts.models import EmbeddingStatus, Note
from clinsum.drafting.models import Draft, DraftStatus
from clinsum.summaries.models import Summary
from tests.conftest import PASSWORD, shared_data, wait_for
from tests.drafting.test_services import honest_answer
from tests.llm_stub import malformed, reply

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FAMILY, GIVEN, MRN = "Quistgaardsen", "Velmorine", "SENT-90210"


def nursing_note_text() -> str:
    raw = shared_data("nursing-notes", "nursing-notes.txt").read_text(errors="replace")
    return re.search(r"START_OF_RECORD=\d+\|\|\|\|\d+\|\|\|\|\n(.*?)\n\|\|\|\|END_OF_RECORD", raw, re.S).group(1)


def test_no_names_or_note_text_reach_the_logs(
    celery_worker_process, vllm_backend, clinician, nurse, client, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    text = nursing_note_text() + f"\nPt {GIVEN} {FAMILY} seen by family. Plan: continue."
    rows = [
        {
            "mrn": MRN,
            "note_type": "nursing",
            "authored_at": "2026-11-19T08:00:00Z",
            "author": "RN Sentinel",
            "text": text,
            "family_name": FAMILY,
            "given_name": GIVEN,
            "unit": "4W",
        }
    ]
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    call_command("ingest_notes", str(good), verbosity=0)
    bad = tmp_path / "bad.jsonl"  # an error path: unknown MRN with the same text
    bad.write_text(json.dumps({**rows[0], "mrn": "NOPE", "family_name": ""}) + "\n{broken\n")
    with pytest.raises(CommandError):
        call_command("ingest_notes", str(bad), verbosity=0)

    patient = Note.objects.get().patient
    wait_for(
        lambda: not Note.objects.filter(patient=patient).exclude(embedding_status=EmbeddingStatus.DONE).exists(),
        what="indexing",
    )
    vllm_backend.script(malformed())  # the failing path logs too
    client.force_login(clinician)
    client.post(reverse("summary_create", args=[patient.pk]))
    wait_for(lambda: Summary.objects.get(patient=patient).is_finished(), what="summary")
    client.get(reverse("chart_detail", args=[patient.pk]))

    # A nurse drafts from the chart (the model quotes it), writes the names into a section,
    # gets the password wrong once and signs: the signed note is ingested and indexed.
    vllm_backend.script(reply(honest_answer))
    nurse_client = Client()
    nurse_client.force_login(nurse)
    nurse_client.post(reverse("draft_create", args=[patient.pk]), {"kind": "sbar_handoff"})
    draft = Draft.objects.get(patient=patient)
    wait_for(lambda: Draft.objects.get(pk=draft.pk).is_finished(), what="draft")
    nurse_client.post(
        reverse("draft_section_save", args=[draft.pk]),
        {"section": "situation", "text": f"{GIVEN} {FAMILY} ({MRN}) settled overnight.", "revision": 0},
    )
    nurse_client.post(reverse("draft_sign", args=[draft.pk]), {"password": f"{FAMILY}-wrong"})
    nurse_client.post(reverse("draft_sign", args=[draft.pk]), {"password": PASSWORD})
    draft.refresh_from_db()
    assert draft.status == DraftStatus.SIGNED and FAMILY in draft.signed_note.text
    wait_for(
        lambda: Note.objects.get(pk=draft.signed_note_id).embedding_status == EmbeddingStatus.DONE,
        what="the signed note's indexing",
    )

    # A clinician asks the chart a question naming the patient (the worker answers it).
    asked = f"Is {GIVEN} {FAMILY} still on zolpiquintrine?"
    client.post(reverse("question_ask", args=[patient.pk]), {"question": asked})
    question = Question.objects.get(patient=patient)
    wait_for(lambda: Question.objects.get(pk=question.pk).is_finished(), what="question")

    worker_log = celery_worker_process.log_path.read_text(errors="replace")
    logged = caplog.text + worker_log
    assert f"question {question.pk}" in worker_log  # the worker answered it, by id
    assert "summary" in worker_log  # the worker did log this work
    assert f"draft {draft.pk}" in worker_log  # ... and the drafting work
    snippets = [FAMILY, GIVEN, MRN, nurse.get_full_name(), asked, "zolpiquintrine"] + [
        line.strip()[:40] for line in text.splitlines() if len(line.strip()) > 30
    ][:10]
    for sentinel in snippets:
        assert sentinel not in logged, f"found in logs: {sentinel!r}"
