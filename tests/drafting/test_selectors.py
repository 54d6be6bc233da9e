"""drafting/selectors.py: the statements of a draft that a newer note of the chart may have
overtaken (draft_older_than_chart), on a discharged patient of the demo ward."""

from clinsum.charts.models import Note
from clinsum.drafting.services import draft_create, draft_run


def test_signing_warns_about_statements_older_than_the_newest_note_on_their_subject(discharged, nurse, client):
    from django.urls import reverse

    from clinsum.drafting.selectors import draft_older_than_chart

    patient, _ = discharged
    draft = draft_create(patient=patient, user=nurse, kind_key="sbar_handoff")
    draft_run(draft_id=draft.pk)
    draft.refresh_from_db()
    warnings = draft_older_than_chart(draft=draft)
    for warning in warnings:  # every warning names a newer note of this patient that mentions the subject
        cited = max(c.note.authored_at for c in warning["sentence"].citations.all())
        assert warning["note"].patient_id == patient.pk and warning["note"].authored_at > cited
        assert warning["subject"].lower() in Note.objects.get(pk=warning["note"].pk).text.lower()
    client.force_login(nurse)
    page = client.get(reverse("draft_detail", args=[draft.pk])).content.decode()
    assert ("Check before signing" in page) == bool(warnings)


def test_a_statement_cited_from_an_old_note_is_flagged_when_a_newer_note_mentions_its_drug(discharged, nurse):
    from clinsum.drafting.models import DraftCitation, DraftSentence, Origin
    from clinsum.drafting.selectors import draft_older_than_chart

    patient, facts = discharged
    draft = draft_create(patient=patient, user=nurse, kind_key="sbar_handoff")
    draft_run(draft_id=draft.pk)
    oldest = Note.objects.filter(patient=patient).order_by("authored_at").first()
    drug = next(
        c.drug
        for c in facts.medications
        if c.drug.lower() in oldest.text.lower()
        and Note.objects.filter(patient=patient, authored_at__gt=oldest.authored_at, text__icontains=c.drug).exists()
    )
    start = oldest.text.lower().index(drug.lower())
    sentence = DraftSentence.objects.create(
        draft_id=draft.pk,
        section="background",
        ordinal=99,
        text=oldest.text[start : start + len(drug)],
        origin=Origin.GENERATED,
        verdict="supported",
    )
    DraftCitation.objects.create(
        sentence=sentence,
        note=oldest,
        source_id="S1",
        quote=drug,
        char_start=start,
        char_end=start + len(drug),
        found=True,
    )
    flagged = [w for w in draft_older_than_chart(draft=draft) if w["sentence"].pk == sentence.pk]
    assert flagged and flagged[0]["note"].authored_at > oldest.authored_at


def test_the_unsigned_draft_of_a_kind_is_found_and_a_failed_one_is_not(nursing_chart, nurse, make_user):
    from clinsum.drafting.models import DraftStatus
    from clinsum.drafting.selectors import draft_unsigned_of_kind

    assert draft_unsigned_of_kind(user=nurse, patient=nursing_chart, kind_key="sbar_handoff") is None
    draft = draft_create(patient=nursing_chart, user=nurse, kind_key="sbar_handoff")
    assert draft_unsigned_of_kind(user=nurse, patient=nursing_chart, kind_key="sbar_handoff") == draft
    assert draft_unsigned_of_kind(user=nurse, patient=nursing_chart, kind_key="discharge_instructions") is None
    draft.status = DraftStatus.FAILED
    draft.save(update_fields=["status"])
    assert draft_unsigned_of_kind(user=nurse, patient=nursing_chart, kind_key="sbar_handoff") is None
