"""Drafting services on the real stack (PostgreSQL, the real embedder), in-process: generation
with each backend, verification, editing that keeps citations, signing into a Note."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from clinsum.charts.indexing import notes_index
from clinsum.charts.models import Chunk, EmbeddingStatus, Note
from clinsum.drafting.kinds import DISCHARGE, DRAFT_KINDS, SBAR
from clinsum.drafting.models import Draft, DraftCitation, DraftSentence, DraftStatus
from clinsum.drafting.selectors import draft_sections, draft_unresolved
from clinsum.drafting.services import (
    SECTION_MAX_CHARS,
    DraftConflict,
    DraftError,
    draft_create,
    draft_discard,
    draft_run,
    draft_section_save,
    draft_sign,
)
from clinsum.drafting.views import password_reconfirm
from clinsum.summaries.backends import GenerationError
from clinsum.summaries.prompts import SYSTEM_RULES
from tests.conftest import PASSWORD
from tests.llm_stub import error, malformed, reply

_SOURCE = re.compile(r'<source id="(?P<id>[^"]+)"[^>]*>\n(?P<text>.*?)\n</source>', re.S)
_SECTION = re.compile(r"^- (?P<key>\w+) \(", re.M)


def made(patient, user, kind: str = "sbar_handoff") -> Draft:
    draft = draft_create(patient=patient, user=user, kind_key=kind)
    draft_run(draft_id=draft.pk)
    draft.refresh_from_db()
    return draft


def sign(draft: Draft, user, password: str = PASSWORD) -> Note:
    """What the sign page does: the password re-entered (axes counts it), then the service."""
    request = RequestFactory().post("/sign/", REMOTE_ADDR="10.0.0.7")
    request.user = user
    password_reconfirm(request, password=password)
    return draft_sign(draft=draft, user=user)


def section_text(draft: Draft, key: str) -> str:
    return next(s["text"] for s in draft_sections(draft=draft) if s["key"] == key)


def test_an_extractive_sbar_draft_cites_exact_spans_of_this_patients_notes(nursing_chart, nurse):
    draft = made(nursing_chart, nurse)
    assert draft.status == DraftStatus.READY, draft.error
    sentences = list(draft.sentences.all())
    assert {s.section for s in sentences} == {s.key for s in SBAR.sections}
    for sentence in sentences:
        assert sentence.origin == "generated" and sentence.verdict == "supported", (
            sentence.text,
            sentence.verdict_reason,
        )
        citations = list(sentence.citations.select_related("note"))
        assert citations and all(c.found for c in citations)
        for c in citations:
            assert c.note.patient_id == nursing_chart.pk
            assert c.note.text[c.char_start : c.char_end] == c.quote
    assert not any(re.match(r"(nursing|nsg) (progress )?note", s.text, re.I) for s in sentences)  # headers dropped


@pytest.mark.parametrize("kind", sorted(DRAFT_KINDS))
def test_every_kind_drafts_its_own_sections(nursing_chart, nurse, kind):
    draft = made(nursing_chart, nurse, kind)
    assert draft.status == DraftStatus.READY
    keys = {s.key for s in DRAFT_KINDS[kind].sections}
    assert set(draft.sentences.values_list("section", flat=True)) <= keys
    assert draft.sentences.count() >= len(keys)


def honest_answer(request) -> str:
    """Per section, the first listed source quoted by its first sentence."""
    message = request["messages"][1]["content"]
    texts = {m["id"]: m["text"] for m in _SOURCE.finditer(message)}
    first = next(iter(texts))
    quote = re.split(r"(?<=[.;])\s", texts[first].strip(), maxsplit=1)[0]
    sections = {
        m["key"]: [{"text": quote, "citations": [{"source_id": first, "quote": quote}]}]
        for m in _SECTION.finditer(message)
    }
    return json.dumps({"sections": sections})


def test_the_vllm_backend_gets_the_kinds_own_prompt_and_schema(nursing_chart, nurse, vllm_backend):
    vllm_backend.script(reply(honest_answer))
    draft = made(nursing_chart, nurse, "discharge_instructions")
    assert draft.status == DraftStatus.READY, draft.error
    request = vllm_backend.requests[-1]
    assert request["messages"][0]["content"] == DISCHARGE.prompt.system_rules != SYSTEM_RULES
    assert "plain language" in DISCHARGE.prompt.system_rules and "grade 8" in DISCHARGE.prompt.system_rules
    assert request["messages"][1]["content"].startswith(DISCHARGE.prompt.task_line)
    assert request["response_format"]["json_schema"]["name"] == "discharge_instructions"
    assert set(request["response_format"]["json_schema"]["schema"]["properties"]["sections"]["properties"]) == {
        s.key for s in DISCHARGE.sections
    }
    assert draft.prompt_version == "discharge-plain-v1" and draft.model == vllm_backend.model
    assert draft.sentences.filter(verdict="supported").count() == len(DISCHARGE.sections)


def test_an_invented_citation_is_marked_and_blocks_signing_until_edited(nursing_chart, nurse, vllm_backend):
    def lying(request):
        answer = json.loads(honest_answer(request))
        answer["sections"]["situation"].append(
            {
                "text": "Patient is on warfarin 10 mg daily.",
                "citations": [{"source_id": "S999", "quote": "warfarin 10 mg"}],
            }
        )
        return json.dumps(answer)

    vllm_backend.script(reply(lying))
    draft = made(nursing_chart, nurse)
    bad = draft.sentences.get(text="Patient is on warfarin 10 mg daily.")
    assert bad.verdict == "unsupported" and not bad.citations.exists()
    assert draft_unresolved(draft=draft) == 1
    with pytest.raises(DraftError, match="could not be verified"):
        sign(draft, nurse, PASSWORD)
    kept = [line for line in section_text(draft, "situation").split("\n") if "warfarin" not in line]
    draft = draft_section_save(
        draft=draft, user=nurse, section="situation", text="\n".join(kept), revision=draft.revision
    )
    assert draft_unresolved(draft=draft) == 0
    note = sign(draft, nurse, PASSWORD)
    assert "warfarin" not in note.text


def test_garbage_from_the_llm_fails_the_draft_with_a_reason(nursing_chart, nurse, vllm_backend):
    vllm_backend.script(malformed())
    draft = made(nursing_chart, nurse)
    assert draft.status == DraftStatus.FAILED and "not valid JSON" in draft.error
    assert not draft.sentences.exists()


def test_a_busy_llm_is_retried_not_failed(nursing_chart, nurse, vllm_backend):
    vllm_backend.script(error(503))
    draft = draft_create(patient=nursing_chart, user=nurse, kind_key="sbar_handoff")
    with pytest.raises(GenerationError) as raised:
        draft_run(draft_id=draft.pk)
    assert raised.value.retryable
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.RUNNING  # the task requeues it


def test_a_chart_without_notes_fails_clearly(ward, nurse):
    draft = made(ward["p1"], nurse)
    assert draft.status == DraftStatus.FAILED and "no indexed notes" in draft.error


def test_editing_keeps_citations_on_unchanged_sentences_and_marks_the_nurses(nursing_chart, nurse):
    draft = made(nursing_chart, nurse)
    before = list(draft.sentences.filter(section="assessment").order_by("ordinal"))
    assert len(before) >= 3
    cited = {s.pk: list(s.citations.values_list("pk", "char_start", "char_end")) for s in before}
    lines = [s.text for s in before]
    lines[1] = lines[1] + " Reassessed at 0400, unchanged."  # changed
    lines.insert(0, "Pain 2/10, tolerating repositioning.")  # added
    del lines[-1]  # deleted
    draft = draft_section_save(
        draft=draft, user=nurse, section="assessment", text="\n\n".join(lines) + "\n", revision=draft.revision
    )
    after = list(draft.sentences.filter(section="assessment").order_by("ordinal"))
    assert [s.text for s in after] == [" ".join(line.split()) for line in lines]
    assert [s.origin for s in after] == ["added", "generated", "edited"] + ["generated"] * (len(after) - 3)
    assert (
        after[1].pk == before[0].pk
        and list(after[1].citations.values_list("pk", "char_start", "char_end")) == cited[before[0].pk]
    )
    for s in after[3:]:
        assert cited[s.pk] and list(s.citations.values_list("pk", "char_start", "char_end")) == cited[s.pk]
    assert not after[0].citations.exists() and not after[2].citations.exists()
    assert not DraftSentence.objects.filter(pk=before[-1].pk).exists()
    assert not DraftCitation.objects.filter(sentence_id=before[-1].pk).exists()
    assert draft.revision == 1
    other = list(draft.sentences.exclude(section="assessment").values_list("pk", "origin"))
    assert other and all(origin == "generated" for _, origin in other)  # other sections untouched


def test_a_stale_edit_is_refused_and_changes_nothing(nursing_chart, nurse):
    draft = made(nursing_chart, nurse)
    draft_section_save(
        draft=draft, user=nurse, section="plan" if False else "recommendation", text="Keep MAP > 60.", revision=0
    )
    snapshot = list(Draft.objects.get(pk=draft.pk).sentences.values_list("pk", "text", "origin"))
    with pytest.raises(DraftConflict, match="another window"):
        draft_section_save(draft=draft, user=nurse, section="recommendation", text="Something else.", revision=0)
    assert list(Draft.objects.get(pk=draft.pk).sentences.values_list("pk", "text", "origin")) == snapshot


@pytest.mark.parametrize(
    ("section", "text", "message"),
    [
        ("nonexistent", "Text.", "No such section"),
        ("situation", "x" * (SECTION_MAX_CHARS + 1), "at most"),
        ("situation", "\n".join(f"line {i}" for i in range(41)), "at most 40"),
    ],
)
def test_bad_edits_are_refused_with_a_reason(nursing_chart, nurse, section, text, message):
    draft = made(nursing_chart, nurse)
    before = list(draft.sentences.values_list("pk", "text"))
    with pytest.raises(DraftError, match=message):
        draft_section_save(draft=draft, user=nurse, section=section, text=text, revision=draft.revision)
    assert list(Draft.objects.get(pk=draft.pk).sentences.values_list("pk", "text")) == before


def test_signing_files_a_nursing_note_with_provenance_and_locks_the_draft(nursing_chart, nurse):
    draft = made(nursing_chart, nurse)
    text = section_text(draft, "recommendation") + "\nCall rapid response if MAP < 60 twice."
    draft = draft_section_save(draft=draft, user=nurse, section="recommendation", text=text, revision=0)
    note = sign(draft, nurse, PASSWORD)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.SIGNED and draft.signed_note_id == note.pk and draft.signed_at
    assert note.patient_id == nursing_chart.pk and note.note_type == "nursing"
    assert note.author == nurse.get_full_name() and note.author_role == "Nurse"
    assert note.title == "SBAR shift handoff (signed draft)" and note.source_id == f"clinsum-draft-{draft.pk}"
    assert "Call rapid response if MAP < 60 twice." in note.text
    assert "SITUATION:" in note.text and "RECOMMENDATION:" in note.text
    assert re.search(
        rf"Drafted with ClinSum, reviewed and signed by {nurse.get_full_name()} \(nurse\) at "
        r"\d{4}-\d\d-\d\d \d\d:\d\d",
        note.text,
    )
    for sentence in draft.sentences.all():
        assert sentence.text in note.text
    with pytest.raises(DraftError, match="no longer be edited"):
        draft_section_save(draft=draft, user=nurse, section="situation", text="Changed.", revision=draft.revision)
    with pytest.raises(DraftError, match="already signed"):
        sign(draft, nurse, PASSWORD)
    with pytest.raises(DraftError, match="cannot be discarded"):
        draft_discard(draft=draft, user=nurse)
    # indexed like any other note: chunks with embeddings, found by retrieval for the patient
    assert note.embedding_status == EmbeddingStatus.PENDING
    notes_index(note_ids=[note.pk])
    chunks = Chunk.objects.filter(note=note)
    assert chunks.exists() and not chunks.filter(embedding__isnull=True).exists()


def test_a_wrong_password_signs_nothing(nursing_chart, nurse):
    draft = made(nursing_chart, nurse)
    notes = Note.objects.count()
    for password in ("", "wrong-password"):
        with pytest.raises(DraftError):
            sign(draft, nurse, password)
    assert Note.objects.count() == notes and Draft.objects.get(pk=draft.pk).status == DraftStatus.READY


def test_nobody_signs_or_edits_another_persons_draft(nursing_chart, nurse, make_user, clinician):
    draft = made(nursing_chart, nurse)
    colleague = make_user("nora", "nurse", "4W")  # same unit, same chart access
    for user in (colleague, clinician):
        with pytest.raises(PermissionDenied):
            sign(draft, user, PASSWORD)
        with pytest.raises(PermissionDenied):
            draft_section_save(draft=draft, user=user, section="situation", text="x", revision=draft.revision)
        with pytest.raises(PermissionDenied):
            draft_discard(draft=draft, user=user)
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.READY


def test_clinicians_do_not_draft(nursing_chart, clinician):
    with pytest.raises(PermissionDenied, match="for nurses"):
        draft_create(patient=nursing_chart, user=clinician, kind_key="sbar_handoff")


def test_discarding_an_unsigned_draft_removes_it(nursing_chart, nurse):
    draft = made(nursing_chart, nurse)
    draft_discard(draft=draft, user=nurse)
    assert (
        not Draft.objects.filter(pk=draft.pk).exists() and not DraftSentence.objects.filter(draft_id=draft.pk).exists()
    )


def test_wrong_signing_passwords_count_toward_the_lockout(nursing_chart, nurse, settings):
    draft = made(nursing_chart, nurse)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        with pytest.raises(DraftError, match="not correct"):
            sign(draft, nurse, "guessing")
    with pytest.raises(DraftError, match="Too many wrong passwords"):
        sign(draft, nurse, "guessing")
    with pytest.raises(DraftError, match="locked"):  # locked out now: even the right password signs nothing
        sign(draft, nurse, PASSWORD)
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.READY


def test_a_draft_whose_worker_keeps_dying_is_given_up(nursing_chart, nurse, settings):
    draft = draft_create(patient=nursing_chart, user=nurse, kind_key="sbar_handoff")
    # as if every earlier delivery had been claimed and then lost with its worker
    Draft.objects.filter(pk=draft.pk).update(status=DraftStatus.RUNNING, attempts=settings.CLINSUM_MAX_TASK_DELIVERIES)
    draft_run(draft_id=draft.pk)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.FAILED and "gave up after" in draft.error and not draft.sentences.exists()


def test_the_task_retries_a_busy_llm_then_fails_with_the_reason(nursing_chart, nurse, vllm_backend):
    from clinsum.drafting.tasks import draft_generate

    vllm_backend.script(*[error(503)] * 5)
    draft = draft_create(patient=nursing_chart, user=nurse, kind_key="sbar_handoff")
    draft_generate.apply(args=[draft.pk])  # eager: each retry runs at once
    draft.refresh_from_db()
    assert len(vllm_backend.requests) == 5
    assert draft.status == DraftStatus.FAILED and "HTTP 503" in draft.error and "gave up after 5 tries" in draft.error
