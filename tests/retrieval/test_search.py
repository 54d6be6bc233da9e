"""Per-patient vector, full-text and hybrid search: only this patient, scope inside the SQL,
sane fusion, exact terms that vectors miss."""

from __future__ import annotations

import re

import numpy as np
import pytest

from retrieval.search import (
    RRF_K,
    highlight_segments,
    patient_hybrid_search,
    patient_text_search,
    patient_text_search_passages,
    patient_vector_search,
)
from retrieval.types import AccessScope
from tests.retrieval.fakes import unit

ALL = AccessScope(unrestricted=True)
Q = unit(1, 0, 0, 0)


@pytest.fixture
def chart(ward, add_note):
    """Ruth (4W) has four chunks built so that each list ranks them differently."""
    note = add_note(
        ward["p1"],
        [
            ("Furosemide 40 mg IV given for edema.", unit(1, 0.1, 0, 0)),  # vector 1st, text 1st
            ("Edema of both legs noted.", unit(0, 1, 0, 0)),  # vector 3rd, text 2nd
            ("Lungs clear to auscultation.", unit(1, 0.3, 0, 0)),  # vector 2nd, no text match
            ("Ambulating independently.", unit(0, 0, 1, 0)),  # vector 4th, no text match
        ],
    )
    return {c.text.split()[0]: c.pk for c in note.chunks.all()}


def texts(hits):
    return [h.text.split()[0] for h in hits]


def test_vector_search_ranks_by_cosine(cursor, ward, chart):
    hits = patient_vector_search(cursor, patient_id=ward["p1"].pk, query_vector=Q, k=4, scope=ALL)
    assert texts(hits) == ["Furosemide", "Lungs", "Edema", "Ambulating"]
    # The cosine of the stored halves (chunk and query both halfvec), not of the float32 inputs.
    chunk, query = unit(1, 0.1, 0, 0).astype(np.float16).astype(np.float64), Q.astype(np.float16).astype(np.float64)
    expected = chunk @ query / (np.linalg.norm(chunk) * np.linalg.norm(query))
    assert hits[0].score == pytest.approx(expected, abs=1e-6)
    assert hits[0].score != pytest.approx(float(unit(1, 0.1, 0, 0)[0]), abs=1e-6)  # halfvec, not float32


def test_text_search_ranks_chunks_with_more_query_words_first(cursor, ward, chart):
    hits = patient_text_search(cursor, patient_id=ward["p1"].pk, query_text="furosemide edema", k=10, scope=ALL)
    assert texts(hits) == ["Furosemide", "Edema"]


def test_hybrid_fuses_the_two_rankings_by_reciprocal_rank(cursor, ward, chart):
    hits = patient_hybrid_search(
        cursor, patient_id=ward["p1"].pk, query_text="furosemide edema", query_vector=Q, k=4, scope=ALL
    )
    # In both lists beats in one; 3rd + 2nd beats 2nd alone.
    assert texts(hits) == ["Furosemide", "Edema", "Lungs", "Ambulating"]
    assert hits[0].score == pytest.approx(2 / (RRF_K + 1))
    assert hits[1].score == pytest.approx(1 / (RRF_K + 3) + 1 / (RRF_K + 2))
    assert hits[2].score == pytest.approx(1 / (RRF_K + 2))
    assert [h.extra for h in hits] == [
        {"vector_rank": 1, "text_rank": 1},
        {"vector_rank": 3, "text_rank": 2},
        {"vector_rank": 2, "text_rank": None},
        {"vector_rank": 4, "text_rank": None},
    ]
    assert hits[0].note_type == "progress" and hits[0].authored_at is not None


def test_hybrid_returns_only_this_patients_chunks(cursor, ward, chart, add_note):
    add_note(
        ward["p2"],
        [
            ("Furosemide 40 mg IV given for edema.", unit(1, 0, 0, 0)),
            ("Edema improving on furosemide.", unit(1, 0.05, 0, 0)),
        ],
    )
    for patient in ("p1", "p2"):
        hits = patient_hybrid_search(
            cursor, patient_id=ward[patient].pk, query_text="furosemide edema", query_vector=Q, k=10, scope=ALL
        )
        assert hits and {h.patient_id for h in hits} == {ward[patient].pk}
    assert (
        len(
            patient_hybrid_search(
                cursor, patient_id=ward["p2"].pk, query_text="furosemide", query_vector=Q, k=10, scope=ALL
            )
        )
        == 2
    )


