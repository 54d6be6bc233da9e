"""The whole slice with real parts: ingest -> embed worker -> web request -> llm worker ->
claims whose cited spans equal the note text at their offsets."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from clinsum.charts.models import Chunk, EmbeddingStatus, Note
from clinsum.summaries.models import Citation, Summary, SummaryStatus
from tests.conftest import shared_data, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mtsamples_chart(tmp_path):
    """Three MTSamples reports filed as one 4W patient's chart."""
    from clinsum.charts.models import Patient

    patient = Patient.objects.create(mrn="E2E-1", family_name="Doe", given_name="Test", unit="4W")
    folder = shared_data("mtsamples")
    for name in ("abscess-with-cellulitis-discharge-summary.txt", "2-d-echocardiogram-1.txt", "1-year-old-exam-hp.txt"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    call_command("ingest_notes", str(tmp_path), mrn=patient.mrn, note_type="history_physical", verbosity=0)
    return patient


def test_a_summary_cites_exact_spans_of_this_patients_notes(celery_worker_process, mtsamples_chart, clinician, client):
    patient = mtsamples_chart
    wait_for(
        lambda: not Note.objects.filter(patient=patient).exclude(embedding_status=EmbeddingStatus.DONE).exists(),
        what="the embed worker to index the notes",
    )
    for chunk in Chunk.objects.filter(patient=patient).select_related("note"):
        assert chunk.note.text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.embedding is not None and chunk.embedding_dim == 384

    client.force_login(clinician)
    response = client.post(reverse("summary_create", args=[patient.pk]))
    assert response.status_code == 302
    summary = Summary.objects.get(patient=patient)
    wait_for(lambda: Summary.objects.get(pk=summary.pk).is_finished(), what="the llm worker to finish")
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.DONE, summary.error
    assert summary.n_claims >= 5 and summary.supported_fraction == 1.0

    citations = Citation.objects.filter(claim__summary=summary).select_related("note", "claim")
    assert citations.count() >= summary.n_claims
    for citation in citations:
        assert citation.note.patient_id == patient.pk
        assert citation.found
        span = citation.note.text[citation.char_start : citation.char_end]
        assert span == citation.quote
        if citation.claim.citations.count() == 1:  # a quoted claim; composed ones (a conflict) cite two notes
            assert citation.claim.text in " ".join(span.split())

    page = client.get(reverse("chart_detail", args=[patient.pk]))
    assert page.status_code == 200
    first = citations.first()
    assert reverse("citation_detail", args=[first.pk]).encode() in page.content
    cited = client.get(reverse("citation_detail", args=[first.pk]))
    assert b'<mark id="cited">' in cited.content


def test_the_same_chart_is_served_from_cache(celery_worker_process, mtsamples_chart, clinician, client):
    client.force_login(clinician)
    client.post(reverse("summary_create", args=[mtsamples_chart.pk]))
    first = Summary.objects.get()
    wait_for(lambda: Summary.objects.get(pk=first.pk).is_finished(), what="summary")
    client.post(reverse("summary_create", args=[mtsamples_chart.pk]))
    assert Summary.objects.count() == 1
