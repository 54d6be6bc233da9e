"""Draft pages through Django's test client: htmx autosave, signing with the password, the
print view, refusals, and an audit event for every create, view, edit and sign."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinsum.audit.models import AuditEvent
from clinsum.drafting.models import Draft, DraftStatus
from clinsum.drafting.services import draft_create, draft_run
from tests.conftest import PASSWORD

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ready_draft(nursing_chart, nurse):
    draft = draft_create(patient=nursing_chart, user=nurse, kind_key="discharge_instructions")
    draft_run(draft_id=draft.pk)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.READY
    return draft


def actions(draft) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="draft", object_id=str(draft.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_a_nurse_starts_a_draft_from_the_chart(nursing_chart, nurse, client, django_capture_on_commit_callbacks):
    client.force_login(nurse)
    chart = client.get(reverse("chart_detail", args=[nursing_chart.pk])).content.decode()
    assert "Draft documentation" in chart and 'value="sbar_handoff"' in chart
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # sends the task to the test Redis
        response = client.post(reverse("draft_create", args=[nursing_chart.pk]), {"kind": "sbar_handoff"})
    draft = Draft.objects.get(patient=nursing_chart)
    assert response.status_code == 302 and response["Location"] == reverse("draft_detail", args=[draft.pk])
    assert len(callbacks) == 1  # the generation job is queued once the draft row is committed
    assert draft.author == nurse and draft.kind == "sbar_handoff" and draft.status == DraftStatus.QUEUED
    page = client.get(reverse("draft_detail", args=[draft.pk]))
    assert b"Drafting from the chart" in page.content and b'hx-trigger="every 2s"' in page.content
    # The queued page already shows the patient banner (name, MRN, birth date): audited as a view.
    assert actions(draft) == ["draft_create", "draft_view"]
    bad = client.post(reverse("draft_create", args=[nursing_chart.pk]), {"kind": "novel"})
    assert bad.status_code == 400 and b"Choose what to draft" in bad.content


def test_the_ready_draft_shows_citations_plain_language_checks_and_the_sign_form(ready_draft, nurse, client):
    client.force_login(nurse)
    body = client.get(reverse("draft_detail", args=[ready_draft.pk])).content.decode()
    citation = ready_draft.sentences.first().citations.first()
    assert reverse("draft_citation_detail", args=[citation.pk]) in body
    assert "target school grade 8 or lower" in body and "this text reads at grade" in body
    assert "Explain or replace" in body  # the corpus notes are full of jargon ("po", "qd", "nkda" ...)
    assert 'name="password"' in body and 'autocomplete="current-password"' in body
    assert actions(ready_draft) == ["draft_view"]
    cited = client.get(reverse("draft_citation_detail", args=[citation.pk])).content.decode()
    assert '<mark id="cited">' in cited
    assert AuditEvent.objects.filter(
        action="note_view", object_id=str(citation.note_id), reason=f"draft citation {citation.pk}"
    ).exists()


def test_htmx_autosave_returns_the_section_with_the_nurses_sentence_marked(ready_draft, nurse, client):
    client.force_login(nurse)
    section = ready_draft.sentences.order_by("section", "ordinal").first().section
    text = "\n".join(ready_draft.sentences.filter(section=section).order_by("ordinal").values_list("text", flat=True))
    response = client.post(
        reverse("draft_section_save", args=[ready_draft.pk]),
        {"section": section, "text": text + "\nWeigh yourself every morning.", "revision": 0},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="preview-{section}"' in body and "Weigh yourself every morning." in body
    assert "written by you" in body and "Saved" in body
    assert f'id="revision-{section}"' in body and 'value="1"' in body and 'hx-swap-oob="true"' in body
    assert actions(ready_draft) == ["draft_edit"]
    stale = client.post(
        reverse("draft_section_save", args=[ready_draft.pk]),
        {"section": section, "text": "Lost?", "revision": 0},
        **HTMX,
    )
    assert stale["X-ClinSum-Status"] == "409" and "changed in another window" in stale.content.decode()
    assert not ready_draft.sentences.filter(text="Lost?").exists()
    assert AuditEvent.objects.filter(action="draft_edit", outcome="conflict").count() == 1


def test_signing_needs_the_password_and_then_files_the_note(ready_draft, nurse, client):
    client.force_login(nurse)
    url = reverse("draft_sign", args=[ready_draft.pk])
    wrong = client.post(url, {"password": "not-my-password"})
    assert wrong.status_code == 400 and b"password is not correct" in wrong.content
    assert Draft.objects.get(pk=ready_draft.pk).status == DraftStatus.READY
    response = client.post(url, {"password": PASSWORD})
    assert response.status_code == 302
    ready_draft.refresh_from_db()
    assert ready_draft.status == DraftStatus.SIGNED
    page = client.get(reverse("draft_detail", args=[ready_draft.pk])).content.decode()
    assert "This draft is read-only" in page and 'name="password"' not in page and "<textarea" not in page
    chart = client.get(reverse("chart_detail", args=[ready_draft.patient_id])).content.decode()
    assert reverse("note_detail", args=[ready_draft.signed_note_id]) in chart
    events = AuditEvent.objects.filter(action="draft_sign", object_id=str(ready_draft.pk)).order_by("seq")
    assert [(e.outcome, e.reason) for e in events] == [
        ("refused", "That password is not correct; the draft was not signed."),
        ("ok", f"note {ready_draft.signed_note_id}"),
    ]


def test_the_print_view_is_clean_and_marks_an_unsigned_draft(ready_draft, nurse, client):
    client.force_login(nurse)
    body = client.get(reverse("draft_print", args=[ready_draft.pk])).content.decode()
    assert "drafting.css" in body and "print.js" in body
    assert "DRAFT: not signed" in body and "Words used in these instructions" in body
    assert 'class="cite"' not in body and "<script>" not in body
    assert actions(ready_draft) == ["draft_view"]


def test_another_nurse_cannot_open_edit_or_sign_the_draft(ready_draft, make_user, client):
    colleague = make_user("nora", "nurse", "4W")
    client.force_login(colleague)
    for name, method, data in (
        ("draft_detail", "get", {}),
        ("draft_print", "get", {}),
        ("draft_section_save", "post", {"section": "why", "text": "x", "revision": 0}),
        ("draft_sign", "post", {"password": PASSWORD}),
        ("draft_discard", "post", {}),
    ):
        response = getattr(client, method)(reverse(name, args=[ready_draft.pk]), data)
        assert response.status_code == 403, name
    assert Draft.objects.get(pk=ready_draft.pk).status == DraftStatus.READY
    assert not AuditEvent.objects.filter(object_type="draft", object_id=str(ready_draft.pk)).exists()
    assert reverse("draft_detail", args=[ready_draft.pk]) not in client.get(reverse("draft_list")).content.decode()


def test_draft_again_leads_to_the_unsigned_draft_of_that_kind(nursing_chart, nurse, client):
    client.force_login(nurse)
    url = reverse("draft_create", args=[nursing_chart.pk])
    first = client.post(url, {"kind": "sbar_handoff"})
    draft = Draft.objects.get(patient=nursing_chart)
    again = client.post(url, {"kind": "sbar_handoff"})
    assert Draft.objects.filter(patient=nursing_chart).count() == 1
    assert again.status_code == 302 and again["Location"] == reverse("draft_detail", args=[draft.pk]) + "?existing=1"
    page = client.get(again["Location"]).content.decode()
    assert "You already have an SBAR shift handoff for this patient that is not signed yet" in page
    assert 'name="another" value="1"' in page
    htmx = client.post(url, {"kind": "sbar_handoff"}, **HTMX)  # the same through htmx
    assert htmx.status_code == 204 and htmx["HX-Redirect"].endswith("?existing=1")
    # Another kind is a new draft; asking for another one anyway is too.
    client.post(url, {"kind": "discharge_instructions"})
    client.post(url, {"kind": "sbar_handoff", "another": "1"})
    assert sorted(Draft.objects.filter(patient=nursing_chart).values_list("kind", flat=True)) == [
        "discharge_instructions",
        "sbar_handoff",
        "sbar_handoff",
    ]
    assert first.status_code == 302 and "existing" not in first["Location"]


def test_kind_names_read_as_english(ready_draft, nursing_chart, nurse, client):
    client.force_login(nurse)
    page = client.get(reverse("draft_detail", args=[ready_draft.pk])).content.decode()
    assert "Signing files this text as discharge instructions in the chart" in page
    assert "a discharge instructions" not in page.lower()
    chart = client.get(reverse("chart_detail", args=[nursing_chart.pk])).content.decode()
    assert '<label for="draft-kind">Draft</label>' in chart and "Draft a<" not in chart