@pytest.mark.parametrize(
    "scope",
    [
        AccessScope(units=("4W",)),  # a 4W clinician: the ICU patient is out of scope
        AccessScope(user_id=10**9),  # someone on no care team
        AccessScope(),  # no access at all
    ],
    ids=["other-unit", "no-care-team", "nothing"],
)
def test_the_scope_excludes_an_out_of_scope_patient_even_when_asked_by_id(cursor, ward, add_note, scope):
    add_note(ward["icu"], [("Intubated, furosemide drip.", unit(1, 0, 0, 0))])
    patient_id = ward["icu"].pk
    assert patient_vector_search(cursor, patient_id=patient_id, query_vector=Q, k=5, scope=scope) == []
    assert patient_text_search(cursor, patient_id=patient_id, query_text="furosemide", k=5, scope=scope) == []
    assert (
        patient_hybrid_search(cursor, patient_id=patient_id, query_text="furosemide", query_vector=Q, k=5, scope=scope)
        == []
    )


def test_the_scope_admits_a_patient_on_the_unit_or_by_break_glass(cursor, ward, add_note):
    add_note(ward["icu"], [("Intubated, furosemide drip.", unit(1, 0, 0, 0))])
    for scope in (AccessScope(units=("ICU",)), AccessScope(patient_ids=(ward["icu"].pk,))):
        assert (
            len(
                patient_hybrid_search(
                    cursor, patient_id=ward["icu"].pk, query_text="furosemide", query_vector=Q, k=5, scope=scope
                )
            )
            == 1
        )


def test_a_care_team_member_reads_a_patient_off_their_unit(cursor, ward, add_note, clinician):
    from clinsum.access.models import CareTeamMember

    add_note(ward["icu"], [("Intubated, furosemide drip.", unit(1, 0, 0, 0))])
    scope = AccessScope(units=("4W",), user_id=clinician.pk)
    args = {"patient_id": ward["icu"].pk, "query_vector": Q, "k": 5, "scope": scope}
    assert patient_vector_search(cursor, **args) == []
    CareTeamMember.objects.create(patient=ward["icu"], user=clinician)
    assert len(patient_vector_search(cursor, **args)) == 1


def test_text_search_finds_an_exact_term_the_vector_search_misses(cursor, ward, add_note):
    filler = [(f"Routine check {i}, vitals stable.", unit(1, 0.1 * i, 0, 0)) for i in range(10)]
    add_note(ward["p1"], [*filler, ("Started dabigatran 150 mg twice daily.", unit(0, 0, 0, 1))])
    vector = patient_vector_search(cursor, patient_id=ward["p1"].pk, query_vector=Q, k=5, scope=ALL)
    assert not any("dabigatran" in h.text for h in vector)
    text = patient_text_search(cursor, patient_id=ward["p1"].pk, query_text="dabigatran", k=5, scope=ALL)
    assert [h.text for h in text] == ["Started dabigatran 150 mg twice daily."]
    hybrid = patient_hybrid_search(
        cursor, patient_id=ward["p1"].pk, query_text="dabigatran", query_vector=Q, k=5, scope=ALL
    )
    assert hybrid[0].text == "Started dabigatran 150 mg twice daily."


def test_a_rare_word_outranks_a_common_one_repeated(cursor, ward, add_note):
    """The text score is IDF over the patient's chunks, so "patient" said five times counts
    for less than the one mention of the drug."""
    common = [
        (f"Patient seen, patient stable, patient resting, patient fed, patient {i}.", unit(1, 0, 0, 0))
        for i in range(8)
    ]
    add_note(ward["p1"], [*common, ("Dabigatran held before the procedure.", unit(0, 1, 0, 0))])
    hits = patient_text_search(cursor, patient_id=ward["p1"].pk, query_text="patient dabigatran", k=3, scope=ALL)
    assert hits[0].text == "Dabigatran held before the procedure."
    assert hits[0].score > hits[1].score


def test_recency_weighting_prefers_the_newer_of_two_equal_chunks(cursor, ward, add_note):
    old = add_note(ward["p1"], [("Creatinine 1.9, rising.", unit(1, 0, 0, 0))], days_ago=400)
    new = add_note(ward["p1"], [("Creatinine 1.9, rising.", unit(1, 0, 0, 0))], days_ago=0)
    args = {"patient_id": ward["p1"].pk, "query_text": "creatinine", "query_vector": Q, "k": 2, "scope": ALL}
    assert [h.note_id for h in patient_hybrid_search(cursor, **args)] == [old.pk, new.pk]  # tie: lower id
    hits = patient_hybrid_search(cursor, **args, recency_half_life_days=30)
    assert [h.note_id for h in hits] == [new.pk, old.pk]
    # Old ranked first in both lists (tie broken by id), then halved 400/30 times; new is not discounted.
    assert hits[1].score == pytest.approx(2 / (RRF_K + 1) * 0.5 ** (400 / 30))
    assert hits[0].score == pytest.approx(2 / (RRF_K + 2))
    with pytest.raises(ValueError):
        patient_hybrid_search(cursor, **args, recency_half_life_days=0)


def test_chunks_of_another_embedding_dimension_are_skipped(cursor, ward, chart, add_note):
    add_note(ward["p1"], [("Embedded by a newer model.", unit(1, 0, 0))], model="other-model")
    hits = patient_vector_search(cursor, patient_id=ward["p1"].pk, query_vector=Q, k=10, scope=ALL)
    assert len(hits) == 4
    hybrid = patient_hybrid_search(
        cursor, patient_id=ward["p1"].pk, query_text="newer model", query_vector=Q, k=10, scope=ALL
    )
    assert any(h.text == "Embedded by a newer model." for h in hybrid)  # still found by its words


@pytest.mark.parametrize("query", ["the and of", "", "a & b | !c:* ') <-> (", "' OR 1=1 --"])
def test_odd_text_queries_find_nothing_rather_than_fail(cursor, ward, chart, query):
    assert patient_text_search(cursor, patient_id=ward["p1"].pk, query_text=query, k=5, scope=ALL) == []


def test_the_chunk_table_has_no_approximate_index(cursor):
    """Per-patient search is exact because nothing but the b-tree can serve it (an HNSW index
    could be picked for `ORDER BY embedding <=> q` and return too few rows; DESIGN.md)."""
    cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'charts_chunk'")
    definitions = [row[0].lower() for row in cursor.fetchall()]
    assert not [d for d in definitions if "using hnsw" in d or "using ivfflat" in d]
    assert any("(patient_id)" in d for d in definitions)
    assert any("using gin (tsv)" in d for d in definitions)


def test_the_chunk_table_has_one_patient_index(cursor):
    """One b-tree on patient_id serves every search; a second copy only costs writes and disk."""
    cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'charts_chunk'")
    on_patient = [d for (d,) in cursor.fetchall() if d.lower().endswith("(patient_id)")]
    assert len(on_patient) == 1, on_patient


def _statements(run) -> list[str]:
    from django.db import connection

    seen: list[str] = []

    def record(execute, sql, params, many, context):
        seen.append(" ".join(sql.split()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return seen


@pytest.mark.parametrize("search", ["vector", "text", "passages", "hybrid", "hybrid_recent"])
def test_a_search_reads_only_this_patients_chunks(cursor, ward, chart, search):
    """Each statement reads the chunk table through the patient and never reads a note (the note
    fields are on the chunk): no bare `c.id = ...` join probing the whole primary key, no note
    page per winner on a patient's first search, and nothing a database sharded by patient
    could not route to one shard. The hybrid search reads chunks once to rank, once for the k
    winners."""
    patient = ward["p1"].pk
    runs = {
        "vector": lambda: patient_vector_search(cursor, patient_id=patient, query_vector=Q, k=2, scope=ALL),
        "text": lambda: patient_text_search(cursor, patient_id=patient, query_text="edema", k=2, scope=ALL),
        "passages": lambda: patient_text_search_passages(
            cursor, patient_id=patient, query_text="edema", k=2, scope=ALL
        ),
        "hybrid": lambda: patient_hybrid_search(
            cursor, patient_id=patient, query_text="edema", query_vector=Q, k=2, scope=ALL
        ),
        "hybrid_recent": lambda: patient_hybrid_search(
            cursor, patient_id=patient, query_text="edema", query_vector=Q, k=2, scope=ALL, recency_half_life_days=30
        ),
    }
    [sql] = _statements(runs[search])
    assert "charts_note" not in sql
    reads = re.findall(r"(?:FROM|JOIN|,) charts_chunk (\w+)(.*?)(?=\bJOIN\b|\bORDER\b|\)|$)", sql)
    assert 1 <= len(reads) <= 2, sql
    for alias, clause in reads:
        assert f"{alias}.patient_id" in clause, f"charts_chunk {alias}{clause}"


def test_hits_carry_their_notes_fields_and_follow_a_corrected_note(cursor, ward, chart):
    """The note's type, author role and date are copied onto its chunks by the database and
    follow a correction of the note, whichever code writes it."""
    from clinsum.charts.models import Note

    hit = patient_vector_search(cursor, patient_id=ward["p1"].pk, query_vector=Q, k=1, scope=ALL)[0]
    note = Note.objects.get(pk=hit.note_id)
    assert (hit.note_type, hit.author_role, hit.authored_at) == (note.note_type, note.author_role, note.authored_at)
    Note.objects.filter(pk=note.pk).update(note_type="discharge_summary", author_role="attending")
    [hit] = patient_text_search(cursor, patient_id=ward["p1"].pk, query_text="furosemide", k=1, scope=ALL)
    assert (hit.note_type, hit.author_role) == ("discharge_summary", "attending")


def test_passages_mark_the_matching_words_of_each_hit(cursor, ward, chart):
    hits = patient_text_search_passages(
        cursor, patient_id=ward["p1"].pk, query_text="Furosemide edemas", k=10, scope=ALL
    )
    assert texts(hits) == ["Furosemide", "Edema"]
    assert [seg for seg in hits[0].extra["segments"] if seg[1]] == [("Furosemide", True), ("edema", True)]
    # ts_headline trims the fragment's trailing punctuation
    assert "".join(text for text, _ in hits[0].extra["segments"]).startswith("Furosemide 40 mg IV given for edema")


def test_passages_keep_the_scope_inside_the_statement(cursor, ward, add_note):
    add_note(ward["icu"], [("Furosemide drip started.", unit(1, 0, 0, 0))])
    outside = AccessScope(units=("4W",))
    assert (
        patient_text_search_passages(cursor, patient_id=ward["icu"].pk, query_text="furosemide", k=5, scope=outside)
        == []
    )
    assert patient_text_search_passages(cursor, patient_id=ward["icu"].pk, query_text="furosemide", k=5, scope=ALL)


def test_a_note_cannot_forge_a_highlight(cursor, ward, add_note):
    add_note(ward["p1"], [("Heparin \ue000not a match\ue001 <b>bold</b> given.", unit(1, 0, 0, 0))])
    (hit,) = patient_text_search_passages(cursor, patient_id=ward["p1"].pk, query_text="heparin", k=5, scope=ALL)
    assert [text for text, matched in hit.extra["segments"] if matched] == ["Heparin"]
    assert "bold" in "".join(text for text, _ in hit.extra["segments"])  # plain text: the page escapes it


def test_highlight_segments_split_on_the_marks():
    assert highlight_segments("a \ue000b\ue001 c\ue000d\ue001") == [
        ("a ", False),
        ("b", True),
        (" c", False),
        ("d", True),
    ]
    assert highlight_segments("") == []
